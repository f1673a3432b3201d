/**
 * Servers the queue-mode tests need, from Debian's packages: Redis (`redis-server`) and Postgres
 * (`postgresql`). They are installed with apt-get when missing (CI machines start without them;
 * installs are idempotent and cost nothing when the binaries are there) and started on free
 * loopback ports in temporary directories, never as system services:
 *
 *   const redis = await RedisServer.start();          // redis.url, redis.port, stop(), restart()
 *   const postgres = await PostgresServer.start();    // host, port, user, createDatabase(), query(), stop()
 *
 * Postgres refuses to run as root, so as root it runs as the `postgres` user of the Debian package;
 * it is stopped gracefully (pg_ctl -m fast) so no shared memory or socket file is left behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { findFreePort } from '../support/localServer';
import { progress, withLock } from './cache';

const APT_LOCK_TIMEOUT_SECONDS = 600;

function commandExists(command: string): boolean {
	return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function run(
	command: string,
	args: string[],
	options: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number; cwd?: string } = {},
): Promise<{ code: number | null; output: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
		let output = '';
		child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
		child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
		child.on('error', reject);
		child.on('close', (code) => resolve({ code, output }));
	});
}

async function runOrThrow(
	command: string,
	args: string[],
	options: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number; cwd?: string } = {},
): Promise<string> {
	const { code, output } = await run(command, args, options);
	if (code !== 0) {
		const tail = output.trim().split('\n').slice(-20).join('\n');
		throw new Error(`${command} ${args.join(' ')} exited ${code}:\n${tail}`);
	}
	return output;
}

/**
 * Installs Debian packages unless `isPresent()` says they are there. apt's own lock is waited for
 * (another helper or CI step may be installing something), and `apt-get update` runs only when the
 * package is unknown (a fresh machine has no package lists).
 */
