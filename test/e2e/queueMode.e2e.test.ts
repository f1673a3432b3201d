/**
 * n8n queue mode for real: Postgres, Redis, `n8n start` and two `n8n worker` processes (n8n 2.40.7, the package
 * installed from its tarball), executions fired through a production webhook against the local AGCOD sandbox at
 * 10 requests/s with 300 ms latency. The workers share one budget per account and one request in flight per id
 * through n8n's own queue Redis, with nothing configured beyond n8n's queue settings.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { DEFAULT_RATE_LIMIT, type RunningSandbox, startSandbox } from '../sandbox';
import {
	captureOutput,
	childProcessEnv,
	ensureN8n,
	lineLabel,
	n8nBinPath,
	n8nInstallDir,
	nodeBinaryFor,
	type N8nLine,
} from './cache';
import { repositoryRoot } from './communityPackage';
import { QueueCluster, type StoredExecution } from './queueCluster';
import {
	batchItems,
	fireBatches,
	lastRequestSeq,
	measureLoad,
	QUEUE_WEBHOOK_PATH,
	queueBatchWorkflow,
	type ExecutionAnswer,
	type ItemOutcome,
} from './queueLoad';
import { sandboxCredential } from './workflows';

const CREDENTIAL_NAME = 'AGCOD local sandbox';
const LIMIT = DEFAULT_RATE_LIMIT.requestsPerSecond;

let sandbox: RunningSandbox;
let cluster: QueueCluster;
let workflowId: string;
let run = 0;

function successItems(answers: ExecutionAnswer[]): ItemOutcome[] {
	return answers.flatMap((answer) => answer.items.filter((item) => item.status === 'SUCCESS'));
}

function describeAnswers(answers: ExecutionAnswer[]) {
	return answers.map(({ answer, items }) => ({
		http: answer.status,
		items: items.length,
		success: items.filter((item) => item.status === 'SUCCESS').length,
		errors: [
			...new Set(items.filter((item) => item.error).map((item) => item.error?.message)),
		].slice(0, 3),
	}));
}

/** The Amazon Incentives node's output items of a stored execution. */
function nodeOutput(execution: StoredExecution): ItemOutcome[] {
	return (execution.run?.nodes['Amazon Incentives']?.outputs[0] ?? []) as ItemOutcome[];
}

/** Waits until `count` executions of the workflow after `afterId` have ended (2 minutes at most). */
async function endedExecutions(afterId: number, count: number): Promise<StoredExecution[]> {
	const deadline = Date.now() + 120_000;
	for (;;) {
		const executions = await cluster.storedExecutions(workflowId, afterId);
		if (executions.length >= count && executions.every((execution) => execution.run))
			return executions;
		if (Date.now() > deadline) {
			throw new Error(
				`executions after ${afterId} did not end: ${JSON.stringify(executions.map(({ id, status }) => ({ id, status })))}`,
			);
		}
		await sleep(500);
	}
}

beforeAll(async () => {
	sandbox = await startSandbox({
		quiet: true,
		rateLimit: DEFAULT_RATE_LIMIT,
		faults: { latencyMs: 300 },
	});
	cluster = await QueueCluster.create({ workers: 2, persistentRedis: true });
	await cluster.n8n.importCredentials([sandboxCredential(CREDENTIAL_NAME, sandbox)]);
	[workflowId] = await cluster.n8n.importWorkflows([
		queueBatchWorkflow(cluster.n8n.nodeType('amazonIncentives'), CREDENTIAL_NAME),
	]);
	await cluster.n8n.publishWorkflow(workflowId);
	await cluster.start([QUEUE_WEBHOOK_PATH]);
}, 600_000);

afterAll(async () => {
	if (cluster) cluster.saveLogs('queue-mode');
	await cluster?.dispose();
	await sandbox?.stop();
});

/**
 * Loads the package's redisConnection module inside an n8n process (`n8n --version`, with a preloaded probe
 * that asks at exit, when n8n's entry script is known) and reports which ioredis it got.
 */
async function ioredisSeenFrom(
	line: N8nLine,
	packageDir: string,
): Promise<{ loaded: boolean; cluster: boolean; file?: string }> {
	const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'agcod-probe-'));
	try {
		const moduleFile = path.join(
			packageDir,
			'dist/nodes/AmazonIncentives/transport/redisConnection.js',
		);
		const probe = path.join(folder, 'probe.js');
		fs.writeFileSync(
			probe,
			`process.on('exit', () => {
				const ioredis = require(${JSON.stringify(moduleFile)}).loadIoredis();
				const file = Object.keys(require.cache).find((key) => key.endsWith('/ioredis/built/index.js'));
				console.log('PROBE ' + JSON.stringify({ loaded: !!ioredis, cluster: !!(ioredis && ioredis.Cluster), file }));
			});`,
		);
		const output = await captureOutput(
			nodeBinaryFor(line),
			['--require', probe, n8nBinPath(line), '--version'],
			{
				env: childProcessEnv({ N8N_USER_FOLDER: folder }),
				timeoutMs: 60_000,
			},
		);
		const report = output.split('\n').find((text) => text.startsWith('PROBE '));
		if (!report) throw new Error(`no probe output:\n${output}`);
		return JSON.parse(report.slice('PROBE '.length)) as {
			loaded: boolean;
			cluster: boolean;
			file?: string;
		};
	} finally {
		fs.rmSync(folder, { recursive: true, force: true });
	}
}

