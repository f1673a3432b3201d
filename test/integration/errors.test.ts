import { NodeApiError } from 'n8n-workflow';

import {
	apiErrorOf,
	continueErrorOutput,
	continueRegularOutput,
	createParameters,
	explicitCreateParameters,
	jsonOf,
	operationErrorOf,
	requestsWithId,
	runAgainst,
	seedFiring,
	uniqueKey,
	useSandbox,
} from './helpers';

/** One item that succeeds, keyed so that no earlier test in this process used its request id. */
const ok = (amount = 5) => ({
	requestId: `Awssb${uniqueKey('ok').replace(/[^A-Za-z0-9]/g, '')}`.slice(0, 40),
	amount,
});

describe('AGCOD errors in n8n: NodeApiError, Continue On Fail, error output, Retry On Fail', () => {
	const sandbox = useSandbox();

	it('an AGCOD FAILURE becomes a NodeApiError with errorCode, errorType, Amazon’s message, the item index and a hint', async () => {
		const first = ok();
		const result = await runAgainst(sandbox(), explicitCreateParameters(), [
			first,
			{ requestId: 'F3003', amount: 5 },
		]);
		const error = apiErrorOf(result);
		expect(error.message).toBe(
			'Item 1: Amazon refused CreateGiftCard: Insufficient Funds (F300 InsufficientFunds)',
		);
		// The item that succeeded before the run stopped is named, so its card is not lost from view.
		expect(error.description).toBe(
			'Fund your Amazon Incentives account (or lower the amount); nothing was issued for this item. Request ID: F3003.' +
				` Succeeded in this run before it stopped: item 0 (${first.requestId}). A re-run with the same unique IDs returns these results again (the same cards) and moves no money for them.`,
		);
		expect(error.description).not.toContain('\n');
		expect(error.httpCode).toBe('400');
		expect(error.context.itemIndex).toBe(1);
		expect(error.errorResponse).toMatchObject({
			errorCode: 'F300',
			errorType: 'InsufficientFunds',
			message: 'Insufficient Funds',
			requestId: 'F3003',
			outcome: 'refused',
			retryable: false,
			attempts: 1,
		});
		expect(requestsWithId(sandbox(), 'F3003')).toHaveLength(1);
	});

	it('the error names the failing item even when the first item succeeds and a later one also fails', async () => {
		const first = ok();
		const result = await runAgainst(sandbox(), explicitCreateParameters(), [
			first,
			{ requestId: 'F2015', amount: 5 },
			{ requestId: 'F3010', amount: 5 },
			ok(),
		]);
		const error = apiErrorOf(result);
		expect(error.message).toMatch(/^Item 1: .*\(F200 MaxAmountExceeded\)$/);
		// Items already in flight finish; their cards come back (not re-issued) on a re-run.
		expect(sandbox().stats().cardsIssued).toBe(2);
		await runAgainst(sandbox(), explicitCreateParameters(), [first]);
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 2, doubleDebits: [] });
	});

	it('with one request at a time, nothing after the failed item is sent', async () => {
		const later = ok();
		const result = await runAgainst(
			sandbox(),
			explicitCreateParameters({ options: { maxConcurrentRequests: 1 } }),
			[ok(), { requestId: 'F5000', amount: 5 }, later],
		);
		// F500 proves nothing about whether the request was carried out: an unknown outcome.
		expect(apiErrorOf(result).message).toMatch(
			/^Item 1: outcome unknown: .*\(F500 GeneralError\)\)\. Safe to retry with the same ID\.$/,
		);
		expect(requestsWithId(sandbox(), later.requestId)).toEqual([]);
		expect(sandbox().stats().cardsIssued).toBe(1);
	});

	it('Continue On Fail: one error item per failed input, in place; the other items are unaffected', async () => {
		const items = [
			ok(1),
			{ requestId: 'F3003', amount: 2 },
			ok(3),
			{ requestId: 'F2016', amount: 4 },
		];
		const result = await runAgainst(
			sandbox(),
			explicitCreateParameters(),
			items,
			continueRegularOutput,
		);
		expect(result.status).toBe('success');
		expect(result.main.map((item) => item.pairedItem)).toEqual([
			{ item: 0 },
			{ item: 1 },
			{ item: 2 },
			{ item: 3 },
		]);
		const [a, b, c, d] = jsonOf(result);
		expect(a).toMatchObject({
			status: 'SUCCESS',
			requestId: items[0].requestId,
			cardInfo: { value: { amount: 1 } },
		});
		expect(c).toMatchObject({
			status: 'SUCCESS',
			requestId: items[2].requestId,
			cardInfo: { value: { amount: 3 } },
		});
		expect(b).toEqual({
			error: {
				message:
					'Item 1: Amazon refused CreateGiftCard: Insufficient Funds (F300 InsufficientFunds)',
				description: expect.stringMatching(
					/^Fund your Amazon Incentives account.*Request ID: F3003\.$/,
				),
				httpCode: '400',
				requestId: 'F3003',
				errorCode: 'F300',
				errorType: 'InsufficientFunds',
				outcome: 'refused',
				retryable: false,
				attempts: 1,
			},
		});
		expect(d).toMatchObject({
			error: {
				message: expect.stringMatching(/^Item 3: .*\(F200 CurrencyCodeMismatch\)$/),
				errorCode: 'F200',
				errorType: 'CurrencyCodeMismatch',
				requestId: 'F2016',
			},
		});
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 2, totalDebited: { USD: 4 } });
	});

	it('error output: failed items go to output 1 with their input and the error; the rest to output 0', async () => {
		const items = [
			{ ...ok(1), orderId: 'o-1' },
			{ requestId: 'F3003', amount: 2, orderId: 'o-2' },
			{ ...ok(3), orderId: 'o-3' },
		];
		const result = await runAgainst(
			sandbox(),
			explicitCreateParameters(),
			items,
			continueErrorOutput,
		);
		expect(result.status).toBe('success');
		expect(jsonOf(result).map((item) => item.requestId)).toEqual([
			items[0].requestId,
			items[2].requestId,
		]);
		expect(result.main.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 2 }]);
		expect(result.errorOutput).toHaveLength(1);
		expect(result.errorOutput[0].pairedItem).toEqual({ item: 1 });
		expect(result.errorOutput[0].json).toMatchObject({
			orderId: 'o-2',
			error: {
				message: expect.stringMatching(/^Item 1: Amazon refused CreateGiftCard/),
				errorCode: 'F300',
				errorType: 'InsufficientFunds',
				requestId: 'F3003',
				retryable: false,
			},
		});
	});

	it('invalid input fails the run before anything is sent, naming the item and the field', async () => {
		const result = await runAgainst(sandbox(), createParameters(), [
			{ key: uniqueKey('a'), amount: 5 },
			{ key: uniqueKey('b'), amount: 5 },
			{ key: uniqueKey('c'), amount: 2000.01 },
		]);
		const error = operationErrorOf(result);
		expect(error.message).toMatch(/^Item 2: invalid amount: /);
		expect(error.description).toBe('Nothing was sent to Amazon for this item.');
		expect(error.context.itemIndex).toBe(2);
		expect(sandbox().stats().requests).toBe(0);
	});

	it('with Continue On Fail invalid input becomes an error item and the valid items are sent', async () => {
		const result = await runAgainst(
			sandbox(),
			createParameters(),
			[
				{ key: uniqueKey('a'), amount: 5 },
				{ key: uniqueKey('b'), amount: 'five' },
			],
			continueErrorOutput,
		);
		expect(jsonOf(result)).toHaveLength(1);
		expect(result.errorOutput[0].json).toMatchObject({
			error: {
				message: expect.stringMatching(/^Item 1: invalid amount: /),
				description: 'Nothing was sent to Amazon for this item.',
			},
		});
		expect(sandbox().stats()).toMatchObject({ requests: 1, cardsIssued: 1 });
	});

	it('the same key with different details in one run is refused before sending', async () => {
		const key = uniqueKey('clash');
		const result = await runAgainst(sandbox(), createParameters(), [
			{ key, amount: 5 },
			{ key, amount: 6 },
		]);
		expect(operationErrorOf(result).message).toMatch(
			/^Item 1: conflict: item 0 has the same ID \(request ID Awssb\w+\) with different details \(amount, card or fields\); nothing was sent for this item$/,
		);
		expect(sandbox().stats().requests).toBe(0);
	});

	it('a rejected credential is a NodeApiError with the hint and never shows the secret', async () => {
		const secret = 'wrong-secret-0123456789abcdef';
		const result = await runAgainst(
			sandbox(),
			createParameters(),
			[{ key: uniqueKey('a'), amount: 5 }],
			{
				credential: { secretAccessKey: secret },
			},
		);
		const error = apiErrorOf(result);
		expect(error.message).toMatch(
			/^Item 0: Amazon rejected the credential \(HTTP 403\): The request signature/,
		);
		expect(error.description).toMatch(/Secret Access Key does not belong to this Access Key ID/);
		expect(error.httpCode).toBe('403');
		const everything = JSON.stringify([error, error.errorResponse, result.logs, result.raw]);
		expect(everything).not.toContain(secret);
		expect(everything).not.toMatch(/Signature=[0-9a-f]{16}/);
		expect(sandbox().stats()).toMatchObject({ signatureFailures: 1, cardsIssued: 0 });
	});

	it('logs each attempt but never the secret, the signature or a claim code', async () => {
		const result = await runAgainst(sandbox(), createParameters(), [
			{ key: uniqueKey('log'), amount: 5 },
		]);
		const claimCode = jsonOf(result)[0].gcClaimCode as string;
		expect(claimCode).toMatch(/-/);
		const logs = JSON.stringify(result.logs);
		expect(logs).toContain('AGCOD CreateGiftCard attempt 1: success');
		expect(logs).not.toContain(claimCode);
		expect(logs).not.toContain(sandbox().partner.secretAccessKey);
		expect(logs).not.toMatch(/Signature=/);
	});

	describe('Retry On Fail', () => {
		it('re-running after a FAILURE re-sends the same ids and issues nothing new', async () => {
			const first = ok(7);
			const result = await runAgainst(
				sandbox(),
				explicitCreateParameters(),
				[first, { requestId: 'F1000', amount: 7 }],
				{ settings: { retryOnFail: true, maxTries: 3, waitBetweenTries: 1 } },
			);
			expect(result.runs).toBe(3);
			expect(apiErrorOf(result).message).toMatch(
				/^Item 1: outcome unknown: .*\(F100 GeneralError\)\)\. Safe to retry with the same ID\.$/,
			);
			expect(requestsWithId(sandbox(), first.requestId)).toHaveLength(3);
			expect(requestsWithId(sandbox(), 'F1000')).toHaveLength(3);
			expect(sandbox().stats()).toMatchObject({
				cardsIssued: 1,
				debits: 1,
				totalDebited: { USD: 7 },
				doubleDebits: [],
			});
		});

		it('a retryable error (Amazon never gave a final answer) says so, and the re-run succeeds without re-issuing', async () => {
			const flaky = ok(9);
			const steady = ok(4);
			// The flaky item's first two answers are lost (committed, never answered): the first node run
			// gives up after its two attempts; n8n's retry of the node then gets the original card.
			sandbox().configure({
				faults: { seed: seedFiring([true, true, false]) },
				faultRules: [
					{
						requestIdPattern: `^${flaky.requestId}$`,
						faults: { hangAfterCommitRate: 0.5, hangMs: 1000 },
					},
				],
			});
			try {
				const result = await runAgainst(
					sandbox(),
					explicitCreateParameters({ options: { timeout: 300, maxRetries: 1 } }),
					[steady, flaky],
					{ settings: { retryOnFail: true, maxTries: 2, waitBetweenTries: 1 } },
				);
				expect(result.runs).toBe(2);
				expect(result.status).toBe('success');
				const [steadyOut, flakyOut] = jsonOf(result);
				expect(steadyOut).toMatchObject({ requestId: steady.requestId, replay: true });
				expect(flakyOut).toMatchObject({
					requestId: flaky.requestId,
					status: 'SUCCESS',
					attempts: 1,
				});
				const flakyRequests = requestsWithId(sandbox(), flaky.requestId);
				expect(flakyRequests.map((entry) => entry.fault ?? null)).toEqual(['hang', 'hang', null]);
				expect(sandbox().stats()).toMatchObject({
					cardsIssued: 2,
					debits: 2,
					totalDebited: { USD: 13 },
					doubleDebits: [],
				});
			} finally {
				sandbox().configure({ faults: {}, faultRules: [] });
			}
		});
	});
});

