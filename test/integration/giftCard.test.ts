import { createParameters, jsonOf, runAgainst, useSandbox } from './helpers';

describe('gift cards against the local sandbox, through n8n-core', () => {
	const sandbox = useSandbox();

	it('creates one card per item, with the derived request id on every output item', async () => {
		const result = await runAgainst(sandbox(), createParameters(), [
			{ key: 'referral-1', amount: 30 },
			{ key: 'referral-2', amount: 10.5 },
		]);
		expect(result.status).toBe('success');
		const [first, second] = jsonOf(result);
		expect(first).toMatchObject({
			status: 'SUCCESS',
			cardInfo: { cardStatus: 'Fulfilled', value: { amount: 30, currencyCode: 'USD' } },
			replay: false,
		});
		expect(first.gcClaimCode).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{6}-[A-Z0-9]{4}$/);
		expect(first.requestId).toBe(first.creationRequestId);
		expect(first.requestId).toMatch(/^Awssb[A-Za-z0-9]{35}$/);
		expect(second.cardInfo).toMatchObject({ value: { amount: 10.5 } });
		expect(result.main.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
		expect(sandbox().stats()).toMatchObject({
			cardsIssued: 2,
			totalDebited: { USD: 40.5 },
			doubleDebits: [],
		});
	});

	it('running the same items again issues nothing new and returns the same cards', async () => {
		const items = [{ key: 'order-7', amount: 25 }];
		const first = jsonOf(await runAgainst(sandbox(), createParameters(), items))[0];
		const second = jsonOf(await runAgainst(sandbox(), createParameters(), items))[0];
		expect(second.gcId).toBe(first.gcId);
		expect(second.gcClaimCode).toBe(first.gcClaimCode);
		expect(second.replay).toBe(true);
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 1, totalDebited: { USD: 25 } });
	});

	it('two items with the same key in one run get one card; the second says it is a replay', async () => {
		const result = await runAgainst(sandbox(), createParameters(), [
			{ key: 'dup', amount: 5 },
			{ key: 'dup', amount: 5 },
		]);
		const [a, b] = jsonOf(result);
		expect(b.gcId).toBe(a.gcId);
		expect([a.replay, b.replay]).toEqual([false, true]);
		expect(sandbox().stats().cardsIssued).toBe(1);
	});

	it('cancels a card inside the window and refunds it', async () => {
		const created = jsonOf(
			await runAgainst(sandbox(), createParameters(), [{ key: 'c1', amount: 100 }]),
		)[0];
		const cancelled = await runAgainst(
			sandbox(),
			{
				resource: 'giftCard',
				operation: 'cancel',
				creationRequestId: '={{ $json.creationRequestId }}',
				gcId: '={{ $json.gcId }}',
			},
			[created],
		);
		expect(cancelled.status).toBe('success');
		expect(jsonOf(cancelled)[0]).toMatchObject({
			status: 'SUCCESS',
			creationRequestId: created.creationRequestId,
		});
		expect(sandbox().stats()).toMatchObject({ cardsCancelled: 1, totalRefunded: { USD: 100 } });
	});

	it('a cancel after 15 minutes fails with the time-limit hint', async () => {
		const created = jsonOf(
			await runAgainst(sandbox(), createParameters(), [{ key: 'late', amount: 10 }]),
		)[0];
		sandbox().clock.advance(16 * 60 * 1000);
		const result = await runAgainst(
			sandbox(),
			{
				resource: 'giftCard',
				operation: 'cancel',
				creationRequestId: '={{ $json.creationRequestId }}',
			},
			[created],
		);
		expect(result.status).toBe('error');
		expect(result.error?.message).toContain('CancelRequestArrivedAfterTimeLimit');
		expect((result.error as { description?: string }).description).toMatch(/15 minutes/);
	});

	it('XML gives the same output as JSON', async () => {
		const json = jsonOf(
			await runAgainst(sandbox(), createParameters(), [{ key: 'fmt', amount: 7 }]),
		)[0];
		const xml = jsonOf(
			await runAgainst(sandbox(), createParameters({ options: { format: 'xml' } }), [
				{ key: 'fmt', amount: 7 },
			]),
		)[0];
		expect({ ...xml, replay: false, attempts: 1 }).toEqual({ ...json, replay: false, attempts: 1 });
	});
});
