import { randomUUID } from 'node:crypto';

import {
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	NodeApiError,
	NodeOperationError,
} from 'n8n-workflow';

import { NUMBER_OPTIONS } from './defaults';
import { claimCodesAtRestHint } from './helpers/claimCodesAtRest';
import { errorItem, markNotSent, toNodeError } from './helpers/utils';
import {
	type PreparedCall,
	type RunSettings,
	ItemReader,
	isOperationKey,
	prepareCall,
	readRunSettings,
} from './operations';
import { type CallResult, callAgcod } from './transport/call';
import {
	type Spend,
	SpendingLedger,
	checkItemSpend,
	describeOverspend,
	parseSpendingLimits,
} from './spendingLimits';
import { type AgcodConnection, readConnection } from './transport/connection';

const CREDENTIAL_TYPE = 'amazonIncentivesApi';

/** Keeps only the last 4 letters/digits: enough to tell cards apart, useless for redeeming. */
export function maskClaimCode(code: string): string {
	return code.replace(/[A-Za-z0-9](?=(?:[^A-Za-z0-9]*[A-Za-z0-9]){4})/g, '*');
}

function outputJson(call: PreparedCall, result: CallResult, replay: boolean): IDataObject {
	const json: IDataObject = { ...result.data };
	if (call.operation === 'CreateGiftCard' && typeof json.gcClaimCode === 'string') {
		if (call.claimCodeOutput === 'omit') delete json.gcClaimCode;
		else if (call.claimCodeOutput === 'mask') json.gcClaimCode = maskClaimCode(json.gcClaimCode);
	}
	if (call.requestId !== undefined) {
		json.requestId = call.requestId;
		json.replay = replay;
	}
	json.attempts = result.attempts;
	if (result.statusChecked) json.recoveredWithStatusCheck = true;
	return json;
}

/**
 * item → parameters → validated request → signed call (with retry) → output item.
 * Every item is validated before anything is sent, so bad input never leaves money half-moved; then items run
 * concurrently under the shared rate limit, and output stays in input order.
 */
export async function executeAmazonIncentives(
	this: IExecuteFunctions,
): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const continueOnFail = this.continueOnFail();
	const operationKey = `${this.getNodeParameter('resource', 0)}:${this.getNodeParameter('operation', 0)}`;
	if (!isOperationKey(operationKey))
		throw new NodeOperationError(this.getNode(), `Unsupported operation "${operationKey}"`);

	const read = readConnection(await this.getCredentials(CREDENTIAL_TYPE));
	if ('problem' in read)
		throw new NodeOperationError(
			this.getNode(),
			`Amazon Incentives credential: ${read.problem.message}`,
			{
				description: `Fix the "${read.problem.field}" field of the credential.`,
			},
		);
	const { connection } = read;

	const output: INodeExecutionData[] = new Array(items.length);
	const calls: Array<PreparedCall | undefined> = new Array(items.length);
	let settings: RunSettings = {
		requestsPerSecond: NUMBER_OPTIONS.requestsPerSecond.default,
		maxConcurrentRequests: NUMBER_OPTIONS.maxConcurrentRequests.default,
	};

	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			if (itemIndex === 0) settings = readRunSettings(new ItemReader(this, 0));
			calls[itemIndex] = prepareCall(this, itemIndex, operationKey, connection);
		} catch (error) {
			const nodeError = toNodeError(this, error, itemIndex, connection);
			if (nodeError.context.outcome === undefined) markNotSent(nodeError, 'refused');
			if (!continueOnFail) throw nodeError;
			output[itemIndex] = errorItem(nodeError, itemIndex);
		}
	}
	rejectConflictingDuplicates(this, items, calls, output, continueOnFail);
	enforceSpendingLimits(this, calls, output, continueOnFail, connection);

	// Items with the same request id share one call: the first one sent, the others are replays of it.
	const inFlight = new Map<string, Promise<CallResult>>();
	const failures: Array<{ itemIndex: number; error: NodeApiError | NodeOperationError }> = [];
	let nextItem = 0;
	let stopped = false;
	const log = (message: string, meta: Record<string, unknown>) =>
		this.logger.debug(message, { node: this.getNode().name, ...meta });

	const runItem = async (itemIndex: number) => {
		const call = calls[itemIndex];
		if (!call) return;
		const shareKey = call.requestId && `${call.operation}|${call.requestId}`;
		const earlier = shareKey ? inFlight.get(shareKey) : undefined;
		const pending =
			earlier ??
			callAgcod(connection, call.operation, call.body, call.requestId, {
				format: call.format,
				timeoutMs: call.timeoutMs,
				maxRetries: call.maxRetries,
				retryBudgetMs: call.retryBudgetMs,
				requestsPerSecond: settings.requestsPerSecond,
				log,
				logger: this.logger,
			});
		if (shareKey && !earlier) inFlight.set(shareKey, pending);
		try {
			const result = await pending;
			output[itemIndex] = {
				json: outputJson(call, result, earlier !== undefined || result.replay),
				pairedItem: { item: itemIndex },
			};
		} catch (error) {
			const nodeError = toNodeError(this, error, itemIndex, connection);
			if (continueOnFail) output[itemIndex] = errorItem(nodeError, itemIndex, call);
			else {
				failures.push({ itemIndex, error: nodeError });
				stopped = true;
			}
		}
	};

	const worker = async () => {
		while (!stopped && nextItem < items.length) await runItem(nextItem++);
	};
	await Promise.all(
		Array.from({ length: Math.min(settings.maxConcurrentRequests, items.length) }, worker),
	);

	const hint = claimCodesAtRestHint(this, calls, output);
	if (hint) this.addExecutionHints(hint);
	if (failures.length > 0) {
		// Items already in flight were allowed to finish; the error names them, as a re-run returns them.
		failures.sort((a, b) => a.itemIndex - b.itemIndex);
		throw withRunSummary(failures[0].error, calls, output, failures, nextItem);
	}
	return [output];
}

