/**
 * The out-of-repository cache that holds Node 24 and n8n for the real-n8n end-to-end tests.
 *
 * n8n 2.x needs Node >= 24 and is ~2.8 GB, so it is never a dependency of this package: it is
 * installed once per machine into `cacheDir()` and reused. Every install step is idempotent (a
 * completion marker is written last, so an interrupted install is redone) and guarded by a lock
 * directory, so parallel callers (jest globalSetup, `.ci/run`, the demo) never race.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The one pinned n8n version (2.41.x does not install from the registry: a dependency is missing). */
export const N8N_VERSION = '2.40.7';
/** npm package that ships a Node 24 binary (its install script fetches `node-<platform>-<arch>`). */
export const NODE24_PACKAGE_SPEC = 'node@24';
/** Written last into an install directory; its absence means "not installed or half-installed". */
export const COMPLETION_MARKER = '.install-complete.json';

const LOG_PREFIX = '[n8n-cache]';
const LOCK_TIMEOUT_MS = 60 * 60 * 1000;
const STALE_LOCK_WITHOUT_OWNER_MS = 60 * 1000;
const HEARTBEAT_MS = 30 * 1000;
const OUTPUT_TAIL_LINES = 40;

export function cacheDir(): string {
	const override = process.env.AGCOD_N8N_CACHE;
	if (override) return path.resolve(override);
	return path.join(os.homedir(), '.cache', 'n8n-nodes-amazon-incentives');
}

export function node24Dir(): string {
	return path.join(cacheDir(), 'node24');
}

export function node24BinaryPath(): string {
	return path.join(node24Dir(), 'node_modules', 'node', 'bin', 'node');
}

/** Directory to put first on PATH so that `node` (and npm's `#!/usr/bin/env node`) is Node 24. */
export function node24BinDir(): string {
	return path.dirname(node24BinaryPath());
}

export function n8nInstallDir(): string {
	return path.join(cacheDir(), `n8n-${N8N_VERSION}`);
}

/** The n8n CLI script; run it as `<node24> <n8nBinPath()> <command>`. */
export function n8nBinPath(): string {
	return path.join(n8nInstallDir(), 'node_modules', 'n8n', 'bin', 'n8n');
}

/**
 * The platform package installed next to the Node 24 binary is a full Node distribution, headers
 * included: node-gyp builds sqlite3 against them instead of downloading headers from nodejs.org.
 */
export function node24HeadersDir(): string | undefined {
	const platformPackages = path.join(node24Dir(), 'node_modules', 'node', 'node_modules');
	if (!fs.existsSync(platformPackages)) return undefined;
	for (const entry of fs.readdirSync(platformPackages)) {
		const candidate = path.join(platformPackages, entry);
		if (entry.startsWith('node-') && fs.existsSync(path.join(candidate, 'include', 'node'))) {
			return candidate;
		}
	}
	return undefined;
}

/** npm settings about reaching the registry, kept when the rest of npm's exported config is not. */
const NETWORK_NPM_SETTINGS = new Set(
	[
		'registry',
		'cafile',
		'ca',
		'strict_ssl',
		'proxy',
		'https_proxy',
		'noproxy',
		'cache',
		'userconfig',
	].map((name) => `npm_config_${name}`),
);

/**
 * Environment for npm and n8n child processes: the caller's environment without the settings an
 * enclosing `npm run` / jest exports (npm_config_ignore_scripts from the repo .npmrc, NODE_ENV=test,
 * …), with Node 24 first on PATH.
 */
export function childProcessEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		const lower = key.toLowerCase();
		if (lower.startsWith('npm_') && !NETWORK_NPM_SETTINGS.has(lower)) continue;
		if (key === 'INIT_CWD' || key === 'NODE_ENV') continue;
		if (key.startsWith('JEST_')) continue;
		env[key] = value;
	}
	env.PATH = [node24BinDir(), process.env.PATH ?? ''].filter(Boolean).join(path.delimiter);
	for (const [key, value] of Object.entries(extra)) {
		if (value === undefined) delete env[key];
		else env[key] = value;
	}
	return env;
}

export function progress(message: string): void {
	process.stderr.write(`${LOG_PREFIX} ${message}\n`);
}

function seconds(sinceMs: number): string {
	return `${((Date.now() - sinceMs) / 1000).toFixed(1)} s`;
}

interface StepOptions {
	cwd: string;
	env?: NodeJS.ProcessEnv;
	/** Where the full output goes; the error message carries only its tail. */
	logFile: string;
}