async function ensureDebianPackages(packages: string[], isPresent: () => boolean): Promise<void> {
	if (isPresent()) return;
	await withLock('apt', async () => {
		if (isPresent()) return;
		if (!commandExists('apt-get')) {
			throw new Error(
				`${packages.join(', ')} missing and apt-get is not available: install by hand`,
			);
		}
		const asRoot = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
		const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
		const aptGet = async (args: string[]) => {
			const [command, ...rest] = [...asRoot, 'apt-get', ...args];
			return await run(command, rest, { env });
		};
		const installArgs = [
			'-o',
			`DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT_SECONDS}`,
			'install',
			'-y',
			'-qq',
			'--no-install-recommends',
			...packages,
		];
		const startedAt = Date.now();
		progress(`apt-get install ${packages.join(' ')} …`);
		let result = await aptGet(installArgs);
		if (result.code !== 0) {
			progress(
				`apt-get install failed (${result.output.trim().split('\n').pop()}); apt-get update …`,
			);
			const update = await aptGet([
				'-o',
				`DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT_SECONDS}`,
				'update',
				'-qq',
			]);
			if (update.code !== 0) throw new Error(`apt-get update failed:\n${update.output}`);
			result = await aptGet(installArgs);
		}
		if (result.code !== 0 || !isPresent()) {
			throw new Error(`apt-get install ${packages.join(' ')} failed:\n${result.output}`);
		}
		progress(
			`installed ${packages.join(' ')} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
		);
	});
}

async function ensureRedisServer(): Promise<string> {
	await ensureDebianPackages(['redis-server'], () => commandExists('redis-server'));
	return 'redis-server';
}

/** The newest Postgres server installed by Debian's packages (`/usr/lib/postgresql/<major>/bin`). */
function postgresBinDir(): string | undefined {
	const root = '/usr/lib/postgresql';
	if (!fs.existsSync(root)) return undefined;
	const majors = fs
		.readdirSync(root)
		.filter((entry) => /^\d+$/.test(entry))
		.sort((a, b) => Number(b) - Number(a));
	for (const major of majors) {
		const bin = path.join(root, major, 'bin');
		if (['initdb', 'pg_ctl', 'postgres'].every((name) => fs.existsSync(path.join(bin, name))))
			return bin;
	}
	return undefined;
}

async function ensurePostgres(): Promise<string> {
	await ensureDebianPackages(['postgresql'], () => postgresBinDir() !== undefined);
	return postgresBinDir() as string;
}

/** Sends one inline command over RESP and returns the first reply line (e.g. '+PONG'). */
async function redisCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
	return await new Promise<string>((resolve, reject) => {
		const socket = net.connect({ host: '127.0.0.1', port });
		let reply = '';
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new Error(`Redis on port ${port} did not answer ${command}`));
		}, timeoutMs);
		socket.on('connect', () => socket.write(`${command}\r\n`));
		socket.on('data', (chunk: Buffer) => {
			reply += chunk.toString('utf8');
			const end = reply.indexOf('\r\n');
			if (end >= 0) {
				clearTimeout(timer);
				socket.end();
				resolve(reply.slice(0, end));
			}
		});
		socket.on('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
	});
}

async function waitFor(
	what: string,
	check: () => Promise<boolean>,
	timeoutMs: number,
	exited?: () => string | undefined,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (await check().catch(() => false)) return;
		const exit = exited?.();
		if (exit) throw new Error(`${what} exited before it was ready:\n${exit}`);
		if (Date.now() > deadline) throw new Error(`${what} was not ready within ${timeoutMs} ms`);
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

/** Servers still running, stopped hard if the test process exits without stopping them. */
const exitCleanups = new Set<() => void>();
process.on('exit', () => {
	for (const cleanup of exitCleanups) cleanup();
});

interface RedisServerOptions {
	/** Keep the data on disk (append-only file), so a restart finds the queue where it was. */
	persistent?: boolean;
	port?: number;
}

/** A redis-server on 127.0.0.1 with its own temporary directory. */
export class RedisServer {
	private child: ChildProcess | undefined;
	private output = '';
	private readonly cleanup = () => this.child?.kill('SIGKILL');

	private constructor(
		readonly port: number,
		readonly directory: string,
		private readonly options: RedisServerOptions,
	) {}

	get url(): string {
		return `redis://127.0.0.1:${this.port}`;
	}

	static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
		await ensureRedisServer();
		const port = options.port ?? (await findFreePort());
		const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'agcod-redis-'));
		const server = new RedisServer(port, directory, options);
		await server.spawn();
		return server;
	}

	get running(): boolean {
		return (
			this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
		);
	}

	logs(): string {
		return this.output;
	}

	private async spawn(): Promise<void> {
		const args = [
			'--port',
			String(this.port),
			'--bind',
			'127.0.0.1',
			'--dir',
			this.directory,
			'--save',
			'',
			'--appendonly',
			this.options.persistent ? 'yes' : 'no',
			'--appendfsync',
			'always',
			'--daemonize',
			'no',
			'--logfile',
			'',
		];
		const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
		this.child = child;
		exitCleanups.add(this.cleanup);
		child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
		child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
		await waitFor(
			`redis-server on port ${this.port}`,
			async () => (await redisCommand(this.port, 'PING')) === '+PONG',
			15_000,
			() => (child.exitCode !== null ? this.output.split('\n').slice(-15).join('\n') : undefined),
		);
	}

	/** Stops the server (SIGTERM: with persistence it writes its data first) and waits for it. */
	async stop(): Promise<void> {
		const child = this.child;
		if (!child) return;
		this.child = undefined;
		if (child.exitCode === null && child.signalCode === null) {
			const exited = new Promise((resolve) => child.once('exit', resolve));
			child.kill('SIGTERM');
			const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
			await exited;
			clearTimeout(timer);
		}
		exitCleanups.delete(this.cleanup);
	}

	/** Starts it again on the same port and directory (after stop()). */
	async restart(): Promise<void> {
		if (this.running) throw new Error('Redis is still running');
		await this.spawn();
	}

	async dispose(): Promise<void> {
		await this.stop();
		fs.rmSync(this.directory, { recursive: true, force: true });
	}
}

