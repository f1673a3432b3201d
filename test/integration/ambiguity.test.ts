/**
 * Issue 9: where Amazon's answer is ambiguous, the node reports a definite outcome only when Amazon's answers
 * prove it; anything else is an unknown outcome (retryable, with the request id) that a re-run with the same
 * keys settles. Each case runs through n8n-core against the local sandbox, whose ledger says what really
 * happened.
 */
import type { IDataObject } from 'n8n-workflow';

import { deriveRequestId } from '../../nodes/AmazonIncentives/requestId';
import { startBrokenServer } from '../badInput/brokenServer';
import { DEFAULT_PARTNER } from '../sandbox';
import {
	HARNESS_SCOPE,
	activateParameters,
	apiErrorOf,
	cancelParameters,
	continueRegularOutput,
	createParameters,
	itemError,
	jsonOf,
	loadParameters,
	operationErrorOf,
	requestsWithId,
	runAgainst,
	startRecordingProxy,
	uniqueKey,
	useSandbox,
	voidParameters,
} from './helpers';

const FAST = { requestsPerSecond: 100, retryBudget: 30 };
const CARD = '1400000005567585358';
const CLAIM_CODE = /[A-Z0-9]{4}-[A-Z0-9]{6}-[A-Z0-9]{4}/;

/** An error item's fields: `{ error: { message, description, outcome, … } }`. */
const detailsOf = (json: IDataObject) => itemError(json);

