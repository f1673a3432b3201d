import type { FaultConfig, RunningSandbox } from '../sandbox';
import { endpointCredential } from '../support/credentials';
import { closedPortUrl } from '../support/localServer';
import { runNode } from '../support/n8nHarness';
import {
	type RecordingProxy,
	apiErrorOf,
	continueRegularOutput,
	createParameters,
	credentialType,
	explicitCreateParameters,
	jsonOf,
	node,
	requestsWithId,
	runAgainst,
	seedFiring,
	startRecordingProxy,
	uniqueKey,
	useSandbox,
} from './helpers';

/** Runs `test` with the sandbox's faults set, and clears them afterwards whatever happens. */
async function withFaults<T>(
	sandbox: RunningSandbox,
	faults: FaultConfig,
	test: () => Promise<T>,
): Promise<T> {
	sandbox.configure({ faults });
	try {
		return await test();
	} finally {
		sandbox.configure({ faults: {} });
	}
}

/** The bodies the node sent for one operation, as bytes on the wire. */
function bodiesSent(proxy: RecordingProxy, operation: string): string[] {
	return proxy.captured
		.filter((request) => request.path === `/${operation}`)
		.map((request) => request.body);
}

describe('retries: the identical request and id until Amazon gives a final answer', () => {
	const sandbox = useSandbox();
	let proxy: RecordingProxy;
	beforeAll(async () => {
		proxy = await startRecordingProxy(sandbox());
	});
	beforeEach(() => {
		proxy.captured.length = 0;
	});
	afterAll(async () => {
		await proxy.stop();
	});
	const throughProxy = () => ({ credential: { endpoint: proxy.url } });

	it('RESEND (F400) is re-sent with the same body and id; one card per item', async () => {
		await withFaults(sandbox(), { resendFirstAttemptRate: 1 }, async () => {
			const result = await runAgainst(
				sandbox(),
				createParameters(),
				[
					{ key: uniqueKey('r'), amount: 1 },
					{ key: uniqueKey('r'), amount: 2 },
					{ key: uniqueKey('r'), amount: 3 },
				],
				throughProxy(),
			);
			expect(result.status).toBe('success');
			const output = jsonOf(result);
			expect(output.map((item) => item.attempts)).toEqual([2, 2, 2]);
			for (const item of output) {
				const sent = requestsWithId(sandbox(), item.requestId as string);
				expect(sent.map((entry) => entry.status)).toEqual(['RESEND', 'SUCCESS']);
				const bodies = proxy.captured
					.map((request) => request.body)
					.filter((body) => body.includes(item.requestId as string));
				expect(bodies).toHaveLength(2);
				expect(bodies[1]).toBe(bodies[0]);
			}
			expect(sandbox().stats()).toMatchObject({
				cardsIssued: 3,
				faultsInjected: { resend: 3 },
				doubleDebits: [],
			});
		});
	});

	it('a timed-out answer (committed, never sent) is re-sent with the same body; the original card comes back', async () => {
		const faults = { hangAfterCommitRate: 0.5, hangMs: 5000, seed: seedFiring([true, false]) };
		await withFaults(sandbox(), faults, async () => {
			const started = Date.now();
			const result = await runAgainst(
				sandbox(),
				createParameters({ options: { timeout: 300 } }),
				[{ key: uniqueKey('t'), amount: 11 }],
				throughProxy(),
			);
			const card = jsonOf(result)[0];
			expect(card).toMatchObject({ status: 'SUCCESS', attempts: 2, replay: false });
			// Well before the hung socket would close: the node's own 300 ms timeout ended the attempt.
			expect(Date.now() - started).toBeLessThan(2500);
			const bodies = bodiesSent(proxy, 'CreateGiftCard');
			expect(bodies).toHaveLength(2);
			expect(bodies[1]).toBe(bodies[0]);
			expect(
				requestsWithId(sandbox(), card.requestId as string).map(
					(entry) => entry.fault ?? 'answered',
				),
			).toEqual(['hang', 'answered']);
			expect(sandbox().stats()).toMatchObject({ cardsIssued: 1, debits: 1, doubleDebits: [] });
		});
	});

	it('a reset connection is re-sent with the same body; nothing was committed the first time', async () => {
		await withFaults(
			sandbox(),
			{ connectionResetRate: 0.5, seed: seedFiring([true, false]) },
			async () => {
				const result = await runAgainst(
					sandbox(),
					createParameters(),
					[{ key: uniqueKey('c'), amount: 12 }],
					throughProxy(),
				);
				expect(jsonOf(result)[0]).toMatchObject({ status: 'SUCCESS', attempts: 2 });
				const bodies = bodiesSent(proxy, 'CreateGiftCard');
				expect(bodies).toHaveLength(2);
				expect(bodies[1]).toBe(bodies[0]);
				expect(sandbox().stats()).toMatchObject({ cardsIssued: 1, faultsInjected: { reset: 1 } });
			},
		);
	});

	it('an HTML 500 is re-sent with the same body', async () => {
		await withFaults(sandbox(), { html500Rate: 0.5, seed: seedFiring([true, false]) }, async () => {
			const result = await runAgainst(
				sandbox(),
				createParameters(),
				[{ key: uniqueKey('h'), amount: 13 }],
				throughProxy(),
			);
			expect(jsonOf(result)[0]).toMatchObject({ status: 'SUCCESS', attempts: 2 });
			const bodies = bodiesSent(proxy, 'CreateGiftCard');
			expect(bodies).toHaveLength(2);
			expect(bodies[1]).toBe(bodies[0]);
			expect(
				sandbox()
					.requests()
					.map((entry) => entry.httpStatus),
			).toEqual([500, 200]);
		});
	});

	it('a truncated 200 answer is not trusted: re-sent, and the committed card comes back once', async () => {
		await withFaults(
			sandbox(),
			{ truncatedJsonRate: 0.5, seed: seedFiring([true, false]) },
			async () => {
				const result = await runAgainst(
					sandbox(),
					createParameters(),
					[{ key: uniqueKey('j'), amount: 14 }],
					throughProxy(),
				);
				const card = jsonOf(result)[0];
				expect(card).toMatchObject({ status: 'SUCCESS', attempts: 2 });
				expect(card.gcClaimCode).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{6}-[A-Z0-9]{4}$/);
				expect(sandbox().stats()).toMatchObject({
					cardsIssued: 1,
					debits: 1,
					faultsInjected: { truncated: 1 },
				});
			},
		);
	});

	it('the same holds for XML bodies', async () => {
		await withFaults(sandbox(), { html500Rate: 0.5, seed: seedFiring([true, false]) }, async () => {
			const result = await runAgainst(
				sandbox(),
				createParameters({ options: { format: 'xml' } }),
				[{ key: uniqueKey('x'), amount: 15 }],
				throughProxy(),
			);
			expect(jsonOf(result)[0]).toMatchObject({ status: 'SUCCESS', attempts: 2 });
			const bodies = bodiesSent(proxy, 'CreateGiftCard');
			expect(bodies[0]).toMatch(/^<CreateGiftCardRequest>/);
			expect(bodies[1]).toBe(bodies[0]);
		});
	});

	it('a FAILURE is never re-sent, however many retries are allowed', async () => {
		const result = await runAgainst(
			sandbox(),
			explicitCreateParameters({ options: { maxRetries: 10 } }),
			[{ requestId: 'F2004', amount: 5 }],
		);
		expect(apiErrorOf(result).errorResponse).toMatchObject({ retryable: false, attempts: 1 });
		expect(requestsWithId(sandbox(), 'F2004')).toHaveLength(1);
	});

	it('after maxRetries the item fails with a retryable NodeApiError that says so; nothing was issued', async () => {
		await withFaults(sandbox(), { html500Rate: 1 }, async () => {
			const result = await runAgainst(sandbox(), createParameters({ options: { maxRetries: 2 } }), [
				{ key: uniqueKey('m'), amount: 5 },
			]);
			const error = apiErrorOf(result);
			expect(error.message).toMatch(
				/^Item 0: outcome unknown: Amazon's answers to CreateGiftCard do not prove whether it was carried out \(after 3 attempt\(s\); last: HTTP 500 .*\)\. Safe to retry with the same ID\.$/,
			);
			expect(error.errorResponse).toMatchObject({ retryable: true, attempts: 3 });
			expect(error.httpCode).toBe('500');
			expect(sandbox().stats()).toMatchObject({ requests: 3, cardsIssued: 0 });
		});
	});

	it('a connection reset on every attempt ends in the same retryable error, naming the item', async () => {
		await withFaults(sandbox(), { connectionResetRate: 1 }, async () => {
			const result = await runAgainst(sandbox(), createParameters({ options: { maxRetries: 1 } }), [
				{ key: uniqueKey('rr'), amount: 5 },
			]);
			const error = apiErrorOf(result);
			expect(error.message).toMatch(
				/^Item 0: outcome unknown: Amazon's answers to CreateGiftCard do not prove whether it was carried out \(after 2 attempt\(s\); last: .*ECONNRESET.*\)\. Safe to retry with the same ID\.$/,
			);
			expect(error.description).toMatch(/Request ID: Awssb\w{35}\./);
			expect(error.errorResponse).toMatchObject({ retryable: true, attempts: 2 });
			expect(sandbox().stats()).toMatchObject({ requests: 2, cardsIssued: 0 });
		});
	});

	it('the retry budget (seconds) ends the retries before maxRetries', async () => {
		await withFaults(sandbox(), { html500Rate: 1 }, async () => {
			const started = Date.now();
			const result = await runAgainst(
				sandbox(),
				createParameters({ options: { maxRetries: 20, retryBudget: 1, timeout: 200 } }),
				[{ key: uniqueKey('b'), amount: 5 }],
			);
			const elapsed = Date.now() - started;
			const { attempts } = apiErrorOf(result).errorResponse as { attempts: number };
			expect(attempts).toBeGreaterThanOrEqual(2);
			expect(attempts).toBeLessThan(8);
			expect(elapsed).toBeLessThan(2500);
			expect(sandbox().stats().requests).toBe(attempts);
		});
	});

	it('with Continue On Fail an item that ran out of retries fails alone, the others succeed', async () => {
		const stuck = `Awssb${Date.now()}Stuck`;
		sandbox().configure({
			faultRules: [{ requestIdPattern: `^${stuck}$`, faults: { html500Rate: 1 } }],
		});
		try {
			const ok = `Awssb${Date.now()}Fine`;
			const result = await runAgainst(
				sandbox(),
				explicitCreateParameters({ options: { maxRetries: 1 } }),
				[
					{ requestId: ok, amount: 1 },
					{ requestId: stuck, amount: 2 },
				],
				continueRegularOutput,
			);
			const [fine, failed] = jsonOf(result);
			expect(fine).toMatchObject({ status: 'SUCCESS', requestId: ok, attempts: 1 });
			expect(failed).toMatchObject({
				error: {
					message: expect.stringMatching(
						/^Item 1: outcome unknown: .*Safe to retry with the same ID\.$/,
					),
					requestId: stuck,
					retryable: true,
					attempts: 2,
					httpCode: '500',
				},
			});
		} finally {
			sandbox().configure({ faultRules: [] });
		}
	});
});

