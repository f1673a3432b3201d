/**
 * `npm run demo`: a real n8n 2.40.7 with this node, working against the bundled local AGCOD sandbox
 * (no Amazon account needed). It builds the package, installs Node 24 and n8n into a cache outside
 * the repository on the first run, starts the sandbox and an SMTP sink that receives the workflows'
 * e-mails, installs the package from its `npm pack` tarball the way n8n's community-package
 * installer does, imports the credentials and the four example workflows, and starts n8n with an
 * owner account ready to log in. Ctrl-C, or SIGTERM/SIGINT/SIGHUP to the `npm run demo` process,
 * stops everything.
 *
 * `npm run demo -- --headless` does the same setup, runs the referral example once with
 * `n8n execute`, prints the cards issued and the sandbox's counters, and exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { maskClaimCode } from '../../nodes/AmazonIncentives/execute';
import { type RunningSandbox, startSandbox } from '../sandbox';
import {
	cacheDir,
	captureOutput,
	childProcessEnv,
	ensureN8n,
	ensureNode24,
	N8N_VERSION,
	n8nInstallDir,
	node24BinaryPath,
	readMarker,
} from '../e2e/cache';
import { repositoryRoot } from '../e2e/communityPackage';
import { N8nInstance, type N8nRun } from '../e2e/n8nInstance';
import { type ReceivedMail, type SmtpSink, startSmtpSink } from '../e2e/smtpSink';
import {
	EXAMPLE_FILES,
	EXAMPLE_WEBHOOK_PATHS,
	exampleCredentials,
	examplesDir,
	readWorkflowFile,
	posToken,
	WEBHOOK_SECRET_HEADER,
} from '../e2e/workflows';

const DEMO_OWNER = {
	email: 'demo@example.com',
	password: 'Demo-password-1',
	firstName: 'Demo',
	lastName: 'Owner',
};
const DEMO_WEBHOOK_SECRET = 'demo-webhook-secret';
const DEMO_POS_SIGNING_KEY = 'demo-pos-signing-key';
const DEFAULTS = { port: 5678, sandboxPort: 8089, smtpPort: 2525, host: '127.0.0.1' };

interface DemoOptions {
	headless: boolean;
	host: string;
	port: number;
	sandboxPort: number;
	smtpPort: number;
	userFolder: string;
}

const HELP = `Usage: npm run demo -- [options]

  --headless             run the referral example once, print the cards issued, exit
  --port <n>             n8n port (default ${DEFAULTS.port})
  --host <address>       address n8n listens on (default ${DEFAULTS.host}; 0.0.0.0 for remote access)
  --sandbox-port <n>     local AGCOD sandbox port (default ${DEFAULTS.sandboxPort}; 0 = any free port)
  --smtp-port <n>        SMTP sink port (default ${DEFAULTS.smtpPort}; 0 = any free port)
  --user-folder <dir>    n8n user folder, recreated on every run (default .n8n-demo)
  --help                 this text
`;

function parseOptions(argv: string[]): DemoOptions | undefined {
	const { values } = parseArgs({
		args: argv,
		options: {
			headless: { type: 'boolean' },
			host: { type: 'string' },
			port: { type: 'string' },
			'sandbox-port': { type: 'string' },
			'smtp-port': { type: 'string' },
			'user-folder': { type: 'string' },
			help: { type: 'boolean' },
		},
		strict: true,
	});
	if (values.help) return undefined;
	const port = (name: string, value: string | undefined, fallback: number): number => {
		if (value === undefined) return fallback;
		const number = Number(value);
		if (!Number.isInteger(number) || number < 0 || number > 65535)
			throw new Error(`--${name} must be a port number, got '${value}'`);
		return number;
	};
	return {
		headless: values.headless === true,
		host: values.host ?? DEFAULTS.host,
		port: port('port', values.port, DEFAULTS.port),
		sandboxPort: port('sandbox-port', values['sandbox-port'], DEFAULTS.sandboxPort),
		smtpPort: port('smtp-port', values['smtp-port'], DEFAULTS.smtpPort),
		userFolder: path.resolve(values['user-folder'] ?? path.join(repositoryRoot(), '.n8n-demo')),
	};
}

const say = (line = '') => process.stdout.write(`${line}\n`);
let stepNumber = 0;
let interactive = false;
const STEPS = 7;
function step(title: string): void {
	stepNumber++;
	say(`\n[${stepNumber}/${STEPS}] ${title}`);
}

const CLAIM_CODE_IN_TEXT = /\b[A-Z0-9]{4}-[A-Z0-9]{6}-[A-Z0-9]{4}\b/g;

function describeMail(mail: ReceivedMail): string {
	const claimCodes = (mail.text.match(CLAIM_CODE_IN_TEXT) ?? []).map(maskClaimCode);
	const codes = claimCodes.length > 0 ? `, claim code ${claimCodes.join(', ')}` : '';
	return `e-mail to ${mail.to.join(', ')}: "${mail.subject}"${codes}`;
}

async function isPortFree(host: string, port: number): Promise<boolean> {
	return await new Promise<boolean>((resolve) => {
		const server = net.createServer();
		server.once('error', () => resolve(false));
		server.listen(port, host, () => server.close(() => resolve(true)));
	});
}

/** Starts something on the preferred port, or on a free one when it is taken. */
async function onPreferredPort<T>(
	label: string,
	preferred: number,
	start: (port: number) => Promise<T>,
): Promise<T> {
	try {
		return await start(preferred);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || preferred === 0) throw error;
		say(`    port ${preferred} is taken; the ${label} uses a free port instead`);
		return await start(0);
	}
}

