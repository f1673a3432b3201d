/**
 * Fault suite: the node against the local sandbox's fault injection. Every item must end SUCCESS exactly
 * once or as a clear retryable error; the sandbox's ledger must show no double debit and exactly the money
 * of the cards it issued; re-running issues nothing new; a lost activation answer is settled with
 * ActivationStatusCheck before the activation is re-sent.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { deriveRequestId } from '../../nodes/AmazonIncentives/requestId';
import {
	HARNESS_SCOPE,
	createParameters,
	itemError,
	jsonOf,
	runAgainst,
	useSandbox,
} from '../integration/helpers';
import type { FaultKind, RecordedRequest, RunningSandbox } from '../sandbox';

const PARTNER = 'Awssb';
const ERROR_OUTPUT = { settings: { onError: 'continueErrorOutput' as const } };

/** Short timeouts so hung sockets cost little; the sandbox holds them a bit longer than the node waits. */
const FAST_OPTIONS = {
	timeout: 400,
	maxRetries: 10,
	retryBudget: 30,
	maxConcurrentRequests: 30,
	requestsPerSecond: 100,
};

const MIXED_FAULTS = {
	resendFirstAttemptRate: 0.2,
	hangAfterCommitRate: 0.05,
	hangMs: 500,
	connectionResetRate: 0.03,
	html500Rate: 0.03,
	truncatedJsonRate: 0.02,
	seed: 20240611,
};

interface Item extends IDataObject {
	key: string;
	amount: number;
}

function itemsOf(count: number, prefix: string): Item[] {
	return Array.from({ length: count }, (_, index) => ({
		key: `${prefix}-${index}`,
		amount: 5 + (index % 7) + (index % 3) * 0.25,
	}));
}

const creationIdOf = (item: Item) => deriveRequestId(PARTNER, 'create', item.key, HARNESS_SCOPE);

/** Output items by input index, from both outputs; fails if an input has no output or two. */
function byInputIndex(main: INodeExecutionData[], errors: INodeExecutionData[], count: number) {
	const slots: Array<{ ok: boolean; item: INodeExecutionData } | undefined> = new Array(count);
	for (const [ok, items] of [
		[true, main],
		[false, errors],
	] as const) {
		for (const item of items) {
			const index = (item.pairedItem as { item: number }).item;
			expect(slots[index]).toBeUndefined();
			slots[index] = { ok, item };
		}
	}
	expect(slots.filter(Boolean)).toHaveLength(count);
	return slots as Array<{ ok: boolean; item: INodeExecutionData }>;
}

/** Request ids whose CreateGiftCard the sandbox committed (it records the outcome even when it hangs). */
function committedCreations(sandbox: RunningSandbox): Set<string> {
	return new Set(
		sandbox
			.requests()
			.filter((request) => request.operation === 'CreateGiftCard' && request.status === 'SUCCESS')
			.map((request) => request.requestId!),
	);
}

const cents = (amount: number) => Math.round(amount * 100);

