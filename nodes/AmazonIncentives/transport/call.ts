import { FUNDS_REQUESTS_PER_SECOND, RETRY_BASE_DELAY_MS } from '../defaults';
import { type AgcodOperation, type BodyFormat, type JsonObject, encodeBody } from './codec';
import { type AgcodConnection, operationPath } from './connection';
import {
	type AttemptOutcome,
	classifyResponse,
	isAmbiguous,
	isRetryable,
	redactSecrets,
} from './errors';
import { post } from './http';
import { rateLimiterFor } from './rateLimiter';
import { agcodHeaders, signAgcodRequest } from './signing';

export interface CallOptions {
	format: BodyFormat;
	/** Per attempt, connect to last byte. Amazon recommends 6 s. */
	timeoutMs: number;
	/** Re-sends after the first attempt for RESEND, throttling, timeouts, connection errors, 5xx. */
	maxRetries: number;
	/** Wall-clock limit for all attempts and waits of one call. */
	retryBudgetMs: number;
	requestsPerSecond: number;
	/** First back-off step; doubles per attempt, with jitter. */
	retryBaseDelayMs?: number;
	log?: (message: string, meta: Record<string, unknown>) => void;
}

export interface CallResult {
	data: JsonObject;
	attempts: number;
	/** An activation whose answer was lost was settled with ActivationStatusCheck before it was re-sent. */
	statusChecked: boolean;
}

/**
 * The call did not succeed. `retryable` means Amazon's answer never became final within the budget: the
 * identical request (same request id) may be sent again later and cannot create a duplicate.
 */
export class AgcodCallError extends Error {
	readonly retryable: boolean;

	constructor(
		readonly operation: AgcodOperation,
		readonly requestId: string | undefined,
		readonly outcome: Exclude<AttemptOutcome, { kind: 'success' }>,
		readonly attempts: number,
	) {
		super(outcome.message);
		this.name = 'AgcodCallError';
		this.retryable = isRetryable(outcome.kind);
	}
}

/**
 * Amazon's bucket and ours both refill at the account rate. Starting with only half a burst leaves Amazon's
 * bucket half full, so network jitter (requests arriving closer together than they were sent) is absorbed
 * instead of throttled; the sustained rate is unchanged.
 */
function accountLimiter(key: string, requestsPerSecond: number) {
	return rateLimiterFor(key, requestsPerSecond, Math.max(1, Math.floor(requestsPerSecond / 2)));
}