describe('1. activation answer lost, then the status check fails', () => {
	const sandbox = useSandbox();
	afterEach(() => sandbox().configure({ faults: {}, faultRules: [] }));

	it('a failed check proves nothing: the activation is re-sent with the same id and succeeds once', async () => {
		sandbox().configure({
			faultRules: [
				{ operations: ['ActivateGiftCard'], times: 1, faults: { resetAfterCommitRate: 1 } },
				{ operations: ['ActivationStatusCheck'], faults: { failureRate: 1 } },
			],
		});
		const key = uniqueKey('pos');
		const result = await runAgainst(sandbox(), activateParameters({ options: FAST }), [
			{ key, cardNumber: CARD, amount: 20 },
		]);
		expect(result.status).toBe('success');
		const requestId = deriveRequestId('Awssb', 'activate', key, HARNESS_SCOPE);
		expect(jsonOf(result)[0]).toMatchObject({
			status: 'SUCCESS',
			requestId,
			cardInfo: { cardStatus: 'Activated' },
			attempts: 2,
			recoveredWithStatusCheck: true,
		});
		expect(
			requestsWithId(sandbox(), requestId).map((entry) => [
				entry.operation,
				entry.status,
				entry.errorCode ?? null,
			]),
		).toEqual([
			['ActivateGiftCard', 'SUCCESS', null], // committed, answer lost
			['ActivationStatusCheck', 'FAILURE', 'F100'],
			['ActivateGiftCard', 'SUCCESS', null], // the replay
		]);
		expect(sandbox().stats()).toMatchObject({ activations: 1, debits: 1, doubleDebits: [] });
	});

	it('still unknown after the re-sends: a retryable unknown outcome, never "refused"; a re-run settles it', async () => {
		sandbox().configure({
			faultRules: [
				{ operations: ['ActivateGiftCard'], faults: { resetAfterCommitRate: 1 } },
				{ operations: ['ActivationStatusCheck'], faults: { failureRate: 1 } },
			],
		});
		const key = uniqueKey('pos');
		const item = { key, cardNumber: CARD, amount: 20 };
		const parameters = activateParameters({ options: { ...FAST, maxRetries: 2 } });
		const result = await runAgainst(sandbox(), parameters, [item], continueRegularOutput);
		const requestId = deriveRequestId('Awssb', 'activate', key, HARNESS_SCOPE);
		const failed = jsonOf(result)[0];
		expect(itemError(failed).message).toMatch(/^Item 0: outcome unknown: /);
		expect(itemError(failed).message).not.toMatch(/refused/);
		expect(detailsOf(failed)).toMatchObject({
			outcome: 'unknown',
			retryable: true,
			requestId,
			attempts: 3,
		});
		expect(detailsOf(failed).description).toMatch(/Get Status with this activation request ID/);
		// The ledger: the card is active and paid for, exactly once.
		expect(sandbox().ledger().physicalCards).toEqual([
			expect.objectContaining({
				cardNumber: CARD,
				state: 'Activated',
				activationRequestId: requestId,
			}),
		]);
		expect(sandbox().stats()).toMatchObject({ activations: 1, debits: 1 });

		sandbox().configure({ faults: {}, faultRules: [] });
		const rerun = await runAgainst(sandbox(), parameters, [item]);
		expect(jsonOf(rerun)[0]).toMatchObject({ status: 'SUCCESS', requestId, attempts: 1 });
		expect(sandbox().stats()).toMatchObject({ activations: 1, debits: 1, doubleDebits: [] });
	});

	it('a check that proves the card was not activated makes a refusal of the re-send final', async () => {
		sandbox().configure({
			faultRules: [
				// Not committed, but a 5xx may have been: the node asks before re-sending.
				{ operations: ['ActivateGiftCard'], times: 1, faults: { html500Rate: 1 } },
				{
					operations: ['ActivateGiftCard'],
					times: 1,
					faults: {
						failureRate: 1,
						failure: {
							errorCode: 'F300',
							errorType: 'InsufficientFunds',
							message: 'Insufficient Funds',
						},
					},
				},
			],
		});
		const key = uniqueKey('pos');
		const result = await runAgainst(
			sandbox(),
			activateParameters({ options: FAST }),
			[{ key, cardNumber: CARD, amount: 20 }],
			continueRegularOutput,
		);
		const failed = jsonOf(result)[0];
		expect(itemError(failed).message).toMatch(/^Item 0: Amazon refused ActivateGiftCard: /);
		expect(detailsOf(failed)).toMatchObject({ outcome: 'refused', retryable: false });
		const requestId = deriveRequestId('Awssb', 'activate', key, HARNESS_SCOPE);
		expect(requestsWithId(sandbox(), requestId).map((entry) => entry.operation)).toEqual([
			'ActivateGiftCard',
			'ActivationStatusCheck',
			'ActivateGiftCard',
		]);
		expect(sandbox().stats()).toMatchObject({ activations: 0, debits: 0 });
	});

	it('an internal error (F100) on the re-send after a lost answer is unknown, not a refusal', async () => {
		sandbox().configure({
			faultRules: [
				{ operations: ['ActivateGiftCard'], times: 1, faults: { resetAfterCommitRate: 1 } },
				{ operations: ['ActivateGiftCard'], times: 1, faults: { failureRate: 1 } },
			],
		});
		const key = uniqueKey('pos');
		const result = await runAgainst(
			sandbox(),
			activateParameters({ options: FAST }),
			[{ key, cardNumber: CARD, amount: 20 }],
			continueRegularOutput,
		);
		expect(detailsOf(jsonOf(result)[0])).toMatchObject({
			outcome: 'unknown',
			retryable: true,
			errorCode: 'F100',
		});
		expect(sandbox().stats()).toMatchObject({ activations: 1, debits: 1 });
	});
});

