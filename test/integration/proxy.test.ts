/**
 * Proxy support as n8n has it: HTTPS_PROXY / HTTP_PROXY / NO_PROXY (and lower case) apply to every AGCOD
 * call and to the credential test. The endpoint is `agcod.invalid`, a name only the test proxy resolves: a
 * call that bypassed the proxy would fail with ENOTFOUND, so a success proves the call went through it.
 */
import { startSandbox, type RunningSandbox } from '../sandbox';
import { endpointCredential } from '../support/credentials';
import { type RunningForwardProxy, startForwardProxy } from '../support/forwardProxy';
import { closedPortUrl } from '../support/localServer';
import { testCredential } from '../support/n8nHarness';
import {
	activateParameters,
	createParameters,
	credentialType,
	itemError,
	jsonOf,
	node,
	runAgainst,
	uniqueKey,
} from './helpers';

/** Every variable proxy-from-env (n8n's proxy resolution) reads. */
const PROXY_VARIABLES = [
	'HTTPS_PROXY',
	'https_proxy',
	'HTTP_PROXY',
	'http_proxy',
	'ALL_PROXY',
	'all_proxy',
	'NO_PROXY',
	'no_proxy',
	'npm_config_https_proxy',
	'npm_config_http_proxy',
	'npm_config_proxy',
	'npm_config_no_proxy',
];

const PROXY_HOST = 'agcod.invalid';
const PROXY_PASSWORD = 'egress-pass-7731';

