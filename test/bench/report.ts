/** Benchmark results: their JSON shape, the Markdown table, and the README block between the markers. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

import { modeLabel, type QueueModeResults } from './queueMode';

export interface ThroughputRow {
	client: string;
	items: number;
	succeeded: number;
	failed: number;
	throttled: number;
	/** Attempts beyond the first, summed over items (node only). */
	resent: number | null;
	wallMs: number;
	/** Client process CPU (user + system) per item, in microseconds. */
	cpuMicrosPerItem: number;
}

export interface NodeThroughput extends ThroughputRow {
	/** succeeded / wall seconds / limit. */
	ratioToLimit: number;
	/** Requests the sandbox received in its busiest 1-second window. */
	busiestSecond: number;
	/** Requests per second between the first and the last request the sandbox received. */
	observedRate: number;
	doubleDebits: number;
	cardsIssued: number;
	distinctGcIds: number;
}

export interface CpuRow {
	client: string;
	/** Microseconds per item, one per measured run. */
	runs: number[];
	median: number;
	ratioToBare: number;
}

export interface MemoryRow {
	client: string;
	items: number;
	succeeded: number;
	wallMs: number;
	rssDeltaBytes: number;
	heapUsedDeltaBytes: number;
	/** heapUsed after the run and a full GC, the result still held, minus the baseline. */
	retainedHeapBytes: number;
}