describe('2. cancel answer lost, then a late retry', () => {
	// A short window on the real clock: the first cancel arrives inside it, the retry after it.
	const sandbox = useSandbox({ cancelWindowMs: 400, cancelWindowCheckedFirst: true });
	afterEach(() =>
		sandbox().configure({ faults: {}, faultRules: [], cancelWindowCheckedFirst: true }),
	);

	async function issue(key: string) {
		return jsonOf(
			await runAgainst(sandbox(), createParameters({ options: FAST }), [{ key, amount: 10 }]),
		)[0];
	}

	/** Cancels the card; the first cancel is applied but its answer hangs past the timeout, so the node retries. */
	async function cancelWithFirstAnswerLost(
		card: IDataObject,
		settings?: Parameters<typeof runAgainst>[3],
	) {
		sandbox().configure({
			faultRules: [
				{
					operations: ['CancelGiftCard'],
					times: 1,
					faults: { hangAfterCommitRate: 1, hangMs: 5000 },
				},
			],
		});
		return await runAgainst(
			sandbox(),
			cancelParameters({ options: { ...FAST, timeout: 600 } }),
			[card],
			settings,
		);
	}

	it('the time-limit answer after an ambiguous attempt is an unknown outcome that says how to settle it', async () => {
		const key = uniqueKey('late');
		const card = await issue(key);
		const result = await cancelWithFirstAnswerLost(card, continueRegularOutput);
		const failed = jsonOf(result)[0];
		expect(itemError(failed).message).toMatch(
			/^Item 0: outcome unknown: .*CancelRequestArrivedAfterTimeLimit/,
		);
		expect(detailsOf(failed)).toMatchObject({
			outcome: 'unknown',
			retryable: true,
			requestId: card.creationRequestId,
			errorType: 'CancelRequestArrivedAfterTimeLimit',
		});
		expect(detailsOf(failed).description).toMatch(
			/re-run the Create of this card with the same unique ID and amount/,
		);
		// What really happened: the first cancel went through.
		expect(sandbox().ledger().giftCards[0]).toMatchObject({
			creationRequestId: card.creationRequestId,
			cardStatus: 'RefundedToPurchaser',
		});

		// Settled as the error says: the Create re-run reports the card as cancelled, with no claim code.
		const settled = await runAgainst(
			sandbox(),
			createParameters({ options: FAST }),
			[{ key, amount: 10 }],
			continueRegularOutput,
		);
		const answer = jsonOf(settled)[0];
		expect(detailsOf(answer)).toMatchObject({
			outcome: 'cancelled',
			cardStatus: 'RefundedToPurchaser',
			gcId: card.gcId,
		});
		expect(JSON.stringify(answer)).not.toMatch(CLAIM_CODE);
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 1, cardsCancelled: 1, debits: 1 });
	});

	it('with Amazon replaying the earlier cancel instead, the retry proves it: success', async () => {
		sandbox().configure({ cancelWindowCheckedFirst: false });
		const card = await issue(uniqueKey('late'));
		const result = await cancelWithFirstAnswerLost(card);
		expect(jsonOf(result)[0]).toMatchObject({ status: 'SUCCESS', attempts: 2 });
	});

	it('a plain late cancel is a refusal that does not claim more than it knows', async () => {
		const card = await issue(uniqueKey('late'));
		await new Promise((resolve) => setTimeout(resolve, 450));
		const error = apiErrorOf(
			await runAgainst(sandbox(), cancelParameters({ options: FAST }), [card]),
		);
		expect(error.errorResponse).toMatchObject({
			outcome: 'refused',
			retryable: false,
			errorType: 'CancelRequestArrivedAfterTimeLimit',
		});
		expect(error.description).toMatch(/this request did not cancel the card/);
		expect(error.description).not.toMatch(/stays issued\./);
		expect(sandbox().stats()).toMatchObject({ cardsCancelled: 0 });
	});

	it('a re-run of a cancel that succeeded earlier in this process, after the window, is unknown, not refused', async () => {
		const card = await issue(uniqueKey('late'));
		const first = await runAgainst(sandbox(), cancelParameters({ options: FAST }), [card]);
		expect(jsonOf(first)[0]).toMatchObject({ status: 'SUCCESS' });
		await new Promise((resolve) => setTimeout(resolve, 450));
		const again = await runAgainst(
			sandbox(),
			cancelParameters({ options: FAST }),
			[card],
			continueRegularOutput,
		);
		expect(detailsOf(jsonOf(again)[0])).toMatchObject({ outcome: 'unknown', retryable: true });
		expect(sandbox().ledger().giftCards[0].cardStatus).toBe('RefundedToPurchaser');
	});
});

