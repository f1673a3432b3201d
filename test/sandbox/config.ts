/** Public types and defaults of the local AGCOD sandbox (re-exported by ./index.ts). */
import type { RegionGroup } from './currencies';

export type { RegionGroup } from './currencies';

export interface SandboxPartner {
	partnerId: string;
	accessKeyId: string;
	secretAccessKey: string;
	/** Default: the first currency of the region group (USD for na). */
	currencyCode?: string;
	/** Starting balance in the partner's currency (major units). Default 1,000,000. */
	startingBalance?: number;
}

export const DEFAULT_PARTNER: Required<SandboxPartner> = {
	partnerId: 'Awssb',
	accessKeyId: 'AKIAAGCODSANDBOX0001',
	// Obviously fake: the sandbox is local and this key only opens it.
	secretAccessKey: 'sandbox/NOT-A-REAL-SECRET/agcod0000000000000',
	currencyCode: 'USD',
	startingBalance: 1000000,
};

export interface PhysicalCardSpec {
	cardNumber: string;
	currencyCode: string;
	/** Absent = variable (non-denominated) card. */
	denomination?: number;
	state?: 'AwaitingActivation' | 'Invalidated';
}

function variableCards(
	firstWac: number,
	count: number,
	currencyCode: string,
	firstSuffix: number,
): PhysicalCardSpec[] {
	// 16-digit WAC number + a 3-digit suffix standing in for Amazon's checksum (its algorithm is
	// not public; the sandbox validates digits and length only, as the node does).
	return Array.from({ length: count }, (_, i) => ({
		cardNumber: `${firstWac + i}${String((firstSuffix + i * 37) % 1000).padStart(3, '0')}`,
		currencyCode,
	}));
}

/**
 * The default physical-card inventory:
 * - 50 variable 19-digit USD cards 1400000005567585358, 1400000005567586395, … (WAC
 *   1400000005567585 … 1400000005567634), the first one being Amazon's documented example;
 * - 1700000005489413, the 16-digit variable USD card of Amazon's POSA examples;
 * - 10 denominated 16-digit USD 25.00 cards 1700000005490001 … 1700000005490010;
 * - 2 Invalidated 19-digit USD cards 1400000009999990001 and 1400000009999991002;
 * - 5 variable 19-digit cards each for CAD (1410…), EUR (1420…), GBP (1430…), JPY (1440…) and
 *   AUD (1450…), so every region group has something to activate.
 */
export const DEFAULT_PHYSICAL_CARDS: PhysicalCardSpec[] = [
	...variableCards(1400000005567585, 50, 'USD', 358),
	{ cardNumber: '1700000005489413', currencyCode: 'USD' },
	...Array.from({ length: 10 }, (_, i) => ({
		cardNumber: String(1700000005490001 + i),
		currencyCode: 'USD',
		denomination: 25,
	})),
	{ cardNumber: '1400000009999990001', currencyCode: 'USD', state: 'Invalidated' },
	{ cardNumber: '1400000009999991002', currencyCode: 'USD', state: 'Invalidated' },
	...variableCards(1410000000000001, 5, 'CAD', 101),
	...variableCards(1420000000000001, 5, 'EUR', 201),
	...variableCards(1430000000000001, 5, 'GBP', 301),
	...variableCards(1440000000000001, 5, 'JPY', 401),
	...variableCards(1450000000000001, 5, 'AUD', 501),
];

export interface FaultConfig {
	/** Added before the response is written (after processing). */
	latencyMs?: number;
	latencyJitterMs?: number;
	/** 0..1: the FIRST request carrying a given request id answered RESEND/F400, not committed. */
	resendFirstAttemptRate?: number;
	/** 0..1: processed and committed, response never sent (socket held open hangMs, then destroyed). */
	hangAfterCommitRate?: number;
	/** Default 30000. */
	hangMs?: number;
	/** 0..1: socket destroyed before processing (nothing committed). */
	connectionResetRate?: number;
	/** 0..1: HTTP 500 with an HTML body, nothing committed. */
	html500Rate?: number;
	/** 0..1: processed and committed, answered with the body cut in half. */
	truncatedJsonRate?: number;
	/** 0..1: processed and committed, then the socket is destroyed at once: the answer is lost, quickly. */
	resetAfterCommitRate?: number;
	/** 0..1: answered FAILURE with `failure` (default F100 GeneralError) without processing; nothing committed. */
	failureRate?: number;
	/** The error of `failureRate`. */
	failure?: { errorCode: string; errorType: string; message: string };
	/** 0..1: HTTP 429 with an empty body, nothing committed. */
	bare429Rate?: number;
	/**
	 * 0..1: HTTP 400 whose only sign of throttling is the header
	 * `x-amzn-ErrorType: ThrottlingException:…` (body `{}`), nothing committed.
	 */
	throttleHeaderRate?: number;
	/** Seed of the deterministic RNG deciding the faults. */
	seed?: number;
}