/** What each node moved in each workflow execution in this process, for Max Total Per Execution. */
const spendingLedger = new SpendingLedger();

/**
 * The spending limits, after every item is validated and before anything is sent: an item over its cap fails
 * like any bad input; a batch that would pass the node's total for this execution sends nothing at all.
 * Limits come from the saved parameters, never evaluated, so no input and no AI agent can set them; as an AI
 * tool (n8n names the tool variant of a node type `<type>Tool`) the node moves money only under a total.
 */
function enforceSpendingLimits(
	context: IExecuteFunctions,
	calls: Array<PreparedCall | undefined>,
	output: INodeExecutionData[],
	continueOnFail: boolean,
	connection: AgcodConnection,
): void {
	if (!calls.some((call) => call?.spend)) return;
	const node = context.getNode();
	let limits;
	try {
		limits = parseSpendingLimits(node.parameters.spendingLimits);
	} catch (error) {
		// Only SpendingLimitError comes from here: a limit that is not a fixed, readable value.
		throw markNotSent(
			new NodeOperationError(node, (error as Error).message, {
				description: 'Nothing was sent to Amazon. Enter the limits as fixed numbers.',
			}),
			'refused',
		);
	}
	const asTool = node.type.endsWith('Tool');
	if (limits.size === 0 && !asTool) return;

	const fail = (itemIndex: number, error: NodeApiError | NodeOperationError) => {
		if (!continueOnFail) throw error;
		calls[itemIndex] = undefined;
		output[itemIndex] = errorItem(error, itemIndex);
	};
	calls.forEach((call, itemIndex) => {
		if (!call?.spend) return;
		try {
			checkItemSpend(limits, call.spend, asTool);
		} catch (error) {
			fail(itemIndex, toNodeError(context, error, itemIndex, connection));
		}
	});

	const batch: Spend[] = [];
	for (const call of calls)
		if (call?.spend && call.requestId) batch.push({ requestId: call.requestId, ...call.spend });
	// Without an execution id (not seen in n8n itself) the run counts alone.
	const scope = `${context.getExecutionId() || randomUUID()}|${node.id || node.name}`;
	const overspend = spendingLedger.reserve(scope, batch, limits);
	if (!overspend) return;
	const message = describeOverspend(overspend);
	const description =
		"Raise the node's Spending Limits, or send fewer or smaller items. The total counts everything this node sent in this workflow execution, loops and repeated AI tool calls included.";
	const refusal = (itemIndex?: number) =>
		markNotSent(new NodeOperationError(node, message, { itemIndex, description }), 'refused');
	if (!continueOnFail) throw refusal();
	calls.forEach((call, itemIndex) => {
		if (call) fail(itemIndex, refusal(itemIndex));
	});
}

/** Where an item of a stopped run stands, for the error that stops it. */
interface ItemReference {
	itemIndex: number;
	requestId: string;
}

function listItems(references: ItemReference[]): string {
	return references
		.map(({ itemIndex, requestId }) => `item ${itemIndex} (${requestId})`)
		.join(', ');
}

/**
 * Without Continue On Fail the first failure stops the node, and n8n shows only the error: so the error names
 * every item that succeeded in this run (their request ids, never their claim codes), the other failed items
 * whose outcome is unknown, and the items never sent.
 */
