/** HTTPS mode with the generated certificate, and the `npm run sandbox` command line. */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { callSandbox, clientFor } from './aws4Client';
import { parseCliSettings } from './cli';
import { DEFAULT_PARTNER, startSandbox } from './index';

const create = (id: string) => ({
	creationRequestId: id,
	partnerId: 'Awssb',
	value: { currencyCode: 'USD', amount: 1 },
});

describe('HTTPS mode', () => {
	it('serves HTTPS with a self-signed certificate that clients can trust', async () => {
		const sandbox = await startSandbox({ https: true, rateLimit: false });
		try {
			expect(sandbox.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
			const certificate = new X509Certificate(sandbox.caCertPem!);
			expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
			expect(certificate.checkHost('localhost')).toBe('localhost');
			expect(new Date(certificate.validTo).getTime()).toBeGreaterThan(
				Date.now() + 24 * 3600 * 1000,
			);

			const call = clientFor(sandbox);
			const card = await call('CreateGiftCard', create('AwssbTls1'));
			expect(card.json.status).toBe('SUCCESS');
			expect((await call('CreateGiftCard', create('AwssbTls1'))).json.gcId).toBe(card.json.gcId);
			expect(sandbox.stats().debits).toBe(1);

			// Without the certificate as trust anchor, TLS verification fails.
			await expect(
				callSandbox(sandbox.url, 'CreateGiftCard', create('AwssbTls2'), {
					credentials: DEFAULT_PARTNER,
					region: sandbox.signingRegion,
				}),
			).rejects.toMatchObject({ code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY/) });
		} finally {
			await sandbox.stop();
		}
	});

	it('injects faults and closes hung TLS sockets on stop()', async () => {
		const sandbox = await startSandbox({
			https: true,
			rateLimit: false,
			faultRules: [
				{ requestIdPattern: '^AwssbTlsReset', faults: { connectionResetRate: 1 } },
				{ requestIdPattern: '^AwssbTlsHang', faults: { hangAfterCommitRate: 1, hangMs: 60000 } },
			],
		});
		const call = clientFor(sandbox);
		await expect(call('CreateGiftCard', create('AwssbTlsReset1'))).rejects.toThrow();
		const hung = call('CreateGiftCard', create('AwssbTlsHang1'), { timeoutMs: 60000 }).catch(
			(error: Error) => error.message,
		);
		while (sandbox.stats().faultsInjected.hang === 0) await new Promise((r) => setTimeout(r, 5));
		await sandbox.stop();
		expect(await hung).toBe('socket hang up');
		expect(sandbox.stats()).toMatchObject({
			faultsInjected: { reset: 1, hang: 1 },
			cardsIssued: 1,
		});
	});
});

describe('command line', () => {
	it('reads flags first, then AGCOD_SANDBOX_* variables, then defaults', () => {
		const settings = parseCliSettings(
			[
				'--port',
				'0',
				'--region',
				'eu',
				'--latency',
				'25',
				'--no-rate-limit',
				'--partner-id',
				'Aptuk',
			],
			{
				AGCOD_SANDBOX_PARTNER_ID: 'Ignored',
				AGCOD_SANDBOX_BALANCE: '500',
				AGCOD_SANDBOX_AMAZON_LIKE_FUNDS: 'true',
				AGCOD_SANDBOX_SECRET_ACCESS_KEY: 'from-env',
				AGCOD_SANDBOX_HANG_RATE: '0.25',
			},
		);
		expect(settings.options).toMatchObject({
			port: 0,
			region: 'eu',
			rateLimit: false,
			amazonLikeFunds: true,
			faults: { latencyMs: 25, hangAfterCommitRate: 0.25 },
			partners: [
				{
					partnerId: 'Aptuk',
					accessKeyId: DEFAULT_PARTNER.accessKeyId,
					secretAccessKey: 'from-env',
					currencyCode: 'EUR',
					startingBalance: 500,
				},
			],
		});
		expect(settings.secretGiven).toBe(true);
		const defaults = parseCliSettings([], {});
		expect(defaults.options).toMatchObject({
			host: '127.0.0.1',
			port: 8089,
			https: false,
			rateLimit: { requestsPerSecond: 10, burst: 10, availableFundsPerSecond: 1 },
			faults: {},
		});
		expect(() => parseCliSettings(['--rate', 'fast'], {})).toThrow(/--rate needs a number/);
		expect(() => parseCliSettings(['--region', 'ap'], {})).toThrow(/na, eu or fe/);
		expect(() => parseCliSettings(['--bogus'], {})).toThrow();
	});

	it('starts with one command, prints its connection details, serves, and stops on SIGINT', async () => {
		const root = join(__dirname, '..', '..');
		const child = spawn(
			process.execPath,
			[
				join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
				join(__dirname, 'cli.ts'),
				'--port',
				'0',
				'--json',
				'--quiet',
			],
			{ cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
		);
		try {
			let timer: NodeJS.Timeout | undefined;
			const firstLine = await new Promise<string>((resolve, reject) => {
				let buffered = '';
				child.stdout.on('data', (chunk: Buffer) => {
					buffered += chunk.toString();
					const newline = buffered.indexOf('\n');
					if (newline !== -1) resolve(buffered.slice(0, newline));
				});
				child.on('exit', (code) => reject(new Error(`sandbox exited early with ${code}`)));
				timer = setTimeout(() => reject(new Error('no output within 20 s')), 20000);
			}).finally(() => clearTimeout(timer));
			const info = JSON.parse(firstLine);
			expect(info).toMatchObject({
				url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
				signingRegion: 'us-east-1',
				service: 'AGCODService',
				partnerId: 'Awssb',
				accessKeyId: DEFAULT_PARTNER.accessKeyId,
				secretAccessKey: DEFAULT_PARTNER.secretAccessKey,
				credential: {
					type: 'amazonIncentivesApi',
					data: { partnerId: 'Awssb', region: 'na', environment: 'custom', endpoint: info.url },
				},
			});
			const card = await callSandbox(info.url, 'CreateGiftCard', create('AwssbCli1'), {
				credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
				region: info.signingRegion,
			});
			expect(card.json.status).toBe('SUCCESS');

			const exitCode = new Promise<number | null>((resolve) =>
				child.on('exit', (code) => resolve(code)),
			);
			child.kill('SIGINT');
			expect(await exitCode).toBe(0);
		} finally {
			if (child.exitCode === null) child.kill('SIGKILL');
		}
	}, 30000);
});
