/**
 * What the sandbox offers for ambiguous answers (issue 9): a cancelled card replayed, faults per operation
 * and per count (answers lost after commit, FAILURE answers on status checks), bare 429s, a throttle
 * signalled only by its header, the Login & Receive echo switched off, the order of the cancel window's
 * checks, the ledger per request id, and how many requests with one id were in flight at once.
 */
import { clientFor } from './aws4Client';
import { startSandbox, type RunningSandbox, type SandboxConfigChange } from './index';

const P = 'Awssb';
const CARD = '1400000005567585358';
const create = (id: string, amount = 10) => ({
	creationRequestId: id,
	partnerId: P,
	value: { currencyCode: 'USD', amount },
});
const activate = (id: string, cardNumber = CARD, amount = 20) => ({
	activationRequestId: id,
	partnerId: P,
	cardNumber,
	value: { currencyCode: 'USD', amount },
});
const load = (id: string, amount = 5, account = 'amzn1.account.CUSTOMER1') => ({
	loadBalanceRequestId: id,
	partnerId: P,
	amount: { currencyCode: 'USD', value: amount },
	account: { id: account, type: '2' },
});

describe('sandbox: ambiguous answers', () => {
	let sandbox: RunningSandbox;
	let call: ReturnType<typeof clientFor>;
	const configure = (change: SandboxConfigChange) =>
		sandbox.configure({
			faults: {},
			faultRules: [],
			echoLoadBalanceRequestId: true,
			cancelWindowCheckedFirst: false,
			...change,
		});

	beforeAll(async () => {
		sandbox = await startSandbox({ rateLimit: false });
		call = clientFor(sandbox);
	});
	afterAll(() => sandbox.stop());
	beforeEach(() => {
		configure({});
		sandbox.reset();
	});

	it('replays a cancelled card as Amazon does: SUCCESS, RefundedToPurchaser and the old claim code', async () => {
		const issued = await call('CreateGiftCard', create('AwssbReplay1', 12));
		expect(issued.json.cardInfo.cardStatus).toBe('Fulfilled');
		const cancelled = await call('CancelGiftCard', {
			creationRequestId: 'AwssbReplay1',
			partnerId: P,
			gcId: issued.json.gcId,
		});
		expect(cancelled.json.status).toBe('SUCCESS');
		const replay = await call('CreateGiftCard', create('AwssbReplay1', 12));
		expect(replay.httpStatus).toBe(200);
		expect(replay.json).toMatchObject({
			status: 'SUCCESS',
			gcId: issued.json.gcId,
			gcClaimCode: issued.json.gcClaimCode,
			cardInfo: { cardStatus: 'RefundedToPurchaser', value: { amount: 12, currencyCode: 'USD' } },
		});
		expect(sandbox.stats()).toMatchObject({ cardsIssued: 1, cardsCancelled: 1, debits: 1 });
	});

	it('a rule can target one operation and a number of requests: here the first status check answers F100', async () => {
		configure({
			faultRules: [{ operations: ['ActivationStatusCheck'], times: 1, faults: { failureRate: 1 } }],
		});
		await call('ActivateGiftCard', activate('AwssbAct1'));
		const check = { statusCheckRequestId: 'AwssbAct1', partnerId: P, cardNumber: CARD };
		const failed = await call('ActivationStatusCheck', check);
		expect(failed.httpStatus).toBe(500);
		expect(failed.json).toMatchObject({
			agcodResponse: { status: 'FAILURE' },
			errorCode: 'F100',
			errorType: 'GeneralError',
		});
		const second = await call('ActivationStatusCheck', check);
		expect(second.json).toMatchObject({ status: 'SUCCESS', cardInfo: { cardStatus: 'Activated' } });
		expect(sandbox.stats().faultsInjected.failure).toBe(1);
		expect(sandbox.requests().map((entry) => entry.fault ?? '-')).toEqual(['-', 'failure', '-']);
	});

	it('a FAILURE fault can carry any error and commits nothing', async () => {
		configure({
			faults: {
				failureRate: 1,
				failure: {
					errorCode: 'F300',
					errorType: 'InsufficientFunds',
					message: 'Insufficient Funds',
				},
			},
		});
		const refused = await call('CreateGiftCard', create('AwssbFail1'));
		expect(refused.httpStatus).toBe(400);
		expect(refused.json).toMatchObject({ errorCode: 'F300', errorType: 'InsufficientFunds' });
		expect(sandbox.stats()).toMatchObject({ cardsIssued: 0, debits: 0 });
	});

	it('commit then lose the answer: the cancel is applied and the connection dropped at once', async () => {
		const issued = await call('CreateGiftCard', create('AwssbLost1'));
		configure({
			faultRules: [{ operations: ['CancelGiftCard'], faults: { resetAfterCommitRate: 1 } }],
		});
		const started = Date.now();
		await expect(
			call('CancelGiftCard', {
				creationRequestId: 'AwssbLost1',
				partnerId: P,
				gcId: issued.json.gcId,
			}),
		).rejects.toMatchObject({ message: expect.stringMatching(/socket hang up|ECONNRESET/) });
		expect(Date.now() - started).toBeLessThan(1000);
		expect(sandbox.stats()).toMatchObject({
			cardsCancelled: 1,
			faultsInjected: { resetAfterCommit: 1 },
		});
		expect(sandbox.requests()[1]).toMatchObject({
			operation: 'CancelGiftCard',
			status: 'SUCCESS',
			httpStatus: null,
			fault: 'resetAfterCommit',
		});
	});

	it('commit then lose the answer works for activations too, and the replay answers the activation', async () => {
		configure({
			faultRules: [
				{ operations: ['ActivateGiftCard'], times: 1, faults: { resetAfterCommitRate: 1 } },
			],
		});
		await expect(call('ActivateGiftCard', activate('AwssbAct2'))).rejects.toBeDefined();
		expect(sandbox.ledger().physicalCards).toEqual([
			{
				cardNumber: CARD,
				currencyCode: 'USD',
				state: 'Activated',
				activationRequestId: 'AwssbAct2',
			},
		]);
		const replay = await call('ActivateGiftCard', activate('AwssbAct2'));
		expect(replay.json).toMatchObject({ status: 'SUCCESS', cardInfo: { cardStatus: 'Activated' } });
		expect(sandbox.stats()).toMatchObject({ activations: 1, debits: 1, doubleDebits: [] });
	});

	it('a late re-sent cancel answers SUCCESS by default, and the time-limit error when the window is checked first', async () => {
		const issued = await call('CreateGiftCard', create('AwssbLate1'));
		const cancel = { creationRequestId: 'AwssbLate1', partnerId: P, gcId: issued.json.gcId };
		expect((await call('CancelGiftCard', cancel)).json.status).toBe('SUCCESS');
		sandbox.clock.advance(16 * 60 * 1000);
		expect((await call('CancelGiftCard', cancel)).json.status).toBe('SUCCESS');
		configure({ cancelWindowCheckedFirst: true });
		const late = await call('CancelGiftCard', cancel);
		expect(late.json).toMatchObject({
			errorCode: 'F200',
			errorType: 'CancelRequestArrivedAfterTimeLimit',
		});
		// The card stays cancelled, refunded once.
		expect(sandbox.ledger().giftCards[0].cardStatus).toBe('RefundedToPurchaser');
		expect(sandbox.stats()).toMatchObject({ cardsCancelled: 1, totalRefunded: { USD: 10 } });
	});

	it('bare 429: no body at all, nothing committed, counted as throttled', async () => {
		configure({ faults: { bare429Rate: 1 } });
		const answer = await call('CreateGiftCard', create('Awssb429a'));
		expect(answer.httpStatus).toBe(429);
		expect(answer.text).toBe('');
		expect(sandbox.stats()).toMatchObject({ faultsInjected: { bare429: 1 }, cardsIssued: 0 });
		expect(sandbox.requests()[0]).toMatchObject({ throttled: true, fault: 'bare429' });
	});

	it('a throttle signalled only by the x-amzn-ErrorType header', async () => {
		configure({ faults: { throttleHeaderRate: 1 } });
		const answer = await call('CreateGiftCard', create('AwssbHdr1'));
		expect(answer.httpStatus).toBe(400);
		expect(answer.headers['x-amzn-errortype']).toMatch(/^ThrottlingException:/);
		expect(answer.json).toEqual({});
		expect(sandbox.stats()).toMatchObject({ faultsInjected: { throttleHeader: 1 }, debits: 0 });
	});

	it('Login & Receive: the loadBalanceRequestId echo can be switched off, for loads and voids', async () => {
		configure({ echoLoadBalanceRequestId: false });
		const loaded = await call('LoadAmazonBalance', load('AwssbLoad1'));
		expect(loaded.json.status).toBe('SUCCESS');
		expect(loaded.json).not.toHaveProperty('loadBalanceRequestId');
		expect(loaded.json.amazonTransactionId).toEqual(expect.any(String));
		const voided = await call('VoidAmazonBalanceLoad', load('AwssbLoad1'));
		expect(voided.json.status).toBe('SUCCESS');
		expect(voided.json).not.toHaveProperty('loadBalanceRequestId');
		configure({});
		expect((await call('LoadAmazonBalance', load('AwssbLoad1'))).json.loadBalanceRequestId).toBe(
			'AwssbLoad1',
		);
	});

	it('the ledger tells, per request id, what money moved and in which state each card is', async () => {
		const card = await call('CreateGiftCard', create('AwssbL1', 10));
		await call('CreateGiftCard', create('AwssbL2', 3));
		await call('CancelGiftCard', {
			creationRequestId: 'AwssbL1',
			partnerId: P,
			gcId: card.json.gcId,
		});
		await call('ActivateGiftCard', activate('AwssbL3'));
		await call('DeactivateGiftCard', {
			activationRequestId: 'AwssbL3',
			partnerId: P,
			cardNumber: CARD,
		});
		await call('LoadAmazonBalance', load('AwssbL4', 7));
		await call('CreateGiftCard', create('F0000', 9)); // a mock moves nothing
		const ledger = sandbox.ledger();
		expect(ledger.giftCards).toEqual([
			expect.objectContaining({
				creationRequestId: 'AwssbL1',
				amount: 10,
				cardStatus: 'RefundedToPurchaser',
			}),
			expect.objectContaining({ creationRequestId: 'AwssbL2', amount: 3, cardStatus: 'Fulfilled' }),
		]);
		expect(ledger.activations).toEqual([
			expect.objectContaining({
				activationRequestId: 'AwssbL3',
				cardNumber: CARD,
				state: 'Deactivated',
			}),
		]);
		expect(ledger.loads).toEqual([
			expect.objectContaining({ loadBalanceRequestId: 'AwssbL4', amount: 7, voided: false }),
		]);
		expect(ledger.physicalCards).toEqual([]);
		expect(
			ledger.movements.map((m) => [m.operation, m.requestId, m.kind, m.amount, m.currencyCode]),
		).toEqual([
			['CreateGiftCard', 'AwssbL1', 'debit', 10, 'USD'],
			['CreateGiftCard', 'AwssbL2', 'debit', 3, 'USD'],
			['CancelGiftCard', 'AwssbL1', 'refund', 10, 'USD'],
			['ActivateGiftCard', 'AwssbL3', 'debit', 20, 'USD'],
			['DeactivateGiftCard', 'AwssbL3', 'refund', 20, 'USD'],
			['LoadAmazonBalance', 'AwssbL4', 'debit', 7, 'USD'],
		]);
		expect(JSON.stringify(ledger)).not.toContain(card.json.gcClaimCode);
		// Over HTTP too, unsigned like the other introspection endpoints.
		const response = await fetch(`${sandbox.url}/__sandbox/ledger`);
		expect(await response.json()).toEqual(ledger);
		sandbox.reset();
		expect(sandbox.ledger()).toEqual({
			giftCards: [],
			activations: [],
			loads: [],
			physicalCards: [],
			movements: [],
		});
	});

	it('counts how many requests with one request id were in flight at once', async () => {
		configure({ faults: { latencyMs: 150 } });
		await Promise.all([
			call('CreateGiftCard', create('AwssbSeq1')),
			call('CreateGiftCard', create('AwssbSeq2')),
		]);
		expect(sandbox.stats()).toMatchObject({
			maxInFlightPerRequestId: 1,
			requestIdsInFlightTogether: [],
		});

		await Promise.all([
			call('CreateGiftCard', create('AwssbTwice1')),
			call('CreateGiftCard', create('AwssbTwice1')),
			call('CreateGiftCard', create('AwssbTwice1')),
		]);
		expect(sandbox.stats()).toMatchObject({
			maxInFlightPerRequestId: 3,
			requestIdsInFlightTogether: ['AwssbTwice1'],
			cardsIssued: 3,
			doubleDebits: [],
		});
		// One after the other is not "together".
		sandbox.reset();
		for (let i = 0; i < 3; i++) await call('CreateGiftCard', create('AwssbSeq3'));
		expect(sandbox.stats().maxInFlightPerRequestId).toBe(1);
	});

	it('a request whose client gave up stops counting as in flight when its connection closes', async () => {
		configure({ faults: { hangAfterCommitRate: 1, hangMs: 60000 } });
		await expect(
			call('CreateGiftCard', create('AwssbGaveUp1'), { timeoutMs: 100 }),
		).rejects.toBeDefined();
		configure({});
		// Give the server a moment to see the close.
		await new Promise((resolve) => setTimeout(resolve, 50));
		await call('CreateGiftCard', create('AwssbGaveUp1'));
		expect(sandbox.stats().maxInFlightPerRequestId).toBe(1);
	});

	it('takes the new switches and per-operation rules over HTTP too', async () => {
		const response = await fetch(`${sandbox.url}/__sandbox/config`, {
			method: 'POST',
			body: JSON.stringify({
				echoLoadBalanceRequestId: false,
				cancelWindowCheckedFirst: true,
				faultRules: [{ operations: ['CancelGiftCard'], times: 2, faults: { bare429Rate: 1 } }],
			}),
		});
		expect(await response.json()).toMatchObject({
			echoLoadBalanceRequestId: false,
			cancelWindowCheckedFirst: true,
			faultRules: [{ operations: ['CancelGiftCard'], times: 2, faults: { bare429Rate: 1 } }],
		});
		expect((await call('LoadAmazonBalance', load('AwssbHttp1'))).json).not.toHaveProperty(
			'loadBalanceRequestId',
		);
	});

	it('refuses malformed rules and failures without changing the configuration', () => {
		expect(() => configure({ faultRules: [{ times: -1, faults: {} }] })).toThrow(/times/);
		expect(() =>
			configure({ faults: { failureRate: 1, failure: { errorCode: 'F100' } as never } }),
		).toThrow(/failure/);
		expect(() => configure({ faults: { bare429Rate: 2 } })).toThrow(/between 0 and 1/);
	});
});
