/**
 * Throttling as a fault: the sandbox enforces AGCOD's 10 requests/second. Concurrent executions in one
 * process share the account's budget (one budget per endpoint + partner), a lower configured rate is
 * kept, and the throttles that arrival jitter still causes are absorbed by re-sending the same request.
 */
import type { IDataObject } from 'n8n-workflow';

import { endpointCredential } from '../support/credentials';
import { testCredential } from '../support/n8nHarness';
import {
	createParameters,
	credentialType,
	jsonOf,
	node,
	runAgainst,
	useSandbox,
} from '../integration/helpers';
import { DEFAULT_RATE_LIMIT, type RecordedRequest } from '../sandbox';

let keyCounter = 0;
const itemsOf = (count: number, label: string): IDataObject[] =>
	Array.from({ length: count }, () => ({
		key: `${label}-${process.pid}-${++keyCounter}`,
		amount: 5,
	}));

/** Most requests the sandbox received within any 1-second window. */
function busiestSecond(requests: RecordedRequest[]): number {
	const times = requests.map((request) => request.receivedAt).sort((a, b) => a - b);
	let busiest = 0;
	for (let last = 0, first = 0; last < times.length; last++) {
		while (times[last] - times[first] >= 1000) first++;
		busiest = Math.max(busiest, last - first + 1);
	}
	return busiest;
}

describe('throttling: the account limit is shared and kept', () => {
	const sandbox = useSandbox({ rateLimit: DEFAULT_RATE_LIMIT, faults: { latencyMs: 50 } });

	it('two executions running at once share 10 req/s instead of taking 10 each', async () => {
		const startedAt = Date.now();
		const [first, second] = await Promise.all([
			runAgainst(sandbox(), createParameters(), itemsOf(25, 'shared-a')),
			runAgainst(sandbox(), createParameters(), itemsOf(25, 'shared-b')),
		]);
		const elapsed = Date.now() - startedAt;
		for (const result of [first, second]) {
			expect(result.status).toBe('success');
			expect(jsonOf(result).every((json) => json.status === 'SUCCESS')).toBe(true);
		}
		const stats = sandbox().stats();
		expect(stats).toMatchObject({ cardsIssued: 50, doubleDebits: [] });
		// Each execution alone would send 20/s in total; sharing keeps it at the account's limit. A burst
		// of 10 is allowed at the start, so 50 requests need at least 4 s.
		expect(elapsed).toBeGreaterThanOrEqual(3900);
		// Throttles are rare (arrival jitter only) and every one was absorbed by a re-send.
		expect(stats.throttled).toBeLessThanOrEqual(2);
		expect(stats.requests).toBe(50 + stats.throttled);
	});

	it('a lower requestsPerSecond (another account limit, or a share per queue-mode worker) is kept', async () => {
		const result = await runAgainst(
			sandbox(),
			createParameters({ options: { requestsPerSecond: 4 } }),
			itemsOf(16, 'slow'),
		);
		expect(result.status).toBe('success');
		const requests = sandbox().requests();
		expect(requests).toHaveLength(16);
		expect(sandbox().stats().throttled).toBe(0);
		// Burst of 4, then one every 250 ms.
		expect(busiestSecond(requests)).toBeLessThanOrEqual(8);
		const span = requests.at(-1)!.receivedAt - requests[0].receivedAt;
		expect(span).toBeGreaterThanOrEqual(2900);
	});

	it('the credential test does not change the rate a running execution is held to', async () => {
		const run = runAgainst(
			sandbox(),
			createParameters({ options: { requestsPerSecond: 2 } }),
			itemsOf(6, 'credential-test'),
		);
		await new Promise((resolve) => setTimeout(resolve, 300));
		const tested = await testCredential(node, credentialType, endpointCredential(sandbox()));
		expect(tested.status).toBe('OK');
		expect((await run).status).toBe('success');
		const creates = sandbox()
			.requests()
			.filter((request) => request.operation === 'CreateGiftCard')
			.map((request) => request.receivedAt);
		expect(creates).toHaveLength(6);
		// 2/s means 500 ms apart, before and after the test's own request (it asks for its slot at 10/s).
		for (let index = 1; index < creates.length; index++)
			expect(creates[index] - creates[index - 1]).toBeGreaterThanOrEqual(450);
	});

	it('maxConcurrentRequests bounds the requests in flight', async () => {
		sandbox().configure({ faults: { latencyMs: 300 } });
		const startedAt = Date.now();
		const result = await runAgainst(
			sandbox(),
			createParameters({ options: { maxConcurrentRequests: 2 } }),
			itemsOf(10, 'narrow'),
		);
		expect(result.status).toBe('success');
		// Two at a time, 300 ms each: five rounds.
		expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1450);
		sandbox().configure({ faults: { latencyMs: 50 } });
	});
});