export interface FaultRule {
	/**
	 * RegExp source, matched on the request id; absent = every request (requests without an id too).
	 * The first matching rule replaces the server-wide faults.
	 */
	requestIdPattern?: string;
	/** Only these operations match; absent = every operation. */
	operations?: string[];
	/** The rule matches at most this many requests, then no more (counted from configure() or reset()). */
	times?: number;
	faults: FaultConfig;
}

export interface RateLimitConfig {
	/** Default 10. */
	requestsPerSecond: number;
	/** Default = requestsPerSecond. */
	burst?: number;
	/** Default 1. */
	availableFundsPerSecond: number;
}

export const DEFAULT_RATE_LIMIT: Required<RateLimitConfig> = {
	requestsPerSecond: 10,
	burst: 10,
	availableFundsPerSecond: 1,
};

export interface SandboxOptions {
	/** Default 127.0.0.1. */
	host?: string;
	/** 0 (default) = a free port. */
	port?: number;
	https?: boolean;
	/** Default 'na'. */
	region?: RegionGroup;
	/** Default [DEFAULT_PARTNER]. */
	partners?: SandboxPartner[];
	/** GetAvailableFunds answers 0 like Amazon's sandbox (the ledger is still enforced). */
	amazonLikeFunds?: boolean;
	/** false = no throttling. */
	rateLimit?: RateLimitConfig | false;
	faults?: FaultConfig;
	faultRules?: FaultRule[];
	/** Default DEFAULT_PHYSICAL_CARDS. */
	physicalCards?: PhysicalCardSpec[];
	/** Default 15 minutes. */
	cancelWindowMs?: number;
	/** Default 5 minutes. */
	maxClockSkewMs?: number;
	/**
	 * Injectable business clock (cancel window, rate limits, timestamps). Default Date.now; the
	 * offset moved by clock.advance() is added either way. Signature freshness is checked against
	 * `signatureNow` instead, so advancing the business clock does not expire every signed request.
	 */
	now?: () => number;
	/** Clock the x-amz-date skew is checked against. Default Date.now. */
	signatureNow?: () => number;
	/**
	 * Default true. false: SUCCESS answers of LoadAmazonBalance and VoidAmazonBalanceLoad leave out
	 * `loadBalanceRequestId` (the Login & Receive response shape is unconfirmed).
	 */
	echoLoadBalanceRequestId?: boolean;
	/**
	 * Default false: re-sending the cancel of an already cancelled card answers SUCCESS, even after the
	 * window. true: the 15-minute window is checked first, so such a late re-send answers
	 * CancelRequestArrivedAfterTimeLimit. Amazon's order of checks is unconfirmed; both are possible.
	 */
	cancelWindowCheckedFirst?: boolean;
	/** Default true for startSandbox(); the CLI logs one line per request unless --quiet. */
	quiet?: boolean;
	/** Where request log lines go when not quiet. Default console.log. */
	log?: (line: string) => void;
	/** Most recent request records kept for requests(). Default 20,000. */
	requestLogLimit?: number;
}

export type FaultKind =
	| 'resend'
	| 'hang'
	| 'reset'
	| 'html500'
	| 'truncated'
	| 'resetAfterCommit'
	| 'failure'
	| 'bare429'
	| 'throttleHeader';