describe('3. a Create answer whose card is not live or not the one asked for', () => {
	const sandbox = useSandbox();

	it('the replay of a cancelled card is an error naming the cause, with no claim code anywhere', async () => {
		const key = uniqueKey('referral');
		const card = jsonOf(await runAgainst(sandbox(), createParameters(), [{ key, amount: 25 }]))[0];
		await runAgainst(sandbox(), cancelParameters(), [card]);
		const error = apiErrorOf(
			await runAgainst(sandbox(), createParameters(), [{ key, amount: 25 }]),
		);
		expect(error.message).toMatch(
			/^Item 0: no card for this item: the card of this request ID .*was cancelled \(cardStatus RefundedToPurchaser\)/,
		);
		expect(error.errorResponse).toMatchObject({
			outcome: 'cancelled',
			gcId: card.gcId,
			cardStatus: 'RefundedToPurchaser',
			retryable: false,
		});
		const everything = JSON.stringify({
			error,
			message: error.message,
			description: error.description,
		});
		expect(everything).not.toContain(card.gcClaimCode as string);
	});

	it('a card of another value is a conflict, and its claim code is not given out', async () => {
		const broken = await startBrokenServer();
		try {
			broken.answerWith((request) => ({
				httpStatus: 200,
				body: JSON.stringify({
					cardInfo: {
						cardNumber: null,
						cardStatus: 'Fulfilled',
						expirationDate: null,
						value: { amount: 10, currencyCode: 'USD' },
					},
					creationRequestId: request.json?.creationRequestId,
					gcClaimCode: 'WXYZ-ABCDEF-GHIJ',
					gcExpirationDate: null,
					gcId: 'AOTHERVALUE01',
					status: 'SUCCESS',
				}),
			}));
			const result = await runAgainst(
				sandbox(),
				createParameters({ options: FAST }),
				[{ key: uniqueKey('value'), amount: 20 }],
				{ ...continueRegularOutput, credential: { endpoint: broken.url } },
			);
			const failed = jsonOf(result)[0];
			expect(itemError(failed).message).toMatch(/worth 10 USD, but this item asks for 20 USD/);
			expect(detailsOf(failed)).toMatchObject({
				outcome: 'conflict',
				errorType: 'CardValueMismatch',
				gcId: 'AOTHERVALUE01',
			});
			expect(JSON.stringify(failed)).not.toContain('WXYZ-ABCDEF-GHIJ');
			expect(broken.received).toHaveLength(1);
		} finally {
			await broken.stop();
		}
	});
});

describe('4. Login & Receive success without an echoed loadBalanceRequestId', () => {
	const sandbox = useSandbox({ echoLoadBalanceRequestId: false });

	it('is accepted at once (load and void), with the id the node sent', async () => {
		const key = uniqueKey('load');
		const requestId = deriveRequestId('Awssb', 'load', key, HARNESS_SCOPE);
		const loaded = await runAgainst(sandbox(), loadParameters({ options: FAST }), [
			{ key, customer: 'amzn1.account.ECHO', amount: 15 },
		]);
		expect(jsonOf(loaded)[0]).toMatchObject({
			status: 'SUCCESS',
			attempts: 1,
			requestId,
			loadBalanceRequestId: requestId,
		});
		const voided = await runAgainst(sandbox(), voidParameters({ options: FAST }), [
			{ customer: 'amzn1.account.ECHO', amount: 15, loadBalanceRequestId: requestId },
		]);
		expect(jsonOf(voided)[0]).toMatchObject({ status: 'SUCCESS', attempts: 1 });
		expect(sandbox().stats()).toMatchObject({ balanceLoads: 1, balanceVoids: 1, requests: 2 });
	});

	it('an echo that is present and different is not taken as a success', async () => {
		const broken = await startBrokenServer();
		try {
			broken.answerWith(() => ({
				httpStatus: 200,
				body: JSON.stringify({
					amazonTransactionId: 'TX1',
					amount: { currencyCode: 'USD', value: 15 },
					loadBalanceRequestId: 'AwssbSomebodyElse',
					status: 'SUCCESS',
				}),
			}));
			const result = await runAgainst(
				sandbox(),
				loadParameters({ options: { ...FAST, maxRetries: 1 } }),
				[{ key: uniqueKey('load'), customer: 'amzn1.account.ECHO', amount: 15 }],
				{ ...continueRegularOutput, credential: { endpoint: broken.url } },
			);
			const failed = jsonOf(result)[0];
			expect(itemError(failed).message).toMatch(/SUCCESS answer for a different request id/);
			expect(detailsOf(failed)).toMatchObject({ outcome: 'unknown', retryable: true });
		} finally {
			await broken.stop();
		}
	});
});

