import {
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type JsonObject as N8nJsonObject,
	NodeApiError,
	NodeOperationError,
} from 'n8n-workflow';

import {
	type PreparedCall,
	type RunSettings,
	ItemReader,
	OPERATIONS,
	prepareCall,
	readRunSettings,
} from './operations';
import {
	type AgcodConnection,
	type CallResult,
	AgcodCallError,
	callAgcod,
	readConnection,
} from './transport/AgcodTransport';
import { authHint, hintFor, redactSecrets } from './transport/errors';
import { InputError } from './validation';

export const CREDENTIAL_TYPE = 'amazonIncentivesApi';

export const TLS_HINT =
	"Nothing was sent. For a custom endpoint with a self-signed certificate (such as the local sandbox in HTTPS mode), turn on the credential's Ignore SSL Issues.";

/**
 * Request ids this process has seen succeed, so a re-run (Retry On Fail, a second execution) can say the
 * answer was a replay. Bounded; AGCOD itself never says whether an answer is a replay.
 */
const succeededRequests = new Map<string, true>();
const MAX_REMEMBERED_REQUESTS = 100_000;

function rememberSuccess(key: string): void {
	succeededRequests.set(key, true);
	if (succeededRequests.size > MAX_REMEMBERED_REQUESTS)
		succeededRequests.delete(succeededRequests.keys().next().value as string);
}

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

function toNodeError(
	context: IExecuteFunctions,
	error: unknown,
	itemIndex: number,
	connection: AgcodConnection,
): NodeApiError | NodeOperationError {
	const node = context.getNode();
	if (error instanceof NodeOperationError || error instanceof NodeApiError) return error;
	if (error instanceof InputError)
		return new NodeOperationError(
			node,
			`Item ${itemIndex}: invalid ${error.field}: ${error.message}`,
			{
				itemIndex,
				description: 'Nothing was sent to Amazon for this item.',
			},
		);
	if (!(error instanceof AgcodCallError))
		return new NodeOperationError(
			node,
			redactSecrets((error as Error).message ?? String(error), connection.secretAccessKey),
			{
				itemIndex,
			},
		);

	const { outcome, operation, requestId, attempts } = error;
	const idNote = requestId ? ` Request ID: ${requestId}.` : '';
	const httpCode = 'httpStatus' in outcome ? String(outcome.httpStatus) : undefined;
	const amazonMessage = redactSecrets(outcome.message, connection.secretAccessKey);
	let message: string;
	let description: string;
	const details: IDataObject = {
		operation,
		requestId: requestId ?? null,
		attempts,
		retryable: error.retryable,
	};
	// FAILURE and RESEND answers carry Amazon's codes; keep them also when the retries ran out.
	if ('errorCode' in outcome)
		Object.assign(details, { errorCode: outcome.errorCode, errorType: outcome.errorType });

	if (error.retryable) {
		message = `Item ${itemIndex}: Amazon gave no final answer to ${operation} after ${attempts} attempt(s) (last: ${amazonMessage}). Safe to retry.`;
		description = `The identical request was sent ${attempts} time(s) within the retry budget.${idNote} Re-running this node (e.g. with Retry On Fail) sends the same request ID, so Amazon cannot issue a second card or debit twice.`;
	} else if (outcome.kind === 'failure') {
		const code = [outcome.errorCode, outcome.errorType].filter(Boolean).join(' ');
		message = `Item ${itemIndex}: Amazon refused ${operation}: ${amazonMessage}${code ? ` (${code})` : ''}`;
		description = `${hintFor(outcome.errorCode, outcome.errorType)}${idNote}`;
	} else if (outcome.kind === 'auth') {
		message = `Item ${itemIndex}: Amazon rejected the credential (HTTP ${outcome.httpStatus}): ${amazonMessage}`;
		description = authHint(outcome.message);
	} else if (outcome.kind === 'tls') {
		message = `Item ${itemIndex}: the endpoint's TLS certificate is not trusted: ${amazonMessage}`;
		description = TLS_HINT;
	} else {
		message = `Item ${itemIndex}: Amazon could not process ${operation}: ${amazonMessage}`;
		description = `The request was not accepted; check the node's input and the credential's endpoint.${idNote}`;
	}
	const apiError = new NodeApiError(node, { ...details, message: amazonMessage } as N8nJsonObject, {
		message,
		description,
		httpCode,
		itemIndex,
	});
	// n8n swaps a message that mentions a network code (ECONNRESET, ECONNREFUSED …) for a generic text;
	// ours names the item and says whether a retry is safe, so keep it.
	apiError.message = message;
	return apiError;
}

function errorItem(
	error: NodeApiError | NodeOperationError,
	itemIndex: number,
	call?: PreparedCall,
): INodeExecutionData {
	const context = (error instanceof NodeApiError ? error.errorResponse : {}) as IDataObject;
	// n8n replaces the json of an item that carries an `error` object with {error: message}, and routes an
	// item to the error output when its json has `error` and only `message` / `details` beside it: so the
	// structured fields go under `details`, and no `error` object is attached.
	return {
		json: {
			error: error.message,
			details: {
				description: error.description ?? null,
				...(error instanceof NodeApiError ? { httpCode: error.httpCode } : {}),
				...(call?.requestId !== undefined ? { requestId: call.requestId } : {}),
				...pick(context, ['errorCode', 'errorType', 'retryable', 'attempts']),
			},
		},
		pairedItem: { item: itemIndex },
	};
}

function pick(source: IDataObject, keys: string[]): IDataObject {
	const result: IDataObject = {};
	for (const key of keys) if (source[key] !== undefined) result[key] = source[key];
	return result;
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
	if (!OPERATIONS[operationKey])
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
	let settings: RunSettings = { requestsPerSecond: 10, maxConcurrentRequests: 10 };

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
		const replayKey =
			call.requestId && `${connection.baseUrl.origin}|${call.operation}|${call.requestId}`;
		const earlier = replayKey ? inFlight.get(replayKey) : undefined;
		const replay = earlier !== undefined || (replayKey ? succeededRequests.has(replayKey) : false);
		const pending =
			earlier ??
			callAgcod(connection, call.operation, call.body, call.requestId, {
				format: call.format,
				timeoutMs: call.timeoutMs,
				maxRetries: call.maxRetries,
				retryBudgetMs: call.retryBudgetMs,
				requestsPerSecond: settings.requestsPerSecond,
				log,
			});
		if (replayKey && !earlier) inFlight.set(replayKey, pending);
		try {
			const result = await pending;
			if (replayKey) rememberSuccess(replayKey);
			output[itemIndex] = {
				json: outputJson(call, result, replay),
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
