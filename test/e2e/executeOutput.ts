/**
 * Parses what `n8n execute --id=<id>` prints: log lines (task broker, license SDK, migrations …),
 * then "Execution was successful:" or "Execution error:", a line of '=', and the run as
 * pretty-printed JSON; on failure more log lines follow. When n8n cannot even start the run
 * (unknown workflow, unrecognized node type) there is no JSON, only the error text.
 */

export interface N8nItem {
	json: Record<string, unknown>;
	binary?: Record<string, unknown>;
	pairedItem?: unknown;
	error?: unknown;
}

export interface N8nNodeRun {
	/** `json` of every item, per output index, from the node's last run. */
	outputs: Array<Array<Record<string, unknown>>>;
	/** The full items (json, binary, pairedItem), per output index, from the node's last run. */
	items: N8nItem[][];
	/** The node's error message when its last run failed. */
	error?: string;
	errorDescription?: string;
	executionStatus?: string;
	/** How many times the node ran in this execution (retries and loops add runs). */
	runCount: number;
}

export interface N8nRun {
	/** n8n's execution status: 'success', 'error', 'crashed', 'canceled', … */
	status: string;
	finished: boolean;
	/** The workflow-level error, usually the failing node's. */
	error?: { message: string; description?: string; node?: string };
	lastNodeExecuted?: string;
	/** Per node name, what its last run produced. Nodes that never ran are absent. */
	nodes: Record<string, N8nNodeRun>;
	/** The run exactly as n8n printed it. */
	raw: Record<string, unknown>;
	/** Everything the `n8n execute` process printed (logs included), when the run came from it. */
	commandOutput?: string;
}

const ANSI_ESCAPES = /\u001b\[[0-9;]*[A-Za-z]/g;

/** The end index (exclusive) of the balanced JSON object starting at `start`, or -1. */
function endOfJsonObject(text: string, start: number): number {
	let depth = 0;
	let inString = false;
	let escaped = false;
	for (let index = start; index < text.length; index++) {
		const character = text[index];
		if (inString) {
			if (escaped) escaped = false;
			else if (character === '\\') escaped = true;
			else if (character === '"') inString = false;
			continue;
		}
		if (character === '"') inString = true;
		else if (character === '{') depth++;
		else if (character === '}') {
			depth--;
			if (depth === 0) return index + 1;
		}
	}
	return -1;
}

function isRunShaped(value: unknown): value is Record<string, unknown> {
	if (typeof value !== 'object' || value === null) return false;
	const data = (value as { data?: { resultData?: unknown } }).data;
	return typeof data === 'object' && data !== null && typeof data.resultData === 'object';
}

/** Finds the run JSON in the output: the last top-level object (a line that is just "{"). */
function extractRunJson(output: string): Record<string, unknown> | undefined {
	const text = output.replace(ANSI_ESCAPES, '');
	const objectStarts: number[] = [];
	const lineStart = /^\{[ \t]*$/gm;
	for (let match = lineStart.exec(text); match; match = lineStart.exec(text)) {
		objectStarts.push(match.index);
	}
	for (const start of objectStarts.reverse()) {
		const end = endOfJsonObject(text, start);
		if (end === -1) continue;
		try {
			const parsed: unknown = JSON.parse(text.slice(start, end));
			if (isRunShaped(parsed)) return parsed;
		} catch {
			// A log line that happened to be "{": keep looking.
		}
	}
	return undefined;
}

function errorMessage(error: unknown): string | undefined {
	if (typeof error !== 'object' || error === null) return undefined;
	const { message } = error as { message?: unknown };
	return typeof message === 'string' ? message : undefined;
}

function errorDescription(error: unknown): string | undefined {
	if (typeof error !== 'object' || error === null) return undefined;
	const { description } = error as { description?: unknown };
	return typeof description === 'string' ? description : undefined;
}

interface TaskData {
	executionStatus?: string;
	error?: unknown;
	data?: { main?: Array<N8nItem[] | null> };
}

export function toN8nRun(raw: Record<string, unknown>): N8nRun {
	const data = raw.data as {
		resultData: {
			runData?: Record<string, TaskData[]>;
			error?: unknown;
			lastNodeExecuted?: string;
		};
	};
	const { resultData } = data;
	const nodes: Record<string, N8nNodeRun> = {};
	for (const [nodeName, taskRuns] of Object.entries(resultData.runData ?? {})) {
		if (!Array.isArray(taskRuns) || taskRuns.length === 0) continue;
		const lastRun = taskRuns[taskRuns.length - 1];
		const items = (lastRun.data?.main ?? []).map((outputItems) => outputItems ?? []);
		nodes[nodeName] = {
			outputs: items.map((outputItems) => outputItems.map((item) => item.json)),
			items,
			error: errorMessage(lastRun.error),
			errorDescription: errorDescription(lastRun.error),
			executionStatus: lastRun.executionStatus,
			runCount: taskRuns.length,
		};
	}
	const workflowError = resultData.error;
	const failedNode = (workflowError as { node?: { name?: unknown } } | undefined)?.node?.name;
	return {
		status: typeof raw.status === 'string' ? raw.status : workflowError ? 'error' : 'unknown',
		finished: raw.finished === true,
		error:
			workflowError === undefined
				? undefined
				: {
						message: errorMessage(workflowError) ?? JSON.stringify(workflowError),
						description: errorDescription(workflowError),
						node: typeof failedNode === 'string' ? failedNode : undefined,
					},
		lastNodeExecuted: resultData.lastNodeExecuted,
		nodes,
		raw,
	};
}

/** Parses `n8n execute` output into a run, or undefined when n8n printed no run. */
export function parseExecuteOutput(output: string): N8nRun | undefined {
	const raw = extractRunJson(output);
	return raw ? toN8nRun(raw) : undefined;
}

/**
 * The error n8n printed when it could not run the workflow at all: the text after the last
 * "=====" separator, without stack frames (e.g. "Unrecognized node type: CUSTOM.foo").
 */
export function extractCommandError(output: string): string {
	const lines = output.replace(ANSI_ESCAPES, '').split('\n');
	let separator = -1;
	lines.forEach((line, index) => {
		if (/^={10,}\s*$/.test(line.trim())) separator = index;
	});
	const candidates = separator === -1 ? lines.slice(-15) : lines.slice(separator + 1);
	const messages: string[] = [];
	for (const line of candidates) {
		const trimmed = line.trim();
		if (!trimmed || /^at\s/.test(trimmed)) continue;
		if (!messages.includes(trimmed)) messages.push(trimmed);
		if (messages.length >= 6) break;
	}
	return messages.join('\n');
}
