import {
	apiErrorOf,
	cancelParameters,
	continueRegularOutput,
	createParameters,
	explicitCreateParameters,
	jsonOf,
	requestsWithId,
	runAgainst,
	uniqueKey,
	useSandbox,
} from './helpers';

/**
 * Amazon's onboarding test cases (its Test Cases page, linked from
 * https://developer.amazon.com/docs/incentives-api/gift-codes-errors.html): the cases a partner runs against
 * Amazon's sandbox before going live, run here against the local sandbox through n8n-core.
 */
describe('Amazon onboarding test plan', () => {
	const sandbox = useSandbox();

	it('1. create a 100.00 card: SUCCESS', async () => {
		const result = await runAgainst(sandbox(), createParameters(), [
			{ key: uniqueKey('plan-1'), amount: 100 },
		]);
		expect(result.status).toBe('success');
		const card = jsonOf(result)[0];
		expect(card).toMatchObject({
			status: 'SUCCESS',
			cardInfo: { cardStatus: 'Fulfilled', value: { amount: 100, currencyCode: 'USD' } },
		});
		expect(card.gcId).toEqual(expect.any(String));
		expect(card.gcClaimCode).toEqual(expect.any(String));
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 1, totalDebited: { USD: 100 } });
	});

	it('2. cancel that card: SUCCESS, refunded; re-creating with its id returns it as RefundedToPurchaser', async () => {
		const items = [{ key: uniqueKey('plan-2'), amount: 100 }];
		const card = jsonOf(await runAgainst(sandbox(), createParameters(), items))[0];
		const cancelled = await runAgainst(sandbox(), cancelParameters(), [card]);
		expect(cancelled.status).toBe('success');
		expect(jsonOf(cancelled)[0]).toMatchObject({
			status: 'SUCCESS',
			creationRequestId: card.creationRequestId,
			requestId: card.creationRequestId,
		});
		expect(sandbox().stats()).toMatchObject({ cardsCancelled: 1, totalRefunded: { USD: 100 } });

		// Amazon answers SUCCESS with the cancelled card and its dead claim code: the node reports no card.
		const recreated = jsonOf(
			await runAgainst(sandbox(), createParameters(), items, continueRegularOutput),
		)[0];
		expect(recreated).toEqual({
			error: expect.objectContaining({
				message: expect.stringMatching(/^Item 0: no card for this item: .*RefundedToPurchaser/),
				outcome: 'cancelled',
				gcId: card.gcId,
				cardStatus: 'RefundedToPurchaser',
				errorType: 'CardRefundedToPurchaser',
				retryable: false,
			}),
		});
		expect(JSON.stringify(recreated)).not.toContain(card.gcClaimCode as string);
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 1, debits: 1 });
	});

	it('3. create 1000.00 twice with the same request id: the same gcId and claim code, one debit', async () => {
		const requestId = `AwssbPlan3${Date.now()}`;
		const first = jsonOf(
			await runAgainst(sandbox(), explicitCreateParameters(), [{ requestId, amount: 1000 }]),
		)[0];
		const second = jsonOf(
			await runAgainst(sandbox(), explicitCreateParameters(), [{ requestId, amount: 1000 }]),
		)[0];
		expect(second.gcId).toBe(first.gcId);
		expect(second.gcClaimCode).toBe(first.gcClaimCode);
		expect([first.requestId, second.requestId]).toEqual([requestId, requestId]);
		expect(second.replay).toBe(true);
		expect(requestsWithId(sandbox(), requestId)).toHaveLength(2);
		expect(sandbox().stats()).toMatchObject({
			cardsIssued: 1,
			debits: 1,
			totalDebited: { USD: 1000 },
		});
	});

	it('4. mock F2047: the user is told the card cannot be cancelled after 15 minutes', async () => {
		const result = await runAgainst(sandbox(), cancelParameters(), [
			{ creationRequestId: 'F2047' },
		]);
		const error = apiErrorOf(result);
		expect(error.message).toBe(
			'Item 0: Amazon refused CancelGiftCard: Cancel Request Arrived After Time Limit (F200 CancelRequestArrivedAfterTimeLimit)',
		);
		expect(error.description).toMatch(
			/^Gift cards can only be cancelled within 15 minutes of creation; this request did not cancel the card\. .* Request ID: F2047\.$/,
		);
		expect(error.errorResponse).toMatchObject({ outcome: 'refused', retryable: false });
	});

	it('4b. the same for a real card cancelled 16 minutes after it was created', async () => {
		const card = jsonOf(
			await runAgainst(sandbox(), createParameters(), [{ key: uniqueKey('plan-4b'), amount: 10 }]),
		)[0];
		sandbox().clock.advance(16 * 60 * 1000);
		const error = apiErrorOf(await runAgainst(sandbox(), cancelParameters(), [card]));
		expect(error.errorResponse).toMatchObject({
			errorCode: 'F200',
			errorType: 'CancelRequestArrivedAfterTimeLimit',
		});
		expect(error.description).toMatch(/15 minutes/);
		expect(sandbox().stats()).toMatchObject({ cardsCancelled: 0, totalRefunded: {} });
	});

	it('5. mock F3003: insufficient funds is reported with what to do, nothing is issued', async () => {
		const result = await runAgainst(sandbox(), explicitCreateParameters(), [
			{ requestId: 'F3003', amount: 100 },
		]);
		const error = apiErrorOf(result);
		expect(error.message).toBe(
			'Item 0: Amazon refused CreateGiftCard: Insufficient Funds (F300 InsufficientFunds)',
		);
		expect(error.description).toMatch(
			/^Fund your Amazon Incentives account \(or lower the amount\)/,
		);
		expect(error.errorResponse).toMatchObject({ retryable: false, attempts: 1 });
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 0, debits: 0 });
	});
});
