/**
 * `npm run sandbox -- [flags]`: starts the local AGCOD sandbox and prints what a client needs
 * (URL, partner id, keys, signing region, an n8n credential). Every flag also reads an environment
 * variable: --partner-id ↔ AGCOD_SANDBOX_PARTNER_ID, and so on. Ctrl-C stops it cleanly.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
	DEFAULT_PARTNER,
	DEFAULT_RATE_LIMIT,
	REGION_CURRENCIES,
	SIGNING_SERVICE,
	startSandbox,
	type FaultConfig,
	type RegionGroup,
	type RunningSandbox,
	type SandboxOptions,
} from './index';

export const DEFAULT_CLI_PORT = 8089;

type FlagType = 'string' | 'boolean';
const FLAGS: Record<string, { type: FlagType; help: string }> = {
	host: { type: 'string', help: 'address to listen on (default 127.0.0.1)' },
	port: { type: 'string', help: `port (default ${DEFAULT_CLI_PORT}; 0 = any free port)` },
	https: { type: 'boolean', help: 'serve HTTPS with a generated self-signed certificate' },
	'ca-cert-out': { type: 'string', help: 'with --https: where to write the certificate (PEM)' },
	region: { type: 'string', help: 'region group na | eu | fe (default na)' },
	'partner-id': { type: 'string', help: `partner id (default ${DEFAULT_PARTNER.partnerId})` },
	'access-key-id': {
		type: 'string',
		help: `access key id (default ${DEFAULT_PARTNER.accessKeyId})`,
	},
	'secret-access-key': {
		type: 'string',
		help: 'secret access key (default: a fixed, obviously fake one)',
	},
	currency: { type: 'string', help: "partner currency (default: the region group's first)" },
	balance: { type: 'string', help: 'starting balance in the partner currency (default 1000000)' },
	'amazon-like-funds': {
		type: 'boolean',
		help: "GetAvailableFunds answers 0, like Amazon's sandbox",
	},
	rate: { type: 'string', help: 'requests per second per account (default 10)' },
	burst: { type: 'string', help: 'token-bucket burst (default = --rate)' },
	'funds-rate': { type: 'string', help: 'GetAvailableFunds per second (default 1)' },
	'no-rate-limit': { type: 'boolean', help: 'no throttling at all' },
	latency: { type: 'string', help: 'added latency in ms' },
	'latency-jitter': { type: 'string', help: 'extra random latency, 0..N ms' },
	'resend-rate': { type: 'string', help: 'fraction of first attempts answered RESEND (F400)' },
	'hang-rate': { type: 'string', help: 'fraction committed but never answered' },
	'hang-ms': { type: 'string', help: 'how long a hung socket is held (default 30000)' },
	'reset-rate': { type: 'string', help: 'fraction of connections reset before processing' },
	'html500-rate': { type: 'string', help: 'fraction answered 500 with an HTML body' },
	'truncated-rate': { type: 'string', help: 'fraction committed and answered with half the body' },
	'reset-after-commit-rate': {
		type: 'string',
		help: 'fraction committed, then the connection is dropped at once (answer lost)',
	},
	'failure-rate': {
		type: 'string',
		help: 'fraction answered FAILURE F100 GeneralError without processing',
	},
	'bare429-rate': { type: 'string', help: 'fraction answered HTTP 429 with an empty body' },
	'throttle-header-rate': {
		type: 'string',
		help: 'fraction answered 400 with only an x-amzn-ErrorType: ThrottlingException header',
	},
	'no-load-echo': {
		type: 'boolean',
		help: 'Login & Receive SUCCESS answers leave out loadBalanceRequestId',
	},
	'cancel-window-checked-first': {
		type: 'boolean',
		help: 'a late re-sent cancel of a cancelled card answers CancelRequestArrivedAfterTimeLimit',
	},
	seed: { type: 'string', help: 'seed of the fault RNG' },
	'cancel-window-ms': { type: 'string', help: 'CancelGiftCard window (default 900000)' },
	'max-skew-ms': { type: 'string', help: 'allowed x-amz-date skew (default 300000)' },
	json: {
		type: 'boolean',
		help: 'print one JSON line with the connection details instead of text',
	},
	quiet: { type: 'boolean', help: 'do not log each request' },
	help: { type: 'boolean', help: 'this help' },
};

function envName(flag: string): string {
	return `AGCOD_SANDBOX_${flag.toUpperCase().replace(/-/g, '_')}`;
}

interface CliSettings {
	options: SandboxOptions;
	json: boolean;
	help: boolean;
	caCertOut?: string;
	/** True when the secret came from a flag or the environment (then it is not printed). */
	secretGiven: boolean;
}

