/**
 * The one home of the node's defaults and limits: the editor fields (descriptions), the per-item reading of
 * the options (operations), the credential test and the transport all take their numbers from here.
 */

/** A number option of the node's Options collection: its default and the range the editor and the node accept. */
export interface NumberOptionRange {
	default: number;
	min: number;
	max: number;
}

export const NUMBER_OPTIONS = {
	/** Per attempt, in ms. Amazon recommends 6 seconds. */
	timeout: { default: 6000, min: 100, max: 120_000 },
	maxRetries: { default: 5, min: 0, max: 20 },
	/** Wall-clock limit for all attempts of one item, in seconds. */
	retryBudget: { default: 60, min: 1, max: 600 },
	/** AGCOD's standard account limit is 10 requests per second. */
	requestsPerSecond: { default: 10, min: 0.1, max: 100 },
	maxConcurrentRequests: { default: 10, min: 1, max: 100 },
} as const satisfies Record<string, NumberOptionRange>;

/** GetAvailableFunds allows 1 request per second with no burst at all: a 10% margin keeps jitter from tripping it. */
export const FUNDS_REQUESTS_PER_SECOND = 1 / 1.1;

/** After a ThrottlingException nobody sends to that account for this long (in every process sharing its budget). */
export const THROTTLE_PAUSE_MS = 1000;

/**
 * A call holds its request id (so no other execution, on any worker, sends it at the same time) for one
 * attempt's timeout plus this margin, renewed while the call runs.
 */
export const REQUEST_HOLD_MARGIN_MS = 10_000;

/** First back-off step of a retry; it doubles per attempt, with jitter. */
export const RETRY_BASE_DELAY_MS = 250;

/** Larger answers are discarded unread: no AGCOD answer comes near it. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** The credential test's one GetAvailableFunds call: short, so the editor's Test button answers quickly. */
export const CREDENTIAL_TEST_CALL = {
	format: 'json',
	timeoutMs: NUMBER_OPTIONS.timeout.default,
	maxRetries: 2,
	retryBudgetMs: 20_000,
	requestsPerSecond: NUMBER_OPTIONS.requestsPerSecond.default,
} as const;