describe('fault suite: mixed faults on 300 items', () => {
	const sandbox = useSandbox({ faults: MIXED_FAULTS });

	it('every item ends SUCCESS exactly once or as a retryable error; the ledger matches; a re-run issues nothing new', async () => {
		const items = itemsOf(300, 'fault-mix');
		const parameters = createParameters({ options: FAST_OPTIONS });
		const first = await runAgainst(sandbox(), parameters, items, ERROR_OUTPUT);
		expect(first.status).toBe('success');

		// The faults really happened, of every kind.
		const injected = sandbox().stats().faultsInjected;
		for (const kind of ['resend', 'hang', 'reset', 'html500', 'truncated'] as FaultKind[])
			expect(injected[kind]).toBeGreaterThan(0);

		const outcomes = byInputIndex(first.main, first.errorOutput, items.length);
		const succeeded = new Map<string, IDataObject>();
		const retryable = new Set<string>();
		outcomes.forEach(({ ok, item }, index) => {
			const requestId = creationIdOf(items[index]);
			if (ok) {
				expect(item.json).toMatchObject({
					status: 'SUCCESS',
					creationRequestId: requestId,
					requestId,
					cardInfo: { value: { amount: items[index].amount, currencyCode: 'USD' } },
				});
				succeeded.set(requestId, item.json);
			} else {
				expect(itemError(item.json).message).toMatch(
					new RegExp(`^Item ${index}: .*Safe to retry\\.$`),
				);
				expect(itemError(item.json)).toMatchObject({ retryable: true, requestId });
				retryable.add(requestId);
			}
		});

		// Exactly once: one card per successful request id, no id debited twice, nothing else debited.
		const stats = sandbox().stats();
		const committed = committedCreations(sandbox());
		expect(stats.doubleDebits).toEqual([]);
		expect(new Set([...succeeded.values()].map((json) => json.gcId)).size).toBe(succeeded.size);
		for (const requestId of succeeded.keys()) expect(committed.has(requestId)).toBe(true);
		for (const requestId of committed)
			expect(succeeded.has(requestId) || retryable.has(requestId)).toBe(true);
		expect(stats.cardsIssued).toBe(committed.size);
		expect(stats.debits).toBe(committed.size);
		const committedCents = items
			.filter((item) => committed.has(creationIdOf(item)))
			.reduce((sum, item) => sum + cents(item.amount), 0);
		expect(cents(stats.totalDebited.USD ?? 0)).toBe(committedCents);
		// With these retry settings the seeded faults never outlast the budget: all 300 succeed.
		expect(succeeded.size).toBe(items.length);
		const successCents = items.reduce((sum, item) => sum + cents(item.amount), 0);
		expect(cents(stats.totalDebited.USD)).toBe(successCents);

		// Re-running (as Retry On Fail or a second execution does) sends the same ids: nothing new.
		const second = await runAgainst(sandbox(), parameters, items, ERROR_OUTPUT);
		const again = byInputIndex(second.main, second.errorOutput, items.length);
		again.forEach(({ ok, item }, index) => {
			expect(ok).toBe(true);
			const original = succeeded.get(creationIdOf(items[index]))!;
			expect(item.json).toMatchObject({ gcId: original.gcId, replay: true });
		});
		const after = sandbox().stats();
		expect(after.cardsIssued).toBe(stats.cardsIssued);
		expect(after.debits).toBe(stats.debits);
		expect(after.totalDebited).toEqual(stats.totalDebited);
		expect(after.doubleDebits).toEqual([]);
	}, 90_000);
});

describe('fault suite: answers that never come', () => {
	const sandbox = useSandbox();

	it('an item whose answer is always lost ends as a retryable error; the re-run returns the committed card without a new debit', async () => {
		const items = itemsOf(5, 'lost-answer');
		const lost = creationIdOf(items[2]);
		sandbox().configure({
			faults: {},
			faultRules: [
				{ requestIdPattern: `^${lost}$`, faults: { hangAfterCommitRate: 1, hangMs: 400 } },
			],
		});
		const parameters = createParameters({
			options: { ...FAST_OPTIONS, timeout: 200, maxRetries: 2, retryBudget: 10 },
		});
		const first = await runAgainst(sandbox(), parameters, items, ERROR_OUTPUT);
		expect(first.main).toHaveLength(4);
		expect(first.errorOutput).toHaveLength(1);
		const [failed] = first.errorOutput;
		expect(failed.pairedItem).toEqual({ item: 2 });
		expect(itemError(failed.json).message).toBe(
			"Item 2: outcome unknown: Amazon's answers to CreateGiftCard do not prove whether it was carried out (after 3 attempt(s); last: no complete answer within 0.2 s). Safe to retry with the same ID.",
		);
		expect(itemError(failed.json)).toMatchObject({
			outcome: 'unknown',
			retryable: true,
			attempts: 3,
			requestId: lost,
		});
		expect(itemError(failed.json).description).toContain(`Request ID: ${lost}`);
		// Three identical attempts, every one committed by the sandbox and never answered; one card.
		const attempts = sandbox()
			.requests()
			.filter((request) => request.requestId === lost);
		expect(attempts.map((request) => [request.operation, request.fault])).toEqual([
			['CreateGiftCard', 'hang'],
			['CreateGiftCard', 'hang'],
			['CreateGiftCard', 'hang'],
		]);
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 5, debits: 5, doubleDebits: [] });

		sandbox().configure({ faultRules: [] });
		const second = await runAgainst(sandbox(), parameters, items, ERROR_OUTPUT);
		expect(second.errorOutput).toEqual([]);
		const outputs = jsonOf(second);
		expect(outputs.map((json) => json.replay)).toEqual([true, true, false, true, true]);
		expect(outputs[2]).toMatchObject({ status: 'SUCCESS', creationRequestId: lost });
		const firstCards = first.main.map((item) => item.json.gcId);
		expect(outputs.filter((_, index) => index !== 2).map((json) => json.gcId)).toEqual(firstCards);
		const total = items.reduce((sum, item) => sum + cents(item.amount), 0);
		const stats = sandbox().stats();
		expect(stats).toMatchObject({ cardsIssued: 5, debits: 5, doubleDebits: [] });
		expect(cents(stats.totalDebited.USD)).toBe(total);
	});

	it('Retry On Fail re-runs the node with the same request ids: the retry issues only what was missing', async () => {
		const items = itemsOf(6, 'retry-on-fail');
		const refused = creationIdOf(items[3]);
		// Item 3's first attempt is answered RESEND; with no re-sends allowed the node throws.
		sandbox().configure({
			faults: {},
			faultRules: [{ requestIdPattern: `^${refused}$`, faults: { resendFirstAttemptRate: 1 } }],
		});
		const result = await runAgainst(
			sandbox(),
			createParameters({ options: { ...FAST_OPTIONS, maxRetries: 0 } }),
			items,
			{ settings: { retryOnFail: true, maxTries: 3, waitBetweenTries: 1 } },
		);
		expect(result.status).toBe('success');
		expect(result.runs).toBe(2);
		const outputs = jsonOf(result);
		expect(outputs.every((json) => json.status === 'SUCCESS')).toBe(true);
		expect(outputs[3]).toMatchObject({ creationRequestId: refused, replay: false });
		expect(outputs.filter((json) => json.replay === true)).toHaveLength(5);
		// Every id went out twice (once per execution) and was debited once.
		const creations = sandbox()
			.requests()
			.filter((request) => request.operation === 'CreateGiftCard');
		expect(creations).toHaveLength(12);
		expect(creations.find((request) => request.requestId === refused)?.status).toBe('RESEND');
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 6, debits: 6, doubleDebits: [] });
	});
});