/** Marks a folder the demo created, so that only such folders are ever deleted by the next run. */
const DEMO_FOLDER_MARKER = '.amazon-incentives-demo';

function recreateUserFolder(folder: string): void {
	if (fs.existsSync(folder)) {
		const entries = fs.readdirSync(folder);
		if (entries.length > 0 && !entries.includes(DEMO_FOLDER_MARKER)) {
			throw new Error(
				`${folder} exists and was not created by the demo; refusing to delete it. Choose another --user-folder.`,
			);
		}
		fs.rmSync(folder, { recursive: true, force: true });
	}
	fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
	fs.writeFileSync(
		path.join(folder, DEMO_FOLDER_MARKER),
		'Created by npm run demo; deleted by its next run.\n',
	);
}

async function bcryptHash(password: string): Promise<string> {
	// n8n's own bcryptjs, run with the cached Node 24: no extra dependency for the repository.
	const script = "process.stdout.write(require('bcryptjs').hashSync(process.argv[1], 10))";
	return await captureOutput(node24BinaryPath(), ['-e', script, password], {
		cwd: n8nInstallDir(),
		env: childProcessEnv(),
	});
}

function printSandbox(sandbox: RunningSandbox): void {
	say(`    URL            ${sandbox.url}   (introspection: ${sandbox.url}/__sandbox/stats)`);
	say(`    partner ID     ${sandbox.partner.partnerId}`);
	say(`    access key ID  ${sandbox.partner.accessKeyId}`);
	say(`    secret key     ${sandbox.partner.secretAccessKey}   (fake: it only opens this sandbox)`);
	say(
		`    region         ${sandbox.region} (signs as ${sandbox.signingRegion}), ${sandbox.partner.currencyCode}, balance ${sandbox.partner.startingBalance}`,
	);
}

