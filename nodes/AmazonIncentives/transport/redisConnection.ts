/**
 * Where the shared budget's Redis is and which client talks to it. Nothing here is imported from n8n: the
 * settings are read from the environment with n8n's own variable names, and the client is the ioredis that
 * n8n ships (its Bull queue uses it), loaded at run time from n8n's installation, so queue mode needs nothing
 * new installed.
 *
 * - AMAZON_INCENTIVES_SHARED_BUDGET=off: no Redis, every process paces on its own.
 * - AMAZON_INCENTIVES_REDIS_URL=redis://[user:password@]host:port[/db] (rediss:// for TLS): this Redis, in any
 *   setup (also without queue mode).
 * - EXECUTIONS_MODE=queue: n8n's queue Redis, from QUEUE_BULL_REDIS_* exactly as n8n reads them (each also as
 *   <NAME>_FILE), including cluster nodes and TLS. n8n has no Sentinel setting, so neither has this.
 * - otherwise: a single n8n process, no Redis.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

type Environment = Record<string, string | undefined>;

interface RedisNode {
	host: string;
	port: number;
}

/** The ioredis options this package sets from n8n's settings (a subset of ioredis' RedisOptions). */
interface RedisClientOptions {
	host?: string;
	port?: number;
	username?: string;
	password?: string;
	db?: number;
	family?: number;
	tls?: { servername?: string; rejectUnauthorized: boolean };
	keepAlive?: number;
	keepAliveInterval?: number;
}

export type RedisSettings =
	| { kind: 'off'; reason: string }
	| { kind: 'url'; url: string; description: string }
	| { kind: 'standalone'; options: RedisClientOptions; description: string }
	| { kind: 'cluster'; nodes: RedisNode[]; options: RedisClientOptions; description: string };