describe('5. throttles the node did not recognise', () => {
	const sandbox = useSandbox();
	afterEach(() => sandbox().configure({ faults: {}, faultRules: [] }));

	it.each([
		['a bare HTTP 429 with no body', { bare429Rate: 1 }],
		['only an x-amzn-ErrorType: ThrottlingException header', { throttleHeaderRate: 1 }],
	])('%s is retried like any throttle', async (_what, faults) => {
		sandbox().configure({ faultRules: [{ operations: ['CreateGiftCard'], times: 1, faults }] });
		const key = uniqueKey('throttle');
		const result = await runAgainst(sandbox(), createParameters({ options: FAST }), [
			{ key, amount: 5 },
		]);
		expect(jsonOf(result)[0]).toMatchObject({ status: 'SUCCESS', attempts: 2 });
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 1, debits: 1 });
	});

	it('a throttle on every attempt: this request was not carried out, but an earlier one with its id may have been', async () => {
		sandbox().configure({ faults: { bare429Rate: 1 } });
		const result = await runAgainst(
			sandbox(),
			createParameters({ options: { ...FAST, maxRetries: 1 } }),
			[{ key: uniqueKey('throttle'), amount: 5 }],
			continueRegularOutput,
		);
		const failed = jsonOf(result)[0];
		expect(itemError(failed).message).toMatch(
			/this request was not carried out\. Safe to retry\.$/,
		);
		// Not "refused": the same request id may have gone through in an earlier run.
		expect(detailsOf(failed)).toMatchObject({ outcome: 'unknown', retryable: true });
		expect(detailsOf(failed).description).toMatch(/a re-run with the same ID tells/);
	});
});

