import {
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type JsonObject as N8nJsonObject,
	NodeApiError,
	NodeOperationError,
} from 'n8n-workflow';

import type { PreparedCall } from '../operations';
import { AgcodCallError } from '../transport/call';
import type { AgcodConnection } from '../transport/connection';
import { authHint, hintFor, redactSecrets } from '../transport/errors';
import { InputError } from '../validation';

export const TLS_HINT =
	"Nothing was sent. For a custom endpoint with a self-signed certificate (such as the local sandbox in HTTPS mode), turn on the credential's Ignore SSL Issues.";

/** Turns anything one item threw into the n8n error that names the item and says what to do. */
export function toNodeError(
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

	if (outcome.kind === 'busy') {
		message = `Item ${itemIndex}: nothing was sent: another execution was still sending ${operation} with this request ID when this item's retry budget ran out. Safe to retry.`;
		description = `Two executions (on this or another n8n worker) carried the same request ID; only one may send it at a time.${idNote} Re-running this item sends the same request ID and gets the original answer.`;
	} else if (error.retryable) {
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

/** What an error item says: the message first, then whatever structured fields are known. */
export type ErrorItemFields = IDataObject & { message: string };

/**
 * The json of an error item: `{ error: { message, …fields } }`, so expressions read `$json.error.message`,
 * `$json.error.errorCode` and so on, on every supported n8n.
 *
 * With On Error → Continue (using error output) n8n moves an item to the error output when the item has
 * `error` set, or when `json.error` is truthy and json has no other key than: `message` (n8n-core 1.122 /
 * n8n 1.123.x: exactly `{error}` or `{error, message}`), `message` or `details` (n8n-core 2.40 / n8n 2.40.7).
 * An item with `error` set gets its json replaced by `{error: message}` on both lines, so that is not used;
 * `error` as the only key, holding the fields, is the shape both lines route.
 */
export function errorItemJson(fields: ErrorItemFields): IDataObject {
	return { error: fields };
}

/** The item a failed item becomes under Continue On Fail (and on the error output). */
export function errorItem(
	error: NodeApiError | NodeOperationError,
	itemIndex: number,
	call?: PreparedCall,
): INodeExecutionData {
	const context = (error instanceof NodeApiError ? error.errorResponse : {}) as IDataObject;
	return {
		json: errorItemJson({
			message: error.message,
			description: error.description ?? null,
			...(error instanceof NodeApiError ? { httpCode: error.httpCode } : {}),
			...(call?.requestId !== undefined ? { requestId: call.requestId } : {}),
			...pick(context, ['errorCode', 'errorType', 'retryable', 'attempts']),
		}),
		pairedItem: { item: itemIndex },
	};
}

function pick(source: IDataObject, keys: string[]): IDataObject {
	const result: IDataObject = {};
	for (const key of keys) if (source[key] !== undefined) result[key] = source[key];
	return result;
}
