/**
 * The sandbox over real HTTP, called by a client signed with plain `aws4`: the "done when"
 * (a card, the same card again with no second debit, 403 for a wrong signature, the 11th request in
 * a second throttled), the signature rules and the introspection endpoints.
 */
import { request } from 'node:http';
import { callSandbox, clientFor } from './aws4Client';
import { DEFAULT_PARTNER, startSandbox, type RunningSandbox } from './index';

const create = (id: string, amount: number | string = 10, currencyCode = 'USD') => ({
	creationRequestId: id,
	partnerId: 'Awssb',
	value: { currencyCode, amount },
});

function getJson(
	url: string,
	method = 'GET',
	body?: unknown,
	// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any JSON answer; tests read it freely
): Promise<{ status: number; json: any }> {
	return new Promise((resolve, reject) => {
		const req = request(url, { method, headers: { 'content-type': 'application/json' } }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (c: Buffer) => chunks.push(c));
			res.on('end', () =>
				resolve({
					status: res.statusCode ?? 0,
					json: JSON.parse(Buffer.concat(chunks).toString()),
				}),
			);
		});
		req.on('error', reject);
		req.end(body === undefined ? undefined : JSON.stringify(body));
	});
}

describe('sandbox server, signed by plain aws4', () => {
	let sandbox: RunningSandbox;
	let call: ReturnType<typeof clientFor>;

	beforeAll(async () => {
		sandbox = await startSandbox({ rateLimit: false });
		call = clientFor(sandbox);
	});
	afterAll(() => sandbox.stop());
	beforeEach(() => sandbox.reset());

	it('listens on 127.0.0.1 at a free port and reports the default partner', () => {
		expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
		expect(sandbox.port).toBeGreaterThan(0);
		expect(sandbox.region).toBe('na');
		expect(sandbox.signingRegion).toBe('us-east-1');
		expect(sandbox.partner).toEqual(DEFAULT_PARTNER);
	});

	it('issues a card, and the same request again returns the same card with one debit', async () => {
		const first = await call('CreateGiftCard', create('AwssbDoneWhen1', 25));
		expect(first.httpStatus).toBe(200);
		expect(first.headers['content-type']).toBe('application/json');
		expect(first.json).toEqual({
			cardInfo: {
				cardNumber: null,
				cardStatus: 'Fulfilled',
				expirationDate: null,
				value: { amount: 25, currencyCode: 'USD' },
			},
			creationRequestId: 'AwssbDoneWhen1',
			gcClaimCode: expect.stringMatching(/^[A-Z0-9]{4}-[A-Z0-9]{6}-[A-Z0-9]{4}$/),
			gcExpirationDate: null,
			gcId: expect.stringMatching(/^[A-Z0-9]{14}$/),
			status: 'SUCCESS',
		});
		const again = await call('CreateGiftCard', create('AwssbDoneWhen1', 25));
		expect(again.httpStatus).toBe(200);
		expect(again.json.gcId).toBe(first.json.gcId);
		expect(again.json.gcClaimCode).toBe(first.json.gcClaimCode);
		const stats = sandbox.stats();
		expect(stats.cardsIssued).toBe(1);
		expect(stats.debits).toBe(1);
		expect(stats.totalDebited).toEqual({ USD: 25 });
		expect(stats.balances.Awssb).toEqual({ amount: 1000000 - 25, currencyCode: 'USD' });
		expect(stats.distinctRequestIds).toBe(1);
		expect(stats.doubleDebits).toEqual([]);
	});

	it('gives every new card a different gcId and claim code', async () => {
		const results = await Promise.all(
			Array.from({ length: 20 }, (_, i) => call('CreateGiftCard', create(`AwssbUnique${i}`, 1))),
		);
		expect(new Set(results.map((r) => r.json.gcId)).size).toBe(20);
		expect(new Set(results.map((r) => r.json.gcClaimCode)).size).toBe(20);
	});

	it('never debits twice for the same id sent concurrently', async () => {
		const results = await Promise.all(
			Array.from({ length: 8 }, () => call('CreateGiftCard', create('AwssbConcurrent1', 3))),
		);
		expect(new Set(results.map((r) => r.json.gcId)).size).toBe(1);
		expect(sandbox.stats().debits).toBe(1);
		expect(sandbox.stats().totalDebited).toEqual({ USD: 3 });
	});

	it('answers 403 with the signature-mismatch message for a wrong secret', async () => {
		const result = await call('CreateGiftCard', create('AwssbWrongSecret'), {
			credentials: { accessKeyId: DEFAULT_PARTNER.accessKeyId, secretAccessKey: 'not-the-secret' },
		});
		expect(result.httpStatus).toBe(403);
		expect(result.json.message).toMatch(
			/^The request signature we calculated does not match the signature you provided\./,
		);
		expect(result.text).not.toContain('not-the-secret');
		expect(sandbox.stats()).toMatchObject({ signatureFailures: 1, cardsIssued: 0, debits: 0 });
	});

	it('answers 403 for a body changed after signing', async () => {
		const result = await call('CreateGiftCard', create('AwssbTampered', 1), {
			bodyAfterSigning: JSON.stringify(create('AwssbTampered', 1000)),
		});
		expect(result.httpStatus).toBe(403);
		expect(sandbox.stats().debits).toBe(0);
	});

	it('answers 403 "The security token included in the request is invalid." for an unknown key', async () => {
		const result = await call('CreateGiftCard', create('AwssbUnknownKey'), {
			credentials: { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' },
		});
		expect(result.httpStatus).toBe(403);
		expect(result.json).toEqual({
			__type: 'com.amazon.coral.service#UnrecognizedClientException',
			message: 'The security token included in the request is invalid.',
		});
	});

	it('answers 403 "Missing Authentication Token" for an unsigned request', async () => {
		const result = await call('CreateGiftCard', create('AwssbUnsigned'), { unsigned: true });
		expect(result.httpStatus).toBe(403);
		expect(result.json.message).toBe('Missing Authentication Token');
	});

	it('rejects an x-amz-date more than 5 minutes off', async () => {
		const sixMinutesAgo = new Date(Date.now() - 6 * 60 * 1000)
			.toISOString()
			.replace(/[-:]/g, '')
			.replace(/\.\d{3}/, '');
		const result = await call('CreateGiftCard', create('AwssbSkewed'), {
			headers: { 'X-Amz-Date': sixMinutesAgo },
		});
		expect(result.httpStatus).toBe(403);
		expect(result.json.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than/);
		expect(sandbox.stats().debits).toBe(0);
	});

	it('rejects a credential scoped to another region or service', async () => {
		const region = await call('CreateGiftCard', create('AwssbRegion'), { region: 'eu-west-1' });
		expect(region.httpStatus).toBe(403);
		expect(region.json.message).toBe(
			"Credential should be scoped to a valid region, not 'eu-west-1'.",
		);
		const service = await call('CreateGiftCard', create('AwssbService'), {
			service: 'execute-api',
		});
		expect(service.httpStatus).toBe(403);
		expect(service.json.message).toBe(
			"Credential should be scoped to correct service: 'AGCODService'.",
		);
	});

	it('requires x-amz-target to match the path', async () => {
		const result = await call('CreateGiftCard', create('AwssbTarget'), {
			target: 'com.amazonaws.agcod.AGCODService.CancelGiftCard',
		});
		expect(result.httpStatus).toBe(400);
		expect(result.json.message).toContain('com.amazonaws.agcod.AGCODService.CreateGiftCard');
		expect(sandbox.stats().cardsIssued).toBe(0);
	});

	it('accepts the "AGCODService./Operation" target that a published client sends', async () => {
		const result = await call('CreateGiftCard', create('AwssbTargetSlash'), {
			target: 'com.amazonaws.agcod.AGCODService./CreateGiftCard',
		});
		expect(result.httpStatus).toBe(200);
		expect(sandbox.stats().cardsIssued).toBe(1);
	});

	it('answers 404 JSON for an unknown operation', async () => {
		const result = await call('MakeMoney', { partnerId: 'Awssb' });
		expect(result.httpStatus).toBe(404);
		expect(result.json.__type).toBe('com.amazon.coral.service#UnknownOperationException');
	});

	it('answers a malformed body with an AGCOD-shaped F200', async () => {
		const result = await call('CreateGiftCard', '{"creationRequestId": ');
		expect(result.httpStatus).toBe(400);
		expect(result.json).toMatchObject({
			agcodResponse: { status: 'FAILURE' },
			errorCode: 'F200',
			errorType: 'InvalidRequestInput',
		});
	});

	it('serves stats, requests, config, clock and reset over HTTP without a signature', async () => {
		await call('CreateGiftCard', create('AwssbIntrospect1', 5));
		const stats = await getJson(`${sandbox.url}/__sandbox/stats`);
		expect(stats.status).toBe(200);
		expect(stats.json).toMatchObject({ requests: 1, cardsIssued: 1, debits: 1, doubleDebits: [] });

		const requests = await getJson(`${sandbox.url}/__sandbox/requests`);
		expect(requests.json).toEqual([
			expect.objectContaining({
				seq: 1,
				operation: 'CreateGiftCard',
				partnerId: 'Awssb',
				requestId: 'AwssbIntrospect1',
				format: 'json',
				httpStatus: 200,
				status: 'SUCCESS',
				throttled: false,
			}),
		]);
		// The request log carries ids and outcomes, never claim codes or signatures.
		expect(JSON.stringify(requests.json)).not.toMatch(
			/[A-Z0-9]{4}-[A-Z0-9]{6}-[A-Z0-9]{4}|Signature=/,
		);
		expect((await getJson(`${sandbox.url}/__sandbox/requests?since=1`)).json).toEqual([]);

		const config = await getJson(`${sandbox.url}/__sandbox/config`, 'POST', {
			amazonLikeFunds: true,
			faults: { latencyMs: 0 },
		});
		expect(config.status).toBe(200);
		expect(config.json).toMatchObject({ amazonLikeFunds: true, rateLimit: false });
		const funds = await call('GetAvailableFunds', { partnerId: 'Awssb' });
		expect(funds.json.availableFunds).toEqual({ amount: 0, currencyCode: 'USD' });
		await getJson(`${sandbox.url}/__sandbox/config`, 'POST', { amazonLikeFunds: false });

		const before = sandbox.clock.now();
		const clock = await getJson(`${sandbox.url}/__sandbox/clock`, 'POST', { advanceMs: 60000 });
		expect(clock.json.offsetMs).toBe(60000);
		expect(sandbox.clock.now() - before).toBeGreaterThanOrEqual(60000);

		const bad = await getJson(`${sandbox.url}/__sandbox/config`, 'POST', {
			faults: { html500Rate: 2 },
		});
		expect(bad.status).toBe(400);

		const reset = await getJson(`${sandbox.url}/__sandbox/reset`, 'POST');
		expect(reset.json).toEqual({ ok: true });
		const after = (await getJson(`${sandbox.url}/__sandbox/stats`)).json;
		expect(after).toMatchObject({ requests: 0, cardsIssued: 0, debits: 0, totalDebited: {} });
		expect(after.balances.Awssb.amount).toBe(1000000);
		expect((await getJson(`${sandbox.url}/__sandbox/requests`)).json).toEqual([]);
		expect(sandbox.clock.now() - Date.now()).toBeLessThan(1000);
		expect((await getJson(`${sandbox.url}/__sandbox/nope`)).status).toBe(404);
	});
});

describe('rate limits', () => {
	let sandbox: RunningSandbox;
	let now = Date.UTC(2030, 0, 1);
	let call: ReturnType<typeof clientFor>;

	beforeAll(async () => {
		// A frozen business clock makes "inside one second" exact; signatures use the wall clock.
		sandbox = await startSandbox({ now: () => now });
		call = clientFor(sandbox);
	});
	afterAll(() => sandbox.stop());
	beforeEach(() => sandbox.reset());

	it('throttles the 11th request inside one second, moving nothing', async () => {
		const results = [];
		for (let i = 0; i < 11; i++)
			results.push(await call('CreateGiftCard', create(`AwssbRate${i}`, 1)));
		expect(results.slice(0, 10).map((r) => r.httpStatus)).toEqual(Array(10).fill(200));
		expect(results[10].httpStatus).toBe(400);
		expect(results[10].json).toEqual({
			__type: 'com.amazon.coral.availability#ThrottlingException',
			message: 'Rate exceeded',
		});
		const stats = sandbox.stats();
		expect(stats.throttled).toBe(1);
		expect(stats.cardsIssued).toBe(10);
		expect(sandbox.requests()[10]).toMatchObject({
			throttled: true,
			httpStatus: 400,
			requestId: 'AwssbRate10',
			status: null,
		});

		now += 100; // one token back
		expect((await call('CreateGiftCard', create('AwssbRate11', 1))).httpStatus).toBe(200);
		expect((await call('CreateGiftCard', create('AwssbRate12', 1))).httpStatus).toBe(400);
	});

	it('allows GetAvailableFunds once per second', async () => {
		const funds = { partnerId: 'Awssb' };
		expect((await call('GetAvailableFunds', funds)).httpStatus).toBe(200);
		const second = await call('GetAvailableFunds', funds);
		expect(second.httpStatus).toBe(400);
		expect(second.json.message).toBe('Rate exceeded');
		// Other operations still pass while GetAvailableFunds is throttled.
		expect((await call('CreateGiftCard', create('AwssbFundsRate1', 1))).httpStatus).toBe(200);
		now += 1000;
		expect((await call('GetAvailableFunds', funds)).httpStatus).toBe(200);
	});

	it('throttles concurrent bursts too, and can be reconfigured or switched off', async () => {
		const burst = await Promise.all(
			Array.from({ length: 15 }, (_, i) => call('CreateGiftCard', create(`AwssbBurst${i}`, 1))),
		);
		expect(burst.filter((r) => r.httpStatus === 200)).toHaveLength(10);
		expect(burst.filter((r) => r.json?.message === 'Rate exceeded')).toHaveLength(5);

		sandbox.configure({ rateLimit: { requestsPerSecond: 2, availableFundsPerSecond: 1 } });
		const two = await Promise.all(
			Array.from({ length: 3 }, (_, i) => call('CreateGiftCard', create(`AwssbTwo${i}`, 1))),
		);
		expect(two.filter((r) => r.httpStatus === 200)).toHaveLength(2);

		sandbox.configure({ rateLimit: false });
		const many = await Promise.all(
			Array.from({ length: 30 }, (_, i) => call('CreateGiftCard', create(`AwssbMany${i}`, 1))),
		);
		expect(many.every((r) => r.httpStatus === 200)).toBe(true);
		sandbox.configure({ rateLimit: { requestsPerSecond: 10, availableFundsPerSecond: 1 } });
	});

	it('limits each partner separately', async () => {
		const other = {
			partnerId: 'Bpart',
			accessKeyId: 'AKIAOTHERPARTNER0001',
			secretAccessKey: 'other-secret',
		};
		const two = await startSandbox({ partners: [DEFAULT_PARTNER, other], now: () => now });
		try {
			const callA = clientFor(two);
			const results = await Promise.all(
				Array.from({ length: 10 }, (_, i) => callA('CreateGiftCard', create(`AwssbSplit${i}`, 1))),
			);
			expect(results.every((r) => r.httpStatus === 200)).toBe(true);
			const b = await callSandbox(
				two.url,
				'CreateGiftCard',
				{
					creationRequestId: 'BpartSplit1',
					partnerId: 'Bpart',
					value: { currencyCode: 'USD', amount: 1 },
				},
				{ credentials: other, region: two.signingRegion },
			);
			expect(b.httpStatus).toBe(200);
			expect(two.stats().balances).toEqual({
				Awssb: { amount: 1000000 - 10, currencyCode: 'USD' },
				Bpart: { amount: 1000000 - 1, currencyCode: 'USD' },
			});
		} finally {
			await two.stop();
		}
	});
});