function postgresAccount(): { uid: number; gid: number } | undefined {
	if (process.getuid?.() !== 0) return undefined;
	const result = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
	const groups = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
	if (result.status !== 0 || groups.status !== 0)
		throw new Error('Running as root needs the postgres user of the Debian package');
	return { uid: Number(result.stdout.trim()), gid: Number(groups.stdout.trim()) };
}

/**
 * A throwaway Postgres cluster: initdb into a temporary directory (trust authentication, loopback
 * only, its own port, its socket in the same directory), started with pg_ctl.
 */
export class PostgresServer {
	readonly host = '127.0.0.1';
	readonly user = 'postgres';
	private stopped = false;
	private readonly cleanup = () => {
		spawnSync(path.join(this.binDir, 'pg_ctl'), ['-D', this.dataDir, '-m', 'immediate', 'stop'], {
			stdio: 'ignore',
			...(this.account ?? {}),
		});
	};

	private constructor(
		readonly port: number,
		readonly directory: string,
		private readonly binDir: string,
		private readonly account: { uid: number; gid: number } | undefined,
	) {}

	get dataDir(): string {
		return path.join(this.directory, 'data');
	}

	/** Server log (pg_ctl -l). */
	get logFile(): string {
		return path.join(this.directory, 'postgres.log');
	}

	static async start(): Promise<PostgresServer> {
		const binDir = await ensurePostgres();
		const account = postgresAccount();
		const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'agcod-postgres-'));
		if (account) fs.chownSync(directory, account.uid, account.gid);
		const port = await findFreePort();
		const server = new PostgresServer(port, directory, binDir, account);
		const asOwner = { ...(account ?? {}), cwd: directory };
		await runOrThrow(
			path.join(binDir, 'initdb'),
			[
				'-D',
				server.dataDir,
				'-U',
				server.user,
				'--auth=trust',
				'--encoding=UTF8',
				'--locale=C',
				'--no-sync',
			],
			asOwner,
		);
		const serverOptions = [
			`-p ${port}`,
			`-k ${directory}`,
			"-c listen_addresses='127.0.0.1'",
			// A test database: durability is not needed, speed is.
			'-c fsync=off',
			'-c synchronous_commit=off',
			'-c full_page_writes=off',
			'-c max_connections=100',
		].join(' ');
		exitCleanups.add(server.cleanup);
		await runOrThrow(
			path.join(binDir, 'pg_ctl'),
			['-D', server.dataDir, '-l', server.logFile, '-o', serverOptions, '-w', '-t', '60', 'start'],
			asOwner,
		);
		return server;
	}

	/** Creates a database owned by the superuser (n8n runs its migrations into it). */
	async createDatabase(name: string): Promise<void> {
		await runOrThrow(
			path.join(this.binDir, 'createdb'),
			['-h', this.directory, '-p', String(this.port), '-U', this.user, name],
			{ ...(this.account ?? {}), cwd: this.directory },
		);
	}

	/** Runs one SQL statement with psql and returns its unaligned, tuples-only output. */
	async query(database: string, sql: string): Promise<string> {
		const output = await runOrThrow(
			path.join(this.binDir, 'psql'),
			[
				'-h',
				this.directory,
				'-p',
				String(this.port),
				'-U',
				this.user,
				'-d',
				database,
				'-X',
				'-A',
				'-t',
				'-v',
				'ON_ERROR_STOP=1',
				'-c',
				sql,
			],
			{ ...(this.account ?? {}), cwd: this.directory },
		);
		return output.trim();
	}

	/** Graceful stop (fast mode: running sessions are ended, shared memory released), then cleanup. */
	async stop(): Promise<void> {
		if (this.stopped) return;
		this.stopped = true;
		try {
			await runOrThrow(
				path.join(this.binDir, 'pg_ctl'),
				['-D', this.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop'],
				{ ...(this.account ?? {}), cwd: this.directory },
			);
		} finally {
			exitCleanups.delete(this.cleanup);
			fs.rmSync(this.directory, { recursive: true, force: true });
		}
	}
}
