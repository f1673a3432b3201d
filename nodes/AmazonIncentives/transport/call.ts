import { REQUEST_HOLD_MARGIN_MS, RETRY_BASE_DELAY_MS, THROTTLE_PAUSE_MS } from '../defaults';
import { type AgcodOperation, type BodyFormat, type JsonObject, encodeBody } from './codec';
import type { AgcodConnection } from './connection';
import {
	type AttemptOutcome,
	classifyResponse,
	isRetryable,
	mayHaveBeenApplied,
	redactSecrets,
} from './errors';
import { post } from './http';
import { slotRequest } from './rateLimiter';
import { accountBudget, type BudgetLogger } from './sharedBudget';
import { signAgcodCall } from './signing';

interface CallOptions {
	format: BodyFormat;
	/** Per attempt, connect to last byte. Amazon recommends 6 s. */
	timeoutMs: number;
	/**
	 * Re-sends after the first attempt for RESEND, timeouts, connection errors, 5xx and unreadable answers.
	 * Throttles are re-sent too but do not count here (only against the retry budget).
	 */
	maxRetries: number;
	/** Wall-clock limit for all attempts and waits of one call. */
	retryBudgetMs: number;
	requestsPerSecond: number;
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
 * What Amazon's answers prove about a call that did not succeed:
 * - refused: this request moved no money (Amazon refused it, or it never reached Amazon);
 * - unknown: it may or may not have been carried out; a re-run with the same request id settles it;
 * - cancelled: CreateGiftCard answered with the card of this request id, but that card was cancelled;
 * - conflict: CreateGiftCard answered with a card of this request id that is not the one asked for.
 */
type CallVerdict = 'refused' | 'unknown' | 'cancelled' | 'conflict';

/** Operations that move money; a failed call of any other one never leaves anything to settle. */
const MONEY_OPERATIONS: ReadonlySet<AgcodOperation> = new Set<AgcodOperation>([
	'CreateGiftCard',
	'CancelGiftCard',
	'ActivateGiftCard',
	'DeactivateGiftCard',
	'LoadAmazonBalance',
	'VoidAmazonBalanceLoad',
]);

/**
 * The call did not succeed. `verdict` says what Amazon's answers prove; `retryable` says whether sending the
 * identical request again (same request id) may help, which is always safe: it cannot create a duplicate.
 */
export class AgcodCallError extends Error {
	constructor(
		readonly operation: AgcodOperation,
		readonly requestId: string | undefined,
		readonly outcome: Exclude<AttemptOutcome, { kind: 'success' }>,
		readonly attempts: number,
		readonly verdict: CallVerdict = 'refused',
		readonly retryable: boolean = isRetryable(outcome.kind),
		/** Whether an attempt of this call may have been carried out by Amazon without us seeing it. */
		readonly mayHaveBeenApplied = false,
	) {
		super(outcome.message);
		this.name = 'AgcodCallError';
	}
}

/**
 * Cancels this process has seen succeed or possibly applied, by origin, partner and creationRequestId. Whether
 * Amazon checks the 15-minute window before it replays an earlier cancel is unconfirmed, so a later
 * CancelRequestArrivedAfterTimeLimit for one of these proves nothing. Bounded, oldest forgotten first.
 */
const cancelsMaybeApplied = new Set<string>();
const MAX_REMEMBERED_CANCELS = 100_000;

function rememberCancel(key: string): void {
	cancelsMaybeApplied.delete(key);
	cancelsMaybeApplied.add(key);
	if (cancelsMaybeApplied.size > MAX_REMEMBERED_CANCELS)
		cancelsMaybeApplied.delete(cancelsMaybeApplied.values().next().value as string);
}

export function movesMoney(operation: AgcodOperation): boolean {
	return MONEY_OPERATIONS.has(operation);
}

/** Internal (F100) and unknown (F500) errors say nothing about whether the request was carried out. */
function isInconclusiveFailure(errorCode: string | null): boolean {
	return errorCode !== null && /^F[15]/.test(errorCode);
}

/**
 * The verdict on a call that ends with `last`. `mayHaveBeenAppliedBefore` is true when an earlier attempt of
 * this call may have been carried out without us seeing the answer (and nothing proved otherwise since).
 *
 * A request id is one transaction, however often and wherever it was sent, so "refused" needs an answer from
 * Amazon that covers the id: a FAILURE does, because Amazon answers a repeated request id with the original
 * result (idempotency), so had any earlier request with this id gone through, Amazon would have returned it.
 * Two exceptions: F100/F500 (an internal error proves nothing, on any attempt), and
 * CancelRequestArrivedAfterTimeLimit, which Amazon may answer to a late re-sent cancel of a card an earlier
 * cancel already cancelled (one of this call, or one this process saw succeed or possibly apply). Without an
 * AGCOD answer (throttled or unreachable on every attempt, credential or TLS refused, a proxy's 4xx) this
 * request was not carried out, but an earlier request with the same id (an earlier run) may have been: unknown.
 */
function verdictOn(
	operation: AgcodOperation,
	last: Exclude<AttemptOutcome, { kind: 'success' }>,
	mayHaveBeenAppliedBefore: boolean,
	cancelKnownBefore: boolean,
	outOfRetries: boolean,
): { verdict: CallVerdict; retryable: boolean } {
	if (!MONEY_OPERATIONS.has(operation)) {
		if (outOfRetries) return { verdict: 'unknown', retryable: true };
		if (last.kind === 'failure')
			return { verdict: 'refused', retryable: isInconclusiveFailure(last.errorCode) };
		return { verdict: 'refused', retryable: isRetryable(last.kind) };
	}
	if (last.kind === 'failure' && !outOfRetries) {
		if (isInconclusiveFailure(last.errorCode)) return { verdict: 'unknown', retryable: true };
		if (
			last.errorType === 'CancelRequestArrivedAfterTimeLimit' &&
			(mayHaveBeenAppliedBefore || cancelKnownBefore)
		)
			return { verdict: 'unknown', retryable: true };
		return { verdict: 'refused', retryable: false };
	}
	// An HTTP 400 whose body cannot be read may be a cut AGCOD FAILURE, of a kind that is not known.
	const unreadableFailure =
		last.kind === 'client' && last.unreadable === true && last.httpStatus === 400;
	return {
		verdict: 'unknown',
		retryable: outOfRetries || unreadableFailure || isRetryable(last.kind),
	};
}

/**
 * A CreateGiftCard SUCCESS hands out a card only when the card is live and is the one asked for: re-sending the
 * id of a cancelled card answers SUCCESS with cardStatus RefundedToPurchaser and the old, dead claim code.
 */
function unusableCard(
	request: JsonObject,
	data: JsonObject,
): Extract<AttemptOutcome, { kind: 'unusable' }> | undefined {
	const cardInfo = (data.cardInfo ?? null) as JsonObject | null;
	const cardStatus = typeof cardInfo?.cardStatus === 'string' ? cardInfo.cardStatus : null;
	const gcId = typeof data.gcId === 'string' ? data.gcId : null;
	const unusable = (
		errorType: 'CardRefundedToPurchaser' | 'CardNotFulfilled' | 'CardValueMismatch',
		message: string,
	) => ({
		kind: 'unusable' as const,
		httpStatus: 200,
		errorCode: null,
		errorType,
		message,
		gcId,
		cardStatus,
	});
	const card = `the card of this request ID${gcId ? ` (gcId ${gcId})` : ''}`;
	if (cardStatus === 'RefundedToPurchaser')
		return unusable(
			'CardRefundedToPurchaser',
			`${card} was cancelled (cardStatus RefundedToPurchaser); its claim code no longer works`,
		);
	if (cardStatus !== 'Fulfilled')
		return unusable(
			'CardNotFulfilled',
			`${card} has cardStatus ${String(cardStatus).slice(0, 40)}, not Fulfilled`,
		);
	const asked = (request.value ?? null) as JsonObject | null;
	const got = (cardInfo?.value ?? null) as JsonObject | null;
	if (asked && got && typeof got.amount === 'number' && typeof got.currencyCode === 'string') {
		const cents = (amount: unknown) => Math.round(Number(amount) * 100);
		if (cents(got.amount) !== cents(asked.amount) || got.currencyCode !== asked.currencyCode)
			return unusable(
				'CardValueMismatch',
				`${card} is worth ${got.amount} ${got.currencyCode}, but this item asks for ${String(asked.amount)} ${String(asked.currencyCode)}`,
			);
	}
	return undefined;
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
	const { path, headers } = signAgcodCall(connection, operation, options.format, payload);
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
					response.errorTypeHeader,
				);
	// An answer that is not Amazon's may be the proxy's own (407, 502 …): say which proxy it came through.
	const fromProxy = 'proxy' in response ? response.proxy : undefined;
	if (
		fromProxy &&
		(outcome.kind === 'client' || outcome.kind === 'server' || outcome.kind === 'malformed')
	)
		outcome.message += ` (via proxy ${fromProxy})`;
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
		// Another execution is sending this id and may be carrying it out: nothing is proven either way.
		throw new AgcodCallError(
			operation,
			requestId,
			{
				kind: 'busy',
				message:
					'another execution was still sending this request ID when the retry budget ran out',
			},
			0,
			'unknown',
			true,
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
	// Whether an attempt so far may have been carried out without us seeing it, and nothing proved otherwise.
	let mayHaveBeenAppliedBefore = false;
	const cancelKey = `${accountOf(connection)}|${requestId ?? ''}`;
	const cancelKnownBefore = operation === 'CancelGiftCard' && cancelsMaybeApplied.has(cancelKey);
	const fail = (
		last: Exclude<AttemptOutcome, { kind: 'success' }>,
		attempts: number,
		outOfRetries: boolean,
	): AgcodCallError => {
		const { verdict, retryable } = verdictOn(
			operation,
			last,
			mayHaveBeenAppliedBefore,
			cancelKnownBefore,
			outOfRetries,
		);
		const applied = mayHaveBeenAppliedBefore || mayHaveBeenApplied(last);
		if (operation === 'CancelGiftCard' && applied) rememberCancel(cancelKey);
		return new AgcodCallError(operation, requestId, last, attempts, verdict, retryable, applied);
	};

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
		if (outcome.kind === 'success') {
			if (operation === 'CancelGiftCard') rememberCancel(cancelKey);
			const unusable =
				operation === 'CreateGiftCard' ? unusableCard(body, outcome.data) : undefined;
			if (unusable)
				throw new AgcodCallError(
					operation,
					requestId,
					unusable,
					attempt,
					unusable.errorType === 'CardRefundedToPurchaser' ? 'cancelled' : 'conflict',
					false,
				);
			return { data: outcome.data, attempts: attempt, statusChecked };
		}
		if (!isRetryable(outcome.kind)) throw fail(outcome, attempt, false);

		// A throttle proves that nothing happened: it costs time from the retry budget, not one of the retries.
		const throttled = outcome.kind === 'throttled';
		if (!throttled) retries++;
		const delay = throttled ? 0 : backoffMs(retries, RETRY_BASE_DELAY_MS);
		const outOfBudget = Date.now() - startedAt + delay + options.timeoutMs > options.retryBudgetMs;
		if (retries > options.maxRetries || outOfBudget) throw fail(outcome, attempt, true);

		if (mayHaveBeenApplied(outcome)) {
			mayHaveBeenAppliedBefore = true;
			if (operation === 'ActivateGiftCard') {
				statusChecked = true;
				const cardStatus = await checkActivation(connection, body, requestId, options);
				// Not activated now: the unanswered attempt was not applied, so a refusal of the re-send is final.
				if (cardStatus === 'AwaitingActivation' || cardStatus === 'Invalidated')
					mayHaveBeenAppliedBefore = false;
			}
		}
		await sleep(delay);
	}
}

/**
 * Amazon: after an activation whose answer was lost, ask ActivationStatusCheck before sending it again (with
 * the same id, which Amazon deduplicates). Returns the card status the check proved, or null when the check
 * did not succeed: a failed check proves nothing, so the activation is re-sent either way.
 */
async function checkActivation(
	connection: AgcodConnection,
	activation: JsonObject,
	requestId: string | undefined,
	options: CallOptions,
): Promise<string | null> {
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
	if (check.kind !== 'success') return null;
	const cardInfo = check.data.cardInfo as JsonObject | null;
	return typeof cardInfo?.cardStatus === 'string' ? cardInfo.cardStatus : null;
}
