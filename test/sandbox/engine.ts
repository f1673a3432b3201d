/**
 * The AGCOD business rules of the sandbox: the eight operations, state per partner, a ledger in
 * integer hundredths, idempotency by request id and the mock ids. Everything here is synchronous:
 * a request is checked and committed in one turn of the event loop, so two concurrent requests with
 * the same id (a client that timed out and retried) can never both debit.
 */
import { randomBytes } from 'node:crypto';
import type {
	LedgerMovement,
	LedgerSnapshot,
	PhysicalCardSpec,
	SandboxPartner,
	SandboxStats,
} from './config';
import {
	amzDate,
	expirationDateFor,
	parseAmount,
	REGION_CURRENCIES,
	type RegionGroup,
	type RuleViolation,
} from './currencies';

export const OPERATIONS = [
	'CreateGiftCard',
	'CancelGiftCard',
	'GetAvailableFunds',
	'ActivateGiftCard',
	'DeactivateGiftCard',
	'ActivationStatusCheck',
	'LoadAmazonBalance',
	'VoidAmazonBalanceLoad',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export function isOperation(name: string): name is Operation {
	return (OPERATIONS as readonly string[]).includes(name);
}

/** The body field carrying each operation's request id. */
export const REQUEST_ID_FIELD: Record<Operation, string | null> = {
	CreateGiftCard: 'creationRequestId',
	CancelGiftCard: 'creationRequestId',
	GetAvailableFunds: null,
	ActivateGiftCard: 'activationRequestId',
	DeactivateGiftCard: 'activationRequestId',
	ActivationStatusCheck: 'statusCheckRequestId',
	LoadAmazonBalance: 'loadBalanceRequestId',
	VoidAmazonBalanceLoad: 'loadBalanceRequestId',
};

export const MONEY_MOVING_OPERATIONS: ReadonlySet<Operation> = new Set<Operation>([
	'CreateGiftCard',
	'CancelGiftCard',
	'ActivateGiftCard',
	'DeactivateGiftCard',
	'LoadAmazonBalance',
	'VoidAmazonBalanceLoad',
]);

/**
 * Fields of each operation's response, which error bodies repeat as nulls
 * (https://developer.amazon.com/docs/incentives-api/gift-codes-errors.html).
 */
export const RESPONSE_FIELDS: Record<Operation, string[]> = {
	CreateGiftCard: ['cardInfo', 'creationRequestId', 'gcClaimCode', 'gcExpirationDate', 'gcId'],
	CancelGiftCard: ['creationRequestId', 'gcId'],
	GetAvailableFunds: ['availableFunds', 'timestamp'],
	ActivateGiftCard: ['activationRequestId', 'cardInfo'],
	DeactivateGiftCard: ['activationRequestId', 'cardInfo'],
	ActivationStatusCheck: ['cardInfo', 'statusCheckRequestId'],
	LoadAmazonBalance: ['amazonTransactionId', 'amount', 'loadBalanceRequestId'],
	VoidAmazonBalanceLoad: ['amazonTransactionId', 'amount', 'loadBalanceRequestId'],
};

type AgcodStatus = 'SUCCESS' | 'FAILURE' | 'RESEND';

interface AgcodError {
	errorCode: string;
	errorType: string;
	message: string;
}

export interface OperationOutcome {
	status: AgcodStatus;
	/** The success response body (without `status`), absent on FAILURE/RESEND. */
	response?: Record<string, unknown>;
	error?: AgcodError;
}

/**
 * Mock ids of Amazon's table (https://developer.amazon.com/docs/incentives-api/gift-codes-errors.html).
 * Decision: F1000 is a FAILURE (F100 / GeneralError) for every operation, as Amazon's real sandbox
 * captures show, although the POSA page calls it a success for Activate/Deactivate; F0000 is the success
 * mock everywhere.
 */
export const MOCK_IDS: Record<string, { status: AgcodStatus; error?: AgcodError }> = {
	F0000: { status: 'SUCCESS' },
	F1000: { status: 'FAILURE', error: e('F100', 'GeneralError', 'General Error') },
	F2003: { status: 'FAILURE', error: e('F200', 'InvalidAmountInput', "Amount can't be null") },
	F2004: {
		status: 'FAILURE',
		error: e('F200', 'InvalidAmountValue', 'Amount must be larger than 0'),
	},
	F2005: {
		status: 'FAILURE',
		error: e('F200', 'InvalidCurrencyCodeInput', "Currency Code can't be null or empty"),
	},
	F2010: {
		status: 'FAILURE',
		error: e(
			'F200',
			'CardAlreadyActivatedWithDifferentRequestId',
			'The card was already activated with a different request id',
		),
	},
	F2015: { status: 'FAILURE', error: e('F200', 'MaxAmountExceeded', 'Max Amount Exceeded') },
	F2016: { status: 'FAILURE', error: e('F200', 'CurrencyCodeMismatch', 'Currency Code Mismatch') },
	F2017: {
		status: 'FAILURE',
		error: e('F200', 'FractionalAmountNotAllowed', 'Fractional Amount Not Allowed'),
	},
	F2047: {
		status: 'FAILURE',
		error: e(
			'F200',
			'CancelRequestArrivedAfterTimeLimit',
			'Cancel Request Arrived After Time Limit',
		),
	},
	F3003: { status: 'FAILURE', error: e('F300', 'InsufficientFunds', 'Insufficient Funds') },
	F3005: { status: 'FAILURE', error: e('F300', 'GeneralError', 'General Error') },
	F3010: {
		status: 'FAILURE',
		error: e(
			'F300',
			'CustomerSurpassedDailyVelocityLimit',
			'Customer Surpassed Daily Velocity Limit',
		),
	},
	F4000: {
		status: 'RESEND',
		error: e('F400', 'SystemTemporarilyUnavailable', 'System Temporarily Unavailable'),
	},
	F5000: { status: 'FAILURE', error: e('F500', 'GeneralError', 'General Error') },
};

// The canned card of the F0000 mock, as in Amazon's capture; it is not a real card and moves no money.
const MOCK_GC_ID = 'ABC123ZYX987';
const MOCK_CLAIM_CODE = 'ZYXW-VUTS-RQPO';
const MOCK_TRANSACTION_ID = 'MOCKTRANSACTION0000000';

function e(errorCode: string, errorType: string, message: string): AgcodError {
	return { errorCode, errorType, message };
}

function failure(error: AgcodError | RuleViolation): OperationOutcome {
	return { status: 'FAILURE', error };
}

function success(response: Record<string, unknown>): OperationOutcome {
	return { status: 'SUCCESS', response };
}

type Body = Record<string, unknown>;

function asObject(value: unknown): Body | undefined {
	return value !== null && typeof value === 'object' && !Array.isArray(value)
		? (value as Body)
		: undefined;
}

function asText(value: unknown): string | undefined {
	if (typeof value === 'string') return value;
	if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	return undefined;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Upper-case alphanumerics from a CSPRNG (rejection sampling, so every character is equally likely). */
function randomAlphanumeric(length: number): string {
	let out = '';
	while (out.length < length) {
		for (const byte of randomBytes(length * 2)) {
			if (byte >= 252) continue;
			out += ALPHANUMERIC[byte % 36];
			if (out.length === length) break;
		}
	}
	return out;
}

interface GiftCardRecord {
	creationRequestId: string;
	gcId: string;
	gcClaimCode: string;
	minor: number;
	currencyCode: string;
	createdAt: number;
	gcExpirationDate: string | null;
	cancelled: boolean;
}

type PhysicalCardState = 'Activated' | 'AwaitingActivation' | 'Invalidated';

interface PhysicalCard {
	spec: PhysicalCardSpec;
	denominationMinor: number | null;
	state: PhysicalCardState;
	/** Who activated it, while Activated. */
	activatedBy?: { partnerId: string; activationRequestId: string };
}

interface ActivationRecord {
	activationRequestId: string;
	cardNumber: string;
	minor: number;
	currencyCode: string;
	expirationDate: string | null;
	deactivated: boolean;
}

interface LoadRecord {
	loadBalanceRequestId: string;
	minor: number;
	currencyCode: string;
	accountId: string;
	amazonTransactionId: string;
	voidTransactionId?: string;
}

interface PartnerState {
	partner: Required<SandboxPartner>;
	balanceMinor: number;
	giftCards: Map<string, GiftCardRecord>;
	activations: Map<string, ActivationRecord>;
	loads: Map<string, LoadRecord>;
}

type LedgerStats = Pick<
	SandboxStats,
	| 'cardsIssued'
	| 'cardsCancelled'
	| 'activations'
	| 'deactivations'
	| 'balanceLoads'
	| 'balanceVoids'
	| 'debits'
	| 'totalDebited'
	| 'totalRefunded'
	| 'balances'
	| 'doubleDebits'
>;

interface EngineOptions {
	region: RegionGroup;
	partners: Array<Required<SandboxPartner>>;
	physicalCards: PhysicalCardSpec[];
	cancelWindowMs: number;
	now: () => number;
	amazonLikeFunds: () => boolean;
	/** false: Login & Receive SUCCESS answers leave out loadBalanceRequestId. */
	echoLoadBalanceRequestId: () => boolean;
	/** true: a cancel after the window is refused even when the card was already cancelled. */
	cancelWindowCheckedFirst: () => boolean;
}

const MAX_REQUEST_ID_LENGTH = 40;
const MAX_EXTERNAL_REFERENCE_LENGTH = 100;

/** Fills in a partner's defaults (currency: the region group's first; balance 1,000,000). */
export function completePartner(
	partner: SandboxPartner,
	region: RegionGroup,
): Required<SandboxPartner> {
	return {
		partnerId: partner.partnerId,
		accessKeyId: partner.accessKeyId,
		secretAccessKey: partner.secretAccessKey,
		currencyCode: partner.currencyCode ?? REGION_CURRENCIES[region][0],
		startingBalance: partner.startingBalance ?? 1000000,
	};
}

export class AgcodEngine {
	private partners = new Map<string, PartnerState>();
	private physicalCards = new Map<string, PhysicalCard>();
	private gcIds = new Set<string>();
	private claimCodes = new Set<string>();
	private counters = this.freshCounters();
	private movements: LedgerMovement[] = [];

	constructor(private readonly options: EngineOptions) {
		this.reset();
	}

	reset(): void {
		this.partners.clear();
		for (const partner of this.options.partners) {
			this.partners.set(partner.partnerId, {
				partner,
				balanceMinor: Math.round(partner.startingBalance * 100),
				giftCards: new Map(),
				activations: new Map(),
				loads: new Map(),
			});
		}
		this.physicalCards.clear();
		for (const spec of this.options.physicalCards) {
			this.physicalCards.set(spec.cardNumber, {
				spec,
				denominationMinor:
					spec.denomination === undefined ? null : Math.round(spec.denomination * 100),
				state: spec.state ?? 'AwaitingActivation',
			});
		}
		this.gcIds.clear();
		this.claimCodes.clear();
		this.counters = this.freshCounters();
		this.movements = [];
	}

	/** Every gift card, activation, load and money movement by request id; no claim codes. */
	ledger(): LedgerSnapshot {
		const snapshot: LedgerSnapshot = {
			giftCards: [],
			activations: [],
			loads: [],
			physicalCards: [],
			movements: this.movements.map((movement) => ({ ...movement })),
		};
		for (const [partnerId, state] of this.partners) {
			for (const card of state.giftCards.values())
				snapshot.giftCards.push({
					partnerId,
					creationRequestId: card.creationRequestId,
					gcId: card.gcId,
					amount: card.minor / 100,
					currencyCode: card.currencyCode,
					cardStatus: card.cancelled ? 'RefundedToPurchaser' : 'Fulfilled',
					createdAt: card.createdAt,
				});
			for (const activation of state.activations.values())
				snapshot.activations.push({
					partnerId,
					activationRequestId: activation.activationRequestId,
					cardNumber: activation.cardNumber,
					amount: activation.minor / 100,
					currencyCode: activation.currencyCode,
					state: activation.deactivated ? 'Deactivated' : 'Activated',
				});
			for (const load of state.loads.values())
				snapshot.loads.push({
					partnerId,
					loadBalanceRequestId: load.loadBalanceRequestId,
					accountId: load.accountId,
					amount: load.minor / 100,
					currencyCode: load.currencyCode,
					voided: load.voidTransactionId !== undefined,
				});
		}
		for (const card of this.physicalCards.values()) {
			if (card.state === (card.spec.state ?? 'AwaitingActivation')) continue;
			snapshot.physicalCards.push({
				cardNumber: card.spec.cardNumber,
				currencyCode: card.spec.currencyCode,
				state: card.state,
				activationRequestId: card.activatedBy?.activationRequestId ?? null,
			});
		}
		return snapshot;
	}

	private freshCounters() {
		return {
			cardsIssued: 0,
			cardsCancelled: 0,
			activations: 0,
			deactivations: 0,
			balanceLoads: 0,
			balanceVoids: 0,
			debits: 0,
			totalDebitedMinor: new Map<string, number>(),
			totalRefundedMinor: new Map<string, number>(),
			debitsByRequest: new Map<string, number>(),
			doubleDebits: [] as string[],
		};
	}

	stats(): LedgerStats {
		const byCurrency = (map: Map<string, number>) =>
			Object.fromEntries([...map].map(([currency, minor]) => [currency, minor / 100]));
		const balances: LedgerStats['balances'] = {};
		for (const [partnerId, state] of this.partners) {
			balances[partnerId] = {
				amount: state.balanceMinor / 100,
				currencyCode: state.partner.currencyCode,
			};
		}
		const c = this.counters;
		return {
			cardsIssued: c.cardsIssued,
			cardsCancelled: c.cardsCancelled,
			activations: c.activations,
			deactivations: c.deactivations,
			balanceLoads: c.balanceLoads,
			balanceVoids: c.balanceVoids,
			debits: c.debits,
			totalDebited: byCurrency(c.totalDebitedMinor),
			totalRefunded: byCurrency(c.totalRefundedMinor),
			balances,
			doubleDebits: [...c.doubleDebits],
		};
	}

	/** Runs one operation for an authenticated partner and commits its effects. */
	handle(operation: Operation, partnerId: string, body: Body): OperationOutcome {
		const state = this.partners.get(partnerId);
		if (!state) return failure(e('F300', 'ActiveContractNotFound', 'Active Contract Not Found'));
		const bodyPartnerId = asText(body.partnerId);
		if (!bodyPartnerId) {
			return failure(e('F200', 'InvalidPartnerIdInput', "Partner Id can't be null or empty"));
		}
		if (bodyPartnerId !== partnerId) {
			return failure(
				e(
					'F200',
					'InvalidPartnerId',
					'The partnerId does not belong to the access key that signed the request',
				),
			);
		}

		const idField = REQUEST_ID_FIELD[operation];
		const mockCode =
			operation === 'LoadAmazonBalance' || operation === 'VoidAmazonBalanceLoad'
				? asText(asObject(body.account)?.id)
				: idField
					? asText(body[idField])
					: undefined;
		if (mockCode !== undefined && Object.hasOwn(MOCK_IDS, mockCode)) {
			return this.mock(operation, mockCode, body);
		}

		if (idField) {
			const idViolation = checkRequestId(body[idField], idField, partnerId);
			if (idViolation) return failure(idViolation);
		}
		const externalReference = body.externalReference;
		if (
			typeof externalReference === 'string' &&
			externalReference.length > MAX_EXTERNAL_REFERENCE_LENGTH
		) {
			return failure(
				e('F200', 'InvalidExternalReference', 'externalReference can be at most 100 characters'),
			);
		}

		switch (operation) {
			case 'CreateGiftCard':
				return this.createGiftCard(state, body);
			case 'CancelGiftCard':
				return this.cancelGiftCard(state, body);
			case 'GetAvailableFunds':
				return this.getAvailableFunds(state);
			case 'ActivateGiftCard':
				return this.activateGiftCard(state, body);
			case 'DeactivateGiftCard':
				return this.deactivateGiftCard(state, body);
			case 'ActivationStatusCheck':
				return this.activationStatusCheck(state, body);
			case 'LoadAmazonBalance':
				return this.loadAmazonBalance(state, body);
			case 'VoidAmazonBalanceLoad':
				return this.voidAmazonBalanceLoad(state, body);
		}
	}

	private mock(operation: Operation, code: string, body: Body): OperationOutcome {
		const mock = MOCK_IDS[code];
		if (mock.status !== 'SUCCESS') return { status: mock.status, error: mock.error };
		// F0000: a canned success echoing the request, moving no money.
		const value = asObject(body.value);
		const echoedValue = value
			? { amount: echoAmount(value.amount), currencyCode: asText(value.currencyCode) ?? null }
			: null;
		const amount = asObject(body.amount);
		const echoedAmount = amount
			? { currencyCode: asText(amount.currencyCode) ?? null, value: echoAmount(amount.value) }
			: null;
		const cardNumber = asText(body.cardNumber) ?? null;
		switch (operation) {
			case 'CreateGiftCard':
				return success({
					cardInfo: {
						cardNumber: null,
						cardStatus: 'Fulfilled',
						expirationDate: null,
						value: echoedValue,
					},
					creationRequestId: code,
					gcClaimCode: MOCK_CLAIM_CODE,
					gcExpirationDate: null,
					gcId: MOCK_GC_ID,
				});
			case 'CancelGiftCard':
				return success({ creationRequestId: code, gcId: asText(body.gcId) ?? MOCK_GC_ID });
			case 'ActivateGiftCard':
			case 'DeactivateGiftCard':
				return success({
					activationRequestId: code,
					cardInfo: {
						cardNumber,
						cardStatus: operation === 'ActivateGiftCard' ? 'Activated' : 'AwaitingActivation',
						expirationDate: null,
						value: echoedValue,
					},
				});
			case 'ActivationStatusCheck':
				return success({
					cardInfo: { cardNumber, cardStatus: 'Activated', expirationDate: null, value: null },
					statusCheckRequestId: code,
				});
			case 'LoadAmazonBalance':
			case 'VoidAmazonBalanceLoad':
				return success({
					amazonTransactionId: MOCK_TRANSACTION_ID,
					amount: echoedAmount,
					...(this.options.echoLoadBalanceRequestId()
						? { loadBalanceRequestId: asText(body.loadBalanceRequestId) ?? null }
						: {}),
				});
			case 'GetAvailableFunds':
				// Has no request id, so no mock can reach it.
				return this.getAvailableFunds(this.partners.get(asText(body.partnerId) ?? '')!);
		}
	}

	private amountOf(state: PartnerState, amount: unknown, currency: unknown) {
		return parseAmount(amount, currency, this.options.region, state.partner.currencyCode);
	}

	private debit(
		state: PartnerState,
		operation: Operation,
		requestId: string,
		minor: number,
		currencyCode: string,
	): void {
		state.balanceMinor -= minor;
		const c = this.counters;
		c.debits += 1;
		c.totalDebitedMinor.set(currencyCode, (c.totalDebitedMinor.get(currencyCode) ?? 0) + minor);
		this.journal(state, operation, requestId, 'debit', minor, currencyCode);
		// The audit trail tests use to prove exactly-once: a second debit for one id is a sandbox bug.
		const key = `${state.partner.partnerId}\u0000${operation}\u0000${requestId}`;
		const times = (c.debitsByRequest.get(key) ?? 0) + 1;
		c.debitsByRequest.set(key, times);
		if (times === 2) c.doubleDebits.push(requestId);
	}

	private refund(
		state: PartnerState,
		operation: Operation,
		requestId: string,
		minor: number,
		currencyCode: string,
	): void {
		state.balanceMinor += minor;
		const c = this.counters;
		c.totalRefundedMinor.set(currencyCode, (c.totalRefundedMinor.get(currencyCode) ?? 0) + minor);
		this.journal(state, operation, requestId, 'refund', minor, currencyCode);
	}

	private journal(
		state: PartnerState,
		operation: Operation,
		requestId: string,
		kind: LedgerMovement['kind'],
		minor: number,
		currencyCode: string,
	): void {
		this.movements.push({
			seq: this.movements.length + 1,
			at: this.options.now(),
			partnerId: state.partner.partnerId,
			operation,
			requestId,
			kind,
			amount: minor / 100,
			currencyCode,
		});
	}

	private createGiftCard(state: PartnerState, body: Body): OperationOutcome {
		const creationRequestId = body.creationRequestId as string;
		const value = asObject(body.value);
		const parsed = this.amountOf(state, value?.amount, value?.currencyCode);
		if ('errorType' in parsed) return failure(parsed);

		const existing = state.giftCards.get(creationRequestId);
		if (existing) {
			if (existing.minor !== parsed.minor || existing.currencyCode !== parsed.currencyCode) {
				return failure(reusedId('creationRequestId'));
			}
			return success(giftCardResponse(existing));
		}
		if (state.balanceMinor < parsed.minor) {
			return failure(e('F300', 'InsufficientFunds', 'Insufficient Funds'));
		}
		const createdAt = this.options.now();
		const card: GiftCardRecord = {
			creationRequestId,
			gcId: this.uniqueGcId(),
			gcClaimCode: this.uniqueClaimCode(),
			minor: parsed.minor,
			currencyCode: parsed.currencyCode,
			createdAt,
			gcExpirationDate: expirationDateFor(parsed.currencyCode, createdAt),
			cancelled: false,
		};
		this.debit(state, 'CreateGiftCard', creationRequestId, parsed.minor, parsed.currencyCode);
		state.giftCards.set(creationRequestId, card);
		this.counters.cardsIssued += 1;
		return success(giftCardResponse(card));
	}

	private uniqueGcId(): string {
		for (;;) {
			const gcId = `A${randomAlphanumeric(13)}`;
			if (!this.gcIds.has(gcId)) {
				this.gcIds.add(gcId);
				return gcId;
			}
		}
	}

	private uniqueClaimCode(): string {
		for (;;) {
			const raw = randomAlphanumeric(14);
			const code = `${raw.slice(0, 4)}-${raw.slice(4, 10)}-${raw.slice(10)}`;
			if (!this.claimCodes.has(code)) {
				this.claimCodes.add(code);
				return code;
			}
		}
	}

	private cancelGiftCard(state: PartnerState, body: Body): OperationOutcome {
		const creationRequestId = body.creationRequestId as string;
		const card = state.giftCards.get(creationRequestId);
		if (!card) {
			return failure(
				e(
					'F200',
					'InvalidCreationRequestId',
					'No gift card was created with this creationRequestId',
				),
			);
		}
		const gcId = asText(body.gcId);
		if (gcId !== undefined && gcId !== '' && gcId !== card.gcId) {
			return failure(
				e(
					'F200',
					'InvalidGcId',
					'The gcId does not match the card created with this creationRequestId',
				),
			);
		}
		const response = { creationRequestId, gcId: card.gcId };
		const late = this.options.now() - card.createdAt > this.options.cancelWindowMs;
		if (card.cancelled && !(late && this.options.cancelWindowCheckedFirst()))
			return success(response);
		if (late) {
			return failure(
				e('F200', 'CancelRequestArrivedAfterTimeLimit', 'Cancel Request Arrived After Time Limit'),
			);
		}
		card.cancelled = true;
		this.refund(state, 'CancelGiftCard', creationRequestId, card.minor, card.currencyCode);
		this.counters.cardsCancelled += 1;
		return success(response);
	}

	private getAvailableFunds(state: PartnerState): OperationOutcome {
		return success({
			availableFunds: {
				amount: this.options.amazonLikeFunds() ? 0 : state.balanceMinor / 100,
				currencyCode: state.partner.currencyCode,
			},
			timestamp: amzDate(this.options.now()),
		});
	}

	private physicalCard(body: Body): PhysicalCard | AgcodError {
		const cardNumber = asText(body.cardNumber);
		if (!cardNumber || !/^\d{16}(\d{3})?$/.test(cardNumber)) {
			return e('F200', 'InvalidCardNumber', 'cardNumber must be 16 or 19 digits');
		}
		const card = this.physicalCards.get(cardNumber);
		if (!card) return e('F200', 'CardNumberNotFound', 'No card with this cardNumber exists');
		return card;
	}

	private activateGiftCard(state: PartnerState, body: Body): OperationOutcome {
		const activationRequestId = body.activationRequestId as string;
		const card = this.physicalCard(body);
		if ('errorType' in card) return failure(card);
		const value = asObject(body.value);
		const parsed = this.amountOf(state, value?.amount, value?.currencyCode);
		if ('errorType' in parsed) return failure(parsed);

		const existing = state.activations.get(activationRequestId);
		if (existing) {
			if (
				existing.cardNumber !== card.spec.cardNumber ||
				existing.minor !== parsed.minor ||
				existing.currencyCode !== parsed.currencyCode
			) {
				return failure(reusedId('activationRequestId'));
			}
			// Idempotent replay: the original activation, whatever happened to the card since.
			return success(activationResponse(existing, 'Activated'));
		}
		if (card.state === 'Invalidated') {
			return failure(
				e('F200', 'CardInvalidated', 'The card is invalidated and cannot be activated'),
			);
		}
		if (card.state === 'Activated') {
			return failure(
				e(
					'F200',
					'CardAlreadyActivatedWithDifferentRequestId',
					'The card was already activated with a different request id',
				),
			);
		}
		if (card.spec.currencyCode !== parsed.currencyCode) {
			return failure(
				e('F200', 'CurrencyCodeMismatch', `The card is a ${card.spec.currencyCode} card`),
			);
		}
		if (card.denominationMinor !== null && card.denominationMinor !== parsed.minor) {
			return failure(
				e(
					'F200',
					'AmountDoesNotMatchDenomination',
					`The card is denominated; activate it with exactly ${(card.denominationMinor / 100).toFixed(2)} ${card.spec.currencyCode}`,
				),
			);
		}
		if (state.balanceMinor < parsed.minor) {
			return failure(e('F300', 'InsufficientFunds', 'Insufficient Funds'));
		}
		const record: ActivationRecord = {
			activationRequestId,
			cardNumber: card.spec.cardNumber,
			minor: parsed.minor,
			currencyCode: parsed.currencyCode,
			expirationDate: expirationDateFor(parsed.currencyCode, this.options.now()),
			deactivated: false,
		};
		this.debit(state, 'ActivateGiftCard', activationRequestId, parsed.minor, parsed.currencyCode);
		state.activations.set(activationRequestId, record);
		card.state = 'Activated';
		card.activatedBy = { partnerId: state.partner.partnerId, activationRequestId };
		this.counters.activations += 1;
		return success(activationResponse(record, 'Activated'));
	}

	private deactivateGiftCard(state: PartnerState, body: Body): OperationOutcome {
		const activationRequestId = body.activationRequestId as string;
		const card = this.physicalCard(body);
		if ('errorType' in card) return failure(card);
		const record = state.activations.get(activationRequestId);
		if (!record) {
			return failure(
				e(
					'F200',
					'InvalidActivationRequestId',
					'No activation was made with this activationRequestId',
				),
			);
		}
		if (record.cardNumber !== card.spec.cardNumber) {
			return failure(
				e(
					'F200',
					'CardNumberMismatch',
					'The cardNumber was not activated with this activationRequestId',
				),
			);
		}
		if (record.deactivated) return success(activationResponse(record, 'AwaitingActivation'));
		if (card.state === 'Invalidated') {
			return failure(
				e('F200', 'CardInvalidated', 'The card is invalidated and cannot be deactivated'),
			);
		}
		record.deactivated = true;
		card.state = 'AwaitingActivation';
		card.activatedBy = undefined;
		this.refund(
			state,
			'DeactivateGiftCard',
			activationRequestId,
			record.minor,
			record.currencyCode,
		);
		this.counters.deactivations += 1;
		return success(activationResponse(record, 'AwaitingActivation'));
	}

	private activationStatusCheck(state: PartnerState, body: Body): OperationOutcome {
		const statusCheckRequestId = body.statusCheckRequestId as string;
		const card = this.physicalCard(body);
		if ('errorType' in card) return failure(card);
		const cardInfo: Record<string, unknown> = {
			cardNumber: card.spec.cardNumber,
			cardStatus: card.state,
			expirationDate: null,
			value: null,
		};
		if (card.state === 'Activated') {
			const activatedBy = card.activatedBy!;
			// The id must be the one that activated the card (Amazon's POSA page).
			if (
				activatedBy.partnerId !== state.partner.partnerId ||
				activatedBy.activationRequestId !== statusCheckRequestId
			) {
				return failure(
					e(
						'F200',
						'CardActivatedWithDifferentRequestId',
						'statusCheckRequestId must be the activationRequestId that activated the card',
					),
				);
			}
			const record = state.activations.get(statusCheckRequestId)!;
			cardInfo.expirationDate = record.expirationDate;
			cardInfo.value = { amount: record.minor / 100, currencyCode: record.currencyCode };
		}
		return success({ cardInfo, statusCheckRequestId });
	}

	private loadAmazonBalance(state: PartnerState, body: Body): OperationOutcome {
		const loadBalanceRequestId = body.loadBalanceRequestId as string;
		const amount = asObject(body.amount);
		const parsed = this.amountOf(state, amount?.value, amount?.currencyCode);
		if ('errorType' in parsed) return failure(parsed);
		const accountId = asText(asObject(body.account)?.id);
		if (!accountId)
			return failure(e('F200', 'InvalidAccountInput', "Account id can't be null or empty"));

		const existing = state.loads.get(loadBalanceRequestId);
		if (existing) {
			if (
				existing.minor !== parsed.minor ||
				existing.currencyCode !== parsed.currencyCode ||
				existing.accountId !== accountId
			) {
				return failure(reusedId('loadBalanceRequestId'));
			}
			return success(this.loadResponse(existing, existing.amazonTransactionId));
		}
		if (state.balanceMinor < parsed.minor) {
			return failure(e('F300', 'InsufficientFunds', 'Insufficient Funds'));
		}
		const record: LoadRecord = {
			loadBalanceRequestId,
			minor: parsed.minor,
			currencyCode: parsed.currencyCode,
			accountId,
			amazonTransactionId: randomAlphanumeric(22),
		};
		this.debit(state, 'LoadAmazonBalance', loadBalanceRequestId, parsed.minor, parsed.currencyCode);
		state.loads.set(loadBalanceRequestId, record);
		this.counters.balanceLoads += 1;
		return success(this.loadResponse(record, record.amazonTransactionId));
	}

	private voidAmazonBalanceLoad(state: PartnerState, body: Body): OperationOutcome {
		const loadBalanceRequestId = body.loadBalanceRequestId as string;
		const amount = asObject(body.amount);
		const parsed = this.amountOf(state, amount?.value, amount?.currencyCode);
		if ('errorType' in parsed) return failure(parsed);
		const accountId = asText(asObject(body.account)?.id);
		if (!accountId)
			return failure(e('F200', 'InvalidAccountInput', "Account id can't be null or empty"));

		const load = state.loads.get(loadBalanceRequestId);
		if (!load) {
			return failure(
				e(
					'F200',
					'InvalidLoadBalanceRequestId',
					'No balance load was made with this loadBalanceRequestId',
				),
			);
		}
		if (
			load.minor !== parsed.minor ||
			load.currencyCode !== parsed.currencyCode ||
			load.accountId !== accountId
		) {
			return failure(
				e('F200', 'VoidDoesNotMatchLoad', 'Amount and account must be those of the original load'),
			);
		}
		if (load.voidTransactionId) return success(this.loadResponse(load, load.voidTransactionId));
		load.voidTransactionId = randomAlphanumeric(22);
		this.refund(
			state,
			'VoidAmazonBalanceLoad',
			loadBalanceRequestId,
			load.minor,
			load.currencyCode,
		);
		this.counters.balanceVoids += 1;
		return success(this.loadResponse(load, load.voidTransactionId));
	}

	private loadResponse(record: LoadRecord, amazonTransactionId: string): Record<string, unknown> {
		const response: Record<string, unknown> = {
			amazonTransactionId,
			amount: { currencyCode: record.currencyCode, value: record.minor / 100 },
			loadBalanceRequestId: record.loadBalanceRequestId,
		};
		if (!this.options.echoLoadBalanceRequestId()) delete response.loadBalanceRequestId;
		return response;
	}
}

function echoAmount(raw: unknown): number | null {
	if (typeof raw === 'number') return raw;
	if (typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw)))
		return Number(raw);
	return null;
}