describe.each(['2.x', '1.x'] as N8nLine[])("the Redis client is n8n's own ioredis, %s", (line) => {
	const fromN8n = () => ({
		loaded: true,
		cluster: true,
		file: path.join(n8nInstallDir(line), 'node_modules', 'ioredis', 'built', 'index.js'),
	});

	beforeAll(async () => {
		// .ci/run installs both lines; a machine that only ran the 2.x suites gets 1.x here.
		await ensureN8n(line);
	}, 900_000);

	it(`for the package installed as a community package (<user folder>/.n8n/nodes/node_modules), ${lineLabel(line)}`, async () => {
		const installed = cluster.n8n.installedPackage?.directory;
		expect(installed).toContain(path.join('.n8n', 'nodes', 'node_modules'));
		expect(fs.existsSync(path.join(installed as string, 'node_modules', 'ioredis'))).toBe(false);
		await expect(ioredisSeenFrom(line, installed as string)).resolves.toEqual(fromN8n());
	});

	it(`for the package loaded through N8N_CUSTOM_EXTENSIONS, ${lineLabel(line)}`, async () => {
		await expect(ioredisSeenFrom(line, repositoryRoot())).resolves.toEqual(fromN8n());
	});
});

describe('n8n queue mode, 2 workers, one AGCOD account at 10 requests/s', () => {
	it('4 executions × 50 cards: each card once, every execution succeeds, ≤ 1% throttled, ≥ 0.95 of the limit', async () => {
		const since = lastRequestSeq(sandbox.requests());
		const label = `even-${++run}`;
		const batches = Array.from({ length: 4 }, (_, index) => batchItems(`${label}-${index}`, 50));
		const answers = await fireBatches(cluster, batches);
		expect(describeAnswers(answers)).toEqual(
			answers.map(() => ({ http: 200, items: 50, success: 50, errors: [] })),
		);
		const items = successItems(answers);
		expect(new Set(items.map((item) => item.requestId)).size).toBe(200);
		expect(new Set(items.map((item) => item.gcId)).size).toBe(200);
		const load = measureLoad(sandbox.requests(), since, LIMIT);
		const stats = sandbox.stats();
		expect(stats.doubleDebits).toEqual([]);
		expect(load.cardsIssued).toBe(200);
		expect(load.throttled).toBeLessThanOrEqual(Math.floor(load.requests * 0.01));
		expect(load.aggregateRatio).toBeGreaterThanOrEqual(0.95);
		// Both workers ran executions, and the executions took turns: none waited for another to finish.
		expect(cluster.executionsByWorker().every((ids) => ids.length > 0)).toBe(true);
		const durations = answers.map(({ answer }) => answer.durationMs);
		expect(Math.min(...durations)).toBeGreaterThanOrEqual(0.75 * Math.max(...durations));
		process.stderr.write(`[queue-mode] 4×50 on 2 workers: ${JSON.stringify(load)}\n`);
	});

	it('3 executions on 2 workers (uneven load): ≥ 0.90 of the limit', async () => {
		const since = lastRequestSeq(sandbox.requests());
		const label = `uneven-${++run}`;
		const batches = Array.from({ length: 3 }, (_, index) => batchItems(`${label}-${index}`, 50));
		const answers = await fireBatches(cluster, batches);
		expect(describeAnswers(answers)).toEqual(
			answers.map(() => ({ http: 200, items: 50, success: 50, errors: [] })),
		);
		const load = measureLoad(sandbox.requests(), since, LIMIT);
		expect(load.cardsIssued).toBe(150);
		expect(load.aggregateRatio).toBeGreaterThanOrEqual(0.9);
		expect(sandbox.stats().doubleDebits).toEqual([]);
		process.stderr.write(`[queue-mode] 3×50 on 2 workers: ${JSON.stringify(load)}\n`);
	});

	it('the same key sent at once through two workers: one card, one request in flight at a time', async () => {
		// A slow endpoint makes two unguarded requests overlap for certain.
		sandbox.configure({ faults: { latencyMs: 1500 } });
		try {
			let splitPairs = 0;
			for (let attempt = 1; attempt <= 4 && splitPairs === 0; attempt++) {
				const before = sandbox.stats();
				const key = `same-key-${++run}`;
				const workersBefore = cluster.executionsByWorker().map((ids) => ids.length);
				const answers = await fireBatches(cluster, [[{ key, amount: 7 }], [{ key, amount: 7 }]]);
				const items = answers.flatMap((answer) => answer.items);
				expect(items.map((item) => item.status)).toEqual(['SUCCESS', 'SUCCESS']);
				expect(new Set(items.map((item) => item.gcId)).size).toBe(1);
				// The second one waited for the first and re-sent the same id: Amazon's answer is a replay.
				expect(items.map((item) => item.replay).sort()).toEqual([false, true]);
				const stats = sandbox.stats();
				expect(stats.cardsIssued - before.cardsIssued).toBe(1);
				expect(stats.maxInFlightPerRequestId).toBe(1);
				expect(stats.doubleDebits).toEqual([]);
				const ran = cluster
					.executionsByWorker()
					.map((ids, index) => ids.length - workersBefore[index]);
				if (ran.every((count) => count === 1)) splitPairs++;
			}
			// At least one pair ran on two different workers (n8n's queue decides who takes which job).
			expect(splitPairs).toBe(1);
		} finally {
			sandbox.configure({ faults: { latencyMs: 300 } });
		}
	});

	it('Redis stopped mid-run and restarted: no double debit, every item succeeds or ends retryable', async () => {
		const since = lastRequestSeq(sandbox.requests());
		const issuedBefore = sandbox.stats().cardsIssued;
		const lastExecution = await cluster.lastExecutionId(workflowId);
		const logsBefore = cluster.workers.map((worker) => worker.logs().length);
		const label = `outage-${++run}`;
		const batches = Array.from({ length: 2 }, (_, index) => batchItems(`${label}-${index}`, 50));
		// n8n's main hears that a job ended through a Redis pub/sub message. One sent while main is still
		// reconnecting is lost, and that webhook never answers (n8n-io/n8n#30392), although the execution ran
		// and was stored. So the items' outcomes come from n8n's stored executions, and the answers that
		// do arrive must agree with them.
		const answered: ExecutionAnswer[] = [];
		const fired = batches.map(async (items) => {
			try {
				answered.push(...(await fireBatches(cluster, [items])));
			} catch {
				// No answer: the stored execution says what happened.
			}
		});
		await sleep(4000);
		await cluster.redis.stop();
		await sleep(3000);
		await cluster.redis.restart();
		const executions = await endedExecutions(lastExecution, batches.length);
		await Promise.race([Promise.all(fired), sleep(10_000)]);
		expect(executions.map((execution) => execution.status)).toEqual(['success', 'success']);
		const outputs = executions.map((execution) => nodeOutput(execution));
		const items = outputs.flat();
		expect(items).toHaveLength(100);
		for (const item of items) {
			if (item.status === 'SUCCESS') continue;
			expect(item.error).toMatchObject({
				message: expect.stringMatching(/Safe to retry/),
				retryable: true,
			});
		}
		const succeeded = items.filter((item) => item.status === 'SUCCESS');
		const stats = sandbox.stats();
		expect(stats.doubleDebits).toEqual([]);
		expect(stats.cardsIssued - issuedBefore).toBe(succeeded.length);
		const load = measureLoad(sandbox.requests(), since, LIMIT);
		expect(load.cardsIssued).toBe(succeeded.length);
		// Each answer that arrived lists the items of one stored execution.
		const requestIdsOf = (list: ItemOutcome[]) =>
			list.map((item) => item.requestId ?? item.error?.requestId).sort();
		for (const { answer, items: answerItems } of answered) {
			expect(answer.status).toBe(200);
			expect(outputs.map(requestIdsOf)).toContainEqual(requestIdsOf(answerItems));
		}
		// Each worker said once that it paces on its own until Redis is back.
		cluster.workers.forEach((worker, index) => {
			const logs = worker.logs().slice(logsBefore[index]);
			expect(
				(logs.match(/shared rate budget in .* is unavailable/g) ?? []).length,
			).toBeLessThanOrEqual(1);
		});
		process.stderr.write(
			`[queue-mode] Redis outage: ${JSON.stringify({ ...load, succeeded: succeeded.length, webhookAnswers: answered.length })}\n`,
		);

		// Settled as a user would: the same items sent again issue only the cards that are missing.
		const again = await fireBatches(cluster, batches);
		const resent = again.flatMap((answer) => answer.items);
		expect(resent.map((item) => item.status)).toEqual(resent.map(() => 'SUCCESS'));
		const replayed = new Set(resent.filter((item) => item.replay).map((item) => item.requestId));
		for (const item of succeeded) expect(replayed.has(item.requestId)).toBe(true);
		const settled = sandbox.stats();
		expect(settled.cardsIssued - issuedBefore).toBe(100);
		expect(settled.doubleDebits).toEqual([]);
	});
});