/** Runs one install step, streaming its output to a log file, with timing and a heartbeat. */
export async function runStep(
	label: string,
	command: string,
	args: string[],
	options: StepOptions,
): Promise<void> {
	const startedAt = Date.now();
	progress(`${label} …`);
	fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
	const log = fs.createWriteStream(options.logFile, { flags: 'w' });
	log.write(`$ ${command} ${args.join(' ')}\n# cwd: ${options.cwd}\n`);
	const tail: string[] = [];
	let partialLine = '';
	const collect = (chunk: Buffer) => {
		log.write(chunk);
		const lines = (partialLine + chunk.toString('utf8')).split('\n');
		partialLine = lines.pop() ?? '';
		tail.push(...lines);
		if (tail.length > OUTPUT_TAIL_LINES) tail.splice(0, tail.length - OUTPUT_TAIL_LINES);
	};
	const heartbeat = setInterval(
		() => progress(`${label}: still running (${seconds(startedAt)})`),
		HEARTBEAT_MS,
	);
	try {
		const exitCode = await new Promise<number | string>((resolve, reject) => {
			const child = spawn(command, args, {
				cwd: options.cwd,
				env: options.env ?? childProcessEnv(),
				stdio: ['ignore', 'pipe', 'pipe'],
			});
			child.stdout.on('data', collect);
			child.stderr.on('data', collect);
			child.on('error', reject);
			child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
		});
		if (partialLine) tail.push(partialLine);
		if (exitCode !== 0) {
			throw new Error(
				`${label} failed (exit ${exitCode}) after ${seconds(startedAt)}. ` +
					`Full output: ${options.logFile}\n--- last lines ---\n${tail.join('\n')}`,
			);
		}
		progress(`${label}: done in ${seconds(startedAt)}`);
	} finally {
		clearInterval(heartbeat);
		await new Promise<void>((resolve) => log.end(resolve));
	}
}