function printStats(sandbox: RunningSandbox): void {
	const stats = sandbox.stats();
	const balance = stats.balances[sandbox.partner.partnerId];
	say(
		`    sandbox: ${stats.requests} request(s), ${stats.cardsIssued} card(s) issued, ` +
			`debited ${JSON.stringify(stats.totalDebited)}, balance ${balance.amount} ${balance.currencyCode}, ` +
			`double debits ${JSON.stringify(stats.doubleDebits)}`,
	);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from n8n's REST API and run data, read freely by the checks
type Json = Record<string, any>;

/** Prints the cards of a referral run; returns how many were issued. */
function printCards(run: N8nRun): number {
	// The referrals that passed the check, in the order the node received them.
	const referrals = (run.nodes['Valid request?']?.outputs[0] ?? []) as Json[];
	const [issued = [], failed = []] = run.nodes['Issue gift card']?.items ?? [];
	// n8n's paired items lead each card back to its referral, also when some items failed.
	const referralOf = (item: { pairedItem?: unknown }) => {
		const index = (item.pairedItem as { item?: number } | undefined)?.item;
		return String((index === undefined ? undefined : referrals[index]?.referralId) ?? '?');
	};
	say(`    ${issued.length} gift card(s) issued, ${failed.length} failed:`);
	say(
		`    ${'referral'.padEnd(10)} ${'gcId'.padEnd(16)} ${'amount'.padEnd(10)} ${'claim code'.padEnd(17)} request ID`,
	);
	for (const item of issued) {
		const card = item.json as Json;
		const amount = `${card.cardInfo?.value?.amount} ${card.cardInfo?.value?.currencyCode}`;
		say(
			`    ${referralOf(item).padEnd(10)} ${String(card.gcId).padEnd(16)} ` +
				`${amount.padEnd(10)} ${maskClaimCode(String(card.gcClaimCode)).padEnd(17)} ${card.requestId}`,
		);
	}
	for (const item of failed) say(`    ${referralOf(item)}: not issued: ${String(item.json.error)}`);
	return issued.length;
}

/** While n8n runs, a stop signal stops everything gracefully; this is set then. */
let onStopSignal: ((reason: string) => void) | undefined;
let stopping = false;
/** The build started by the demo, ended if the demo is stopped while it runs. */
let build: ChildProcess | undefined;

function stop(reason: string): void {
	// Ctrl-C reaches this process twice (from the terminal and relayed by tsx): only the first counts.
	if (stopping) return;
	stopping = true;
	if (onStopSignal) onStopSignal(reason);
	else {
		// During setup: exit at once. The n8n processes and install steps started so far are killed
		// on exit (n8nInstance.ts, cache.ts); the sandbox and the SMTP sink live in this process.
		say(`\nInterrupted (${reason}).`);
		build?.kill('SIGKILL');
		process.exit(130);
	}
}

/** What /proc says about a process: its parent, its state (Z: exited, not yet reaped), its argv. */
function processInfo(pid: number): { ppid: number; state: string; argv: string[] } | undefined {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		// The command name (2nd field) is in parentheses and may contain spaces.
		const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
		return { ppid: Number(ppid), state, argv };
	} catch {
		return undefined;
	}
}

function isNpm(argv: string[]): boolean {
	// npm renames its process to "npm run demo"; otherwise it shows as node running npm-cli.js.
	return (
		/^npm( |$)/.test(argv[0] ?? '') ||
		argv.slice(0, 2).some((arg) => /(^|\/)npm(-cli\.js)?$/.test(arg))
	);
}

/**
 * The processes that launched the demo, nearest first: tsx and npm (the `demo` script execs tsx,
 * so no shell sits between them that would swallow a signal). npm passes SIGINT and SIGTERM on to
 * tsx, which relays them here; SIGHUP, or a SIGKILL, ends npm without passing anything on. So the
 * demo also watches its launchers and stops when one is gone. Without npm among the first
 * ancestors (started through tsx directly, or no /proc), it watches its parent only.
 */
function launcherChain(): number[] {
	const chain: number[] = [];
	let pid = process.ppid;
	for (let depth = 0; depth < 6 && pid > 1; depth++) {
		const info = processInfo(pid);
		chain.push(pid);
		if (!info) break;
		if (isNpm(info.argv)) return chain;
		pid = info.ppid;
	}
	return chain.slice(0, 1);
}

function watchLaunchers(): void {
	const parent = process.ppid;
	const launchers = launcherChain();
	const timer = setInterval(() => {
		const gone =
			process.ppid !== parent ||
			launchers.some((pid) => {
				try {
					process.kill(pid, 0);
				} catch {
					return true;
				}
				return processInfo(pid)?.state === 'Z';
			});
		if (gone) {
			clearInterval(timer);
			stop('the process that started the demo ended');
		}
	}, 500);
	timer.unref();
}