describe('fault suite: physical card activation whose answer was lost', () => {
	const card = '1400000005567585358';
	let faultOnce: FaultKind | undefined;
	// The sandbox logs each request synchronously while handling it: the moment the first fault of the
	// wanted kind is logged, the rule is removed, so only the first activation attempt is hit.
	const sandbox = useSandbox({
		quiet: false,
		log: (line) => {
			if (faultOnce && line.includes(`[fault: ${faultOnce}]`)) {
				faultOnce = undefined;
				sandbox().configure({ faultRules: [] });
			}
		},
	});

	function faultOnceFor(requestId: string, fault: 'hang' | 'truncated') {
		faultOnce = fault;
		sandbox().configure({
			faults: {},
			faultRules: [
				{
					requestIdPattern: `^${requestId}$`,
					faults:
						fault === 'hang' ? { hangAfterCommitRate: 1, hangMs: 500 } : { truncatedJsonRate: 1 },
				},
			],
		});
	}

	it.each(['hang', 'truncated'] as const)(
		'(%s) is settled with ActivationStatusCheck before it is re-sent; the card is activated and debited once',
		async (fault) => {
			const key = `pos-sale-${fault}`;
			const activationId = deriveRequestId(PARTNER, 'activate', key, HARNESS_SCOPE);
			faultOnceFor(activationId, fault);
			const result = await runAgainst(
				sandbox(),
				{
					resource: 'physicalCard',
					operation: 'activate',
					cardNumber: card,
					amount: 40,
					currencyCode: 'USD',
					idempotencyKey: key,
					options: { timeout: 300, maxRetries: 3, retryBudget: 10 },
				},
				[{}],
			);
			expect(result.status).toBe('success');
			expect(jsonOf(result)[0]).toMatchObject({
				status: 'SUCCESS',
				activationRequestId: activationId,
				cardInfo: { cardNumber: card, cardStatus: 'Activated' },
				recoveredWithStatusCheck: true,
				attempts: 2,
			});
			const calls = sandbox()
				.requests()
				.filter((request: RecordedRequest) => request.requestId === activationId)
				.map((request) => [request.operation, request.status, request.fault ?? null]);
			expect(calls).toEqual([
				['ActivateGiftCard', 'SUCCESS', fault],
				['ActivationStatusCheck', 'SUCCESS', null],
				['ActivateGiftCard', 'SUCCESS', null],
			]);
			expect(sandbox().stats()).toMatchObject({
				activations: 1,
				debits: 1,
				totalDebited: { USD: 40 },
				doubleDebits: [],
			});
		},
	);
});
