/**
 * Peak memory of one large run, in a process of its own (started with --expose-gc): the baseline is taken
 * after a warm-up run and a full GC, then process.memoryUsage() is sampled every 20 ms during the run.
 *
 * Usage: node --expose-gc --import tsx test/bench/memoryRun.ts '<json MemoryRunRequest>'
 *        → prints one JSON MemoryRunResult line.
 */
import {
	type Target,
	createParameters,
	loadBuiltNode,
	runThroughMinimalContext,
	runThroughN8n,
} from './clients';
import { benchItems } from './items';

export interface MemoryRunRequest {
	target: Target;
	count: number;
	variant: 'n8n' | 'minimal';
	requestsPerSecond: number;
}

export interface MemoryRunResult {
	variant: MemoryRunRequest['variant'];
	items: number;
	succeeded: number;
	wallMs: number;
	baseline: { rss: number; heapUsed: number };
	peak: { rss: number; heapUsed: number };
	/** After the run and a full GC, with the run's result still held (what the run keeps alive). */
	retained: { rss: number; heapUsed: number };
}

const SAMPLE_EVERY_MS = 20;

function collectGarbage(): void {
	const gc = (globalThis as { gc?: () => void }).gc;
	if (!gc) throw new Error('run with --expose-gc');
	gc();
	gc();
}

async function main(): Promise<void> {
	const request = JSON.parse(process.argv[2]) as MemoryRunRequest;
	const built = loadBuiltNode();
	const options = { requestsPerSecond: request.requestsPerSecond };
	/** The run's whole result (n8n: output, run data and captured logs), and how many items succeeded. */
	const run = async (
		count: number,
		prefix: string,
	): Promise<{ held: unknown; succeeded: number }> => {
		const items = benchItems(count, prefix);
		if (request.variant === 'n8n') {
			const result = await runThroughN8n(
				built,
				request.target,
				items,
				createParameters(options, true),
			);
			const succeeded = result.main.filter((item) => item.json.status === 'SUCCESS').length;
			return { held: result, succeeded };
		}
		const output = await runThroughMinimalContext(built, request.target, items, options);
		return {
			held: output,
			succeeded: output.filter((item) => item.json.status === 'SUCCESS').length,
		};
	};

	// Everything loaded and compiled once, so the baseline holds the modules and only the run is measured.
	await run(50, `memory-warmup-${request.variant}`);
	collectGarbage();
	await new Promise((resolve) => setTimeout(resolve, 200));
	const start = process.memoryUsage();
	const baseline = { rss: start.rss, heapUsed: start.heapUsed };
	const peak = { ...baseline };
	const sample = () => {
		const usage = process.memoryUsage();
		peak.rss = Math.max(peak.rss, usage.rss);
		peak.heapUsed = Math.max(peak.heapUsed, usage.heapUsed);
	};
	const sampler = setInterval(sample, SAMPLE_EVERY_MS);
	const startedAt = performance.now();
	const { held, succeeded } = await run(request.count, `memory-${request.variant}`);
	const wallMs = performance.now() - startedAt;
	sample();
	clearInterval(sampler);
	collectGarbage();
	const after = process.memoryUsage();
	const retained = { rss: after.rss, heapUsed: after.heapUsed };
	if (held === undefined) throw new Error('the result must stay referenced until measured');

	const result: MemoryRunResult = {
		variant: request.variant,
		items: request.count,
		succeeded,
		wallMs,
		baseline,
		peak,
		retained,
	};
	process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: Error) => {
	process.stderr.write(`memory run: ${error.message}\n`);
	process.exit(1);
});