describe('the retryable error n8n sees before Retry On Fail', () => {
	const sandbox = useSandbox();

	it('says that the outcome is unknown and that a retry with the same ID settles it', async () => {
		const result = await runAgainst(
			sandbox(),
			explicitCreateParameters({ options: { maxRetries: 1 } }),
			[{ requestId: 'F4000', amount: 5 }],
		);
		const error = apiErrorOf(result);
		expect(error).toBeInstanceOf(NodeApiError);
		// RESEND may have been applied (Amazon's advice for a lasting F400 is to cancel the original id).
		expect(error.message).toBe(
			"Item 0: outcome unknown: Amazon's answers to CreateGiftCard do not prove whether it was carried out (after 2 attempt(s); last: System Temporarily Unavailable (F400 SystemTemporarilyUnavailable)). Safe to retry with the same ID.",
		);
		expect(error.description).toMatch(
			/^Money may or may not have moved\. Request ID: F4000\. Re-run this item with the same unique ID.*Amazon deduplicates the request ID/,
		);
		expect(error.errorResponse).toMatchObject({
			outcome: 'unknown',
			retryable: true,
			attempts: 2,
			requestId: 'F4000',
			errorCode: 'F400',
			errorType: 'SystemTemporarilyUnavailable',
		});
		expect(requestsWithId(sandbox(), 'F4000')).toHaveLength(2);
	});
});