describe('6. key scope', () => {
	const sandbox = useSandbox();

	it('the same key in two workflows is two transactions; re-running one workflow keeps its ids', async () => {
		const key = uniqueKey('survey');
		const inWorkflow = async (workflowId: string) =>
			jsonOf(
				await runAgainst(sandbox(), createParameters(), [{ key, amount: 5 }], { workflowId }),
			)[0];
		const referral = await inWorkflow('wf-referral');
		const survey = await inWorkflow('wf-survey');
		const referralAgain = await inWorkflow('wf-referral');
		expect(referral.requestId).not.toBe(survey.requestId);
		expect(referral.gcId).not.toBe(survey.gcId);
		expect(referralAgain).toMatchObject({ requestId: referral.requestId, gcId: referral.gcId });
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 2, debits: 2 });
	});

	it('a named scope is shared by the workflows that use it, e.g. an error workflow that retries', async () => {
		const key = uniqueKey('order');
		const parameters = createParameters({
			idempotencyScope: 'named',
			idempotencyScopeName: 'spring-campaign',
		});
		const main = jsonOf(
			await runAgainst(sandbox(), parameters, [{ key, amount: 5 }], { workflowId: 'wf-main' }),
		)[0];
		const retried = jsonOf(
			await runAgainst(sandbox(), parameters, [{ key, amount: 5 }], { workflowId: 'wf-on-error' }),
		)[0];
		expect(retried).toMatchObject({ requestId: main.requestId, gcId: main.gcId });
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 1 });
	});

	it('the whole-account scope is one transaction per key everywhere', async () => {
		const key = uniqueKey('account');
		const parameters = createParameters({ idempotencyScope: 'account' });
		const ids = await Promise.all(
			['wf-1', 'wf-2'].map(
				async (workflowId) =>
					jsonOf(await runAgainst(sandbox(), parameters, [{ key, amount: 5 }], { workflowId }))[0]
						.requestId,
			),
		);
		expect(ids[0]).toBe(ids[1]);
		expect(ids[0]).toBe(deriveRequestId('Awssb', 'create', key, { type: 'account' }));
	});

	it('keys and scope names are compared in Unicode NFC: "José" typed two ways is one key', async () => {
		const composed = `Jos\u00e9-${uniqueKey('nfc')}`;
		const decomposed = composed.normalize('NFD');
		expect(decomposed).not.toBe(composed);
		const result = await runAgainst(
			sandbox(),
			createParameters({ idempotencyScope: 'named', idempotencyScopeName: '={{ $json.scope }}' }),
			[
				{ key: composed, amount: 5, scope: 'Caf\u00e9' },
				{ key: decomposed, amount: 5, scope: 'Cafe\u0301' },
			],
			{ ...continueRegularOutput, settings: { onError: 'continueRegularOutput' } },
		);
		const [a, b] = jsonOf(result);
		// Different input data under one key: the second item is a conflict (item 7), nothing sent for it.
		expect(a.requestId).toBe(
			deriveRequestId('Awssb', 'create', composed, { type: 'named', name: 'Café' }),
		);
		expect(detailsOf(b)).toMatchObject({ outcome: 'conflict', requestId: a.requestId });
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 1, requests: 1 });
	});

	it('a workflow without an id gets an error naming the field before anything is sent', async () => {
		const result = await runAgainst(sandbox(), createParameters(), [{ key: 'k', amount: 5 }], {
			workflowId: '',
		});
		expect(operationErrorOf(result).message).toMatch(
			/^Item 0: invalid idempotencyScope: idempotencyScope \(Unique Within\) is "This Workflow", but this workflow has no ID yet/,
		);
		expect(sandbox().stats().requests).toBe(0);
		// A named scope works without one.
		const named = await runAgainst(
			sandbox(),
			createParameters({ idempotencyScope: 'named', idempotencyScopeName: 'unsaved' }),
			[{ key: uniqueKey('unsaved'), amount: 5 }],
			{ workflowId: '' },
		);
		expect(named.status).toBe('success');
	});
});

describe('7. the same key with different input data in one run', () => {
	const sandbox = useSandbox();

	it('the later item is a conflict and nothing is sent for it; identical duplicates stay replays', async () => {
		const key = uniqueKey('dup');
		const result = await runAgainst(
			sandbox(),
			createParameters(),
			[
				{ key, amount: 5, email: 'ann@example.com' },
				{ key, amount: 5, email: 'bob@example.com' },
				{ amount: 5, email: 'ann@example.com', key }, // the same data in another key order
			],
			continueRegularOutput,
		);
		const [ann, bob, annAgain] = jsonOf(result);
		expect(ann).toMatchObject({ status: 'SUCCESS', replay: false });
		expect(itemError(bob).message).toMatch(
			/^Item 1: conflict: item 0 has the same ID \(request ID Awssb\w+\) with different input data; nothing was sent for this item$/,
		);
		expect(detailsOf(bob)).toMatchObject({ outcome: 'conflict', requestId: ann.requestId });
		expect(detailsOf(bob).description).toMatch(/Treat Same-ID Items as Replays/);
		expect(annAgain).toMatchObject({ status: 'SUCCESS', replay: true, gcId: ann.gcId });
		expect(requestsWithId(sandbox(), ann.requestId as string)).toHaveLength(1);
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 1 });
	});

	it('without Continue On Fail the conflict stops the run before anything is sent', async () => {
		const key = uniqueKey('dup');
		const result = await runAgainst(sandbox(), createParameters(), [
			{ key, amount: 5, email: 'ann@example.com' },
			{ key, amount: 5, email: 'bob@example.com' },
		]);
		expect(operationErrorOf(result).message).toMatch(/^Item 1: conflict: /);
		expect(sandbox().stats().requests).toBe(0);
	});

	it('the option Treat Same-ID Items as Replays gives the later items the first one’s result', async () => {
		const key = uniqueKey('dup');
		const result = await runAgainst(
			sandbox(),
			createParameters({ options: { sameIdItemsAreReplays: true } }),
			[
				{ key, amount: 5, email: 'ann@example.com' },
				{ key, amount: 5, email: 'ann.smith@example.com' },
			],
		);
		const [first, second] = jsonOf(result);
		expect(second).toMatchObject({ replay: true, gcId: first.gcId, requestId: first.requestId });
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 1, requests: 1 });
	});
});

