/**
 * The benchmark's queue-mode section: a real n8n 2.40.7 cluster (Postgres, Redis, main, 1/2/4 workers, the
 * package from its tarball), executions fired through a production webhook against the sandbox (a child
 * process) at 10 requests/s with 300 ms latency. Three ways to run the node on N workers:
 * - shared budget (the default in queue mode: n8n's queue Redis, nothing configured);
 * - per process (AMAZON_INCENTIVES_SHARED_BUDGET=off, Requests Per Second 10: what each worker did before);
 * - manual division (AMAZON_INCENTIVES_SHARED_BUDGET=off, Requests Per Second 10 / N: the old README advice).
 * Each with an even load (executionsPerWorker per worker) and, on 2+ workers, an uneven one (one execution more
 * than workers). Executions run without Continue On Fail, so an item that runs out of retries fails its execution.
 */
import { readdirSync, readFileSync } from 'node:fs';

import { N8N_VERSION } from '../e2e/cache';
import { QueueCluster } from '../e2e/queueCluster';
import { batchItems, fireBatches, measureLoad, queueBatchWorkflow } from '../e2e/queueLoad';
import { sandboxCredential } from '../e2e/workflows';
import { type SandboxChild, startSandboxChild } from './sandboxChild';

type BudgetMode = 'shared' | 'perProcess' | 'manualDivision';

interface QueueModeRow {
	workers: number;
	mode: BudgetMode;
	/** Requests Per Second set in the node. */
	requestsPerSecond: number;
	executions: number;
	cardsPerExecution: number;
	cardsIssued: number;
	failedExecutions: number;
	requests: number;
	throttled: number;
	/** Successful requests per second between the first and the last one, ÷ the limit. */
	aggregateRatio: number;
	busiestSecond: number;
	wallMs: number;
	/** CPU (user + system) of the worker processes and their task runners, per card issued, in µs. */
	workerCpuMicrosPerCard: number;
	doubleDebits: number;
}

export interface QueueModeResults {
	limit: number;
	latencyMs: number;
	n8nVersion: string;
	rows: QueueModeRow[];
}

export interface QueueModePlan {
	workerCounts: number[];
	executionsPerWorker: number;
	cardsPerExecution: number;
}

const LIMIT = 10;
const LATENCY_MS = 300;
const CREDENTIAL_NAME = 'AGCOD bench sandbox';
const SHARED_PATH = 'bench-queue';
const DIVIDED_PATH = 'bench-queue-divided';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) used so far by every process in these process groups, from /proc. */
function processGroupsCpuSeconds(groups: number[]): number {
	const wanted = new Set(groups);
	let ticks = 0;
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		let stat: string;
		try {
			stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
		} catch {
			continue; // Gone meanwhile.
		}
		// Fields after "pid (comm)": state ppid pgrp … utime (14th field) stime (15th).
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		if (!wanted.has(Number(fields[2]))) continue;
		ticks += Number(fields[11]) + Number(fields[12]);
	}
	return ticks / TICKS_PER_SECOND;
}

const MODE_LABELS: Record<BudgetMode, string> = {
	shared: 'shared budget (Redis)',
	perProcess: 'per process',
	manualDivision: 'manual division',
};

export function modeLabel(row: Pick<QueueModeRow, 'mode' | 'requestsPerSecond'>): string {
	return row.mode === 'manualDivision'
		? `${MODE_LABELS[row.mode]} (${row.requestsPerSecond}/s each)`
		: MODE_LABELS[row.mode];
}

