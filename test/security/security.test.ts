/**
 * Secrets never leave: across every error path (AGCOD refusals, bad keys, throttling, timeouts, resets,
 * HTML 500s, truncated JSON, bad input, credential problems, credential tests, an endpoint that echoes
 * what it was sent), no error message, error item, thrown error, stored run data or log line may contain
 * the secret key, a SigV4 Authorization header or signature, or a claim code the sandbox issued.
 */
import * as http from 'node:http';
import { inspect } from 'node:util';

import type { IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';

import {
	credentialType,
	createParameters,
	jsonOf,
	node,
	runAgainst,
	useSandbox,
} from '../integration/helpers';
import type { RunningSandbox, SandboxConfigChange } from '../sandbox';
import { clientFor } from '../sandbox/aws4Client';
import { endpointCredential } from '../support/credentials';
import { closedPortUrl, type LocalServer, listenLocally } from '../support/localServer';
import { type RunNodeResult, runNode, testCredential } from '../support/n8nHarness';

const SECRET = 'Sec/ret+Key0NeverLeak/ZZ9876543210abcdefXYZ';
const WRONG_SECRET = 'Wrong/Secret+Key0AlsoNeverLeak/1234567890ab';
const ACCESS_KEY = 'AKIASECURITYSUITE001';
const PARTNER = 'Awssb';

const ERROR_OUTPUT = { settings: { onError: 'continueErrorOutput' as const } };
const FAST = { requestsPerSecond: 100, timeout: 300, maxRetries: 1, retryBudget: 5 };

let keyCounter = 0;
const freshKey = (label: string) => `${label}-${process.pid}-${++keyCounter}`;

/** Every text a user, a log shipper or the execution store could see; Errors with their hidden parts. */
function exposedTexts(result: RunNodeResult, options: { includeSuccessItems: boolean }): string[] {
	const texts: string[] = [];
	const items: INodeExecutionData[] = [...result.main, ...result.errorOutput].filter(
		(item) => options.includeSuccessItems || item.json.status !== 'SUCCESS',
	);
	for (const item of items) texts.push(safeJson(item), inspect(item, { depth: 8 }));
	const error = result.error as (Error & IDataObject) | undefined;
	if (error) {
		texts.push(
			error.message,
			String(error.description ?? ''),
			error.stack ?? '',
			safeJson(error),
			safeJson(error.messages),
			safeJson(error.errorResponse),
			safeJson(error.context),
			inspect(error, { depth: 8 }),
		);
	}
	texts.push(safeJson(result.logs));
	return texts;
}

/** JSON.stringify that survives cycles (n8n errors can hold references back to the node). */
function safeJson(value: unknown): string {
	const seen = new WeakSet<object>();
	return (
		JSON.stringify(value, (_key, inner: unknown) => {
			if (inner !== null && typeof inner === 'object') {
				if (seen.has(inner)) return '[cycle]';
				seen.add(inner);
			}
			return inner;
		}) ?? ''
	);
}

const AUTHORIZATION_HEADER = /AWS4-HMAC-SHA256\s+Credential=/i;
const SIGNATURE_VALUE = /Signature=\s*[0-9a-f]{8,}/i;

function expectNothingSecret(texts: string[], claimCodes: Iterable<string>, extra: string[] = []) {
	const everything = texts.join('\n');
	for (const secret of [SECRET, WRONG_SECRET, encodeURIComponent(SECRET), ...extra])
		expect(everything).not.toContain(secret);
	expect(everything).not.toMatch(AUTHORIZATION_HEADER);
	expect(everything).not.toMatch(SIGNATURE_VALUE);
	for (const code of claimCodes) expect(everything).not.toContain(code);
}

/**
 * The claim codes of every card the sandbox committed in this test, asked for again with the original
 * request ids (AGCOD returns the same code); this includes cards whose answer the node never saw.
 */
async function claimCodesIssued(sandbox: RunningSandbox): Promise<string[]> {
	sandbox.configure({ faults: {}, faultRules: [], rateLimit: false });
	const ids = new Set(
		sandbox
			.requests()
			.filter((request) => request.operation === 'CreateGiftCard' && request.status === 'SUCCESS')
			.map((request) => request.requestId!)
			.filter((requestId) => !/^F\d{4}$/.test(requestId)),
	);
	const call = clientFor(sandbox);
	const codes: string[] = [];
	for (const creationRequestId of ids) {
		const answer = await call('CreateGiftCard', {
			creationRequestId,
			partnerId: PARTNER,
			value: { currencyCode: 'USD', amount: 10 },
		});
		expect(answer.json?.status).toBe('SUCCESS');
		codes.push(answer.json.gcClaimCode as string);
	}
	return codes;
}

interface Scenario {
	what: string;
	sandboxConfig?: SandboxConfigChange;
	parameters: INodeParameters;
	items: () => IDataObject[];
	credential?: IDataObject;
}

const create = (options: IDataObject = {}) =>
	createParameters({ options: { ...FAST, ...options } });

const SCENARIOS: Scenario[] = [
	{
		what: 'AGCOD FAILURE answers (mock ids)',
		parameters: {
			...create(),
			requestIdMode: 'explicit',
			requestId: '={{ $json.requestId }}',
		},
		items: () =>
			['F1000', 'F2003', 'F2015', 'F3003', 'F5000'].map((requestId) => ({ requestId, amount: 10 })),
	},
	{
		what: 'a wrong secret key',
		parameters: create(),
		items: () => [{ key: freshKey('wrong-secret'), amount: 10 }],
		credential: { secretAccessKey: WRONG_SECRET },
	},
	{
		what: 'an unknown access key id',
		parameters: create(),
		items: () => [{ key: freshKey('unknown-key'), amount: 10 }],
		credential: { accessKeyId: 'AKIAUNKNOWNKEY000001' },
	},
	{
		what: 'throttling until the retry budget runs out',
		sandboxConfig: { rateLimit: { requestsPerSecond: 1, burst: 1, availableFundsPerSecond: 1 } },
		// Throttles do not use up Max Retries; the retry budget (1 s) ends them.
		parameters: create({ retryBudget: 1 }),
		items: () => Array.from({ length: 6 }, () => ({ key: freshKey('throttled'), amount: 10 })),
	},
	{
		what: 'timeouts after the sandbox committed the card',
		sandboxConfig: { faults: { hangAfterCommitRate: 1, hangMs: 500 } },
		parameters: create({ timeout: 200 }),
		items: () => [{ key: freshKey('timeout'), amount: 10 }],
	},
	{
		what: 'connection resets',
		sandboxConfig: { faults: { connectionResetRate: 1 } },
		parameters: create(),
		items: () => [{ key: freshKey('reset'), amount: 10 }],
	},
	{
		what: 'HTML 500 pages',
		sandboxConfig: { faults: { html500Rate: 1 } },
		parameters: create(),
		items: () => [{ key: freshKey('html'), amount: 10 }],
	},
	{
		what: 'truncated JSON carrying half a committed card',
		sandboxConfig: { faults: { truncatedJsonRate: 1 } },
		parameters: create(),
		items: () => [{ key: freshKey('truncated'), amount: 10 }],
	},
	{
		what: 'bad input',
		parameters: create(),
		items: () => [
			{ key: freshKey('bad'), amount: 'ten' },
			{ key: freshKey('bad'), amount: 10, currency: 'EUR' },
			{ key: '', amount: 10 },
		],
	},
	{
		what: 'an activation of an invalidated card, and one whose answer is lost',
		sandboxConfig: { faults: { hangAfterCommitRate: 1, hangMs: 500 } },
		parameters: {
			resource: 'physicalCard',
			operation: 'activate',
			cardNumber: '={{ $json.cardNumber }}',
			amount: 20,
			currencyCode: 'USD',
			idempotencyKey: '={{ $json.key }}',
			options: { ...FAST, timeout: 200 },
		},
		items: () => [
			{ key: freshKey('invalidated'), cardNumber: '1400000009999990001' },
			{ key: freshKey('lost'), cardNumber: '1400000005567585358' },
		],
	},
	{
		what: 'a credential with an invalid partner id',
		parameters: create(),
		items: () => [{ key: freshKey('partner'), amount: 10 }],
		credential: { partnerId: 'not-a-partner' },
	},
	{
		what: 'a custom endpoint pointing at Amazon production',
		parameters: create(),
		items: () => [{ key: freshKey('prod'), amount: 10 }],
		credential: { endpoint: 'https://agcod-v2.amazon.com.' },
	},
];

describe('secrets and claim codes never appear in errors, error items, run data or logs', () => {
	const sandbox = useSandbox({
		partners: [{ partnerId: PARTNER, accessKeyId: ACCESS_KEY, secretAccessKey: SECRET }],
	});

	it('a successful run logs no claim code, secret or signature', async () => {
		const result = await runAgainst(
			sandbox(),
			create(),
			[1, 2, 3].map(() => ({ key: freshKey('ok'), amount: 10 })),
		);
		const codes = jsonOf(result).map((json) => json.gcClaimCode as string);
		expect(codes.every((code) => /^[A-Z0-9-]{10,}$/.test(code))).toBe(true);
		expect(result.logs.length).toBeGreaterThan(0);
		expectNothingSecret([safeJson(result.logs)], codes);
		// The run data n8n stores holds the codes the user asked for, but never a secret.
		expectNothingSecret([safeJson(result.raw)], []);
	});

	it.each(['mask', 'omit'])(
		'claimCodeOutput %s keeps the code out of the output too',
		async (mode) => {
			const result = await runAgainst(sandbox(), create({ claimCodeOutput: mode }), [
				{ key: freshKey(mode), amount: 10 },
			]);
			expect(jsonOf(result)[0].status).toBe('SUCCESS');
			const codes = await claimCodesIssued(sandbox());
			expect(codes).toHaveLength(1);
			expectNothingSecret(exposedTexts(result, { includeSuccessItems: true }), codes);
			expectNothingSecret([safeJson(result.raw)], codes);
		},
	);

	it.each(SCENARIOS.map((scenario) => [scenario.what, scenario] as const))(
		'%s',
		async (_what, scenario) => {
			sandbox().configure({
				faults: {},
				faultRules: [],
				rateLimit: false,
				...scenario.sandboxConfig,
			});
			const extra = { credential: scenario.credential };
			const continued = await runAgainst(sandbox(), scenario.parameters, scenario.items(), {
				...ERROR_OUTPUT,
				...extra,
			});
			const stopped = await runAgainst(sandbox(), scenario.parameters, scenario.items(), extra);
			// Every scenario fails at least one item, or the test would prove nothing.
			expect(continued.errorOutput.length + (continued.error ? 1 : 0)).toBeGreaterThan(0);
			expect(stopped.status).toBe('error');

			const codes = await claimCodesIssued(sandbox());
			for (const result of [continued, stopped]) {
				expectNothingSecret(exposedTexts(result, { includeSuccessItems: false }), codes);
				expectNothingSecret([safeJson(result.raw)], []);
			}
		},
	);

	it('credential tests say what is wrong without the secret', async () => {
		const messages: string[] = [];
		const check = async (change: IDataObject) => {
			const outcome = await testCredential(
				node,
				credentialType,
				endpointCredential(sandbox(), change),
			);
			messages.push(safeJson(outcome));
			return outcome;
		};
		expect((await check({})).status).toBe('OK');
		expect((await check({ secretAccessKey: WRONG_SECRET })).status).toBe('Error');
		expect((await check({ accessKeyId: 'AKIAUNKNOWNKEY000001' })).status).toBe('Error');
		expect((await check({ endpoint: await closedPortUrl() })).status).toBe('Error');
		expect((await check({ partnerId: 'bad' })).status).toBe('Error');
		expect((await check({ endpoint: 'https://agcod-v2.amazon.com' })).status).toBe('Error');
		expectNothingSecret(messages, []);
	});
});

describe('an endpoint that echoes the request it was sent', () => {
	let server: LocalServer | undefined;
	let url: string;
	const authorizations: string[] = [];
	// Mimics a proxy or gateway that puts the request's headers and body into its error message.
	beforeAll(async () => {
		const echoing = http.createServer((incoming, outgoing) => {
			const chunks: Buffer[] = [];
			incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
			incoming.on('end', () => {
				const authorization = String(incoming.headers.authorization ?? '');
				authorizations.push(authorization);
				const echo = `Rejected request. Authorization: ${authorization}; x-amz-date: ${String(incoming.headers['x-amz-date'])}; body: ${Buffer.concat(chunks).toString('utf8')}`;
				const status = incoming.url === '/GetAvailableFunds' ? 403 : 400;
				outgoing.writeHead(status, { 'content-type': 'application/json' });
				outgoing.end(JSON.stringify({ message: echo }));
			});
		});
		server = await listenLocally(echoing);
		url = server.url;
	});
	afterAll(() => server?.stop());

	const credential = () =>
		endpointCredential({
			url,
			region: 'na',
			partner: { partnerId: PARTNER, accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
		});
	const signaturesSeen = () =>
		authorizations.map((header) => /Signature=([0-9a-f]+)/.exec(header)?.[1] ?? '').filter(Boolean);

	it('the node removes the Authorization header and its signature from the echoed message', async () => {
		for (const settings of [ERROR_OUTPUT.settings, undefined]) {
			const result = await runNode({
				node,
				parameters: create(),
				items: [{ key: freshKey('echo'), amount: 10 }],
				credentials: { type: credentialType, data: credential() },
				settings,
			});
			expect(authorizations.length).toBeGreaterThan(0);
			expectNothingSecret(
				exposedTexts(result, { includeSuccessItems: false }),
				[],
				signaturesSeen(),
			);
			expectNothingSecret([safeJson(result.raw)], [], signaturesSeen());
		}
	});

	it('the credential test removes them too', async () => {
		const outcome = await testCredential(node, credentialType, credential());
		expect(outcome.status).toBe('Error');
		expect(authorizations.length).toBeGreaterThan(0);
		expectNothingSecret([safeJson(outcome)], [], signaturesSeen());
	});
});
