/**
 * An n8n queue-mode cluster as users run it: Postgres as the database, Redis as the queue, one `n8n start`
 * (main: editor, webhooks, enqueues executions) and N `n8n worker` processes that run them, all with one
 * encryption key and the package under test installed from its `npm pack` tarball.
 *
 *   const cluster = await QueueCluster.create({ workers: 2 });
 *   const [workflowId] = await cluster.n8n.importWorkflows([...]);   // and importCredentials
 *   await cluster.n8n.publishWorkflow(workflowId);                    // before start()
 *   await cluster.start();                                            // main + workers, webhooks registered
 *   await cluster.postWebhook('queue-batch', { items: [...] });
 *   await cluster.dispose();
 *
 * Found with n8n 2.40.7: every process on one host needs its own N8N_RUNNERS_BROKER_PORT (N8nInstance gives
 * each one), `n8n publish:workflow --id` activates a workflow from the CLI (importing it as active does not),
 * N8N_DISABLED_MODULES=mcp-registry stops an outbound call at start, and n8n warns that Postgres 15 is not
 * supported (16 and 17 are) but works with it.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import * as path from 'node:path';

import { type N8nRun, toN8nRun } from './executeOutput';
import { N8nInstance, type N8nServer, type N8nWorker, type PackageLoading } from './n8nInstance';
import { PostgresServer, RedisServer } from './services';

interface QueueClusterOptions {
	/** Worker processes started by start(). */
	workers: number;
	/** Executions one worker runs at once (`n8n worker --concurrency`, n8n's default 10). */
	workerConcurrency?: number;
	/** Extra environment for every n8n process (main, workers, CLI commands). */
	env?: Record<string, string>;
	/** Default: the packed tarball, installed like n8n's community-package installer does. */
	packageLoading?: PackageLoading;
	/** Redis keeps its data on disk, so a restarted Redis still has the queue (for outage tests). */
	persistentRedis?: boolean;
}

export interface WebhookAnswer {
	status: number;
	body: unknown;
	/** Milliseconds from sending the request to the end of the answer. */
	durationMs: number;
}

const DATABASE = 'n8n';

/** Execution statuses of n8n that are not final yet. */
const UNFINISHED_STATUSES = new Set(['new', 'running', 'waiting']);

export interface StoredExecution {
	id: number;
	/** n8n's status: 'success', 'error', 'crashed', … or, not ended yet, 'new', 'running', 'waiting'. */
	status: string;
	/** What each node put out, once the execution has ended. */
	run?: N8nRun;
}

/** SQL condition: rows of `table` belong to this workflow. */
function workflowIs(workflowId: string, table: string): string {
	return `${table}."workflowId" = '${workflowId.replace(/'/g, "''")}'`;
}

export class QueueCluster {
	server: N8nServer | undefined;
	readonly workers: N8nWorker[] = [];

	private constructor(
		readonly options: QueueClusterOptions,
		readonly redis: RedisServer,
		readonly postgres: PostgresServer,
		readonly n8n: N8nInstance,
	) {}

	/** Starts Redis and Postgres and prepares the n8n user folder (nothing of n8n runs yet). */
	static async create(options: QueueClusterOptions): Promise<QueueCluster> {
		const redis = await RedisServer.start({ persistent: options.persistentRedis });
		let postgres: PostgresServer | undefined;
		try {
			postgres = await PostgresServer.start();
			await postgres.createDatabase(DATABASE);
			const n8n = await N8nInstance.create({
				packageLoading: options.packageLoading ?? 'communityPackage',
				env: {
					...QueueCluster.queueEnvironment(redis, postgres),
					...(options.env ?? {}),
				},
			});
			return new QueueCluster(options, redis, postgres, n8n);
		} catch (error) {
			await postgres?.stop();
			await redis.dispose();
			throw error;
		}
	}

	/** n8n's settings for queue mode with this Redis and Postgres. */
	static queueEnvironment(redis: RedisServer, postgres: PostgresServer): Record<string, string> {
		return {
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: String(redis.port),
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: postgres.host,
			DB_POSTGRESDB_PORT: String(postgres.port),
			DB_POSTGRESDB_DATABASE: DATABASE,
			DB_POSTGRESDB_USER: postgres.user,
			DB_POSTGRESDB_PASSWORD: '',
			N8N_DISABLED_MODULES: 'mcp-registry',
			// Manual runs (n8n execute) go to the workers too, as production runs do.
			OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true',
		};
	}

	/** Starts main and the workers (publish workflows before this) and waits for the webhooks. */
	async start(webhookPaths: string[] = []): Promise<void> {
		this.server = await this.n8n.start();
		await this.startWorkers(this.options.workers);
		if (webhookPaths.length > 0) await this.n8n.waitForWebhooks(webhookPaths);
	}