async function measureRun(
	cluster: QueueCluster,
	sandbox: SandboxChild,
	plan: QueueModePlan,
	log: (line: string) => void,
	workers: number,
	mode: BudgetMode,
	executions: number,
): Promise<QueueModeRow> {
	const requestsPerSecond = mode === 'manualDivision' ? LIMIT / workers : LIMIT;
	log(
		`queue mode: ${workers} worker(s), ${modeLabel({ mode, requestsPerSecond })}, ${executions} × ${plan.cardsPerExecution} cards…`,
	);
	await sandbox.reset();
	// Budgets idle (and refilled) before every run.
	await sleep(2000);
	const groups = cluster.workers.map((worker) => worker.pid);
	const cpuBefore = processGroupsCpuSeconds(groups);
	const startedAt = performance.now();
	const label = `q${workers}${mode}${Date.now()}`;
	const answers = await fireBatches(
		cluster,
		Array.from({ length: executions }, (_, index) =>
			batchItems(`${label}-${index}`, plan.cardsPerExecution, {
				...(mode === 'manualDivision' ? { rps: requestsPerSecond } : {}),
			}),
		),
		mode === 'manualDivision' ? DIVIDED_PATH : SHARED_PATH,
	);
	const wallMs = performance.now() - startedAt;
	const cpuSeconds = processGroupsCpuSeconds(groups) - cpuBefore;
	const stats = await sandbox.stats();
	const load = measureLoad(await sandbox.requests(), 0, LIMIT);
	const failedExecutions = answers.filter(
		({ answer, items }) =>
			answer.status !== 200 ||
			items.length !== plan.cardsPerExecution ||
			items.some((item) => item.status !== 'SUCCESS'),
	).length;
	const row: QueueModeRow = {
		workers,
		mode,
		requestsPerSecond,
		executions,
		cardsPerExecution: plan.cardsPerExecution,
		cardsIssued: stats.cardsIssued,
		failedExecutions,
		requests: load.requests,
		throttled: load.throttled,
		aggregateRatio: load.aggregateRatio,
		busiestSecond: load.busiestSecond,
		wallMs,
		workerCpuMicrosPerCard: stats.cardsIssued ? (cpuSeconds * 1e6) / stats.cardsIssued : 0,
		doubleDebits: stats.doubleDebits.length,
	};
	log(
		`  ${row.cardsIssued}/${executions * plan.cardsPerExecution} cards, ${row.failedExecutions} failed executions, ${row.throttled} throttled of ${row.requests}, aggregate ${row.aggregateRatio.toFixed(3)}, ${Math.round(row.workerCpuMicrosPerCard)} µs worker CPU/card`,
	);
	return row;
}

export async function measureQueueMode(
	plan: QueueModePlan,
	log: (line: string) => void,
): Promise<QueueModeResults> {
	const sandbox = await startSandboxChild({ rate: LIMIT, latencyMs: LATENCY_MS });
	let cluster: QueueCluster | undefined;
	const rows: QueueModeRow[] = [];
	try {
		log('queue mode: starting Postgres, Redis and n8n main…');
		cluster = await QueueCluster.create({ workers: 0 });
		await cluster.n8n.importCredentials([
			sandboxCredential(CREDENTIAL_NAME, {
				url: sandbox.url,
				region: sandbox.region,
				partner: {
					partnerId: sandbox.partnerId,
					accessKeyId: sandbox.accessKeyId,
					secretAccessKey: sandbox.secretAccessKey,
				},
			}),
		]);
		const nodeType = cluster.n8n.nodeType('amazonIncentives');
		const workflowIds = await cluster.n8n.importWorkflows([
			queueBatchWorkflow(nodeType, CREDENTIAL_NAME, {
				webhookPath: SHARED_PATH,
				continueOnFail: false,
			}),
			queueBatchWorkflow(nodeType, CREDENTIAL_NAME, {
				webhookPath: DIVIDED_PATH,
				continueOnFail: false,
				rateFromItems: true,
			}),
		]);
		for (const id of workflowIds) await cluster.n8n.publishWorkflow(id);
		await cluster.start([SHARED_PATH, DIVIDED_PATH]);

		for (const workers of plan.workerCounts) {
			const even = workers * plan.executionsPerWorker;
			// One more execution than workers: uneven, as the "3 executions on 2 workers".
			const uneven = workers + 1;
			const groups: Array<{ env: Record<string, string>; runs: Array<[BudgetMode, number]> }> = [
				{
					env: {},
					runs:
						workers === 1
							? [['shared', even]]
							: [
									['shared', even],
									['shared', uneven],
								],
				},
				{
					env: { AMAZON_INCENTIVES_SHARED_BUDGET: 'off' },
					runs:
						workers === 1
							? [['perProcess', even]]
							: [
									['perProcess', even],
									['manualDivision', even],
									['manualDivision', uneven],
								],
				},
			];
			for (const group of groups) {
				await cluster.startWorkers(workers, group.env);
				for (const [mode, executions] of group.runs)
					rows.push(await measureRun(cluster, sandbox, plan, log, workers, mode, executions));
				await cluster.stopWorkers();
			}
		}
		return { limit: LIMIT, latencyMs: LATENCY_MS, n8nVersion: N8N_VERSION, rows };
	} finally {
		await cluster?.dispose();
		await sandbox.stop();
	}
}