async function attemptOnce(
	connection: AgcodConnection,
	operation: AgcodOperation,
	payload: string,
	requestId: string | undefined,
	options: CallOptions,
): Promise<AttemptOutcome> {
	const limiterKey = `${connection.baseUrl.origin}|${connection.partnerId}`;
	const now = Date.now();
	let wait = accountLimiter(limiterKey, options.requestsPerSecond).reserve(now);
	if (operation === 'GetAvailableFunds')
		wait = Math.max(
			wait,
			rateLimiterFor(`${limiterKey}|GetAvailableFunds`, FUNDS_REQUESTS_PER_SECOND, 1).reserve(now),
		);
	if (wait > 0) await sleep(wait);

	// Signed per attempt: a fresh x-amz-date, the identical body.
	const path = operationPath(connection, operation);
	const headers = signAgcodRequest(
		{
			host: connection.baseUrl.host,
			path,
			region: connection.signingRegion,
			body: payload,
			headers: agcodHeaders(operation, options.format),
		},
		connection,
	);
	const response = await post(connection, path, headers, payload, options.timeoutMs);
	const outcome: AttemptOutcome =
		'kind' in response
			? response
			: classifyResponse(
					operation,
					response.statusCode,
					response.contentType,
					response.body,
					requestId,
				);
	// Messages quote the server; a server or proxy echoing the request must not carry the signature onward.
	if ('message' in outcome)
		outcome.message = redactSecrets(outcome.message, connection.secretAccessKey);
	if (outcome.kind === 'throttled')
		// Everyone sharing this account backs off, not only the request that was refused.
		accountLimiter(limiterKey, options.requestsPerSecond).pause(Date.now(), 1000);
	return outcome;
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Exponential back-off with jitter; throttling starts at 1 s because the account's budget is per second. */
function backoffMs(attempt: number, kind: AttemptOutcome['kind'], baseMs: number): number {
	const base = kind === 'throttled' ? Math.max(1000, baseMs) : baseMs;
	const ceiling = Math.min(kind === 'throttled' ? 10_000 : 5_000, base * 2 ** (attempt - 1));
	return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Sends one AGCOD operation until it gets a final answer: RESEND, throttling, timeouts, connection errors,
 * 5xx and unreadable answers are re-sent with the identical body (same request id); FAILURE is final.
 */
export async function callAgcod(
	connection: AgcodConnection,
	operation: AgcodOperation,
	body: JsonObject,
	requestId: string | undefined,
	options: CallOptions,
): Promise<CallResult> {
	const payload = encodeBody(operation, body, options.format);
	const startedAt = Date.now();
	const log = options.log ?? (() => undefined);
	let statusChecked = false;

	for (let attempt = 1; ; attempt++) {
		const outcome = await attemptOnce(connection, operation, payload, requestId, options);
		log(`AGCOD ${operation} attempt ${attempt}: ${outcome.kind}`, {
			operation,
			requestId,
			attempt,
			outcome: outcome.kind,
			...('httpStatus' in outcome ? { httpStatus: outcome.httpStatus } : {}),
			...('errorCode' in outcome
				? { errorCode: outcome.errorCode, errorType: outcome.errorType }
				: {}),
		});
		if (outcome.kind === 'success') return { data: outcome.data, attempts: attempt, statusChecked };
		if (!isRetryable(outcome.kind))
			throw new AgcodCallError(operation, requestId, outcome, attempt);

		const delay = backoffMs(attempt, outcome.kind, options.retryBaseDelayMs ?? RETRY_BASE_DELAY_MS);
		const outOfBudget = Date.now() - startedAt + delay + options.timeoutMs > options.retryBudgetMs;
		if (attempt > options.maxRetries || outOfBudget)
			throw new AgcodCallError(operation, requestId, outcome, attempt);

		if (operation === 'ActivateGiftCard' && isAmbiguous(outcome)) {
			statusChecked = true;
			await settleActivation(connection, body, requestId, attempt, options);
		}
		await sleep(delay);
	}
}

/**
 * Amazon: after a timed-out activation, ask ActivationStatusCheck before sending it again. Activated (by us)
 * or AwaitingActivation both make the identical re-send safe; any definite refusal ends the call.
 */
async function settleActivation(
	connection: AgcodConnection,
	activation: JsonObject,
	requestId: string | undefined,
	attempts: number,
	options: CallOptions,
): Promise<void> {
	const check = await attemptOnce(
		connection,
		'ActivationStatusCheck',
		encodeBody(
			'ActivationStatusCheck',
			{
				statusCheckRequestId: activation.activationRequestId,
				partnerId: activation.partnerId,
				cardNumber: activation.cardNumber,
			},
			options.format,
		),
		undefined,
		options,
	);
	options.log?.(`AGCOD ActivationStatusCheck after an unanswered activation: ${check.kind}`, {
		operation: 'ActivationStatusCheck',
		requestId,
		outcome: check.kind,
	});
	if (check.kind === 'success') {
		const cardInfo = check.data.cardInfo as JsonObject | null;
		if (cardInfo?.cardStatus === 'Invalidated')
			throw new AgcodCallError(
				'ActivateGiftCard',
				requestId,
				{
					kind: 'failure',
					httpStatus: 200,
					errorCode: null,
					errorType: 'CardInvalidated',
					message: 'The card is Invalidated and cannot be activated',
				},
				attempts,
			);
	} else if (check.kind === 'failure' || check.kind === 'auth' || check.kind === 'client') {
		throw new AgcodCallError('ActivateGiftCard', requestId, check, attempts);
	}
}
