import {
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type JsonObject as N8nJsonObject,
	NodeApiError,
	NodeOperationError,
} from 'n8n-workflow';

import type { PreparedCall } from '../operations';
import { AgcodCallError, movesMoney } from '../transport/call';
import type { AgcodConnection } from '../transport/connection';
import { authHint, hintFor, redactSecrets } from '../transport/errors';
import { InputError } from '../validation';

export const TLS_HINT =
	"Nothing was sent. For a custom endpoint with a self-signed certificate (such as the local sandbox in HTTPS mode), turn on the credential's Ignore SSL Issues.";

/** How an item that failed before anything was sent ended: refused (nothing sent) or a conflict (see execute). */
type NotSentOutcome = 'refused' | 'conflict';

/** Attaches what a failed item's outcome is to an n8n error that is not an AgcodCallError. */
export function markNotSent(
	error: NodeApiError | NodeOperationError,
	outcome: NotSentOutcome,
): NodeApiError | NodeOperationError {
	error.context.outcome = outcome;
	return error;
}

const SETTLE_BY_RERUN =
	'Re-run this item with the same unique ID (Retry On Fail does that too): Amazon deduplicates the request ID, so a re-run returns the original result if it went through, and carries it out exactly once if it did not. Do not retry with a new ID before that.';

const NOT_CARRIED_OUT =
	'This request was not carried out. If an earlier request with the same request ID may have been (an earlier run that ended with an unknown outcome), a re-run with the same ID tells, once the cause is fixed: it returns that result or carries the request out once.';

