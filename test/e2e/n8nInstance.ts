/**
 * An isolated, offline n8n (one of the cached lines, N8N_LINES, on its own Node) for one test run
 * or demo: its own temporary N8N_USER_FOLDER (SQLite database, encryption key, community-package folder), driven
 * through the n8n CLI (`import:credentials`, `import:workflow`, `execute`) or started as a server.
 *
 * The package under test can be loaded two ways:
 * - 'customExtension': N8N_CUSTOM_EXTENSIONS=<repo>/dist, node types are `CUSTOM.<name>`;
 * - 'communityPackage': `npm pack` of the repo installed like n8n's community-package installer
 *   does (see communityPackage.ts), node types are `n8n-nodes-amazon-incentives.<name>`.
 *
 * The n8n line is `options.line`, else `lineUnderTest()` (AGCOD_E2E_N8N_LINE, set per jest project).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

import { findFreePort } from '../support/localServer';
import {
	captureOutput,
	childProcessEnv,
	ensureN8n,
	ensureNode,
	N8N_LINES,
	type N8nLine,
	type N8nLineSpec,
	n8nInstallDir,
	parseLine,
} from './cache';
import {
	installTarballLikeN8n,
	packRepository,
	PACKAGE_NAME,
	repositoryRoot,
	assertPackageBuilt,
	type InstalledCommunityPackage,
} from './communityPackage';
import { extractCommandError, parseExecuteOutput, toN8nRun, type N8nRun } from './executeOutput';

export type { N8nRun, N8nNodeRun, N8nItem } from './executeOutput';

export type PackageLoading = 'none' | 'customExtension' | 'communityPackage';

/**
 * The n8n line the e2e suites run against: the jest project's `globals.AGCOD_E2E_N8N_LINE` (see
 * jest.config.js), else the environment variable of that name (1.x or 2.x), else 2.x.
 */
export function lineUnderTest(): N8nLine {
	const fromProject = (globalThis as { AGCOD_E2E_N8N_LINE?: string }).AGCOD_E2E_N8N_LINE;
	return parseLine(fromProject ?? process.env.AGCOD_E2E_N8N_LINE);
}

interface N8nInstanceOptions {
	/** Which n8n line to run (default: lineUnderTest()). */
	line?: N8nLine;
	/** How the package under test is made available to n8n (default: not at all). */
	packageLoading?: PackageLoading;
	/** communityPackage: a tarball to install; by default the repository is packed. */
	tarball?: string;
	/** customExtension: the directory n8n scans for *.node.js / *.credentials.js (default <repo>/dist). */
	customExtensionDir?: string;
	/** Extra environment for every n8n process of this instance (wins over the defaults). */
	env?: Record<string, string>;
	/** Keep the user folder after dispose() (also when AGCOD_E2E_KEEP=1), for debugging. */
	keepUserFolder?: boolean;
	/**
	 * Use this directory as N8N_USER_FOLDER (created if missing; it should be empty) instead of a new
	 * temporary one. The demo uses `<repo>/.n8n-demo`.
	 */
	userFolder?: string;
	/** Per CLI command time limit (default 3 minutes). */
	commandTimeoutMs?: number;
}

/** A credential as `n8n import:credentials` takes it; `data` is plain and encrypted on import. */
export interface N8nCredential {
	id?: string;
	name: string;
	type: string;
	data: Record<string, unknown>;
}

interface CommandResult {
	exitCode: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	/** stdout and stderr interleaved as they arrived. */
	output: string;
}

export interface N8nServer {
	url: string;
	port: number;
	pid: number;
	/** What the server printed so far. */
	logs(): string;
}

/** An `n8n worker` process (queue mode). Its pid is also its process group (task runner included). */
export interface N8nWorker {
	pid: number;
	/** What the worker printed so far. */
	logs(): string;
	/** Stops it (SIGTERM, then SIGKILL after 15 s). */
	stop(): Promise<void>;
}