function toNumber(flag: string, value: string | undefined): number | undefined {
	if (value === undefined) return undefined;
	const number = Number(value);
	if (value.trim() === '' || !Number.isFinite(number)) {
		throw new Error(`--${flag} needs a number, got '${value}'`);
	}
	return number;
}

/** Flags first, then AGCOD_SANDBOX_* environment variables, then defaults. */
export function parseCliSettings(argv: string[], env: NodeJS.ProcessEnv): CliSettings {
	const { values } = parseArgs({
		args: argv,
		options: Object.fromEntries(Object.entries(FLAGS).map(([name, { type }]) => [name, { type }])),
		strict: true,
		allowPositionals: false,
	});
	const text = (flag: string): string | undefined => {
		const value = values[flag];
		if (typeof value === 'string') return value;
		const fromEnv = env[envName(flag)];
		return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
	};
	const flag = (name: string): boolean => {
		if (values[name] === true) return true;
		const fromEnv = env[envName(name)];
		return fromEnv !== undefined && /^(1|true|yes|on)$/i.test(fromEnv);
	};
	const number = (name: string) => toNumber(name, text(name));

	const region = (text('region') ?? 'na') as RegionGroup;
	if (!Object.hasOwn(REGION_CURRENCIES, region)) {
		throw new Error(`--region must be na, eu or fe, got '${region}'`);
	}
	const secret = text('secret-access-key');
	const faults: FaultConfig = {
		latencyMs: number('latency'),
		latencyJitterMs: number('latency-jitter'),
		resendFirstAttemptRate: number('resend-rate'),
		hangAfterCommitRate: number('hang-rate'),
		hangMs: number('hang-ms'),
		connectionResetRate: number('reset-rate'),
		html500Rate: number('html500-rate'),
		truncatedJsonRate: number('truncated-rate'),
		resetAfterCommitRate: number('reset-after-commit-rate'),
		failureRate: number('failure-rate'),
		bare429Rate: number('bare429-rate'),
		throttleHeaderRate: number('throttle-header-rate'),
		seed: number('seed'),
	};
	for (const key of Object.keys(faults) as Array<keyof FaultConfig>) {
		if (faults[key] === undefined) delete faults[key];
	}
	const rate = number('rate');
	const options: SandboxOptions = {
		host: text('host') ?? '127.0.0.1',
		port: number('port') ?? DEFAULT_CLI_PORT,
		https: flag('https'),
		region,
		partners: [
			{
				partnerId: text('partner-id') ?? DEFAULT_PARTNER.partnerId,
				accessKeyId: text('access-key-id') ?? DEFAULT_PARTNER.accessKeyId,
				secretAccessKey: secret ?? DEFAULT_PARTNER.secretAccessKey,
				currencyCode: text('currency') ?? REGION_CURRENCIES[region][0],
				startingBalance: number('balance') ?? DEFAULT_PARTNER.startingBalance,
			},
		],
		amazonLikeFunds: flag('amazon-like-funds'),
		echoLoadBalanceRequestId: !flag('no-load-echo'),
		cancelWindowCheckedFirst: flag('cancel-window-checked-first'),
		rateLimit: flag('no-rate-limit')
			? false
			: {
					requestsPerSecond: rate ?? DEFAULT_RATE_LIMIT.requestsPerSecond,
					burst: number('burst') ?? rate ?? DEFAULT_RATE_LIMIT.burst,
					availableFundsPerSecond:
						number('funds-rate') ?? DEFAULT_RATE_LIMIT.availableFundsPerSecond,
				},
		faults,
		cancelWindowMs: number('cancel-window-ms'),
		maxClockSkewMs: number('max-skew-ms'),
		quiet: flag('quiet'),
	};
	return {
		options,
		json: flag('json'),
		help: flag('help'),
		caCertOut: text('ca-cert-out'),
		secretGiven: secret !== undefined,
	};
}

function helpText(): string {
	const lines = Object.entries(FLAGS).map(
		([name, { type, help }]) =>
			`  --${name}${type === 'string' ? ' <value>' : ''}`.padEnd(30) +
			`${help}  [${envName(name)}]`,
	);
	return `Local AGCOD (Amazon Incentives API) sandbox.\n\nUsage: npm run sandbox -- [flags]\n\n${lines.join('\n')}\n`;
}