describe('8. a failure does not hide the cards issued before it', () => {
	// Funds for 5 of 10 cards.
	const sandbox = useSandbox({ partners: [{ ...DEFAULT_PARTNER, startingBalance: 50 }] });

	it('the thrown error names every request id and item that succeeded, and no claim code', async () => {
		const keys = Array.from({ length: 10 }, (_, index) => uniqueKey(`funds-${index}`));
		const result = await runAgainst(
			sandbox(),
			createParameters({ options: { maxConcurrentRequests: 1 } }),
			keys.map((key) => ({ key, amount: 10 })),
		);
		const error = apiErrorOf(result);
		expect(error.message).toBe(
			'Item 5: Amazon refused CreateGiftCard: Insufficient Funds (F300 InsufficientFunds)',
		);
		const issued = keys
			.slice(0, 5)
			.map((key) => deriveRequestId('Awssb', 'create', key, HARNESS_SCOPE));
		expect(error.description).toContain(
			`Succeeded in this run before it stopped: ${issued.map((id, index) => `item ${index} (${id})`).join(', ')}. A re-run with the same unique IDs returns these results again (the same cards) and moves no money for them.`,
		);
		expect(error.description).toContain('Not sent: items 6–9.');
		expect(error.context.succeededInThisRun).toEqual(
			issued.map((requestId, itemIndex) => ({ itemIndex, requestId })),
		);
		expect(JSON.stringify([error.message, error.description, error.context])).not.toMatch(
			CLAIM_CODE,
		);
		expect(
			sandbox()
				.ledger()
				.giftCards.map((card) => card.creationRequestId),
		).toEqual(issued);
	});
});

describe('9. Extra Body Fields', () => {
	const sandbox = useSandbox();

	it('the user’s value applies unless the node’s own field is set; protected fields stay protected', async () => {
		const proxy = await startRecordingProxy(sandbox());
		try {
			const extra = JSON.stringify({
				notificationDetails: { notificationMessage: 'from extra' },
				externalReference: 'extra-ref',
				transactionSource: { sourceId: 'extra-src' },
				campaign: 'spring',
			});
			const bodies = async (additionalFields: IDataObject) => {
				await runAgainst(
					sandbox(),
					loadParameters({ additionalFields: { extraBodyFields: extra, ...additionalFields } }),
					[{ key: uniqueKey('extra'), customer: 'amzn1.account.EXTRA', amount: 5 }],
					{ credential: { endpoint: proxy.url } },
				);
				return JSON.parse(proxy.captured.at(-1)!.body) as IDataObject;
			};
			expect(await bodies({})).toMatchObject({
				notificationDetails: { notificationMessage: 'from extra' },
				externalReference: 'extra-ref',
				transactionSource: { sourceId: 'extra-src' },
				campaign: 'spring',
			});
			expect(
				await bodies({
					notificationMessage: 'from the node',
					externalReference: 'node-ref',
					transactionSourceId: 'node-src',
				}),
			).toMatchObject({
				notificationDetails: { notificationMessage: 'from the node' },
				externalReference: 'node-ref',
				transactionSource: { sourceId: 'node-src' },
				campaign: 'spring',
			});
			const refused = await runAgainst(
				sandbox(),
				loadParameters({ additionalFields: { extraBodyFields: '{"amount": {"value": 1}}' } }),
				[{ key: uniqueKey('extra'), customer: 'amzn1.account.EXTRA', amount: 5 }],
				{ credential: { endpoint: proxy.url } },
			);
			expect(operationErrorOf(refused).message).toMatch(/extraBodyFields may not set "amount"/);
		} finally {
			await proxy.stop();
		}
	});
});

