/**
 * The out-of-repository cache that holds Node runtimes and n8n for the real-n8n end-to-end tests.
 *
 * n8n is ~3 GB and needs its own Node, so it is never a dependency of this package: each supported
 * n8n line (N8N_LINES) is installed once per machine into `cacheDir()` and reused, next to the Node
 * it runs on. Every install step is idempotent (a completion marker is written last, so an
 * interrupted install is redone) and guarded by a lock directory, so parallel callers (jest
 * globalSetup, `.ci/run`, the demo) never race.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The n8n release lines the package supports, each pinned to one version. */
export type N8nLine = '2.x' | '1.x';

export interface N8nLineSpec {
	line: N8nLine;
	n8nVersion: string;
	/** The Node major version this line runs on (installed from the npm package `node@<major>`). */
	nodeMajor: number;
	/** npm `overrides` written into the install's package.json before `npm install`. */
	npmOverrides: Record<string, string>;
	/** Build sqlite3 from source instead of downloading a prebuilt binary (offline-safe). */
	sqliteFromSource: boolean;
	/** Environment every n8n process of this line gets. */
	env: Record<string, string>;
}

export const N8N_LINES: Readonly<Record<N8nLine, N8nLineSpec>> = {
	// 2.41.x does not install from the registry (a dependency is missing); n8n 2.x needs Node >= 24.
	'2.x': {
		line: '2.x',
		n8nVersion: '2.40.7',
		nodeMajor: 24,
		npmOverrides: {},
		sqliteFromSource: false,
		env: {},
	},
	// The newest 1.x patch. n8n-nodes-base 1.x pulls xlsx from a CDN tarball; the same version from
	// the registry installs offline. Node 20 + the legacy expression engine: see the README section
	// "Supported n8n versions" for why (isolated-vm has no Node 20 build, and the vm engine on
	// Node 22 resolves $('Node').item to null).
	'1.x': {
		line: '1.x',
		n8nVersion: '1.123.81',
		nodeMajor: 20,
		npmOverrides: { xlsx: 'npm:@e965/xlsx@0.20.2' },
		sqliteFromSource: true,
		env: { N8N_EXPRESSION_ENGINE: 'legacy' },
	},
};

/** The line used when nothing else is asked for (the demo, existing callers). */
const DEFAULT_LINE: N8nLine = '2.x';
/** The 2.x pin, kept for callers that predate the 1.x line. */
export const N8N_VERSION = N8N_LINES['2.x'].n8nVersion;
/** Written last into an install directory; its absence means "not installed or half-installed". */
const COMPLETION_MARKER = '.install-complete.json';

const LOG_PREFIX = '[n8n-cache]';
const LOCK_TIMEOUT_MS = 60 * 60 * 1000;
const STALE_LOCK_WITHOUT_OWNER_MS = 60 * 1000;
const HEARTBEAT_MS = 30 * 1000;
const OUTPUT_TAIL_LINES = 40;

/** "n8n 1.123.81 on Node 20", for test names and messages. */
export function lineLabel(line: N8nLine): string {
	return `n8n ${N8N_LINES[line].n8nVersion} on Node ${N8N_LINES[line].nodeMajor}`;
}

export function parseLine(value: string | undefined): N8nLine {
	if (value === undefined || value === '') return DEFAULT_LINE;
	const normalised = value.trim().toLowerCase();
	for (const spec of Object.values(N8N_LINES)) {
		if (normalised === spec.line || normalised === spec.n8nVersion || normalised === spec.line[0])
			return spec.line;
	}
	throw new Error(
		`Unknown n8n line "${value}"; use one of ${Object.keys(N8N_LINES).join(', ')} (or their versions).`,
	);
}

export function cacheDir(): string {
	const override = process.env.AGCOD_N8N_CACHE;
	if (override) return path.resolve(override);
	return path.join(os.homedir(), '.cache', 'n8n-nodes-amazon-incentives');
}

/** `<cache>/node<major>`: the npm package `node@<major>` installed there. */
export function nodeDir(major: number): string {
	return path.join(cacheDir(), `node${major}`);
}

function nodeBinaryPath(major: number): string {
	return path.join(nodeDir(major), 'node_modules', 'node', 'bin', 'node');
}

/** Directory to put first on PATH so that `node` (and npm's `#!/usr/bin/env node`) is that Node. */
function nodeBinDir(major: number): string {
	return path.dirname(nodeBinaryPath(major));
}