export interface BenchResults {
	generatedAt: string;
	command: string;
	environment: { node: string; platform: string; cpu: string; commit: string | null };
	throughput: {
		limit: number;
		latencyMs: number;
		transport: string;
		node: NodeThroughput;
		peers: ThroughputRow[];
	};
	cpu: { items: number; runs: number; pacing: string; transport: string; rows: CpuRow[] };
	memory: { requestsPerSecond: number; rows: MemoryRow[] };
	/** Absent when the run skipped queue mode (--no-queue). */
	queue?: QueueModeResults;
	targets: Array<{ target: string; measured: string; met: boolean }>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const micros = (value: number) => `${Math.round(value)} µs`;
const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const cardsPerSecond = (row: ThroughputRow) => row.succeeded / (row.wallMs / 1000);
/** A rate only means something when every item was issued; a run that dropped items gets a dash. */
const rateCells = (row: ThroughputRow, limit: number) =>
	row.succeeded === row.items
		? `${cardsPerSecond(row).toFixed(2)} | ${(cardsPerSecond(row) / limit).toFixed(3)}`
		: '– | –';

export function renderMarkdown(results: BenchResults): string {
	const { throughput, cpu, memory } = results;
	const node = throughput.node;
	const lines: string[] = [];
	lines.push(
		`Measured ${results.generatedAt} with \`${results.command}\` (Node ${results.environment.node}, ${results.environment.platform}, ${results.environment.cpu}${results.environment.commit ? `, commit ${results.environment.commit}` : ''}).`,
		'',
		`**Throughput**: ${node.items} Create Gift Card items; local sandbox enforcing ${throughput.limit} req/s per account with ${throughput.latencyMs} ms latency, over ${throughput.transport}.`,
		'',
		'| Client | Issued | Wall | Cards/s | vs limit | Throttled | Re-sent | Failed | Client CPU/item |',
		'|---|---|---|---|---|---|---|---|---|',
		`| ${node.client} | ${node.succeeded}/${node.items} | ${seconds(node.wallMs)} | ${cardsPerSecond(node).toFixed(2)} | **${node.ratioToLimit.toFixed(3)}** | ${node.throttled} | ${node.resent} | ${node.failed} | ${micros(node.cpuMicrosPerItem)} |`,
	);
	for (const peer of throughput.peers)
		lines.push(
			`| ${peer.client} | ${peer.succeeded}/${peer.items} | ${seconds(peer.wallMs)} | ${rateCells(peer, throughput.limit)} | ${peer.throttled} | ${peer.resent ?? '–'} | ${peer.failed} | ${micros(peer.cpuMicrosPerItem)} |`,
		);
	lines.push(
		'',
		`Node run, seen by the sandbox: ${node.observedRate.toFixed(2)} req/s from first to last request, at most ${node.busiestSecond} requests in any 1-second window, ${node.cardsIssued} cards issued, ${node.distinctGcIds} distinct gcIds, ${node.doubleDebits} double debits.`,
		'',
		`**CPU per item** (client process only; the sandbox runs in a child process with no latency and no limit, over ${cpu.transport}; ${cpu.items} items per run, median of ${cpu.runs} runs after a warm-up; ${cpu.pacing}):`,
		'',
		'| Client | CPU per item (median) | Added over the bare loop | Runs | vs bare loop |',
		'|---|---|---|---|---|',
	);
	const bareMedian = cpu.rows[0].median;
	for (const row of cpu.rows)
		lines.push(
			`| ${row.client} | ${micros(row.median)} | ${micros(row.median - bareMedian)} | ${row.runs.map((run) => Math.round(run)).join(', ')} | ${row.ratioToBare.toFixed(2)}× |`,
		);
	lines.push(
		'',
		`**Peak memory** (own process; peak of process.memoryUsage() sampled every 20 ms minus the baseline after a warm-up and a full GC; paced at ${memory.requestsPerSecond} req/s). Peaks include garbage not yet collected, so they move with GC timing; the last column is what the run keeps alive (after a full GC, its result still held):`,
		'',
		'| Run | Items | Issued | Wall | Peak RSS − baseline | Peak heapUsed − baseline | Retained heap after GC |',
		'|---|---|---|---|---|---|---|',
	);
	for (const row of memory.rows)
		lines.push(
			`| ${row.client} | ${row.items} | ${row.succeeded} | ${seconds(row.wallMs)} | ${megabytes(row.rssDeltaBytes)} | ${megabytes(row.heapUsedDeltaBytes)} | ${megabytes(row.retainedHeapBytes)} |`,
		);
	if (results.queue) renderQueueMode(results.queue, lines);
	lines.push('', '**Targets**', '', '| Target | Measured | Met |', '|---|---|---|');
	for (const target of results.targets)
		lines.push(`| ${target.target} | ${target.measured} | ${target.met ? 'yes' : '**no**'} |`);
	return lines.join('\n');
}

function renderQueueMode(queue: QueueModeResults, lines: string[]): void {
	const first = queue.rows[0];
	lines.push(
		'',
		`**Queue mode** (n8n ${queue.n8nVersion}: Postgres, Redis, \`n8n start\` and N \`n8n worker\` processes, the package installed from its tarball; ${first ? `${first.executions / first.workers} executions per worker (and, on 2+ workers, one execution more than workers: an uneven load) × ${first.cardsPerExecution} cards` : 'no runs'}, fired at once through a production webhook; the sandbox in a child process at ${queue.limit} req/s with ${queue.latencyMs} ms latency; executions without Continue On Fail). *Shared budget* is the default in queue mode; *per process* and *manual division* turn it off (\`AMAZON_INCENTIVES_SHARED_BUDGET=off\`) with Requests Per Second at the account's limit or at the limit divided by the workers. Aggregate: successful requests per second between the first and the last one, ÷ the limit. Worker CPU: the worker processes and their task runners, per card issued.`,
		'',
		'| Workers | Executions | Budget | Cards issued | Failed executions | Throttled | Aggregate vs limit | Busiest second | Wall | Worker CPU/card |',
		'|---|---|---|---|---|---|---|---|---|---|',
	);
	for (const row of queue.rows)
		lines.push(
			`| ${row.workers} | ${row.executions} | ${modeLabel(row)} | ${row.cardsIssued}/${row.executions * row.cardsPerExecution} | ${row.failedExecutions} of ${row.executions} | ${row.throttled} of ${row.requests} | ${row.mode === 'shared' ? `**${row.aggregateRatio.toFixed(3)}**` : row.aggregateRatio.toFixed(3)} | ${row.busiestSecond} | ${seconds(row.wallMs)} | ${micros(row.workerCpuMicrosPerCard)} |`,
		);
}

const README_START = '<!-- bench:start -->';
const README_END = '<!-- bench:end -->';

/** Replaces only the text between the bench markers; adds the markers at the end when missing. */
export function updateReadmeBlock(readmePath: string, block: string): void {
	const current = existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : '';
	const body = `${README_START}\n${block}\n${README_END}`;
	const start = current.indexOf(README_START);
	const end = current.indexOf(README_END);
	let next: string;
	if (start !== -1 && end > start) {
		next = current.slice(0, start) + body + current.slice(end + README_END.length);
	} else {
		const separator =
			current === '' || current.endsWith('\n\n') ? '' : current.endsWith('\n') ? '\n' : '\n\n';
		next = `${current}${separator}${body}\n`;
	}
	writeFileSync(readmePath, next);
}