describe('11. claim codes at rest: an execution hint when codes in clear will be saved', () => {
	const sandbox = useSandbox();
	const variables = ['EXECUTIONS_DATA_SAVE_ON_SUCCESS', 'EXECUTIONS_DATA_SAVE_MANUAL_EXECUTIONS'];
	const saved: Record<string, string | undefined> = {};
	beforeEach(() => {
		for (const name of variables) {
			saved[name] = process.env[name];
			delete process.env[name];
		}
	});
	afterEach(() => {
		for (const name of variables)
			if (saved[name] === undefined) delete process.env[name];
			else process.env[name] = saved[name];
	});

	const hintsOf = async (extra: Parameters<typeof runAgainst>[3], claimCodeOutput = 'include') =>
		(
			await runAgainst(
				sandbox(),
				createParameters({ options: { claimCodeOutput } }),
				[{ key: uniqueKey('hint'), amount: 5 }],
				extra,
			)
		).hints;

	it('a manual run saved by default gets a warning naming the setting and the ways out', async () => {
		const [hint, ...others] = await hintsOf({});
		expect(others).toEqual([]);
		expect(hint).toMatchObject({ type: 'warning', location: 'outputPane' });
		expect(hint.message).toMatch(
			/^Claim codes are in this output in clear, and n8n will store them/,
		);
		expect(hint.message).toMatch(/"Save manual executions" is Default/);
		expect(hint.message).toMatch(/EXECUTIONS_DATA_SAVE_MANUAL_EXECUTIONS is unset/);
		expect(hint.message).toMatch(/sub-workflow that saves no executions/);
		expect(hint.message).not.toMatch(CLAIM_CODE);
	});

	it.each([
		[
			'manual, "Save manual executions" off: no hint',
			{ workflowSettings: { saveManualExecutions: false } },
			0,
		],
		['manual, instance variable false: no hint', { env: 'false' }, 0],
		[
			'production, "Save successful production executions" Do not save: no hint',
			{ mode: 'trigger', workflowSettings: { saveDataSuccessExecution: 'none' } },
			0,
		],
		[
			'production, no setting, instance variable none: no hint',
			{ mode: 'trigger', envSuccess: 'none' },
			0,
		],
		['production, no setting, instance default: a hint', { mode: 'trigger' }, 1],
		[
			'production, Save: a hint',
			{ mode: 'trigger', workflowSettings: { saveDataSuccessExecution: 'all' } },
			1,
		],
		// n8n 1.123 and 2.40 save these even when EXECUTIONS_DATA_SAVE_ON_SUCCESS is none.
		[
			'production, Default, instance variable none: a hint',
			{
				mode: 'trigger',
				envSuccess: 'none',
				workflowSettings: { saveDataSuccessExecution: 'DEFAULT' },
			},
			1,
		],
	] as const)('%s', async (_what, setup, expected) => {
		const options = setup as {
			mode?: 'trigger';
			workflowSettings?: IDataObject;
			env?: string;
			envSuccess?: string;
		};
		if (options.env !== undefined) process.env.EXECUTIONS_DATA_SAVE_MANUAL_EXECUTIONS = options.env;
		if (options.envSuccess !== undefined)
			process.env.EXECUTIONS_DATA_SAVE_ON_SUCCESS = options.envSuccess;
		const hints = await hintsOf({ mode: options.mode, workflowSettings: options.workflowSettings });
		expect(hints).toHaveLength(expected);
		if (expected) expect(hints[0].message).toMatch(/Save successful production executions/);
	});

	it.each(['mask', 'omit'])(
		'no hint when claim codes are output as %s',
		async (claimCodeOutput) => {
			expect(await hintsOf({}, claimCodeOutput)).toEqual([]);
		},
	);
});
