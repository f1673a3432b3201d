/**
 * Fault injection: each fault kind does what it says (committed or not), is counted, is decided by
 * a seeded RNG, can be scoped by request-id pattern, and stop() never leaves a socket or timer open.
 */
import { clientFor, SandboxCallTimeout } from './aws4Client';
import { startSandbox, type FaultConfig, type RunningSandbox } from './index';

const P = 'Awssb';
const create = (id: string, amount = 10) => ({
	creationRequestId: id,
	partnerId: P,
	value: { currencyCode: 'USD', amount },
});

describe('fault injection', () => {
	let sandbox: RunningSandbox;
	let call: ReturnType<typeof clientFor>;
	const useFaults = (faults: FaultConfig) => sandbox.configure({ faults, faultRules: [] });

	beforeAll(async () => {
		sandbox = await startSandbox({ rateLimit: false });
		call = clientFor(sandbox);
	});
	afterAll(() => sandbox.stop());
	beforeEach(() => {
		useFaults({});
		sandbox.reset();
	});

	it('connection reset: the socket dies before processing and nothing is committed', async () => {
		useFaults({ connectionResetRate: 1 });
		await expect(call('CreateGiftCard', create('AwssbReset1'))).rejects.toMatchObject({
			code: expect.stringMatching(/^(ECONNRESET|EPIPE)$/),
		});
		expect(sandbox.stats()).toMatchObject({
			faultsInjected: { reset: 1 },
			cardsIssued: 0,
			debits: 0,
		});
		expect(sandbox.requests()[0]).toMatchObject({ fault: 'reset', httpStatus: null, status: null });
		useFaults({});
		expect((await call('CreateGiftCard', create('AwssbReset1'))).json.status).toBe('SUCCESS');
		expect(sandbox.stats().debits).toBe(1);
	});

	it('HTML 500: an HTML body and nothing committed', async () => {
		useFaults({ html500Rate: 1 });
		const result = await call('CreateGiftCard', create('AwssbHtml1'));
		expect(result.httpStatus).toBe(500);
		expect(result.headers['content-type']).toBe('text/html');
		expect(result.text).toMatch(/^<html>.*Internal Server Error/);
		expect(result.json).toBeUndefined();
		expect(sandbox.stats()).toMatchObject({
			faultsInjected: { html500: 1 },
			cardsIssued: 0,
			debits: 0,
		});
	});

	it('RESEND on the first attempt only: the retry with the same id succeeds, one debit', async () => {
		useFaults({ resendFirstAttemptRate: 1 });
		const first = await call('CreateGiftCard', create('AwssbResend1'));
		expect(first.httpStatus).toBe(503);
		expect(first.json).toMatchObject({
			agcodResponse: { status: 'RESEND', gcId: null },
			errorCode: 'F400',
			errorType: 'SystemTemporarilyUnavailable',
		});
		expect(sandbox.stats().debits).toBe(0);
		const retry = await call('CreateGiftCard', create('AwssbResend1'));
		expect(retry.json.status).toBe('SUCCESS');
		expect((await call('CreateGiftCard', create('AwssbResend1'))).json.gcId).toBe(retry.json.gcId);
		// A new id gets its own first attempt; GetAvailableFunds has no id and is never RESENT.
		expect((await call('CreateGiftCard', create('AwssbResend2'))).json.errorCode).toBe('F400');
		expect((await call('GetAvailableFunds', { partnerId: P })).json.status).toBe('SUCCESS');
		expect(sandbox.stats()).toMatchObject({
			faultsInjected: { resend: 2 },
			debits: 1,
			cardsIssued: 1,
		});
	});

	it('hang after commit: committed, never answered, visible in stats; the retry gets the original card', async () => {
		useFaults({ hangAfterCommitRate: 1, hangMs: 5000 });
		await expect(
			call('CreateGiftCard', create('AwssbHang1', 7), { timeoutMs: 150 }),
		).rejects.toBeInstanceOf(SandboxCallTimeout);
		expect(sandbox.stats()).toMatchObject({
			faultsInjected: { hang: 1 },
			cardsIssued: 1,
			debits: 1,
			totalDebited: { USD: 7 },
		});
		expect(sandbox.requests()[0]).toMatchObject({
			requestId: 'AwssbHang1',
			fault: 'hang',
			status: 'SUCCESS',
			httpStatus: null,
		});

		useFaults({});
		const retry = await call('CreateGiftCard', create('AwssbHang1', 7));
		expect(retry.json).toMatchObject({ creationRequestId: 'AwssbHang1', status: 'SUCCESS' });
		const again = await call('CreateGiftCard', create('AwssbHang1', 7));
		expect(again.json.gcClaimCode).toBe(retry.json.gcClaimCode);
		expect(sandbox.stats()).toMatchObject({ cardsIssued: 1, debits: 1, doubleDebits: [] });
	});

	it('hang: the held socket is destroyed after hangMs', async () => {
		useFaults({ hangAfterCommitRate: 1, hangMs: 100 });
		const started = Date.now();
		await expect(
			call('CreateGiftCard', create('AwssbHang2'), { timeoutMs: 5000 }),
		).rejects.toMatchObject({
			message: 'socket hang up',
		});
		expect(Date.now() - started).toBeGreaterThanOrEqual(90);
		expect(Date.now() - started).toBeLessThan(2000);
	});

	it('truncated JSON: committed, 200, and the body is the first half of the real answer', async () => {
		useFaults({ truncatedJsonRate: 1 });
		const cut = await call('CreateGiftCard', create('AwssbCut1'));
		expect(cut.httpStatus).toBe(200);
		expect(cut.json).toBeUndefined();
		expect(sandbox.stats()).toMatchObject({
			faultsInjected: { truncated: 1 },
			cardsIssued: 1,
			debits: 1,
		});
		useFaults({});
		const whole = await call('CreateGiftCard', create('AwssbCut1'));
		expect(whole.json.status).toBe('SUCCESS');
		expect(cut.text.length).toBe(Math.floor(whole.text.length / 2));
		expect(whole.text.startsWith(cut.text)).toBe(true);
		expect(sandbox.stats().debits).toBe(1);
	});

	it('latency: fixed plus jitter, added before the answer', async () => {
		useFaults({ latencyMs: 120 });
		let started = Date.now();
		expect((await call('CreateGiftCard', create('AwssbSlow1'))).json.status).toBe('SUCCESS');
		expect(Date.now() - started).toBeGreaterThanOrEqual(110);

		useFaults({ latencyMs: 0, latencyJitterMs: 100, seed: 7 });
		started = Date.now();
		await Promise.all(
			Array.from({ length: 10 }, (_, i) => call('CreateGiftCard', create(`AwssbJit${i}`))),
		);
		expect(Date.now() - started).toBeLessThan(1000);
	});

	it('per-request-id rules replace the server-wide faults for matching ids', async () => {
		sandbox.configure({
			faults: { truncatedJsonRate: 1 },
			faultRules: [{ requestIdPattern: '^AwssbFlaky', faults: { html500Rate: 1 } }],
		});
		expect((await call('CreateGiftCard', create('AwssbFlaky1'))).httpStatus).toBe(500);
		const other = await call('CreateGiftCard', create('AwssbSteady1'));
		expect(other.httpStatus).toBe(200);
		expect(other.json).toBeUndefined();
		expect(sandbox.stats()).toMatchObject({
			faultsInjected: { html500: 1, truncated: 1 },
			cardsIssued: 1,
		});
	});

	it('decides by a seeded RNG: the same seed gives the same faults, about at the rate asked', async () => {
		const runWithSeed = async (seed: number) => {
			sandbox.reset();
			useFaults({ html500Rate: 0.3, seed });
			for (let i = 0; i < 60; i++) await call('CreateGiftCard', create(`AwssbSeed${i}`, 1));
			return sandbox.requests().map((entry) => entry.fault ?? '-');
		};
		const first = await runWithSeed(42);
		const second = await runWithSeed(42);
		const third = await runWithSeed(43);
		expect(second).toEqual(first);
		expect(third).not.toEqual(first);
		const html = first.filter((fault) => fault === 'html500').length;
		expect(html).toBeGreaterThan(6);
		expect(html).toBeLessThan(30);
	});

	it('refuses rates outside 0..1 without changing the configuration', async () => {
		expect(() => sandbox.configure({ faults: { html500Rate: 1.5 } })).toThrow(/between 0 and 1/);
		expect(() =>
			sandbox.configure({
				faults: { html500Rate: 1 },
				faultRules: [{ requestIdPattern: '(', faults: {} }],
			}),
		).toThrow();
		expect((await call('CreateGiftCard', create('AwssbUnchanged1'))).httpStatus).toBe(200);
		expect(sandbox.stats().faultsInjected.html500).toBe(0);
	});
});