export function node24BinaryPath(): string {
	return nodeBinaryPath(24);
}

export function n8nInstallDir(line: N8nLine = DEFAULT_LINE): string {
	return path.join(cacheDir(), `n8n-${N8N_LINES[line].n8nVersion}`);
}

/** The n8n CLI script; run it as `<node> <n8nBinPath(line)> <command>`. */
export function n8nBinPath(line: N8nLine = DEFAULT_LINE): string {
	return path.join(n8nInstallDir(line), 'node_modules', 'n8n', 'bin', 'n8n');
}

/** The Node binary a line runs on. */
export function nodeBinaryFor(line: N8nLine): string {
	return nodeBinaryPath(N8N_LINES[line].nodeMajor);
}

/**
 * The platform package installed next to a cached Node binary is a full Node distribution, headers
 * included: node-gyp builds sqlite3 against them instead of downloading headers from nodejs.org.
 */
function nodeHeadersDir(major: number): string | undefined {
	const platformPackages = path.join(nodeDir(major), 'node_modules', 'node', 'node_modules');
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
 * …), with the cached Node `nodeMajor` (default: the default line's) first on PATH.
 */
export function childProcessEnv(
	extra: Record<string, string | undefined> = {},
	nodeMajor: number = N8N_LINES[DEFAULT_LINE].nodeMajor,
): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		const lower = key.toLowerCase();
		if (lower.startsWith('npm_') && !NETWORK_NPM_SETTINGS.has(lower)) continue;
		if (key === 'INIT_CWD' || key === 'NODE_ENV') continue;
		if (key.startsWith('JEST_')) continue;
		env[key] = value;
	}
	env.PATH = [nodeBinDir(nodeMajor), process.env.PATH ?? ''].filter(Boolean).join(path.delimiter);
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

/**
 * Install steps still running, each in its own process group (npm starts compilers and scripts of
 * its own). They are ended when this process exits first, e.g. a demo stopped during its first run:
 * the install is redone next time, as its completion marker was never written.
 */
const runningSteps = new Set<ChildProcess>();
process.on('exit', () => {
	for (const child of runningSteps) {
		try {
			if (child.pid) process.kill(-child.pid, 'SIGKILL');
		} catch {
			// Already gone.
		}
	}
});

/** Runs one install step, streaming its output to a log file, with timing and a heartbeat. */
async function runStep(
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
				detached: true,
				stdio: ['ignore', 'pipe', 'pipe'],
			});
			runningSteps.add(child);
			child.on('close', () => runningSteps.delete(child));
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

function writeMarker(installDir: string, content: Record<string, unknown>): void {
	const markerPath = path.join(installDir, COMPLETION_MARKER);
	const temporaryPath = `${markerPath}.${process.pid}.tmp`;
	fs.writeFileSync(temporaryPath, JSON.stringify(content, null, 2) + '\n');
	fs.renameSync(temporaryPath, markerPath);
}

function isNodeInstalled(major: number): boolean {
	return readMarker(nodeDir(major)) !== undefined && fs.existsSync(nodeBinaryPath(major));
}

/** Installs Node `major` (npm package `node@<major>`) into the cache if needed; returns its binary. */
export async function ensureNode(major: number): Promise<string> {
	if (isNodeInstalled(major)) return nodeBinaryPath(major);
	return await withLock(`node${major}`, async () => {
		if (isNodeInstalled(major)) return nodeBinaryPath(major);
		const startedAt = Date.now();
		const directory = nodeDir(major);
		fs.rmSync(directory, { recursive: true, force: true });
		fs.mkdirSync(directory, { recursive: true });
		// The package's install script downloads the platform binary, so scripts must run here.
		await runStep(
			`installing Node ${major} (npm install node@${major})`,
			'npm',
			[
				'install',
				'--prefix',
				directory,
				`node@${major}`,
				'--ignore-scripts=false',
				'--no-audit',
				'--no-fund',
			],
			{ cwd: directory, logFile: path.join(cacheDir(), 'logs', `node${major}-install.log`) },
		);
		const nodeVersion = await captureOutput(nodeBinaryPath(major), ['--version']);
		if (!nodeVersion.startsWith(`v${major}.`)) {
			throw new Error(
				`Expected a Node ${major} binary at ${nodeBinaryPath(major)}, got ${nodeVersion}`,
			);
		}
		writeMarker(directory, {
			nodeVersion,
			installedAt: new Date().toISOString(),
			seconds: Math.round((Date.now() - startedAt) / 1000),
		});
		progress(`Node ${nodeVersion} ready in ${seconds(startedAt)}: ${nodeBinaryPath(major)}`);
		return nodeBinaryPath(major);
	});
}

