import { DEFAULT_RATE_LIMIT } from '../sandbox';
import {
	createParameters,
	fundsParameters,
	jsonOf,
	runAgainst,
	uniqueKey,
	useSandbox,
} from './helpers';

describe('account: GetAvailableFunds against the local sandbox, through n8n-core', () => {
	const sandbox = useSandbox();

	it('reports the funds and the timestamp; no request id, since nothing is created', async () => {
		const result = await runAgainst(sandbox(), fundsParameters(), [{}]);
		expect(result.status).toBe('success');
		const funds = jsonOf(result)[0];
		expect(funds).toEqual({
			status: 'SUCCESS',
			availableFunds: { amount: 1000000, currencyCode: 'USD' },
			timestamp: expect.stringMatching(/^\d{8}T\d{6}Z$/),
			attempts: 1,
		});
		expect(sandbox().stats().requestsByOperation).toMatchObject({ GetAvailableFunds: 1 });
	});

	it('shows what a created card took from the funds', async () => {
		await runAgainst(sandbox(), createParameters(), [{ key: uniqueKey('card'), amount: 25.75 }]);
		const funds = jsonOf(await runAgainst(sandbox(), fundsParameters(), [{}]))[0];
		expect(funds.availableFunds).toEqual({ amount: 999974.25, currencyCode: 'USD' });
	});

	it('XML gives the same answer as JSON', async () => {
		const json = jsonOf(await runAgainst(sandbox(), fundsParameters(), [{}]))[0];
		const xml = jsonOf(
			await runAgainst(sandbox(), fundsParameters({ options: { format: 'xml' } }), [{}]),
		)[0];
		expect({ ...xml, timestamp: null }).toEqual({ ...json, timestamp: null });
		expect(
			sandbox()
				.requests()
				.map((entry) => entry.format),
		).toEqual(['json', 'xml']);
	});
});

describe('account: like Amazon’s sandbox, which always reports 0', () => {
	const sandbox = useSandbox({ amazonLikeFunds: true });

	it('outputs 0 funds as a number', async () => {
		const funds = jsonOf(await runAgainst(sandbox(), fundsParameters(), [{}]))[0];
		expect(funds.availableFunds).toEqual({ amount: 0, currencyCode: 'USD' });
	});
});

describe('account: Amazon’s 1 request/second limit for GetAvailableFunds', () => {
	const sandbox = useSandbox({ rateLimit: DEFAULT_RATE_LIMIT });

	it('paces several items about 1 s apart, and all of them get their answer', async () => {
		const result = await runAgainst(sandbox(), fundsParameters(), [{}, {}, {}]);
		expect(result.status).toBe('success');
		expect(jsonOf(result).map((item) => item.status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
		const arrivals = sandbox()
			.requests()
			.map((entry) => entry.receivedAt);
		// Without pacing, 3 concurrent items would arrive within a few ms and 2 would be throttled.
		for (let index = 1; index < arrivals.length; index++)
			expect(arrivals[index] - arrivals[index - 1]).toBeGreaterThanOrEqual(900);
		// Pacing exactly at Amazon's limit: arrival jitter can still trip it now and then (then it is retried).
		expect(sandbox().stats().throttled).toBeLessThanOrEqual(1);
	});
});
