import {
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type NodeApiError,
	NodeOperationError,
} from 'n8n-workflow';

import { NUMBER_OPTIONS } from './defaults';
import { errorItem, toNodeError } from './helpers/utils';
import {
	type PreparedCall,
	type RunSettings,
	ItemReader,
	isOperationKey,
	prepareCall,
	readRunSettings,
} from './operations';
import { type CallResult, callAgcod } from './transport/call';
import { type AgcodConnection, readConnection } from './transport/connection';
import { InputError } from './validation';

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
			if (!continueOnFail) throw nodeError;
			output[itemIndex] = errorItem(nodeError, itemIndex);
		}
	}
	rejectConflictingDuplicates(this, calls, output, continueOnFail, connection);

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

	if (failures.length > 0) {
		// Items already in flight were allowed to finish; their cards come back on a re-run (same ids).
		failures.sort((a, b) => a.itemIndex - b.itemIndex);
		throw failures[0].error;
	}
	return [output];
}

/** The same request id with a different body would be refused by Amazon; say so before sending anything. */
function rejectConflictingDuplicates(
	context: IExecuteFunctions,
	calls: Array<PreparedCall | undefined>,
	output: INodeExecutionData[],
	continueOnFail: boolean,
	connection: AgcodConnection,
): void {
	const firstBody = new Map<string, { itemIndex: number; body: string }>();
	calls.forEach((call, itemIndex) => {
		if (!call?.requestId) return;
		const key = `${call.operation}|${call.requestId}`;
		const body = JSON.stringify(call.body);
		const first = firstBody.get(key);
		if (!first) {
			firstBody.set(key, { itemIndex, body });
			return;
		}
		if (first.body === body) return;
		const field = call.operation === 'CancelGiftCard' ? 'creationRequestId' : 'idempotencyKey';
		const error = toNodeError(
			context,
			new InputError(
				field,
				`item ${first.itemIndex} already uses request ID ${call.requestId} with different details; the same ${field} must always mean the same transaction`,
			),
			itemIndex,
			connection,
		);
		if (!continueOnFail) throw error;
		calls[itemIndex] = undefined;
		output[itemIndex] = errorItem(error, itemIndex);
	});
}