function withRunSummary(
	error: NodeApiError | NodeOperationError,
	calls: Array<PreparedCall | undefined>,
	output: INodeExecutionData[],
	failures: Array<{ itemIndex: number; error: NodeApiError | NodeOperationError }>,
	firstUnsentItem: number,
): NodeApiError | NodeOperationError {
	const succeeded: ItemReference[] = [];
	calls.forEach((call, itemIndex) => {
		if (call?.requestId !== undefined && output[itemIndex] !== undefined)
			succeeded.push({ itemIndex, requestId: call.requestId });
	});
	const alsoUnknown: ItemReference[] = failures
		.slice(1)
		.filter(({ error: other }) => outcomeOf(other) === 'unknown')
		.map(({ itemIndex }) => ({ itemIndex, requestId: calls[itemIndex]?.requestId ?? '' }));
	const notSent = calls.length - firstUnsentItem;
	const parts: string[] = [];
	if (succeeded.length > 0)
		parts.push(
			`Succeeded in this run before it stopped: ${listItems(succeeded)}. A re-run with the same unique IDs returns these results again (the same cards) and moves no money for them.`,
		);
	if (alsoUnknown.length > 0)
		parts.push(
			`Outcome unknown (settle with a re-run using the same unique IDs): ${listItems(alsoUnknown)}.`,
		);
	if (notSent > 0)
		parts.push(
			`Not sent: item${notSent > 1 ? `s ${firstUnsentItem}–${calls.length - 1}` : ` ${firstUnsentItem}`}.`,
		);
	if (parts.length === 0) return error;
	error.description = [error.description, ...parts].filter(Boolean).join(' ');
	error.context.succeededInThisRun = succeeded.map((reference) => ({ ...reference }));
	return error;
}

function outcomeOf(error: NodeApiError | NodeOperationError): unknown {
	return error instanceof NodeApiError
		? (error.errorResponse as IDataObject | undefined)?.outcome
		: error.context.outcome;
}

/** Key-sorted JSON, so two items with the same data in another key order compare equal. */
function stableJson(value: unknown): string {
	return JSON.stringify(value, (_key, inner: unknown) =>
		inner !== null && typeof inner === 'object' && !Array.isArray(inner)
			? Object.fromEntries(
					Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
				)
			: inner,
	);
}

/**
 * Items of one run that share a request id get one result: the first one sent, the others replay it. That is
 * right for exact duplicates, but two different records with one key (two e-mail addresses, say) would hand
 * both recipients one card: so a later item whose input data differs is a conflict and nothing is sent for it,
 * unless the option says same-ID items are replays. A different request body is always a conflict: Amazon
 * would refuse it.
 */
function rejectConflictingDuplicates(
	context: IExecuteFunctions,
	items: INodeExecutionData[],
	calls: Array<PreparedCall | undefined>,
	output: INodeExecutionData[],
	continueOnFail: boolean,
): void {
	// Body and input are serialised only when an id repeats: most runs have no repeats, and inputs can be large.
	const bodyOf = (itemIndex: number) => JSON.stringify(calls[itemIndex]?.body);
	const inputOf = (itemIndex: number) => stableJson(items[itemIndex].json);
	const first = new Map<string, number>();
	calls.forEach((call, itemIndex) => {
		if (!call?.requestId) return;
		const key = `${call.operation}|${call.requestId}`;
		const earlierIndex = first.get(key);
		if (earlierIndex === undefined) {
			first.set(key, itemIndex);
			return;
		}
		const differentBody = bodyOf(earlierIndex) !== bodyOf(itemIndex);
		if (!differentBody && (!call.newTransaction || call.sameIdItemsAreReplays)) return;
		if (!differentBody && inputOf(earlierIndex) === inputOf(itemIndex)) return;
		const what = differentBody
			? 'different details (amount, card or fields)'
			: 'different input data';
		const error = markNotSent(
			new NodeOperationError(
				context.getNode(),
				`Item ${itemIndex}: conflict: item ${earlierIndex} has the same ID (request ID ${call.requestId}) with ${what}; nothing was sent for this item`,
				{
					itemIndex,
					description: differentBody
						? 'One request ID must always mean the same transaction: Amazon refuses a request ID re-used with other details. Give each transaction its own unique ID.'
						: `Both items derive request ID ${call.requestId}, so Amazon would give them one and the same result (it deduplicates by request ID): two recipients would share one card. Give each item its own unique ID, or, if they really are the same transaction, turn on the option Treat Same-ID Items as Replays.`,
				},
			),
			'conflict',
		);
		error.context.requestId = call.requestId;
		if (!continueOnFail) throw error;
		calls[itemIndex] = undefined;
		output[itemIndex] = errorItem(error, itemIndex);
	});
}