/** Runs a command to completion and returns its trimmed stdout (for short verification calls). */
export async function captureOutput(
	command: string,
	args: string[],
	options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
	return await new Promise<string>((resolve, reject) => {
		const child = spawn(command, args, {
			cwd: options.cwd,
			env: options.env ?? childProcessEnv(),
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
		child.on('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			if (code === 0) resolve(stdout.trim());
			else {
				const output = `${stdout}\n${stderr}`.trim().split('\n').slice(-20).join('\n');
				reject(new Error(`${command} ${args.join(' ')} exited ${code ?? signal}:\n${output}`));
			}
		});
	});
}

interface LockOwner {
	pid: number;
	hostname: string;
	since: string;
}

function isProcessAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

function readLockOwner(lockDir: string): LockOwner | undefined {
	try {
		return JSON.parse(fs.readFileSync(path.join(lockDir, 'owner.json'), 'utf8')) as LockOwner;
	} catch {
		return undefined;
	}
}

function isStaleLock(lockDir: string): boolean {
	const owner = readLockOwner(lockDir);
	if (owner) return owner.hostname === os.hostname() && !isProcessAlive(owner.pid);
	// The owner file is written right after mkdir; a lock without one for long is a crash leftover.
	try {
		return Date.now() - fs.statSync(lockDir).mtimeMs > STALE_LOCK_WITHOUT_OWNER_MS;
	} catch {
		return false;
	}
}

/** mkdir is atomic: the process that creates the lock directory owns the install. */
export async function withLock<T>(name: string, action: () => Promise<T>): Promise<T> {
	fs.mkdirSync(cacheDir(), { recursive: true });
	const lockDir = path.join(cacheDir(), `${name}.lock`);
	const waitingSince = Date.now();
	let lastNotice = 0;
	for (;;) {
		try {
			fs.mkdirSync(lockDir);
			const owner: LockOwner = {
				pid: process.pid,
				hostname: os.hostname(),
				since: new Date().toISOString(),
			};
			fs.writeFileSync(path.join(lockDir, 'owner.json'), JSON.stringify(owner));
			break;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
		}
		if (isStaleLock(lockDir)) {
			progress(`removing stale lock ${lockDir}`);
			fs.rmSync(lockDir, { recursive: true, force: true });
			continue;
		}
		if (Date.now() - waitingSince > LOCK_TIMEOUT_MS) {
			throw new Error(
				`Timed out waiting for ${lockDir} (held by ${JSON.stringify(readLockOwner(lockDir))})`,
			);
		}
		if (Date.now() - lastNotice > HEARTBEAT_MS) {
			const owner = readLockOwner(lockDir);
			progress(`waiting for another install (${name}, pid ${owner?.pid ?? '?'}) to finish …`);
			lastNotice = Date.now();
		}
		await new Promise((resolve) => setTimeout(resolve, 1000));
	}
	try {
		return await action();
	} finally {
		fs.rmSync(lockDir, { recursive: true, force: true });
	}
}

export function readMarker(installDir: string): Record<string, unknown> | undefined {
	try {
		return JSON.parse(fs.readFileSync(path.join(installDir, COMPLETION_MARKER), 'utf8')) as Record<
			string,
			unknown
		>;
	} catch {
		return undefined;
	}
}

export function writeMarker(installDir: string, content: Record<string, unknown>): void {
	const markerPath = path.join(installDir, COMPLETION_MARKER);
	const temporaryPath = `${markerPath}.${process.pid}.tmp`;
	fs.writeFileSync(temporaryPath, JSON.stringify(content, null, 2) + '\n');
	fs.renameSync(temporaryPath, markerPath);
}

function isNode24Installed(): boolean {
	return readMarker(node24Dir()) !== undefined && fs.existsSync(node24BinaryPath());
}

/** Installs Node 24 into the cache if needed; returns the path of the node binary. */
export async function ensureNode24(): Promise<string> {
	if (isNode24Installed()) return node24BinaryPath();
	return await withLock('node24', async () => {
		if (isNode24Installed()) return node24BinaryPath();
		const startedAt = Date.now();
		const directory = node24Dir();
		fs.rmSync(directory, { recursive: true, force: true });
		fs.mkdirSync(directory, { recursive: true });
		// The package's install script downloads the platform binary, so scripts must run here.
		await runStep(
			`installing Node 24 (npm install ${NODE24_PACKAGE_SPEC})`,
			'npm',
			[
				'install',
				'--prefix',
				directory,
				NODE24_PACKAGE_SPEC,
				'--ignore-scripts=false',
				'--no-audit',
				'--no-fund',
			],
			{ cwd: directory, logFile: path.join(cacheDir(), 'logs', 'node24-install.log') },
		);
		const nodeVersion = await captureOutput(node24BinaryPath(), ['--version']);
		if (!nodeVersion.startsWith('v24.')) {
			throw new Error(`Expected a Node 24 binary at ${node24BinaryPath()}, got ${nodeVersion}`);
		}
		writeMarker(directory, {
			nodeVersion,
			installedAt: new Date().toISOString(),
			seconds: Math.round((Date.now() - startedAt) / 1000),
		});
		progress(`Node ${nodeVersion} ready in ${seconds(startedAt)}: ${node24BinaryPath()}`);
		return node24BinaryPath();
	});
}

function isN8nInstalled(): boolean {
	return readMarker(n8nInstallDir())?.n8nVersion === N8N_VERSION && fs.existsSync(n8nBinPath());
}

/** Checks that the cached n8n can open its database driver and reports the pinned version. */
export async function verifyN8nInstall(nodeBinary: string): Promise<void> {
	const env = childProcessEnv();
	await captureOutput(nodeBinary, ['-e', "require('sqlite3')"], { cwd: n8nInstallDir(), env });
	const version = await captureOutput(nodeBinary, [n8nBinPath(), '--version'], {
		cwd: n8nInstallDir(),
		env,
	});
	if (!version.split('\n').some((line) => line.trim() === N8N_VERSION)) {
		throw new Error(`Expected n8n ${N8N_VERSION} at ${n8nBinPath()}, it reports: ${version}`);
	}
}

/**
 * Installs n8n N8N_VERSION into the cache if needed (under Node 24, native modules skipped except
 * sqlite3, which is rebuilt); returns the path of the n8n CLI script.
 */
export async function ensureN8n(): Promise<string> {
	const nodeBinary = await ensureNode24();
	if (isN8nInstalled()) return n8nBinPath();
	return await withLock(`n8n-${N8N_VERSION}`, async () => {
		if (isN8nInstalled()) return n8nBinPath();
		const startedAt = Date.now();
		const directory = n8nInstallDir();
		const logs = path.join(cacheDir(), 'logs');
		progress(`installing n8n ${N8N_VERSION} into ${directory} (~2.8 GB, a few minutes)`);
		fs.rmSync(directory, { recursive: true, force: true });
		fs.mkdirSync(directory, { recursive: true });
		fs.writeFileSync(
			path.join(directory, 'package.json'),
			JSON.stringify({ name: 'n8n-cache', private: true }, null, 2) + '\n',
		);
		// Install scripts stay off: the Kafka native module's build downloads zlib and fails offline.
		await runStep(
			`npm install n8n@${N8N_VERSION}`,
			'npm',
			[
				'install',
				`n8n@${N8N_VERSION}`,
				'--save-exact',
				'--ignore-scripts=true',
				'--no-audit',
				'--no-fund',
			],
			{ cwd: directory, logFile: path.join(logs, 'n8n-install.log') },
		);
		// n8n's only required native module; built against the Node 24 headers shipped in the cache.
		const headersDir = node24HeadersDir();
		await runStep(
			'npm rebuild sqlite3 (native build)',
			'npm',
			['rebuild', 'sqlite3', '--ignore-scripts=false'],
			{
				cwd: directory,
				env: childProcessEnv({ npm_config_nodedir: headersDir }),
				logFile: path.join(logs, 'sqlite3-rebuild.log'),
			},
		);
		await verifyN8nInstall(nodeBinary);
		writeMarker(directory, {
			n8nVersion: N8N_VERSION,
			nodeVersion: await captureOutput(nodeBinary, ['--version']),
			installedAt: new Date().toISOString(),
			seconds: Math.round((Date.now() - startedAt) / 1000),
		});
		progress(`n8n ${N8N_VERSION} ready in ${seconds(startedAt)}: ${n8nBinPath()}`);
		return n8nBinPath();
	});
}