describe('retries: throttling', () => {
	// Amazon-like throttling at 2 requests/second, while the node is told it may send 100/s.
	const sandbox = useSandbox({
		rateLimit: { requestsPerSecond: 2, burst: 2, availableFundsPerSecond: 1 },
	});

	it('ThrottlingException is retried after a back-off until every item has its one card', async () => {
		const items = Array.from({ length: 4 }, (_, index) => ({
			key: uniqueKey('th'),
			amount: index + 1,
		}));
		const result = await runAgainst(
			sandbox(),
			createParameters({ options: { requestsPerSecond: 100 } }),
			items,
		);
		expect(result.status).toBe('success');
		const output = jsonOf(result);
		expect(output.map((item) => item.status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
		expect(output.filter((item) => (item.attempts as number) > 1).length).toBeGreaterThanOrEqual(2);
		const stats = sandbox().stats();
		expect(stats.throttled).toBeGreaterThanOrEqual(2);
		expect(stats).toMatchObject({ cardsIssued: 4, doubleDebits: [], totalDebited: { USD: 10 } });
		for (const item of output) {
			const sent = requestsWithId(sandbox(), item.requestId as string);
			expect(sent).toHaveLength(item.attempts as number);
			expect(sent.slice(0, -1).every((entry) => entry.throttled)).toBe(true);
		}
	});

	it('a throttle does not use up Max Retries: throttled items wait for the budget and all succeed', async () => {
		const items = Array.from({ length: 8 }, () => ({ key: uniqueKey('thr'), amount: 1 }));
		const result = await runAgainst(
			sandbox(),
			createParameters({ options: { requestsPerSecond: 100, maxRetries: 0, retryBudget: 30 } }),
			items,
		);
		expect(result.status).toBe('success');
		const output = jsonOf(result);
		expect(output.every((item) => item.status === 'SUCCESS')).toBe(true);
		const stats = sandbox().stats();
		expect(stats.throttled).toBeGreaterThanOrEqual(2);
		expect(stats).toMatchObject({ cardsIssued: 8, doubleDebits: [] });
		// With Max Retries 0, every re-send was of a throttled attempt.
		expect(output.reduce((sum, item) => sum + (item.attempts as number), 0)).toBe(
			8 + stats.throttled,
		);
	});

	it('the retry budget still bounds throttled items: they end as retryable errors', async () => {
		sandbox().configure({
			rateLimit: { requestsPerSecond: 0.5, burst: 1, availableFundsPerSecond: 1 },
		});
		try {
			const items = Array.from({ length: 4 }, () => ({ key: uniqueKey('thb'), amount: 1 }));
			const startedAt = Date.now();
			const result = await runAgainst(
				sandbox(),
				createParameters({
					options: { requestsPerSecond: 100, retryBudget: 2, timeout: 500 },
				}),
				items,
				{ settings: { onError: 'continueErrorOutput' } },
			);
			expect(Date.now() - startedAt).toBeLessThan(6000);
			expect(result.errorOutput.length).toBeGreaterThanOrEqual(1);
			for (const item of result.errorOutput) {
				expect(item.json.error).toMatchObject({
					message: expect.stringMatching(
						/no final answer to CreateGiftCard .*Rate exceeded.*Safe to retry/,
					),
					retryable: true,
				});
			}
			expect(sandbox().stats().doubleDebits).toEqual([]);
		} finally {
			sandbox().configure({
				rateLimit: { requestsPerSecond: 2, burst: 2, availableFundsPerSecond: 1 },
			});
		}
	});
});

describe('retries: an endpoint nobody answers', () => {
	it('connection refused is retried, then fails as retryable, naming the connection error', async () => {
		const result = await runNode({
			node,
			parameters: createParameters({ options: { maxRetries: 1 } }),
			items: [{ key: uniqueKey('u'), amount: 5 }],
			credentials: {
				type: credentialType,
				data: endpointCredential({
					url: await closedPortUrl(),
					region: 'na',
					partner: {
						partnerId: 'Awssb',
						accessKeyId: 'AKIAUNREACHABLE',
						secretAccessKey: 'unreachable-secret',
					},
				}),
			},
		});
		const error = apiErrorOf(result);
		expect(error.message).toMatch(
			/^Item 0: Amazon gave no final answer to CreateGiftCard after 2 attempt\(s\) \(last: connection error ECONNREFUSED\)/,
		);
		expect(error.errorResponse).toMatchObject({ retryable: true, attempts: 2 });
	});
});