function reusedId(field: string): AgcodError {
	return e(
		'F200',
		'RequestIdReusedWithDifferentInput',
		`This ${field} was already used with a different amount, currency, card or account`,
	);
}

function checkRequestId(raw: unknown, field: string, partnerId: string): AgcodError | null {
	const id = asText(raw);
	if (!id) return e('F200', 'InvalidRequestIdInput', `${field} can't be null or empty`);
	if (id.length > MAX_REQUEST_ID_LENGTH) {
		return e(
			'F200',
			'RequestIdTooLong',
			`${field} can be at most ${MAX_REQUEST_ID_LENGTH} characters`,
		);
	}
	if (!/^[A-Za-z0-9]+$/.test(id)) {
		return e('F200', 'InvalidRequestIdFormat', `${field} must be alphanumeric`);
	}
	if (!id.startsWith(partnerId)) {
		return e('F200', 'RequestIdMustStartWithPartnerName', `${field} must start with the partnerId`);
	}
	return null;
}

function giftCardResponse(card: GiftCardRecord): Record<string, unknown> {
	return {
		cardInfo: {
			cardNumber: null,
			cardStatus: card.cancelled ? 'RefundedToPurchaser' : 'Fulfilled',
			expirationDate: null,
			value: { amount: card.minor / 100, currencyCode: card.currencyCode },
		},
		creationRequestId: card.creationRequestId,
		gcClaimCode: card.gcClaimCode,
		gcExpirationDate: card.gcExpirationDate,
		gcId: card.gcId,
	};
}

function activationResponse(
	record: ActivationRecord,
	cardStatus: PhysicalCardState,
): Record<string, unknown> {
	return {
		activationRequestId: record.activationRequestId,
		cardInfo: {
			cardNumber: record.cardNumber,
			cardStatus,
			expirationDate: record.expirationDate,
			value: { amount: record.minor / 100, currencyCode: record.currencyCode },
		},
	};
}
