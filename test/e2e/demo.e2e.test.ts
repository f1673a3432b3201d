/**
 * The README's main command works: `npm run demo -- --headless` builds, sets everything up and
 * prints the cards the referral example issued; `npm run demo` serves an n8n a newcomer can log in
 * to with the printed account, with the examples imported and active, and stops cleanly on Ctrl-C
 * and on any ordinary stop signal sent to the `npm run demo` process alone; `--help` answers at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { findFreePort } from '../support/localServer';
import { childProcessEnv } from './cache';
import { PACKAGE_NAME, repositoryRoot } from './communityPackage';
import { EXAMPLE_FILES, examplesDir, readWorkflowFile } from './workflows';

const UNMASKED_CLAIM_CODE = /\b[A-Z0-9]{4}-[A-Z0-9]{6}-[A-Z0-9]{4}\b/;

interface DemoProcess {
	child: ChildProcess;
	output(): string;
	exit: Promise<number | null>;
}

function startDemo(command: string, args: string[]): DemoProcess {
	// The demo runs as a newcomer's shell would run it: system Node and npm on PATH, no jest env.
	const child = spawn(command, args, {
		cwd: repositoryRoot(),
		env: { ...childProcessEnv(), FORCE_COLOR: '0' },
		detached: true,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let output = '';
	child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
	child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
	const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
	return { child, output: () => output, exit };
}

async function waitForOutput(demo: DemoProcess, pattern: RegExp, timeoutMs: number) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const match = pattern.exec(demo.output());
		if (match) return match;
		if (demo.child.exitCode !== null || Date.now() > deadline) {
			throw new Error(`demo output never matched ${pattern}:\n${demo.output().slice(-3000)}`);
		}
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
}

function killGroup(demo: DemoProcess | undefined): void {
	if (!demo?.child.pid || demo.child.exitCode !== null) return;
	try {
		process.kill(-demo.child.pid, 'SIGKILL');
	} catch {
		// Already gone.
	}
}

/** What /proc says about a process, or undefined when it is gone (or exited, not yet reaped). */
function liveProcess(pid: number): { ppid: number; command: string } | undefined {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		if (state === 'Z') return undefined;
		const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
		return { ppid: Number(ppid), command };
	} catch {
		return undefined;
	}
}

/** Every process descended from `root` (children, grandchildren …), read from /proc. */
function descendants(root: number): Array<{ pid: number; command: string }> {
	const all = fs
		.readdirSync('/proc')
		.filter((name) => /^\d+$/.test(name))
		.map((name) => ({ pid: Number(name), info: liveProcess(Number(name)) }));
	const found: Array<{ pid: number; command: string }> = [];
	const parents = new Set([root]);
	for (let added = true; added;) {
		added = false;
		for (const { pid, info } of all) {
			if (info && parents.has(info.ppid) && !parents.has(pid)) {
				parents.add(pid);
				found.push({ pid, command: info.command });
				added = true;
			}
		}
	}
	return found;
}

async function isListening(port: number): Promise<boolean> {
	return await new Promise<boolean>((resolve) => {
		const socket = net.connect({ port, host: '127.0.0.1' });
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => resolve(false));
	});
}