	/** Starts more workers (in parallel: each needs several seconds to load n8n). */
	async startWorkers(count: number, env: Record<string, string> = {}): Promise<void> {
		const started = await Promise.all(
			Array.from(
				{ length: count },
				async () =>
					await this.n8n.startWorker({ concurrency: this.options.workerConcurrency, env }),
			),
		);
		this.workers.push(...started);
	}

	async stopWorkers(): Promise<void> {
		const workers = this.workers.splice(0);
		await Promise.all(workers.map(async (worker) => await worker.stop()));
	}

	/** POSTs JSON to a production webhook of main. */
	async postWebhook(
		webhookPath: string,
		body: unknown,
		timeoutMs = 180_000,
	): Promise<WebhookAnswer> {
		if (!this.server) throw new Error('The cluster is not started');
		const url = `${this.server.url}/webhook/${webhookPath}`;
		const payload = JSON.stringify(body);
		const startedAt = Date.now();
		return await new Promise<WebhookAnswer>((resolve, reject) => {
			const request = http.request(
				url,
				{
					method: 'POST',
					timeout: timeoutMs,
					headers: {
						'content-type': 'application/json',
						'content-length': Buffer.byteLength(payload),
					},
				},
				(response) => {
					const chunks: Buffer[] = [];
					response.on('data', (chunk: Buffer) => chunks.push(chunk));
					response.on('end', () => {
						const text = Buffer.concat(chunks).toString('utf8');
						let parsed: unknown = text;
						try {
							parsed = JSON.parse(text);
						} catch {
							// Not JSON: keep the text.
						}
						resolve({
							status: response.statusCode ?? 0,
							body: parsed,
							durationMs: Date.now() - startedAt,
						});
					});
					response.on('error', reject);
				},
			);
			request.on('timeout', () => request.destroy(new Error(`POST ${url} timed out`)));
			request.on('error', reject);
			request.end(payload);
		});
	}

	/** Which worker (index in `workers`) logged that it started this execution id. */
	workerOfExecution(executionId: string): number | undefined {
		const pattern = new RegExp(`Worker started execution ${executionId} `);
		const index = this.workers.findIndex((worker) => pattern.test(worker.logs()));
		return index >= 0 ? index : undefined;
	}

	/** Execution ids each worker logged as started, in order. */
	executionsByWorker(): string[][] {
		return this.workers.map((worker) =>
			[...worker.logs().matchAll(/Worker started execution (\d+) /g)].map((match) => match[1]),
		);
	}

	/**
	 * Executions of a workflow with an id above `afterId`, as n8n stored them in Postgres (what its Executions list
	 * shows). Run data is read only for executions that ended, with the n8n installation's own flatted (n8n stores
	 * run data flatted).
	 */
	async storedExecutions(workflowId: string, afterId = 0): Promise<StoredExecution[]> {
		// One row per line: flatted text is JSON, which has no raw line breaks; it may contain '|', so it comes last.
		const rows = await this.postgres.query(
			DATABASE,
			`SELECT e.id, e.status, d.data FROM execution_entity e LEFT JOIN execution_data d ON d."executionId" = e.id ` +
				`WHERE ${workflowIs(workflowId, 'e')} AND e.id > ${Number(afterId)} ORDER BY e.id`,
		);
		const fromN8n = createRequire(path.join(this.n8n.installationDir(), 'package.json'));
		const { parse } = fromN8n('flatted') as { parse: (text: string) => Record<string, unknown> };
		return rows
			.split('\n')
			.filter(Boolean)
			.map((row) => {
				const [id, status, ...data] = row.split('|');
				const execution: StoredExecution = { id: Number(id), status };
				const text = data.join('|');
				if (!UNFINISHED_STATUSES.has(status) && text)
					execution.run = toN8nRun({ data: parse(text), status, finished: true });
				return execution;
			});
	}

	/** The id of the newest execution of a workflow (0 when none), for storedExecutions(workflowId, afterId). */
	async lastExecutionId(workflowId: string): Promise<number> {
		const rows = await this.postgres.query(
			DATABASE,
			`SELECT COALESCE(MAX(id), 0) FROM execution_entity e WHERE ${workflowIs(workflowId, 'e')}`,
		);
		return Number(rows.trim());
	}

	/** Stops n8n (workers first), then Postgres (gracefully) and Redis; keeps logs with AGCOD_E2E_KEEP=1. */
	async dispose(): Promise<void> {
		try {
			await this.stopWorkers();
			await this.n8n.dispose();
		} finally {
			await this.postgres.stop();
			await this.redis.dispose();
		}
	}

	/** All process logs joined (for failure messages). */
	logs(): string {
		const parts = [`--- main ---\n${this.server?.logs() ?? ''}`];
		this.workers.forEach((worker, index) =>
			parts.push(`--- worker ${index} ---\n${worker.logs()}`),
		);
		return parts.join('\n');
	}

	/** Writes all logs into the user folder (kept with AGCOD_E2E_KEEP=1). */
	saveLogs(name: string): string {
		const file = `${this.n8n.userFolder}/${name}.log`;
		fs.writeFileSync(file, this.logs());
		return file;
	}
}