/** Thrown when an n8n CLI command fails without producing the expected result. */
export class N8nCommandError extends Error {
	constructor(
		message: string,
		readonly result: CommandResult,
	) {
		super(message);
		this.name = 'N8nCommandError';
	}
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A 16-character id like the ones n8n generates for workflows and credentials. */
function newN8nId(): string {
	const bytes = randomBytes(16);
	return Array.from(bytes, (byte) => ID_ALPHABET[byte % ID_ALPHABET.length]).join('');
}

/** Process groups still running, killed if the test process exits without stopping them. */
const liveProcessGroups = new Set<number>();
process.on('exit', () => {
	for (const pid of liveProcessGroups) {
		try {
			process.kill(-pid, 'SIGKILL');
		} catch {
			// Already gone.
		}
	}
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
	try {
		process.kill(-pid, signal);
	} catch {
		// Already gone.
	}
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
	if (child.exitCode !== null || child.signalCode !== null) return true;
	return await new Promise<boolean>((resolve) => {
		const timer = setTimeout(() => resolve(false), timeoutMs);
		child.once('exit', () => {
			clearTimeout(timer);
			resolve(true);
		});
	});
}

async function httpStatus(
	url: string,
	options: { method?: string; headers?: Record<string, string> } = {},
): Promise<number | undefined> {
	return await new Promise<number | undefined>((resolve) => {
		const request = http.request(url, { timeout: 2000, ...options }, (response) => {
			response.resume();
			resolve(response.statusCode);
		});
		request.on('timeout', () => request.destroy());
		request.on('error', () => resolve(undefined));
		request.end();
	});
}

export class N8nInstance {
	/** Set by create(): the node type prefix of the package under test, e.g. 'CUSTOM'. */
	readonly packagePrefix: string | undefined;

	/** The n8n line this instance runs, its pinned version and Node. */
	readonly lineSpec: N8nLineSpec;

	private server:
		| {
				child: ChildProcess;
				output: string[];
				url?: string;
				exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
		  }
		| undefined;

	private commandQueue: Promise<unknown> = Promise.resolve();

	private readonly workers = new Set<N8nWorker>();
	private workersStarted = 0;

	private constructor(
		readonly userFolder: string,
		private readonly nodeBinary: string,
		private readonly n8nBin: string,
		private readonly baseEnv: Record<string, string>,
		private readonly options: N8nInstanceOptions,
		readonly installedPackage: InstalledCommunityPackage | undefined,
		line: N8nLine,
	) {
		this.lineSpec = N8N_LINES[line];
		const loading = options.packageLoading ?? 'none';
		this.packagePrefix =
			loading === 'customExtension'
				? 'CUSTOM'
				: loading === 'communityPackage'
					? (installedPackage?.name ?? PACKAGE_NAME)
					: undefined;
	}

	static async create(options: N8nInstanceOptions = {}): Promise<N8nInstance> {
		const line = options.line ?? lineUnderTest();
		const lineSpec = N8N_LINES[line];
		const nodeBinary = await ensureNode(lineSpec.nodeMajor);
		const n8nBin = await ensureN8n(line);
		let userFolder: string;
		if (options.userFolder) {
			userFolder = path.resolve(options.userFolder);
			fs.mkdirSync(userFolder, { recursive: true, mode: 0o700 });
		} else {
			userFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'agcod-n8n-'));
		}
		const loading = options.packageLoading ?? 'none';
		const baseEnv: Record<string, string> = {
			N8N_USER_FOLDER: userFolder,
			N8N_ENCRYPTION_KEY: randomBytes(24).toString('hex'),
			// Offline and quiet: no telemetry, update checks, templates, banners or onboarding.
			N8N_DIAGNOSTICS_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_WHATS_NEW_ENABLED: 'false',
			N8N_TEMPLATES_ENABLED: 'false',
			N8N_PERSONALIZATION_ENABLED: 'false',
			N8N_HIRING_BANNER_ENABLED: 'false',
			N8N_DYNAMIC_BANNERS_ENABLED: 'false',
			N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
			N8N_AI_ENABLED: 'false',
			N8N_PYTHON_ENABLED: 'false',
			// n8n 2.x always uses task runners (N8N_RUNNERS_ENABLED is gone); the internal JS runner is
			// a child process, so Code nodes run without any external service. n8n 1.x runs them in process.
			N8N_RUNNERS_MODE: 'internal',
			// Community packages load from <user folder>/.n8n/nodes; nothing is fetched at startup.
			N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
			N8N_REINSTALL_MISSING_PACKAGES: 'false',
			N8N_VERIFIED_PACKAGES_ENABLED: 'false',
			N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
			N8N_SECURE_COOKIE: 'false',
			// `execute` prints the run through the logger at info level.
			N8N_LOG_LEVEL: 'info',
			N8N_LOG_OUTPUT: 'console',
			GENERIC_TIMEZONE: 'UTC',
			TZ: 'UTC',
			EXECUTIONS_DATA_SAVE_MANUAL_EXECUTIONS: 'true',
			N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '5',
			// The local AGCOD sandbox and test servers must never go through a proxy.
			NO_PROXY: ['127.0.0.1', 'localhost', process.env.NO_PROXY].filter(Boolean).join(','),
			no_proxy: ['127.0.0.1', 'localhost', process.env.no_proxy].filter(Boolean).join(','),
		};
		let installedPackage: InstalledCommunityPackage | undefined;
		if (loading === 'customExtension') {
			if (!options.customExtensionDir) assertPackageBuilt();
			baseEnv.N8N_CUSTOM_EXTENSIONS =
				options.customExtensionDir ?? path.join(repositoryRoot(), 'dist');
		} else if (loading === 'communityPackage') {
			const tarball = options.tarball ?? (await packRepository(path.join(userFolder, 'pack')));
			installedPackage = await installTarballLikeN8n(
				path.join(userFolder, '.n8n', 'nodes'),
				tarball,
			);
		}
		Object.assign(baseEnv, lineSpec.env, options.env ?? {});
		return new N8nInstance(
			userFolder,
			nodeBinary,
			n8nBin,
			baseEnv,
			options,
			installedPackage,
			line,
		);
	}