/** The credential as n8n's `import:credentials` takes it (one element of the array). */
function n8nCredential(sandbox: RunningSandbox, secretAccessKey: string) {
	return {
		name: 'AGCOD local sandbox',
		type: 'amazonIncentivesApi',
		data: {
			partnerId: sandbox.partner.partnerId,
			accessKeyId: sandbox.partner.accessKeyId,
			secretAccessKey,
			region: sandbox.region,
			environment: 'custom',
			endpoint: sandbox.url,
		},
	};
}

function describeFaults(faults: FaultConfig): string {
	const entries = Object.entries(faults);
	return entries.length === 0
		? 'none'
		: entries.map(([key, value]) => `${key}=${value}`).join(', ');
}

async function main(
	argv = process.argv.slice(2),
	env = process.env,
): Promise<RunningSandbox | null> {
	const settings = parseCliSettings(argv, env);
	if (settings.help) {
		process.stdout.write(helpText());
		return null;
	}
	const sandbox = await startSandbox(settings.options);
	let caCertPath: string | undefined;
	if (sandbox.caCertPem) {
		caCertPath = settings.caCertOut ?? join(tmpdir(), `agcod-sandbox-${sandbox.port}.pem`);
		await writeFile(caCertPath, sandbox.caCertPem);
	}
	const secretShown = settings.secretGiven
		? '<as given with --secret-access-key / AGCOD_SANDBOX_SECRET_ACCESS_KEY>'
		: sandbox.partner.secretAccessKey;
	const credential = n8nCredential(sandbox, secretShown);

	if (settings.json) {
		process.stdout.write(
			JSON.stringify({
				url: sandbox.url,
				region: sandbox.region,
				signingRegion: sandbox.signingRegion,
				service: SIGNING_SERVICE,
				partnerId: sandbox.partner.partnerId,
				accessKeyId: sandbox.partner.accessKeyId,
				secretAccessKey: secretShown,
				caCertPath,
				credential,
			}) + '\n',
		);
	} else {
		const { options } = settings;
		const rate = options.rateLimit
			? `${options.rateLimit.requestsPerSecond} req/s per account (burst ${options.rateLimit.burst}), ` +
				`GetAvailableFunds ${options.rateLimit.availableFundsPerSecond}/s`
			: 'off';
		const partner = sandbox.partner;
		const lines = [
			`AGCOD sandbox listening on ${sandbox.url}`,
			`  region group    ${sandbox.region} (SigV4 region ${sandbox.signingRegion}, service ${SIGNING_SERVICE})`,
			`  partner id      ${partner.partnerId}`,
			`  access key id   ${partner.accessKeyId}`,
			`  secret key      ${secretShown}`,
			`  balance         ${partner.startingBalance} ${partner.currencyCode}` +
				(options.amazonLikeFunds ? ' (GetAvailableFunds answers 0, Amazon-like)' : ''),
			`  rate limit      ${rate}`,
			`  faults          ${describeFaults(options.faults ?? {})}`,
			...(caCertPath
				? [`  certificate     ${caCertPath}  (e.g. NODE_EXTRA_CA_CERTS=${caCertPath})`]
				: []),
			`  introspection   GET ${sandbox.url}/__sandbox/stats | GET /__sandbox/requests | GET /__sandbox/ledger`,
			`                  POST /__sandbox/reset`,
			`                  POST /__sandbox/config {"faults":{…}} | POST /__sandbox/clock {"advanceMs":n}`,
			'',
			'n8n credential (type amazonIncentivesApi):',
			JSON.stringify(credential, null, 2),
			'',
			'Stop with Ctrl-C.',
		];
		process.stdout.write(lines.join('\n') + '\n');
	}

	let stopping = false;
	const shutdown = (signal: string) => {
		if (stopping) return;
		stopping = true;
		if (!settings.json) process.stdout.write(`\n${signal}: stopping the sandbox\n`);
		void sandbox.stop().then(() => process.exit(0));
	};
	process.on('SIGINT', () => shutdown('SIGINT'));
	process.on('SIGTERM', () => shutdown('SIGTERM'));
	return sandbox;
}

if (require.main === module) {
	main().catch((error: Error) => {
		process.stderr.write(`agcod sandbox: ${error.message}\n`);
		process.exit(1);
	});
}