/** `npm run build`, its output shown only when it fails. */
async function buildPackage(): Promise<void> {
	const startedAt = Date.now();
	const output: string[] = [];
	const code = await new Promise<number | null>((resolve, reject) => {
		build = spawn('npm', ['run', 'build'], {
			cwd: repositoryRoot(),
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		build.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
		build.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
		build.on('error', reject);
		build.on('close', (exitCode) => resolve(exitCode));
	});
	build = undefined;
	if (code !== 0) throw new Error(`npm run build failed (exit ${code}):\n${output.join('')}`);
	say(`    dist/ built in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
}

async function main(argv: string[]): Promise<number> {
	const options = parseOptions(argv);
	if (!options) {
		process.stdout.write(HELP);
		return 0;
	}
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
		process.on(signal, () => stop(signal));
	}
	// The terminal or pipe may be gone when the demo is stopped; it still cleans up.
	process.stdout.on('error', () => undefined);
	watchLaunchers();
	say('Amazon Incentives for n8n: demo with a local AGCOD sandbox (no Amazon account needed)');

	step('Building the package (npm run build)');
	await buildPackage();

	step(`Node 24 and n8n ${N8N_VERSION}`);
	if (readMarker(n8nInstallDir())?.n8nVersion !== N8N_VERSION) {
		say(`    First run: installing them into ${cacheDir()}`);
		say('    (about 8 minutes and 3 GB, once; progress below; later runs start in seconds)');
	}
	await ensureNode24();
	await ensureN8n();
	say(`    ready: ${n8nInstallDir()}`);

	if (!options.headless && !(await isPortFree(options.host, options.port))) {
		say(
			`\nPort ${options.port} is in use (another n8n?). Choose another: npm run demo -- --port 5679`,
		);
		return 1;
	}

	step('Local AGCOD sandbox');
	const sandbox = await onPreferredPort('sandbox', options.sandboxPort, (port) =>
		startSandbox({
			port,
			quiet: options.headless,
			log: (line) => say(`    [sandbox] ${line}`),
		}),
	);
	printSandbox(sandbox);

	let smtp: SmtpSink | undefined;
	let n8n: N8nInstance | undefined;
	const cleanup = async () => {
		// stop(), not dispose(): the user folder stays for a look until the next run.
		await n8n?.stop();
		await smtp?.stop();
		await sandbox.stop();
	};
	try {
		step('SMTP sink for the workflows’ e-mails');
		smtp = await onPreferredPort('SMTP sink', options.smtpPort, (port) =>
			startSmtpSink({
				port,
				onMessage: options.headless ? undefined : (mail) => say(`    [smtp] ${describeMail(mail)}`),
			}),
		);
		say(
			`    smtp://${smtp.host}:${smtp.port} (no TLS, no login); e-mails are printed here, claim codes masked`,
		);

		const shownFolder = path.relative(process.cwd(), options.userFolder);
		step(
			`n8n user folder ${shownFolder.startsWith('..') ? options.userFolder : shownFolder} (recreated)`,
		);
		recreateUserFolder(options.userFolder);
		const passwordHash = await bcryptHash(DEMO_OWNER.password);
		n8n = await N8nInstance.create({
			packageLoading: 'communityPackage',
			userFolder: options.userFolder,
			keepUserFolder: true,
			env: {
				// n8n 2.x creates the owner from these at startup, so there is no setup screen.
				N8N_INSTANCE_OWNER_MANAGED_BY_ENV: 'true',
				N8N_INSTANCE_OWNER_EMAIL: DEMO_OWNER.email,
				N8N_INSTANCE_OWNER_PASSWORD_HASH: passwordHash,
				N8N_INSTANCE_OWNER_FIRST_NAME: DEMO_OWNER.firstName,
				N8N_INSTANCE_OWNER_LAST_NAME: DEMO_OWNER.lastName,
			},
		});
		say(
			`    ${n8n.installedPackage?.name}@${n8n.installedPackage?.version} installed from its npm pack tarball ` +
				'as a community package (runtime dependencies only)',
		);

		step('Credentials and the example workflows');
		await n8n.importCredentials(
			exampleCredentials(sandbox, smtp, DEMO_WEBHOOK_SECRET, DEMO_POS_SIGNING_KEY),
		);
		say('    credentials: "Amazon Incentives account" → the sandbox, "SMTP account" → the sink,');
		say(
			`                 "Webhook secret" → header ${WEBHOOK_SECRET_HEADER}: ${DEMO_WEBHOOK_SECRET},`,
		);
		say(`                 "POS signing key" → JWT (HS256) key: ${DEMO_POS_SIGNING_KEY}`);
		const exampleNames = Object.values(EXAMPLE_FILES);
		const ids = await n8n.importWorkflows(
			exampleNames.map((file) => path.join(examplesDir(), file)),
		);
		const idByFile = new Map<string, string>(exampleNames.map((file, index) => [file, ids[index]]));
		const workflowId = (file: string) => idByFile.get(file) as string;
		for (const file of exampleNames) {
			say(`    ${readWorkflowFile(path.join(examplesDir(), file)).name}`);
		}

		if (options.headless) {
			step('Referral example, headless (n8n execute)');
			const run = await n8n.execute(workflowId(EXAMPLE_FILES.referralReward));
			const issued = printCards(run);
			const mails = await smtp.waitForMessages(issued, 10_000).catch(() => smtp!.messages());
			say(`    ${mails.length} e-mail(s) delivered to the SMTP sink:`);
			for (const mail of mails) say(`      ${describeMail(mail)}`);
			printStats(sandbox);
			if (run.status !== 'success' || issued === 0) {
				say(`\nThe referral example did not succeed: ${run.error?.message ?? run.status}`);
				return 1;
			}
			say('\nDone. `npm run demo` (without --headless) opens the same setup in the n8n editor.');
			return 0;
		}

		step('Starting n8n');
		interactive = true;
		for (const file of [
			EXAMPLE_FILES.referralReward,
			EXAMPLE_FILES.bulkIssuance,
			EXAMPLE_FILES.posActivation,
		]) {
			await n8n.publishWorkflow(workflowId(file));
		}
		const server = await n8n.start({ port: options.port, host: options.host });
		await n8n.waitForWebhooks(Object.values(EXAMPLE_WEBHOOK_PATHS));
		const shownHost =
			options.host === '0.0.0.0' || options.host === '127.0.0.1' ? 'localhost' : options.host;
		const url = `http://${shownHost}:${server.port}`;
		const webhook = (webhookPath: string) => `${url}/webhook/${webhookPath}`;
		const secretHeader = `-H '${WEBHOOK_SECRET_HEADER}: ${DEMO_WEBHOOK_SECRET}'`;
		const json = `-H 'Content-Type: application/json'`;
		const posTokenMinutes = 30;
		const saleToken = posToken(DEMO_POS_SIGNING_KEY, { saleId: 'S-1001' }, posTokenMinutes * 60);
		say('');
		say(`  n8n is running. Open ${url}`);
		say(`  Log in as ${DEMO_OWNER.email} with password ${DEMO_OWNER.password}`);
		say('');
		say('  The referral, bulk-issuance and point-of-sale examples are active. Try:');
		say(
			`    curl -s -X POST ${webhook(EXAMPLE_WEBHOOK_PATHS.referralReward)} ${secretHeader} ${json} ` +
				`-d '{"referralId":"ref-42","email":"friend@example.com","name":"Sam"}'`,
		);
		say(
			`    printf 'rewardId,email,name,amount\\nb-1,ada@example.com,Ada,25\\n' > rewards.csv && curl -s ${webhook(EXAMPLE_WEBHOOK_PATHS.bulkIssuance)} ` +
				`${secretHeader} -F file=@rewards.csv`,
		);
		say(
			`    curl -s -X POST ${webhook(EXAMPLE_WEBHOOK_PATHS.posActivate)} -H 'Authorization: Bearer ${saleToken}' ${json} ` +
				`-d '{"saleId":"S-1001","cardNumber":"1400000005567585358","amount":50,"storeId":"STORE042"}'`,
		);
		say(
			`    (the till signs each call: this token is for sale S-1001 only and expires in ${posTokenMinutes} minutes)`,
		);
		say('');
		say(
			'  In the editor, "Execute workflow" on the referral example waits for one call to its test URL:',
		);
		say(
			`    curl -s -X POST ${url}/webhook-test/${EXAMPLE_WEBHOOK_PATHS.referralReward} ${secretHeader} ${json} ` +
				`-d '{"referralId":"ref-43","email":"friend@example.com","name":"Kim"}'`,
		);
		say(
			'  To run its three sample referrals instead, choose "Try it" in the menu next to the button.',
		);
		say('  The daily low-balance alert runs at once.');
		say(`  Sandbox counters: ${sandbox.url}/__sandbox/stats   n8n log: ${n8n.serverLogPath()}`);
		say('  Press Ctrl-C to stop.');
		say('');

		const stopped = await new Promise<{ reason: string } | 'n8n exited'>((resolve) => {
			onStopSignal = (reason) => resolve({ reason });
			void n8n!.serverExit().then(() => resolve('n8n exited'));
		});
		if (stopped === 'n8n exited') {
			say(`\nn8n stopped unexpectedly; see ${n8n.serverLogPath()}`);
			return 1;
		}
		say(`\nStopping n8n, the SMTP sink and the sandbox (${stopped.reason}) …`);
		printStats(sandbox);
		return 0;
	} finally {
		await cleanup();
	}
}

main(process.argv.slice(2))
	.then((code) => {
		if (code === 0 && interactive) say('Stopped cleanly.');
		process.exit(code);
	})
	.catch((error: unknown) => {
		process.stderr.write(
			`\nThe demo failed: ${error instanceof Error ? error.message : String(error)}\n`,
		);
		process.exit(1);
	});