describe('stop()', () => {
	it('closes hung sockets and pending timers at once', async () => {
		const sandbox = await startSandbox({
			rateLimit: false,
			faults: { hangAfterCommitRate: 1, hangMs: 60000 },
		});
		const call = clientFor(sandbox);
		const hung = call('CreateGiftCard', create('AwssbStop1'), { timeoutMs: 60000 });
		const outcome = hung.then(
			() => 'answered',
			(error: Error) => error.message,
		);
		while (sandbox.stats().faultsInjected.hang === 0) await new Promise((r) => setTimeout(r, 5));
		const started = Date.now();
		await sandbox.stop();
		expect(Date.now() - started).toBeLessThan(1000);
		expect(await outcome).toBe('socket hang up');
		await sandbox.stop(); // idempotent
	});

	it('drops responses still waiting for their latency', async () => {
		const sandbox = await startSandbox({ rateLimit: false, faults: { latencyMs: 60000 } });
		const call = clientFor(sandbox);
		const pending = call('CreateGiftCard', create('AwssbStop2'), { timeoutMs: 60000 }).catch(
			(error: Error) => error.message,
		);
		while (sandbox.stats().requests === 0) await new Promise((r) => setTimeout(r, 5));
		await sandbox.stop();
		expect(await pending).toBe('socket hang up');
	});
});
