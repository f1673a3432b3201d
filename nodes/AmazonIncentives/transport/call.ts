import { REQUEST_HOLD_MARGIN_MS, RETRY_BASE_DELAY_MS, THROTTLE_PAUSE_MS } from '../defaults';
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
import { slotRequest } from './rateLimiter';
import { accountBudget, type BudgetLogger } from './sharedBudget';
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
	/** Where the shared budget says that its Redis went away or came back (n8n's logger). */
	logger?: BudgetLogger;
}

export interface CallResult {
	data: JsonObject;
	attempts: number;
	/** An activation whose answer was lost was settled with ActivationStatusCheck before it was re-sent. */
	statusChecked: boolean;
	/** An earlier call with this request id succeeded (in this process or another sharing the budget). */
	replay: boolean;
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

/** The budget is per account: endpoint and partner. */
function accountOf(connection: AgcodConnection): string {
	return `${connection.baseUrl.origin}|${connection.partnerId}`;
}

async function attemptOnce(
	connection: AgcodConnection,
	operation: AgcodOperation,
	payload: string,
	requestId: string | undefined,
	options: CallOptions,
): Promise<AttemptOutcome> {
	const budget = accountBudget(options.logger);
	const account = accountOf(connection);
	await budget.acquireSlot(
		account,
		slotRequest(options.requestsPerSecond, operation === 'GetAvailableFunds'),
	);

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
		// Everyone sharing this account backs off, also those already holding a slot, in every process.
		await budget.pause(account, THROTTLE_PAUSE_MS);
	return outcome;
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Exponential back-off with jitter for answers that are not final yet. A throttle needs none of its own: the
 * account's pause and the shared queue space the re-send.
 */
function backoffMs(retry: number, baseMs: number): number {
	const ceiling = Math.min(5_000, baseMs * 2 ** (retry - 1));
	return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Sends one AGCOD operation until it gets a final answer: RESEND, throttling, timeouts, connection errors,
 * 5xx and unreadable answers are re-sent with the identical body (same request id); FAILURE is final. While
 * it runs, its request id is held in every process sharing the budget, so the same id is never in flight twice.
 */
export async function callAgcod(
	connection: AgcodConnection,
	operation: AgcodOperation,
	body: JsonObject,
	requestId: string | undefined,
	options: CallOptions,
): Promise<CallResult> {
	const startedAt = Date.now();
	const lock =
		requestId === undefined
			? undefined
			: await accountBudget(options.logger).lockRequest(
					accountOf(connection),
					`${operation}:${requestId}`,
					options.timeoutMs + REQUEST_HOLD_MARGIN_MS,
					startedAt + options.retryBudgetMs - options.timeoutMs,
				);
	if (requestId !== undefined && !lock)
		throw new AgcodCallError(
			operation,
			requestId,
			{
				kind: 'busy',
				message:
					'another execution was still sending this request ID when the retry budget ran out',
			},
			0,
		);
	let succeeded = false;
	try {
		const result = await sendUntilFinal(connection, operation, body, requestId, startedAt, options);
		succeeded = true;
		return { ...result, replay: lock?.replay ?? false };
	} finally {
		await lock?.release(succeeded);
	}
}

async function sendUntilFinal(
	connection: AgcodConnection,
	operation: AgcodOperation,
	body: JsonObject,
	requestId: string | undefined,
	startedAt: number,
	options: CallOptions,
): Promise<Omit<CallResult, 'replay'>> {
	const payload = encodeBody(operation, body, options.format);
	const log = options.log ?? (() => undefined);
	let statusChecked = false;
	let retries = 0;

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

		// A throttle proves that nothing happened: it costs time from the retry budget, not one of the retries.
		const throttled = outcome.kind === 'throttled';
		if (!throttled) retries++;
		const delay = throttled
			? 0
			: backoffMs(retries, options.retryBaseDelayMs ?? RETRY_BASE_DELAY_MS);
		const outOfBudget = Date.now() - startedAt + delay + options.timeoutMs > options.retryBudgetMs;
		if (retries > options.maxRetries || outOfBudget)
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