describe('AGCOD calls and the credential test go through the proxy n8n would use', () => {
	let httpsSandbox: RunningSandbox;
	let httpSandbox: RunningSandbox;
	let proxy: RunningForwardProxy;
	const saved: Record<string, string | undefined> = {};

	/** Sets the proxy environment for one test (everything else about proxies cleared). */
	const useEnvironment = (values: Record<string, string>) => {
		for (const name of PROXY_VARIABLES) delete process.env[name];
		Object.assign(process.env, values);
	};
	const onlyViaProxy = (sandbox: RunningSandbox) => sandbox.url.replace('127.0.0.1', PROXY_HOST);
	const secrets = () => [httpsSandbox.partner.secretAccessKey, PROXY_PASSWORD];

	beforeAll(async () => {
		for (const name of PROXY_VARIABLES) saved[name] = process.env[name];
		httpsSandbox = await startSandbox({ quiet: true, rateLimit: false, https: true });
		httpSandbox = await startSandbox({ quiet: true, rateLimit: false });
		proxy = await startForwardProxy({ hosts: { [PROXY_HOST]: '127.0.0.1' } });
	});

	beforeEach(() => {
		httpsSandbox.reset();
		httpSandbox.reset();
		proxy.reset();
	});

	afterEach(() => {
		for (const name of PROXY_VARIABLES) {
			if (saved[name] === undefined) delete process.env[name];
			else process.env[name] = saved[name];
		}
	});

	afterAll(async () => {
		await proxy?.stop();
		await httpsSandbox?.stop();
		await httpSandbox?.stop();
	});

	const httpsCredential = (overrides = {}) => ({
		credential: {
			endpoint: onlyViaProxy(httpsSandbox),
			ignoreSslIssues: true,
			...overrides,
		},
	});

	it('an https endpoint is reached through a CONNECT tunnel of HTTPS_PROXY, every call of the run', async () => {
		useEnvironment({ HTTPS_PROXY: proxy.url });
		const items = Array.from({ length: 6 }, (_, index) => ({
			key: uniqueKey(`proxied-${index}`),
			amount: 5,
		}));
		const result = await runAgainst(httpsSandbox, createParameters(), items, httpsCredential());

		expect(result.status).toBe('success');
		expect(jsonOf(result).map((json) => json.status)).toEqual(Array(6).fill('SUCCESS'));
		expect(httpsSandbox.stats()).toMatchObject({ cardsIssued: 6, doubleDebits: [] });
		const tunnels = proxy.requests();
		expect(tunnels.length).toBeGreaterThan(0);
		// Keep-alive: tunnels are reused, never more than one per call.
		expect(tunnels.length).toBeLessThanOrEqual(6);
		for (const tunnel of tunnels)
			expect(tunnel).toEqual({
				method: 'CONNECT',
				target: `${PROXY_HOST}:${httpsSandbox.port}`,
				status: 200,
				authenticated: false,
			});
	});

	it('lower-case https_proxy works the same, and proxy credentials in the URL are sent to the proxy', async () => {
		const guarded = await startForwardProxy({
			hosts: { [PROXY_HOST]: '127.0.0.1' },
			credentials: { username: 'egress', password: PROXY_PASSWORD },
		});
		try {
			useEnvironment({ https_proxy: guarded.urlWithCredentials });
			const result = await runAgainst(
				httpsSandbox,
				createParameters(),
				[{ key: uniqueKey('lower-case'), amount: 5 }],
				httpsCredential(),
			);
			expect(jsonOf(result)[0]).toMatchObject({ status: 'SUCCESS' });
			expect(guarded.requests()).toEqual([
				expect.objectContaining({ method: 'CONNECT', status: 200, authenticated: true }),
			]);
		} finally {
			await guarded.stop();
		}
	});

	it('an http endpoint goes through HTTP_PROXY as absolute-form requests', async () => {
		useEnvironment({ HTTP_PROXY: proxy.url, HTTPS_PROXY: 'http://127.0.0.1:9' });
		const result = await runAgainst(
			httpSandbox,
			createParameters(),
			[{ key: uniqueKey('plain'), amount: 5 }],
			{ credential: { endpoint: onlyViaProxy(httpSandbox) } },
		);
		expect(jsonOf(result)[0]).toMatchObject({ status: 'SUCCESS' });
		expect(proxy.requests()).toEqual([
			{
				method: 'POST',
				target: `http://${PROXY_HOST}:${httpSandbox.port}/CreateGiftCard`,
				status: 200,
				authenticated: false,
			},
		]);
	});

	it('the credential test goes through the proxy too', async () => {
		useEnvironment({ HTTPS_PROXY: proxy.url });
		const result = await testCredential(
			node,
			credentialType,
			endpointCredential(httpsSandbox, {
				endpoint: onlyViaProxy(httpsSandbox),
				ignoreSslIssues: true,
			}),
		);
		expect(result).toEqual({
			status: 'OK',
			message: expect.stringMatching(/^Connected to https:\/\/agcod\.invalid:\d+ /),
		});
		expect(proxy.requests()).toEqual([
			expect.objectContaining({
				method: 'CONNECT',
				target: `${PROXY_HOST}:${httpsSandbox.port}`,
			}),
		]);
	});

	it('NO_PROXY (and no_proxy) is honoured: hosts listed there are called directly', async () => {
		const lists: Array<Record<string, string>> = [
			{ NO_PROXY: '127.0.0.1' },
			{ no_proxy: `localhost, 127.0.0.1:${httpsSandbox.port}` },
		];
		for (const noProxy of lists) {
			proxy.reset();
			useEnvironment({ HTTPS_PROXY: proxy.url, ...noProxy });
			const result = await runAgainst(
				httpsSandbox,
				createParameters(),
				[{ key: uniqueKey('direct'), amount: 5 }],
				{ credential: { ignoreSslIssues: true } },
			);
			expect(jsonOf(result)[0]).toMatchObject({ status: 'SUCCESS' });
			expect(proxy.requests()).toEqual([]);
		}
		// Without NO_PROXY the same endpoint goes through the proxy.
		useEnvironment({ HTTPS_PROXY: proxy.url });
		await runAgainst(
			httpsSandbox,
			createParameters(),
			[{ key: uniqueKey('via') }].map((item) => ({ ...item, amount: 5 })),
			{ credential: { ignoreSslIssues: true } },
		);
		expect(proxy.requests()).toEqual([
			expect.objectContaining({
				method: 'CONNECT',
				target: `127.0.0.1:${httpsSandbox.port}`,
			}),
		]);
	});

	it('proxy down: a retryable connection error naming the proxy, nothing sent, no secret in the message', async () => {
		const closed = new URL(await closedPortUrl());
		useEnvironment({ HTTPS_PROXY: `http://egress:${PROXY_PASSWORD}@${closed.host}` });
		const result = await runAgainst(
			httpsSandbox,
			createParameters({ options: { maxRetries: 1 } }),
			[{ key: uniqueKey('down'), amount: 5 }],
			{ ...httpsCredential(), settings: { onError: 'continueRegularOutput' } },
		);
		const error = itemError(jsonOf(result)[0]);
		expect(error).toMatchObject({ retryable: true, attempts: 2 });
		expect(error.message).toMatch(
			new RegExp(
				`^Item 0: Amazon gave no final answer to CreateGiftCard .*connection error ECONNREFUSED via proxy http://${closed.host}\\b`,
			),
		);
		for (const secret of secrets()) expect(JSON.stringify(error)).not.toContain(secret);
		expect(httpsSandbox.stats().requests).toBe(0);

		const tested = await testCredential(
			node,
			credentialType,
			endpointCredential(httpsSandbox, {
				endpoint: onlyViaProxy(httpsSandbox),
				ignoreSslIssues: true,
			}),
		);
		expect(tested.status).toBe('Error');
		expect(tested.message).toMatch(
			new RegExp(`^Could not reach .*ECONNREFUSED via proxy http://${closed.host}\\b`),
		);
		for (const secret of secrets()) expect(tested.message).not.toContain(secret);
	});

	it('an unreachable proxy never makes an activation ambiguous: no status check, nothing sent', async () => {
		const closed = new URL(await closedPortUrl());
		useEnvironment({ HTTPS_PROXY: closed.href });
		const result = await runAgainst(
			httpsSandbox,
			activateParameters({ options: { maxRetries: 1 } }),
			[{ key: uniqueKey('pos'), cardNumber: '1400000005567585358', amount: 50 }],
			{ ...httpsCredential(), settings: { onError: 'continueRegularOutput' } },
		);
		const error = itemError(jsonOf(result)[0]);
		expect(error).toMatchObject({ retryable: true, attempts: 2 });
		expect(error.message).toContain(`ECONNREFUSED via proxy http://${closed.host}`);
		// The node logs every attempt: two activations, no ActivationStatusCheck between them.
		const attempts = result.logs
			.map((entry) => entry.message)
			.filter((message) => message.startsWith('AGCOD '));
		expect(attempts).toEqual([
			'AGCOD ActivateGiftCard attempt 1: connection',
			'AGCOD ActivateGiftCard attempt 2: connection',
		]);
		expect(httpsSandbox.requests()).toEqual([]);
	});

	it('a proxy that wants credentials: HTTP 407 is final, names the proxy and is not retried', async () => {
		const guarded = await startForwardProxy({
			hosts: { [PROXY_HOST]: '127.0.0.1' },
			credentials: { username: 'egress', password: PROXY_PASSWORD },
		});
		try {
			useEnvironment({
				HTTPS_PROXY: `http://egress:wrong-${PROXY_PASSWORD}@127.0.0.1:${guarded.port}`,
			});
			const result = await runAgainst(
				httpsSandbox,
				createParameters(),
				[{ key: uniqueKey('407'), amount: 5 }],
				{ ...httpsCredential(), settings: { onError: 'continueRegularOutput' } },
			);
			const error = itemError(jsonOf(result)[0]);
			expect(error).toMatchObject({ retryable: false, attempts: 1, httpCode: '407' });
			expect(error.message).toMatch(
				new RegExp(
					`HTTP 407 Proxy Authentication Required: .* \\(via proxy http://127\\.0\\.0\\.1:${guarded.port}\\)$`,
				),
			);
			for (const secret of secrets()) expect(JSON.stringify(error)).not.toContain(secret);
			expect(guarded.requests()).toEqual([expect.objectContaining({ status: 407 })]);
			expect(httpsSandbox.stats().requests).toBe(0);
		} finally {
			await guarded.stop();
		}
	});
});