/** Why an unknown outcome is unknown, and how to settle it, per operation. */
function unknownDescription(error: AgcodCallError, idNote: string): string {
	const { outcome, operation } = error;
	if (
		operation === 'CancelGiftCard' &&
		outcome.kind === 'failure' &&
		outcome.errorType === 'CancelRequestArrivedAfterTimeLimit'
	)
		return `Amazon refused this cancel as too late (after the 15-minute window), but an earlier cancel of this card (in this run or an earlier one) may have gone through, and Amazon may answer a late re-sent cancel this way even then.${idNote} The node does not settle this itself: the only question Amazon answers about a digital card's state is a re-sent CreateGiftCard, which could issue a new card if no card had this ID. To settle it, re-run the Create of this card with the same unique ID and amount: the node then reports the card as cancelled (cardStatus RefundedToPurchaser) or returns it live (Fulfilled).`;
	const activation =
		operation === 'ActivateGiftCard'
			? ' Physical Card → Get Status with this activation request ID also tells whether the card is activated.'
			: '';
	return `Money may or may not have moved.${idNote} ${SETTLE_BY_RERUN}${activation}`;
}

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
		return markNotSent(
			new NodeOperationError(node, `Item ${itemIndex}: invalid ${error.field}: ${error.message}`, {
				itemIndex,
				description: 'Nothing was sent to Amazon for this item.',
			}),
			'refused',
		);
	if (!(error instanceof AgcodCallError))
		return new NodeOperationError(
			node,
			redactSecrets((error as Error).message ?? String(error), connection.secretAccessKey),
			{
				itemIndex,
			},
		);

	const { outcome, operation, requestId, attempts, verdict } = error;
	const idNote = requestId ? ` Request ID: ${requestId}.` : '';
	const httpCode = 'httpStatus' in outcome ? String(outcome.httpStatus) : undefined;
	const amazonMessage = redactSecrets(outcome.message, connection.secretAccessKey);
	const code =
		'errorCode' in outcome ? [outcome.errorCode, outcome.errorType].filter(Boolean).join(' ') : '';
	let message: string;
	let description: string;
	const details: IDataObject = {
		operation,
		requestId: requestId ?? null,
		attempts,
		outcome: verdict,
		retryable: error.retryable,
	};
	// FAILURE and RESEND answers carry Amazon's codes; keep them also when the retries ran out.
	if ('errorCode' in outcome)
		Object.assign(details, { errorCode: outcome.errorCode, errorType: outcome.errorType });
	if (outcome.kind === 'unusable')
		Object.assign(details, { gcId: outcome.gcId, cardStatus: outcome.cardStatus });

	// Amazon may have carried it out, or answered in a way that proves nothing (F100/F500, a late-cancel answer,
	// an unreadable 400): the unknown-outcome text. Otherwise the text names why this request was not carried out.
	const inconclusiveAnswer =
		error.mayHaveBeenApplied ||
		outcome.kind === 'failure' ||
		(outcome.kind === 'client' && outcome.unreadable === true && outcome.httpStatus === 400);
	if (outcome.kind === 'busy') {
		message = `Item ${itemIndex}: nothing was sent: another execution was still sending ${operation} with this request ID when this item's retry budget ran out. Safe to retry.`;
		description = `Two executions (on this or another n8n worker) carried the same request ID; only one may send it at a time.${idNote} Re-running this item sends the same request ID and gets the original answer.`;
	} else if (verdict === 'unknown' && movesMoney(operation) && inconclusiveAnswer) {
		message = `Item ${itemIndex}: outcome unknown: Amazon's answers to ${operation} do not prove whether it was carried out (after ${attempts} attempt(s); last: ${amazonMessage}${code ? ` (${code})` : ''}). Safe to retry with the same ID.`;
		description = unknownDescription(error, idNote);
	} else if (verdict === 'cancelled') {
		message = `Item ${itemIndex}: no card for this item: ${amazonMessage}. No claim code is given out.`;
		description = `Amazon answered CreateGiftCard for this request ID with a card that was cancelled and refunded: this unique ID was used for a card that was then cancelled. Use a new unique ID to issue a new card.${idNote}`;
	} else if (verdict === 'conflict') {
		message = `Item ${itemIndex}: no card for this item: ${amazonMessage}. No claim code is given out.`;
		description = `This request ID already belongs to a card that is not the one this item asks for (for example the unique ID was used before with another amount). A re-run with the original amount returns that card; use a new unique ID for a new card.${idNote}`;
	} else if (verdict === 'unknown' && !movesMoney(operation)) {
		message = `Item ${itemIndex}: Amazon gave no final answer to ${operation} after ${attempts} attempt(s) (last: ${amazonMessage}). Safe to retry.`;
		description = `${operation} moves no money; run it again later.${idNote}`;
	} else if (outcome.kind === 'failure') {
		message = `Item ${itemIndex}: Amazon refused ${operation}: ${amazonMessage}${code ? ` (${code})` : ''}`;
		description = `${hintFor(outcome.errorCode, outcome.errorType)}${idNote}`;
	} else if (outcome.kind === 'auth') {
		message = `Item ${itemIndex}: Amazon rejected the credential (HTTP ${outcome.httpStatus}): ${amazonMessage}`;
		description = authHint(outcome.message);
	} else if (outcome.kind === 'tls') {
		message = `Item ${itemIndex}: the endpoint's TLS certificate is not trusted: ${amazonMessage}`;
		description = TLS_HINT;
	} else if (error.retryable) {
		message = `Item ${itemIndex}: Amazon gave no final answer to ${operation} after ${attempts} attempt(s) (last: ${amazonMessage}); this request was not carried out. Safe to retry.`;
		description = `None of the ${attempts} attempt(s) can have been carried out by Amazon (throttled or not delivered).${idNote} Re-running this node (e.g. with Retry On Fail) sends the same request ID, so Amazon cannot issue a second card or debit twice.`;
	} else {
		message = `Item ${itemIndex}: Amazon could not process ${operation}: ${amazonMessage}`;
		description = `The request was not accepted; check the node's input and the credential's endpoint.${idNote}`;
	}
	// The request was not carried out, but its id may have been sent before (an earlier run): say how to know.
	if (verdict === 'unknown' && movesMoney(operation) && !inconclusiveAnswer)
		description = `${description} ${NOT_CARRIED_OUT}`;
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
type ErrorItemFields = IDataObject & { message: string };

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
function errorItemJson(fields: ErrorItemFields): IDataObject {
	return { error: fields };
}

/** The item a failed item becomes under Continue On Fail (and on the error output). */
export function errorItem(
	error: NodeApiError | NodeOperationError,
	itemIndex: number,
	call?: PreparedCall,
): INodeExecutionData {
	const context = (
		error instanceof NodeApiError ? error.errorResponse : error.context
	) as IDataObject;
	return {
		json: errorItemJson({
			message: error.message,
			description: error.description ?? null,
			...(error instanceof NodeApiError ? { httpCode: error.httpCode } : {}),
			...(call?.requestId !== undefined ? { requestId: call.requestId } : {}),
			...pick(context, [
				'requestId',
				'outcome',
				'errorCode',
				'errorType',
				'retryable',
				'attempts',
				'gcId',
				'cardStatus',
			]),
		}),
		pairedItem: { item: itemIndex },
	};
}

function pick(source: IDataObject, keys: string[]): IDataObject {
	const result: IDataObject = {};
	for (const key of keys) if (source[key] !== undefined) result[key] = source[key];
	return result;
}