export async function ensureNode24(): Promise<string> {
	return await ensureNode(24);
}

function isN8nInstalled(line: N8nLine): boolean {
	return (
		readMarker(n8nInstallDir(line))?.n8nVersion === N8N_LINES[line].n8nVersion &&
		fs.existsSync(n8nBinPath(line))
	);
}

/** Checks that the cached n8n can open its database driver and reports the pinned version. */
async function verifyN8nInstall(line: N8nLine, nodeBinary: string): Promise<void> {
	const { n8nVersion, nodeMajor } = N8N_LINES[line];
	const env = childProcessEnv({}, nodeMajor);
	await captureOutput(nodeBinary, ['-e', "require('sqlite3')"], { cwd: n8nInstallDir(line), env });
	const version = await captureOutput(nodeBinary, [n8nBinPath(line), '--version'], {
		cwd: n8nInstallDir(line),
		env,
	});
	if (!version.split('\n').some((reported) => reported.trim() === n8nVersion)) {
		throw new Error(`Expected n8n ${n8nVersion} at ${n8nBinPath(line)}, it reports: ${version}`);
	}
}

/**
 * Installs the line's pinned n8n into the cache if needed (under the line's Node; install scripts
 * skipped, sqlite3 rebuilt natively); returns the path of the n8n CLI script.
 */
export async function ensureN8n(line: N8nLine = DEFAULT_LINE): Promise<string> {
	const spec = N8N_LINES[line];
	const nodeBinary = await ensureNode(spec.nodeMajor);
	if (isN8nInstalled(line)) return n8nBinPath(line);
	return await withLock(`n8n-${spec.n8nVersion}`, async () => {
		if (isN8nInstalled(line)) return n8nBinPath(line);
		const startedAt = Date.now();
		const directory = n8nInstallDir(line);
		const logs = path.join(cacheDir(), 'logs');
		const env = childProcessEnv({}, spec.nodeMajor);
		progress(`installing n8n ${spec.n8nVersion} into ${directory} (~3 GB, a few minutes)`);
		fs.rmSync(directory, { recursive: true, force: true });
		fs.mkdirSync(directory, { recursive: true });
		const manifest: Record<string, unknown> = { name: 'n8n-cache', private: true };
		if (Object.keys(spec.npmOverrides).length > 0) manifest.overrides = spec.npmOverrides;
		fs.writeFileSync(
			path.join(directory, 'package.json'),
			JSON.stringify(manifest, null, 2) + '\n',
		);
		// Install scripts stay off: the Kafka native module's build downloads zlib and fails offline.
		await runStep(
			`npm install n8n@${spec.n8nVersion}`,
			'npm',
			[
				'install',
				`n8n@${spec.n8nVersion}`,
				'--save-exact',
				'--ignore-scripts=true',
				'--no-audit',
				'--no-fund',
			],
			{ cwd: directory, env, logFile: path.join(logs, `n8n-${spec.n8nVersion}-install.log`) },
		);
		// n8n's only required native module; built against the headers shipped with the cached Node.
		await runStep(
			'npm rebuild sqlite3 (native build)',
			'npm',
			['rebuild', 'sqlite3', '--ignore-scripts=false'],
			{
				cwd: directory,
				env: childProcessEnv(
					{
						npm_config_nodedir: nodeHeadersDir(spec.nodeMajor),
						npm_config_build_from_source: spec.sqliteFromSource ? 'true' : undefined,
					},
					spec.nodeMajor,
				),
				logFile: path.join(logs, `n8n-${spec.n8nVersion}-sqlite3-rebuild.log`),
			},
		);
		await verifyN8nInstall(line, nodeBinary);
		writeMarker(directory, {
			n8nVersion: spec.n8nVersion,
			nodeVersion: await captureOutput(nodeBinary, ['--version']),
			installedAt: new Date().toISOString(),
			seconds: Math.round((Date.now() - startedAt) / 1000),
		});
		progress(`n8n ${spec.n8nVersion} ready in ${seconds(startedAt)}: ${n8nBinPath(line)}`);
		return n8nBinPath(line);
	});
}