describe('the demo', () => {
	let userFolder: string;
	let demo: DemoProcess | undefined;

	beforeEach(() => {
		userFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'agcod-demo-'));
	});

	afterEach(() => {
		killGroup(demo);
		demo = undefined;
		fs.rmSync(userFolder, { recursive: true, force: true });
	});

	it('npm run demo -- --headless issues the referral cards and prints them, claim codes masked', async () => {
		demo = startDemo('npm', [
			'run',
			'demo',
			'--',
			'--headless',
			'--sandbox-port',
			'0',
			'--smtp-port',
			'0',
			'--user-folder',
			userFolder,
		]);
		const code = await demo.exit;
		const output = demo.output();
		expect({ code, tail: code === 0 ? '' : output.slice(-3000) }).toEqual({ code: 0, tail: '' });

		expect(output).toContain(`${PACKAGE_NAME}@`);
		expect(output).toContain('3 gift card(s) issued, 0 failed');
		for (const referral of ['ref-1001', 'ref-1002', 'ref-1003']) {
			expect(output).toMatch(
				new RegExp(
					`${referral}\\s+[A-Z0-9]{10,}\\s+10 USD\\s+\\*{4}-\\*{6}-[A-Z0-9]{4}\\s+Awssb[A-Za-z0-9]{35}`,
				),
			);
		}
		expect(output).toContain('3 e-mail(s) delivered to the SMTP sink');
		expect(output).toMatch(/3 card\(s\) issued, debited \{"USD":30\}, .*double debits \[\]/);
		expect(output).not.toMatch(UNMASKED_CLAIM_CODE);
		// It used the folder it was given, not the repository's .n8n-demo.
		expect(fs.existsSync(path.join(userFolder, '.n8n', 'database.sqlite'))).toBe(true);
	});

	it('npm run demo -- --help prints the usage at once, without building', async () => {
		const built = path.join(repositoryRoot(), 'dist', 'nodes', 'AmazonIncentives');
		const builtFile = path.join(built, 'AmazonIncentives.node.js');
		const before = fs.statSync(builtFile).mtimeMs;
		demo = startDemo('npm', ['run', 'demo', '--', '--help']);
		expect(await demo.exit).toBe(0);
		expect(demo.output()).toContain('Usage: npm run demo -- [options]');
		expect(demo.output()).toContain('--headless');
		expect(demo.output()).not.toContain('Building');
		expect(fs.statSync(builtFile).mtimeMs).toBe(before);
	});

	it.each(['SIGTERM', 'SIGHUP', 'SIGINT'] as const)(
		'%s to the npm run demo process alone stops tsx, n8n, its task runner, the sandbox and the SMTP sink',
		async (signal) => {
			const [port, sandboxPort, smtpPort] = [
				await findFreePort(),
				await findFreePort(),
				await findFreePort(),
			];
			demo = startDemo('npm', [
				'run',
				'demo',
				'--',
				'--port',
				String(port),
				'--sandbox-port',
				String(sandboxPort),
				'--smtp-port',
				String(smtpPort),
				'--user-folder',
				userFolder,
			]);
			await waitForOutput(demo, /n8n is running\. Open /, 180_000);
			const npmPid = demo.child.pid as number;
			const processes = descendants(npmPid);
			const commands = processes.map((process) => process.command);
			expect(commands).toEqual(
				expect.arrayContaining([
					expect.stringMatching(/tsx.*test\/demo\/demo\.ts/),
					expect.stringMatching(/n8n start$/),
					expect.stringMatching(/task-runner|runners/),
				]),
			);
			const ports = [port, sandboxPort, smtpPort];
			for (const listening of ports) expect(await isListening(listening)).toBe(true);

			// Only npm's PID, as a process manager or `kill <pid>` would do it (not the group).
			process.kill(npmPid, signal);
			// 'close' comes when every process holding npm's output pipes (npm, sh, tsx, demo) is gone.
			let timer: NodeJS.Timeout | undefined;
			const closed = await Promise.race([
				demo.exit.then(() => 'closed'),
				new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 60_000))),
			]);
			clearTimeout(timer);
			expect({ closed, tail: closed === 'closed' ? '' : demo.output().slice(-2000) }).toEqual({
				closed: 'closed',
				tail: '',
			});
			const deadline = Date.now() + 20_000;
			let alive = processes.filter(({ pid }) => liveProcess(pid));
			let busy = ports;
			while ((alive.length > 0 || busy.length > 0) && Date.now() < deadline) {
				await new Promise((resolve) => setTimeout(resolve, 250));
				alive = processes.filter(({ pid }) => liveProcess(pid));
				busy = [];
				for (const listening of ports) if (await isListening(listening)) busy.push(listening);
			}
			expect({ alive, busy }).toEqual({ alive: [], busy: [] });
			expect(demo.output()).toContain('Stopped cleanly.');
		},
	);

	it('refuses to recreate a user folder it did not create', async () => {
		const precious = path.join(userFolder, 'precious.txt');
		fs.writeFileSync(precious, 'not the demo’s');
		demo = startDemo(path.join(repositoryRoot(), 'node_modules', '.bin', 'tsx'), [
			'test/demo/demo.ts',
			'--headless',
			'--sandbox-port',
			'0',
			'--smtp-port',
			'0',
			'--user-folder',
			userFolder,
		]);
		expect(await demo.exit).toBe(1);
		expect(demo.output()).toContain('was not created by the demo; refusing to delete it');
		expect(fs.readFileSync(precious, 'utf8')).toBe('not the demo’s');
	});

	it('npm run demo serves n8n with the owner login, the examples active, and stops on Ctrl-C', async () => {
		const port = await findFreePort();
		demo = startDemo(path.join(repositoryRoot(), 'node_modules', '.bin', 'tsx'), [
			'test/demo/demo.ts',
			'--port',
			String(port),
			'--sandbox-port',
			'0',
			'--smtp-port',
			'0',
			'--user-folder',
			userFolder,
		]);
		const [, url] = await waitForOutput(demo, /n8n is running\. Open (http:\/\/\S+)/, 180_000);
		const [, email, password] = await waitForOutput(
			demo,
			/Log in as (\S+) with password (\S+)/,
			1000,
		);
		const [, secretHeader, secret] = await waitForOutput(
			demo,
			/-H '(X-Webhook-Secret): ([^']+)'/,
			1000,
		);
		expect(url).toBe(`http://localhost:${port}`);
		const base = `http://127.0.0.1:${port}`;

		// The printed login works.
		const browserId = 'e2e-demo-browser';
		const login = await fetch(`${base}/rest/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'browser-id': browserId },
			body: JSON.stringify({ emailOrLdapLoginId: email, password }),
		});
		expect(login.status).toBe(200);
		const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
		expect(cookie).toMatch(/^n8n-auth=/);
		const rest = async (route: string) => {
			const response = await fetch(`${base}${route}`, {
				headers: { cookie, 'browser-id': browserId },
			});
			expect({ route, status: response.status }).toEqual({ route, status: 200 });
			// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from n8n's REST API
			return (await response.json()) as { data: Array<Record<string, any>> };
		};

		// The examples are there, the webhook ones published; the credentials too.
		const workflows = (await rest('/rest/workflows')).data;
		const expectedNames = Object.values(EXAMPLE_FILES).map(
			(file) => readWorkflowFile(path.join(examplesDir(), file)).name,
		);
		expect(workflows.map((workflow) => workflow.name).sort()).toEqual(expectedNames.sort());
		const published = workflows.filter((workflow) => workflow.activeVersionId).map((w) => w.name);
		expect(published.sort()).toEqual(
			[EXAMPLE_FILES.referralReward, EXAMPLE_FILES.bulkIssuance, EXAMPLE_FILES.posActivation]
				.map((file) => readWorkflowFile(path.join(examplesDir(), file)).name)
				.sort(),
		);
		const credentials = (await rest('/rest/credentials')).data;
		expect(credentials.map((credential) => `${credential.type}:${credential.name}`).sort()).toEqual(
			[
				'amazonIncentivesApi:Amazon Incentives account',
				'httpHeaderAuth:Webhook secret',
				'jwtAuth:POS signing key',
				'smtp:SMTP account',
			],
		);

		// The printed referral webhook call works, and the demo prints the e-mail with the code masked.
		const referral = await fetch(`${base}/webhook/referral-reward`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', [secretHeader]: secret },
			body: JSON.stringify({ referralId: 'ref-42', email: 'friend@example.com', name: 'Sam' }),
		});
		expect(referral.status).toBe(200);
		expect(await referral.json()).toMatchObject({ status: 'sent', referralId: 'ref-42' });
		await waitForOutput(
			demo,
			/\[smtp\] e-mail to friend@example\.com: "Your 10 USD Amazon gift card", claim code \*{4}-\*{6}-[A-Z0-9]{4}/,
			15_000,
		);

		// "Execute workflow" in the editor starts the referral example from its webhook (n8n picks a
		// webhook trigger over a manual one) and waits for a call to the test URL; the printed test
		// curl line makes that call.
		const [, testUrl, testHeader, testSecret, testBody] = await waitForOutput(
			demo,
			/curl -s -X POST (\S+\/webhook-test\/\S+) -H '([^:]+): ([^']+)' -H 'Content-Type: application\/json' -d '([^']+)'/,
			1000,
		);
		const referralWorkflow = workflows.find(
			(workflow) =>
				workflow.name ===
				readWorkflowFile(path.join(examplesDir(), EXAMPLE_FILES.referralReward)).name,
		);
		const listen = await fetch(`${base}/rest/workflows/${referralWorkflow?.id}/run`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', cookie, 'browser-id': browserId },
			body: JSON.stringify({ triggerToStartFrom: { name: 'Referral webhook' } }),
		});
		expect(listen.status).toBe(200);
		expect(await listen.json()).toEqual({ data: { waitingForWebhook: true } });
		const testCall = await fetch(testUrl.replace(/^http:\/\/localhost:/, 'http://127.0.0.1:'), {
			method: 'POST',
			headers: { 'content-type': 'application/json', [testHeader]: testSecret },
			body: testBody,
		});
		expect(testCall.status).toBe(200);
		expect(await testCall.json()).toMatchObject({ status: 'sent', referralId: 'ref-43' });

		// Ctrl-C: the terminal signals the whole process group.
		process.kill(-(demo.child.pid as number), 'SIGINT');
		let timer: NodeJS.Timeout | undefined;
		const code = await Promise.race([
			demo.exit,
			new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 60_000))),
		]);
		clearTimeout(timer);
		expect({ code, tail: code === 0 ? '' : demo.output().slice(-2000) }).toEqual({
			code: 0,
			tail: '',
		});
		expect(demo.output()).toContain('Stopped cleanly.');
		expect(demo.output()).not.toMatch(UNMASKED_CLAIM_CODE);
		await expect(fetch(`${base}/healthz`)).rejects.toThrow();
	});
});
