/**
 * One request per id in flight, in one n8n process: executions that carry the same request id at the same time
 * send it one after the other, never together. (Across worker processes the same holds through Redis: see
 * sharedBudget.test.ts and sharedBudgetNode.test.ts.)
 */
import { accountBudget } from '../../nodes/AmazonIncentives/transport/sharedBudget';
import { createParameters, jsonOf, runAgainst, uniqueKey, useSandbox } from './helpers';

describe('one request per id in flight within a process', () => {
	// Slow answers: two unguarded requests with one id would certainly overlap.
	const sandbox = useSandbox({ faults: { latencyMs: 800 } });

	it('two executions with the same key at once: one card, never two requests in flight, the second a replay', async () => {
		const key = uniqueKey('same');
		const [first, second] = await Promise.all([
			runAgainst(sandbox(), createParameters(), [{ key, amount: 3 }]),
			runAgainst(sandbox(), createParameters(), [{ key, amount: 3 }]),
		]);
		const outputs = [...jsonOf(first), ...jsonOf(second)];
		expect(outputs.map((json) => json.status)).toEqual(['SUCCESS', 'SUCCESS']);
		expect(outputs[0].gcId).toBe(outputs[1].gcId);
		expect(outputs.map((json) => json.replay).sort()).toEqual([false, true]);
		const stats = sandbox().stats();
		expect(stats).toMatchObject({ cardsIssued: 1, maxInFlightPerRequestId: 1, doubleDebits: [] });
		expect(stats.requests).toBe(2);
	});

	it('an id held elsewhere for longer than the retry budget: nothing is sent, a retryable error', async () => {
		const key = uniqueKey('held');
		// Learn the derived request id, then hold it as another execution would.
		const [issued] = jsonOf(await runAgainst(sandbox(), createParameters(), [{ key, amount: 4 }]));
		const requestId = issued.requestId as string;
		const account = `${new URL(sandbox().url).origin}|${sandbox().partner.partnerId}`;
		const hold = await accountBudget().lockRequest(
			account,
			`CreateGiftCard:${requestId}`,
			60_000,
			Date.now() + 1000,
		);
		expect(hold).toBeDefined();
		const requestsBefore = sandbox().stats().requests;
		try {
			const blocked = await runAgainst(
				sandbox(),
				createParameters({ options: { retryBudget: 2, timeout: 1000 } }),
				[{ key, amount: 4 }],
				{ settings: { onError: 'continueErrorOutput' } },
			);
			expect(blocked.errorOutput).toHaveLength(1);
			expect(blocked.errorOutput[0].json).toMatchObject({
				error: {
					message: expect.stringMatching(
						/^Item 0: nothing was sent: another execution was still sending CreateGiftCard with this request ID .*Safe to retry\.$/,
					),
					retryable: true,
					requestId,
					attempts: 0,
				},
			});
			expect(sandbox().stats().requests).toBe(requestsBefore);
		} finally {
			await hold?.release(true);
		}
		const [again] = jsonOf(await runAgainst(sandbox(), createParameters(), [{ key, amount: 4 }]));
		expect(again).toMatchObject({ status: 'SUCCESS', gcId: issued.gcId, replay: true });
	});
});