/** n8n's reading of an environment variable: the variable, else the file named by <NAME>_FILE, unquoted. */
function readVariable(env: Environment, name: string): string | undefined {
	let value = env[name];
	if (value === undefined) {
		const file = env[`${name}_FILE`];
		if (!file) return undefined;
		value = fs.readFileSync(file, 'utf8').trim();
	}
	return value.trim().replace(/^(['"])(.*)\1$/, '$2');
}

function readNumber(env: Environment, name: string, fallback: number): number {
	const value = readVariable(env, name);
	if (value === undefined || value === '') return fallback;
	const parsed = Number(value);
	return Number.isNaN(parsed) ? fallback : parsed;
}

function readBoolean(env: Environment, name: string, fallback: boolean): boolean {
	const value = readVariable(env, name)?.toLowerCase();
	if (value === 'true' || value === '1') return true;
	if (value === 'false' || value === '0') return false;
	return fallback;
}

/** A URL without its password, for messages. */
function describeUrl(url: string): string {
	try {
		const parsed = new URL(url);
		if (parsed.password) parsed.password = '***';
		return parsed.toString();
	} catch {
		return 'AMAZON_INCENTIVES_REDIS_URL (not a valid URL)';
	}
}

/** The Redis the shared budget uses in this process, from the environment. */
export function redisSettingsFromEnvironment(env: Environment = process.env): RedisSettings {
	const mode = readVariable(env, 'AMAZON_INCENTIVES_SHARED_BUDGET')?.toLowerCase();
	if (mode === 'off' || mode === 'false' || mode === '0')
		return { kind: 'off', reason: 'AMAZON_INCENTIVES_SHARED_BUDGET is off' };
	const url = readVariable(env, 'AMAZON_INCENTIVES_REDIS_URL');
	if (url) return { kind: 'url', url, description: describeUrl(url) };
	if (readVariable(env, 'EXECUTIONS_MODE') !== 'queue')
		return {
			kind: 'off',
			reason: 'n8n is not in queue mode and AMAZON_INCENTIVES_REDIS_URL is not set',
		};

	// The same options n8n's RedisClientService builds for its queue (n8n 1.123 and 2.40 read these names).
	const options: RedisClientOptions = {
		db: readNumber(env, 'QUEUE_BULL_REDIS_DB', 0),
	};
	const username = readVariable(env, 'QUEUE_BULL_REDIS_USERNAME');
	if (username) options.username = username;
	const password = readVariable(env, 'QUEUE_BULL_REDIS_PASSWORD');
	if (password) options.password = password;
	if (readBoolean(env, 'QUEUE_BULL_REDIS_DUALSTACK', false)) options.family = 0;
	if (readBoolean(env, 'QUEUE_BULL_REDIS_TLS', false))
		options.tls = {
			servername: readVariable(env, 'QUEUE_BULL_REDIS_TLS_SERVERNAME') || undefined,
			rejectUnauthorized: readBoolean(env, 'QUEUE_BULL_REDIS_TLS_VALIDATE_CERTIFICATE', true),
		};
	if (readBoolean(env, 'QUEUE_BULL_REDIS_KEEP_ALIVE', false)) {
		options.keepAlive = readNumber(env, 'QUEUE_BULL_REDIS_KEEP_ALIVE_DELAY', 5000);
		options.keepAliveInterval = readNumber(env, 'QUEUE_BULL_REDIS_KEEP_ALIVE_INTERVAL', 5000);
	}
	const nodes = (readVariable(env, 'QUEUE_BULL_REDIS_CLUSTER_NODES') ?? '')
		.split(',')
		.filter((pair) => pair.trim().length > 0)
		.map((pair) => {
			const [host, port] = pair.trim().split(':');
			return { host, port: Number.parseInt(port, 10) };
		});
	const tlsNote = options.tls ? ' (TLS)' : '';
	if (nodes.length > 0)
		return {
			kind: 'cluster',
			nodes,
			options,
			description: `n8n's queue Redis cluster ${nodes.map((node) => `${node.host}:${node.port}`).join(',')}${tlsNote}`,
		};
	options.host = readVariable(env, 'QUEUE_BULL_REDIS_HOST') || 'localhost';
	options.port = readNumber(env, 'QUEUE_BULL_REDIS_PORT', 6379);
	return {
		kind: 'standalone',
		options,
		description: `n8n's queue Redis ${options.host}:${options.port}/${options.db}${tlsNote}`,
	};
}

/** The parts of an ioredis client (or cluster client) the shared budget uses. */
export interface RedisClient {
	readonly status: string;
	connect(): Promise<void>;
	defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void;
	on(event: string, listener: (...args: unknown[]) => void): unknown;
	quit(): Promise<unknown>;
	disconnect(): void;
}

type RedisConstructor = new (...args: unknown[]) => RedisClient;
export interface IoredisModule {
	new (...args: unknown[]): RedisClient;
	Cluster: RedisConstructor;
}

/**
 * Loads ioredis from n8n's own installation: resolved from n8n's entry script (`n8n start`, `n8n worker`),
 * which finds the copy n8n depends on wherever n8n is installed (global npm, Docker image, a project's
 * node_modules). A package installed in `<user folder>/.n8n/nodes` or loaded through N8N_CUSTOM_EXTENSIONS
 * cannot resolve it from its own folder. This package's own resolution is the last resort.
 */
export function loadIoredis(): IoredisModule | undefined {
	const origins = [require.main?.filename, process.argv[1], __filename].filter(
		(origin): origin is string => typeof origin === 'string' && origin.length > 0,
	);
	for (const origin of origins) {
		try {
			// A bin symlink (/usr/local/bin/n8n) resolves from the real script's folder.
			const requireFrom = createRequire(fs.realpathSync(path.resolve(origin)));
			const loaded = requireFrom('ioredis') as IoredisModule | { default: IoredisModule };
			const constructor = 'default' in loaded && loaded.default ? loaded.default : loaded;
			if (typeof constructor === 'function' && 'Cluster' in constructor)
				return constructor as IoredisModule;
		} catch {
			// Not resolvable from here; try the next origin.
		}
	}
	return undefined;
}

/**
 * Options for the budget's own connection: commands fail fast instead of queueing while Redis is away (the
 * caller then paces in-process), and the client keeps reconnecting every second without ever ending the process
 * (n8n's queue client does that on its own schedule).
 */
const FAIL_FAST = {
	lazyConnect: true,
	enableOfflineQueue: false,
	maxRetriesPerRequest: 0,
	commandTimeout: 1000,
	connectTimeout: 2000,
	retryStrategy: () => 1000,
};

export function createRedisClient(
	settings: Exclude<RedisSettings, { kind: 'off' }>,
	ioredis: IoredisModule,
): RedisClient {
	switch (settings.kind) {
		case 'url':
			return new ioredis(settings.url, FAIL_FAST);
		case 'standalone':
			return new ioredis({ ...settings.options, ...FAIL_FAST });
		case 'cluster':
			return new ioredis.Cluster(settings.nodes, {
				lazyConnect: true,
				enableOfflineQueue: false,
				clusterRetryStrategy: () => 1000,
				redisOptions: { ...settings.options, ...FAIL_FAST },
			});
	}
}