	/** The full node type name of a node of the package under test, e.g. 'CUSTOM.amazonIncentives'. */
	nodeType(name: string): string {
		if (!this.packagePrefix) throw new Error('This instance was created without the package.');
		return `${this.packagePrefix}.${name}`;
	}

	private environment(extra: Record<string, string>): NodeJS.ProcessEnv {
		const inherited = childProcessEnv({}, this.lineSpec.nodeMajor);
		// Settings of an n8n the developer may run on this machine must not leak in.
		for (const key of Object.keys(inherited)) {
			if (/^(N8N_|DB_|EXECUTIONS_|QUEUE_|CREDENTIALS_|NODES_|GENERIC_|EXTERNAL_)/.test(key)) {
				delete inherited[key];
			}
		}
		return { ...inherited, ...this.baseEnv, ...extra };
	}

	/** Runs `n8n <args>` for this instance (commands are serialised: they share one SQLite file). */
	async runCommand(args: string[]): Promise<CommandResult> {
		const next = this.commandQueue.then(async () => await this.spawnCommand(args));
		this.commandQueue = next.catch(() => undefined);
		return await next;
	}

	private async spawnCommand(args: string[]): Promise<CommandResult> {
		// Every n8n process starts a task broker; a fresh port keeps parallel instances apart.
		const env = this.environment({ N8N_RUNNERS_BROKER_PORT: String(await findFreePort()) });
		const child = spawn(this.nodeBinary, [this.n8nBin, ...args], {
			cwd: this.userFolder,
			env,
			detached: true,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		if (child.pid) liveProcessGroups.add(child.pid);
		let stdout = '';
		let output = '';
		child.stdout?.on('data', (chunk: Buffer) => {
			stdout += chunk.toString('utf8');
			output += chunk.toString('utf8');
		});
		child.stderr?.on('data', (chunk: Buffer) => {
			output += chunk.toString('utf8');
		});
		const timeoutMs = this.options.commandTimeoutMs ?? 3 * 60 * 1000;
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			if (child.pid) killGroup(child.pid, 'SIGKILL');
		}, timeoutMs);
		const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
			(resolve, reject) => {
				child.on('error', reject);
				child.on('close', (code, closeSignal) => resolve([code, closeSignal]));
			},
		);
		clearTimeout(timer);
		// The internal task runner is a grandchild: make sure nothing of this command lingers.
		if (child.pid) {
			killGroup(child.pid, 'SIGKILL');
			liveProcessGroups.delete(child.pid);
		}
		const result = { exitCode, signal, stdout, output };
		if (timedOut) {
			throw new N8nCommandError(
				`n8n ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${extractCommandError(output)}`,
				result,
			);
		}
		return result;
	}

	private writeInputFile(name: string, content: unknown): string {
		const directory = path.join(this.userFolder, 'imports');
		fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
		const file = path.join(directory, `${Date.now()}-${randomBytes(4).toString('hex')}-${name}`);
		fs.writeFileSync(file, JSON.stringify(content, null, 2), { mode: 0o600 });
		return file;
	}

	/** Imports credentials (ids are generated when missing); returns their ids in order. */
	async importCredentials(credentials: N8nCredential[]): Promise<string[]> {
		const withIds = credentials.map((credential) => ({
			...credential,
			id: credential.id ?? newN8nId(),
		}));
		const file = this.writeInputFile('credentials.json', withIds);
		try {
			const result = await this.runCommand(['import:credentials', `--input=${file}`]);
			if (result.exitCode !== 0) {
				// Only n8n's error lines: the input file (with secrets) is never echoed.
				throw new N8nCommandError(
					`n8n import:credentials failed (exit ${result.exitCode}):\n${extractCommandError(result.output)}`,
					result,
				);
			}
		} finally {
			// The file holds secrets in plain text; n8n keeps only the encrypted copy.
			fs.rmSync(file, { force: true });
		}
		return withIds.map((credential) => credential.id);
	}

	/**
	 * Imports a workflow given as an object or a JSON file path (an id is assigned when it has
	 * none); returns the workflow id to pass to execute().
	 */
	async importWorkflow(workflow: Record<string, unknown> | string): Promise<string> {
		const [id] = await this.importWorkflows([workflow]);
		return id;
	}

	/**
	 * Imports several workflows with one n8n command (each command costs seconds); returns their ids
	 * in order. Credentials referenced as `{ id: null, name }` are resolved by name and type, as n8n
	 * does for every import.
	 */
	async importWorkflows(workflows: Array<Record<string, unknown> | string>): Promise<string[]> {
		const definitions = workflows.map((workflow) => {
			const definition =
				typeof workflow === 'string'
					? (JSON.parse(fs.readFileSync(workflow, 'utf8')) as Record<string, unknown>)
					: workflow;
			const id = typeof definition.id === 'string' && definition.id ? definition.id : newN8nId();
			return { active: false, settings: {}, ...definition, id };
		});
		const file = this.writeInputFile('workflows.json', definitions);
		const result = await this.runCommand(['import:workflow', `--input=${file}`]);
		const expected = `Successfully imported ${definitions.length} workflow`;
		if (result.exitCode !== 0 || !result.output.includes(expected)) {
			throw new N8nCommandError(
				`n8n import:workflow failed (exit ${result.exitCode}, expected "${expected}"):\n${extractCommandError(result.output)}`,
				result,
			);
		}
		return definitions.map((definition) => definition.id);
	}

	/**
	 * Publishes (activates) a workflow so that `n8n start` registers its webhooks and triggers: n8n
	 * 2.x `publish:workflow`, n8n 1.x `update:workflow --active=true`. Both are read at startup only:
	 * publish before start().
	 */
	async publishWorkflow(workflowId: string): Promise<void> {
		const [args, confirmation] =
			this.lineSpec.line === '1.x'
				? [
						['update:workflow', `--id=${workflowId}`, '--active=true'],
						/Activating workflow with ID/,
					]
				: [['publish:workflow', `--id=${workflowId}`], /Publishing workflow with ID/];
		const result = await this.runCommand(args);
		const failed = /Error updating database|not found|does not exist/i.test(result.output);
		if (result.exitCode !== 0 || failed || !confirmation.test(result.output)) {
			throw new N8nCommandError(
				`n8n ${args.join(' ')} failed (exit ${result.exitCode}):\n${extractCommandError(result.output)}`,
				result,
			);
		}
	}

	/**
	 * Runs a workflow headless (it must start with a Manual Trigger) and returns the run. A workflow
	 * whose node fails still returns a run (status 'error'), and so does one n8n refuses before the
	 * first node (e.g. "node has issues: parameter … is required": n8n prints no run then, so it is
	 * read from the instance database). An N8nCommandError means n8n could not run it at all
	 * (unknown workflow, unrecognized node type, crash).
	 */
	async execute(workflowId: string): Promise<N8nRun> {
		const startedAt = Date.now();
		const result = await this.runCommand(['execute', `--id=${workflowId}`]);
		const run =
			parseExecuteOutput(result.stdout) ??
			parseExecuteOutput(result.output) ??
			(await this.readStoredExecution(workflowId, startedAt));
		if (!run) {
			throw new N8nCommandError(
				`n8n execute --id=${workflowId} produced no run (exit ${result.exitCode ?? result.signal}):\n` +
					extractCommandError(result.output),
				result,
			);
		}
		return { ...run, commandOutput: result.output };
	}

	/**
	 * The newest stored execution of a workflow created at or after `notBefore` (epoch ms), read with
	 * the cached n8n's own sqlite3 and flatted modules (n8n stores run data flatted). Executions n8n
	 * has deleted (soft-deleted rows waiting for pruning, e.g. runs of a workflow that saves no data)
	 * do not count, as n8n shows them nowhere.
	 */
	async readStoredExecution(workflowId: string, notBefore = 0): Promise<N8nRun | undefined> {
		const databasePath = path.join(this.userFolder, '.n8n', 'database.sqlite');
		if (!fs.existsSync(databasePath)) return undefined;
		const script = `
			const [databasePath, workflowId] = process.argv.slice(1);
			const sqlite3 = require('sqlite3');
			const { parse } = require('flatted');
			const db = new sqlite3.Database(databasePath, sqlite3.OPEN_READONLY, (error) => {
				if (error) { console.error(error.message); process.exit(1); }
				db.get(
					'SELECT e.id, e.status, e.finished, e.mode, e.createdAt, d.data FROM execution_entity e ' +
						'JOIN execution_data d ON d.executionId = e.id WHERE e.workflowId = ? AND e.deletedAt IS NULL ORDER BY e.id DESC LIMIT 1',
					[workflowId],
					(queryError, row) => {
						if (queryError) { console.error(queryError.message); process.exit(1); }
						process.stdout.write(JSON.stringify(row ? { ...row, data: parse(row.data) } : null));
						db.close();
					},
				);
			});`;
		const output = await captureOutput(this.nodeBinary, ['-e', script, databasePath, workflowId], {
			cwd: n8nInstallDir(this.lineSpec.line),
			env: childProcessEnv({}, this.lineSpec.nodeMajor),
			timeoutMs: 30_000,
		});
		const row = JSON.parse(output) as {
			id: number | string;
			status: string;
			finished: number | boolean;
			mode: string;
			createdAt: string;
			data: Record<string, unknown>;
		} | null;
		if (!row) return undefined;
		// SQLite keeps UTC timestamps as 'YYYY-MM-DD HH:MM:SS.SSS'; n8n's whole-second rounding aside.
		const createdAt = Date.parse(`${row.createdAt.replace(' ', 'T')}Z`);
		if (Number.isNaN(createdAt) || createdAt < notBefore - 1000) return undefined;
		const { data: runData, ...execution } = row;
		return toN8nRun({
			data: runData,
			status: execution.status,
			finished: Boolean(execution.finished),
			mode: execution.mode,
			id: execution.id,
		});
	}

	/** Starts `n8n start` (editor UI, REST API, webhooks) and waits until /healthz answers. */
	async start(
		options: { port?: number; host?: string; timeoutMs?: number } = {},
	): Promise<N8nServer> {
		if (this.server) throw new Error('This n8n instance is already running.');
		const port = options.port ?? (await findFreePort());
		const host = options.host ?? '127.0.0.1';
		const env = this.environment({
			N8N_PORT: String(port),
			N8N_LISTEN_ADDRESS: host,
			N8N_RUNNERS_BROKER_PORT: String(await findFreePort()),
		});
		const child = spawn(this.nodeBinary, [this.n8nBin, 'start'], {
			cwd: this.userFolder,
			env,
			detached: true,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		if (!child.pid) throw new Error('n8n start could not be spawned');
		liveProcessGroups.add(child.pid);
		const output: string[] = [];
		const logFile = fs.createWriteStream(this.serverLogPath());
		const collect = (chunk: Buffer) => {
			output.push(chunk.toString('utf8'));
			logFile.write(chunk);
		};
		child.stdout?.on('data', collect);
		child.stderr?.on('data', collect);
		const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
			child.on('close', (code, signal) => {
				logFile.end();
				resolve({ code, signal });
			}),
		);
		this.server = { child, output, exit };

		const connectHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
		const url = `http://${connectHost}:${port}`;
		const deadline = Date.now() + (options.timeoutMs ?? 120_000);
		while (Date.now() < deadline) {
			if (child.exitCode !== null || child.signalCode !== null) {
				this.server = undefined;
				liveProcessGroups.delete(child.pid);
				throw new Error(
					`n8n start exited (${child.exitCode ?? child.signalCode}) before it was ready:\n` +
						extractCommandError(output.join('')),
				);
			}
			if (
				(await httpStatus(`${url}/healthz`)) === 200 &&
				(await httpStatus(`${url}/healthz/readiness`)) === 200
			) {
				this.server.url = url;
				return { url, port, pid: child.pid, logs: () => output.join('') };
			}
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
		await this.stop();
		throw new Error(`n8n did not answer ${url}/healthz within the time limit`);
	}

	/**
	 * Starts `n8n worker` (queue mode: the instance's env must set EXECUTIONS_MODE=queue, the queue
	 * Redis and a shared database) with its own task-broker port, and waits until it is ready. Workers
	 * are stopped by dispose().
	 */
	async startWorker(
		options: { concurrency?: number; env?: Record<string, string>; timeoutMs?: number } = {},
	): Promise<N8nWorker> {
		const index = ++this.workersStarted;
		const env = this.environment({
			N8N_RUNNERS_BROKER_PORT: String(await findFreePort()),
			...(options.env ?? {}),
		});
		const args = [this.n8nBin, 'worker', `--concurrency=${options.concurrency ?? 10}`];
		const child = spawn(this.nodeBinary, args, {
			cwd: this.userFolder,
			env,
			detached: true,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		if (!child.pid) throw new Error('n8n worker could not be spawned');
		const pid = child.pid;
		liveProcessGroups.add(pid);
		const output: string[] = [];
		const logFile = fs.createWriteStream(path.join(this.userFolder, `n8n-worker-${index}.log`));
		const collect = (chunk: Buffer) => {
			output.push(chunk.toString('utf8'));
			logFile.write(chunk);
		};
		child.stdout?.on('data', collect);
		child.stderr?.on('data', collect);
		child.on('close', () => logFile.end());
		const stop = async () => {
			if (!this.workers.delete(worker)) return;
			killGroup(pid, 'SIGTERM');
			if (!(await waitForExit(child, 15_000))) {
				killGroup(pid, 'SIGKILL');
				await waitForExit(child, 5_000);
			}
			killGroup(pid, 'SIGKILL');
			liveProcessGroups.delete(pid);
		};
		const worker: N8nWorker = { pid, logs: () => output.join(''), stop };
		this.workers.add(worker);
		const deadline = Date.now() + (options.timeoutMs ?? 120_000);
		while (!/worker is now ready/.test(output.join(''))) {
			if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
				await stop();
				throw new Error(
					`n8n worker ${child.exitCode !== null ? `exited (${child.exitCode})` : 'was not ready in time'}:\n` +
						extractCommandError(output.join('')),
				);
			}
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
		return worker;
	}

	/**
	 * Waits until the running server has registered the production webhooks at these paths. n8n
	 * 2.x activates published workflows in the background after it reports ready, so a webhook
	 * answers "not registered" for a moment after start(). A CORS preflight (OPTIONS with an
	 * Origin header) asks n8n for the path's methods without triggering the workflow.
	 */
	async waitForWebhooks(paths: string[], timeoutMs = 60_000): Promise<void> {
		const baseUrl = this.server?.url;
		if (!baseUrl) throw new Error('The n8n server is not running.');
		const deadline = Date.now() + timeoutMs;
		const pending = new Set(paths);
		for (;;) {
			for (const webhookPath of [...pending]) {
				const status = await httpStatus(`${baseUrl}/webhook/${webhookPath}`, {
					method: 'OPTIONS',
					headers: { origin: baseUrl, 'access-control-request-method': 'POST' },
				});
				if (status !== undefined && status < 300) pending.delete(webhookPath);
			}
			if (pending.size === 0) return;
			if (Date.now() > deadline) {
				throw new Error(
					`n8n did not register the webhook(s) ${[...pending].join(', ')} within ${timeoutMs} ms ` +
						'(is the workflow published?)',
				);
			}
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
	}

	/**
	 * Resolves when the server started by start() exits on its own or is stopped (for a long-running
	 * caller such as the demo, which must notice n8n dying).
	 */
	async serverExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
		if (!this.server) throw new Error('The n8n server is not running.');
		return await this.server.exit;
	}

	/** Where `n8n start` writes its output (stdout and stderr). */
	serverLogPath(): string {
		return path.join(this.userFolder, 'n8n-server.log');
	}

	/** Stops the server started by start(), if any (SIGTERM, then SIGKILL after 15 s). */
	async stop(): Promise<void> {
		const server = this.server;
		if (!server) return;
		this.server = undefined;
		const pid = server.child.pid;
		if (!pid) return;
		killGroup(pid, 'SIGTERM');
		if (!(await waitForExit(server.child, 15_000))) {
			killGroup(pid, 'SIGKILL');
			await waitForExit(server.child, 5_000);
		}
		// The task runner may outlive its parent briefly.
		killGroup(pid, 'SIGKILL');
		liveProcessGroups.delete(pid);
	}

	/**
	 * Stops the workers and the server and deletes the user folder (kept with keepUserFolder or
	 * AGCOD_E2E_KEEP=1).
	 */
	async dispose(): Promise<void> {
		await Promise.all([...this.workers].map(async (worker) => await worker.stop()));
		await this.stop();
		await this.commandQueue;
		if (this.options.keepUserFolder || process.env.AGCOD_E2E_KEEP === '1') {
			process.stderr.write(`[n8n-e2e] kept n8n user folder ${this.userFolder}\n`);
			return;
		}
		fs.rmSync(this.userFolder, { recursive: true, force: true });
	}

	/** The cached n8n installation this instance runs (for diagnostics). */
	installationDir(): string {
		return n8nInstallDir(this.lineSpec.line);
	}
}