export interface SandboxStats {
	requests: number;
	requestsByOperation: Record<string, number>;
	throttled: number;
	signatureFailures: number;
	faultsInjected: Record<FaultKind, number>;
	cardsIssued: number;
	cardsCancelled: number;
	activations: number;
	deactivations: number;
	balanceLoads: number;
	balanceVoids: number;
	/** Distinct ids seen on money-moving operations. */
	distinctRequestIds: number;
	/** Number of debit ledger entries. */
	debits: number;
	/** By currency, gross, in major units. */
	totalDebited: Record<string, number>;
	/** By currency (cancel, deactivate, void), in major units. */
	totalRefunded: Record<string, number>;
	/** By partnerId. */
	balances: Record<string, { amount: number; currencyCode: string }>;
	/** Request ids ever debited more than once (must stay empty). */
	doubleDebits: string[];
	/**
	 * The most requests carrying one request id (per partner, any operation) that were in flight at the
	 * same time: from the moment the sandbox read the request until its answer was written or its
	 * connection closed. 1 = never two at once.
	 */
	maxInFlightPerRequestId: number;
	/** Request ids that were ever in flight twice or more at once (the first 100). */
	requestIdsInFlightTogether: string[];
}

/** What one request id did to the ledger (see RunningSandbox.ledger()). Never holds claim codes. */
export interface LedgerMovement {
	seq: number;
	at: number;
	partnerId: string;
	operation: string;
	requestId: string;
	/** debit: money left the account (card issued, activation, load); refund: it came back. */
	kind: 'debit' | 'refund';
	amount: number;
	currencyCode: string;
}

export interface LedgerGiftCard {
	partnerId: string;
	creationRequestId: string;
	gcId: string;
	amount: number;
	currencyCode: string;
	cardStatus: 'Fulfilled' | 'RefundedToPurchaser';
	createdAt: number;
}

export interface LedgerActivation {
	partnerId: string;
	activationRequestId: string;
	cardNumber: string;
	amount: number;
	currencyCode: string;
	/** Activated until deactivated with this activationRequestId. */
	state: 'Activated' | 'Deactivated';
}

export interface LedgerLoad {
	partnerId: string;
	loadBalanceRequestId: string;
	accountId: string;
	amount: number;
	currencyCode: string;
	voided: boolean;
}

export interface LedgerPhysicalCard {
	cardNumber: string;
	currencyCode: string;
	state: 'Activated' | 'AwaitingActivation' | 'Invalidated';
	/** While Activated: the activation's request id. */
	activationRequestId: string | null;
}

/** The whole ledger, per request id, for tests that compare what a client reported with what happened. */
export interface LedgerSnapshot {
	giftCards: LedgerGiftCard[];
	activations: LedgerActivation[];
	loads: LedgerLoad[];
	/** Physical cards that are not in their starting state. */
	physicalCards: LedgerPhysicalCard[];
	/** Every debit and refund, in order. */
	movements: LedgerMovement[];
}

export interface RecordedRequest {
	seq: number;
	receivedAt: number;
	operation: string | null;
	partnerId: string | null;
	requestId: string | null;
	format: 'json' | 'xml';
	httpStatus: number | null;
	status: 'SUCCESS' | 'FAILURE' | 'RESEND' | null;
	errorCode?: string;
	errorType?: string;
	fault?: FaultKind;
	throttled: boolean;
}

export type SandboxConfigChange = Partial<
	Pick<
		SandboxOptions,
		| 'faults'
		| 'faultRules'
		| 'rateLimit'
		| 'amazonLikeFunds'
		| 'echoLoadBalanceRequestId'
		| 'cancelWindowCheckedFirst'
	>
>;

export interface RunningSandbox {
	/** e.g. 'http://127.0.0.1:53211', no trailing slash. */
	url: string;
	port: number;
	region: RegionGroup;
	signingRegion: string;
	partner: Required<SandboxPartner>;
	/** The self-signed certificate, when https. */
	caCertPem?: string;
	stats(): SandboxStats;
	requests(): RecordedRequest[];
	/** Every gift card, activation, load and money movement, by request id. */
	ledger(): LedgerSnapshot;
	/** State, ledger, stats, request log and clock offset back to start; configuration kept. */
	reset(): void;
	configure(change: SandboxConfigChange): void;
	clock: { now(): number; advance(ms: number): void };
	/** Closes the server and every open socket (hung ones too). */
	stop(): Promise<void>;
}
