/**
 * One rate budget per AGCOD account (endpoint + partner) and one request in flight per request id, shared by
 * every n8n process that runs this node: in queue mode through the Redis that n8n's queue already uses (see
 * redisConnection.ts), otherwise within this process.
 *
 * - The budget is the GCRA schedule of rateLimiter.ts, run as one Lua script per decision, so each decision is
 *   atomic across processes. Redis' own clock (TIME) is the clock, so hosts need not agree on the time. One
 *   script per operation mirrors redis-cell's CL.THROTTLE, but in reservation form (callers are told when their
 *   slot is instead of being refused), which keeps the budget work-conserving and fair; redis-cell itself is a
 *   Redis module that a stock (or managed) Redis does not have, a Lua script runs on any Redis ≥ 4.
 * - A request id is held with SET NX PX and a random token (released and renewed only by its holder), for longer
 *   than one request's deadline and renewed while the call runs: a second execution with the same id, on any
 *   worker, waits and then sends the same id again (Amazon answers with the original). Redis keeps only that an
 *   id succeeded, for the `replay` flag; never an answer or a claim code (Amazon's storage guidelines).
 * - When Redis is unreachable, at start or later, each decision falls back to this process' own budget and
 *   request map, with one warning per outage: requests keep going (other processes may then push the account
 *   over its limit, and throttles are re-sent), duplicates are still kept apart within the process, and nothing
 *   fails only because Redis blinked. Releases Redis missed are sent when it is back, so an id that succeeded
 *   meanwhile is still a replay for every process.
 */
import { createHash, randomBytes } from 'node:crypto';

import { AccountSchedule, type SlotRequest, type Take, waitForSlot } from './rateLimiter';
import {
	createRedisClient,
	loadIoredis,
	redisSettingsFromEnvironment,
	type RedisClient,
	type RedisSettings,
} from './redisConnection';

export interface BudgetLogger {
	warn(message: string): void;
	info(message: string): void;
	debug(message: string): void;
}

/** A request id held by this call. */
interface RequestLock {
	/** An earlier call with this id succeeded (in any process sharing the budget): the answer is a replay. */
	readonly replay: boolean;
	release(succeeded: boolean): Promise<void>;
}

interface AccountBudget {
	/** Where the budget lives, for messages. */
	readonly description: string;
	/** Resolves when the caller may send one request to the account. */
	acquireSlot(account: string, request: SlotRequest): Promise<void>;
	/** After a throttle: nobody sharing the account sends for durationMs, slots handed out already included. */
	pause(account: string, durationMs: number): Promise<void>;
	/**
	 * Holds `name` (operation and request id) for this account; another holder in any process makes this wait.
	 * `holdMs` must exceed one request's deadline (the hold is renewed while it lasts). Resolves with undefined
	 * when the id is still held by someone else at `deadline` (epoch ms).
	 */
	lockRequest(
		account: string,
		name: string,
		holdMs: number,
		deadline: number,
	): Promise<RequestLock | undefined>;
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Ids that succeeded are remembered this long in Redis (in-process: the last 100,000). */
const SUCCEEDED_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_REMEMBERED_REQUESTS = 100_000;

/** Sets `key` as the newest entry of `map`, dropping the oldest beyond MAX_REMEMBERED_REQUESTS. */
function setNewest<V>(map: Map<string, V>, key: string, value: V): void {
	map.delete(key);
	map.set(key, value);
	if (map.size > MAX_REMEMBERED_REQUESTS) map.delete(map.keys().next().value as string);
}

/** The budget and request map of this process alone. */
export class LocalBudget implements AccountBudget {
	readonly description = 'this n8n process';
	private readonly schedules = new Map<string, AccountSchedule>();
	private readonly held = new Map<string, Promise<void>>();
	private readonly succeeded = new Map<string, true>();

	private schedule(account: string): AccountSchedule {
		let schedule = this.schedules.get(account);
		if (!schedule) {
			schedule = new AccountSchedule();
			this.schedules.set(account, schedule);
		}
		return schedule;
	}

	take(account: string, request: SlotRequest, holding: boolean): Take {
		return this.schedule(account).take(Date.now(), request, holding);
	}

	async acquireSlot(account: string, request: SlotRequest): Promise<void> {
		await waitForSlot((holding) => this.take(account, request, holding), sleep);
	}

	async pause(account: string, durationMs: number): Promise<void> {
		this.schedule(account).pause(Date.now(), durationMs);
	}

	rememberSuccess(key: string): void {
		setNewest(this.succeeded, key, true);
	}

	async lockRequest(
		account: string,
		name: string,
		_holdMs: number,
		deadline: number,
	): Promise<RequestLock | undefined> {
		const key = `${account}|${name}`;
		for (let current = this.held.get(key); current; current = this.held.get(key)) {
			const remaining = deadline - Date.now();
			if (remaining <= 0) return undefined;
			let timer: NodeJS.Timeout | undefined;
			await Promise.race([
				current,
				new Promise((resolve) => (timer = setTimeout(resolve, remaining))),
			]);
			clearTimeout(timer);
		}
		let release!: () => void;
		this.held.set(key, new Promise<void>((resolve) => (release = resolve)));
		return {
			replay: this.succeeded.has(key),
			release: async (succeeded: boolean) => {
				if (succeeded) this.rememberSuccess(key);
				this.held.delete(key);
				release();
			},
		};
	}
}

// The scripts. Times are epoch milliseconds as decimals; ARGV "now" is empty in production (Redis' clock) and set
// only by tests that compare the script with AccountSchedule on a given clock.
const NOW = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local function clock(given)
	if given ~= nil and given ~= '' then return tonumber(given) end
	local t = redis.call('TIME')
	return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local function ms(value) return string.format('%.3f', value) end
`;

/** AccountSchedule.take: KEYS[1] budget hash; ARGV interval, tolerance, funds interval, holding, now. */
const TAKE_SCRIPT = `${NOW}
local interval, tolerance, fundsInterval = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now = clock(ARGV[5])
local state = redis.call('HMGET', KEYS[1], 'tat', 'ftat', 'paused')
local tat, ftat, paused = tonumber(state[1]) or 0, tonumber(state[2]) or 0, tonumber(state[3]) or 0
if ARGV[4] == '1' and now >= paused then return {0, 0} end
local sendAt = math.max(now, tat - tolerance, paused)
if fundsInterval > 0 then
	if ftat > sendAt then return {2, math.ceil(ftat - now)} end
	ftat = sendAt + fundsInterval
end
tat = math.max(sendAt, tat) + interval
redis.call('HSET', KEYS[1], 'tat', ms(tat), 'ftat', ms(ftat))
redis.call('PEXPIRE', KEYS[1], math.ceil(math.max(tat, ftat, paused) - now) + 60000)
if sendAt <= now then return {0, 0} end
return {1, math.ceil(sendAt - now)}
`;

/** AccountSchedule.pause: KEYS[1] budget hash; ARGV duration, now. */
const PAUSE_SCRIPT = `${NOW}
local now = clock(ARGV[2])
local paused = math.max(tonumber(redis.call('HGET', KEYS[1], 'paused')) or 0, now + tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'paused', ms(paused))
local keep = math.ceil(paused - now) + 60000
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return 1
`;

/** KEYS[1] lock, KEYS[2] success marker; ARGV token, hold ms. {1, replay} when held, else {0, ms left}. */
const LOCK_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
	return {1, redis.call('EXISTS', KEYS[2])}
end
return {0, redis.call('PTTL', KEYS[1])}
`;

/** KEYS[1] lock; ARGV token, hold ms. Only the holder extends its hold. */
const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** KEYS[1] lock, KEYS[2] success marker; ARGV token, succeeded, marker ms. Only the holder releases. */
const RELEASE_SCRIPT = `
if ARGV[2] == '1' then redis.call('SET', KEYS[2], '1', 'PX', ARGV[3]) end
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type ScriptName = 'agcodTake' | 'agcodPause' | 'agcodLock' | 'agcodRenew' | 'agcodRelease';
type ScriptCaller = (...args: Array<string | number>) => Promise<unknown>;

const SCRIPTS: Record<ScriptName, { numberOfKeys: number; lua: string }> = {
	agcodTake: { numberOfKeys: 1, lua: TAKE_SCRIPT },
	agcodPause: { numberOfKeys: 1, lua: PAUSE_SCRIPT },
	agcodLock: { numberOfKeys: 2, lua: LOCK_SCRIPT },
	agcodRenew: { numberOfKeys: 1, lua: RENEW_SCRIPT },
	agcodRelease: { numberOfKeys: 2, lua: RELEASE_SCRIPT },
};

/** Redis keys of one account; the hash tag keeps them in one cluster slot, so one script may use them all. */
interface AccountKeys {
	budget: string;
	lock(name: string): string;
	succeeded(name: string): string;
}

const keysByAccount = new Map<string, AccountKeys>();

function accountKeys(account: string): AccountKeys {
	let keys = keysByAccount.get(account);
	if (!keys) {
		const tag = createHash('sha256').update(account).digest('hex').slice(0, 24);
		const base = `amazon-incentives:{${tag}}`;
		keys = {
			budget: `${base}:budget`,
			lock: (name) => `${base}:lock:${name}`,
			succeeded: (name) => `${base}:ok:${name}`,
		};
		keysByAccount.set(account, keys);
	}
	return keys;
}

const LOCK_POLL_MIN_MS = 25;
const LOCK_POLL_MAX_MS = 250;

/**
 * The budget in Redis, with this process' LocalBudget as the fallback. Whether Redis is used is decided per
 * decision from the client's state, so the budget returns to Redis as soon as the client has reconnected.
 */
export class RedisBudget implements AccountBudget {
	private connecting: Promise<void> | undefined;
	private closed = false;
	private unavailable = false;
	/** agcodRelease arguments Redis missed while it was away, by lock key; sent when it is back (releaseInRedis). */
	private readonly missedReleases = new Map<string, Array<string | number>>();
	private sendingMissed: Promise<void> | undefined;

	constructor(
		private readonly client: RedisClient,
		readonly description: string,
		private readonly fallback: LocalBudget,
		private readonly logger: () => BudgetLogger | undefined,
	) {
		for (const [name, definition] of Object.entries(SCRIPTS))
			client.defineCommand(name, definition);
		// The budget's connection never keeps a process alive on its own (n8n execute, tests).
		client.on('connect', () => (client as { stream?: { unref?: () => void } }).stream?.unref?.());
		client.on('ready', () => this.markAvailable());
		client.on('close', () => this.markUnavailable('connection closed'));
		// ioredis reports every failed reconnect as an error event; the state change above says it once.
		client.on('error', () => undefined);
	}

	private markUnavailable(reason: string): void {
		if (this.unavailable) return;
		this.unavailable = true;
		this.logger()?.warn(
			`Amazon Incentives: the shared rate budget in ${this.description} is unavailable (${reason}). ` +
				'Until it is back, this process paces requests to each AGCOD account on its own and keeps requests ' +
				'with the same request ID apart only within this process; other workers doing the same may exceed ' +
				"the account's rate limit, and throttled requests are sent again.",
		);
	}

	private markAvailable(): void {
		if (!this.unavailable) return;
		this.unavailable = false;
		this.logger()?.info(
			`Amazon Incentives: the shared rate budget in ${this.description} is back.`,
		);
		// Every missed release came with an outage (markUnavailable), so this is when to send them.
		void this.sendMissedReleases();
	}

	/** Ends the connection; decisions are then made in this process only. */
	close(): void {
		this.closed = true;
		this.client.disconnect();
	}

	/** True when Redis can take commands now; connects on first use. */
	private async usable(): Promise<boolean> {
		if (this.closed) return false;
		if (this.client.status === 'ready') return true;
		if (this.client.status === 'wait') {
			this.connecting ??= this.client.connect().catch((error: Error) => {
				this.markUnavailable(error.message);
			});
		}
		if (this.connecting) await this.connecting;
		if (this.client.status === 'ready') return true;
		this.markUnavailable(`connection ${this.client.status}`);
		return false;
	}

	private async script(name: ScriptName, args: Array<string | number>): Promise<unknown> {
		const call = (this.client as unknown as Record<ScriptName, ScriptCaller>)[name];
		return await call.apply(this.client, args);
	}

	/** Runs a script, or returns undefined (after noting the outage) when Redis cannot answer. */
	private async tryScript(name: ScriptName, args: Array<string | number>): Promise<unknown> {
		if (!(await this.usable())) return undefined;
		try {
			const result = await this.script(name, args);
			this.markAvailable();
			return result;
		} catch (error) {
			this.markUnavailable((error as Error).message);
			return undefined;
		}
	}

	/** One scheduling decision in Redis (tests pass `now` to compare it with AccountSchedule). */
	async take(
		account: string,
		request: SlotRequest,
		holding: boolean,
		now?: number,
	): Promise<Take | undefined> {
		const reply = (await this.tryScript('agcodTake', [
			accountKeys(account).budget,
			request.intervalMs,
			request.toleranceMs,
			request.fundsIntervalMs,
			holding ? 1 : 0,
			now === undefined ? '' : now,
		])) as [number, number] | undefined;
		if (!reply) return undefined;
		const [kind, waitMs] = reply;
		if (kind === 0) return { kind: 'go' };
		return { kind: kind === 1 ? 'reserved' : 'retry', waitMs };
	}

	async acquireSlot(account: string, request: SlotRequest): Promise<void> {
		let local = false;
		await waitForSlot(async (holding) => {
			if (!local) {
				const decision = await this.take(account, request, holding);
				if (decision) return decision;
				// Redis went away: start over in this process' schedule.
				local = true;
				holding = false;
			}
			return this.fallback.take(account, request, holding);
		}, sleep);
	}

	async pause(account: string, durationMs: number, now?: number): Promise<void> {
		await this.fallback.pause(account, durationMs);
		await this.tryScript('agcodPause', [
			accountKeys(account).budget,
			durationMs,
			now === undefined ? '' : now,
		]);
	}

	async lockRequest(
		account: string,
		name: string,
		holdMs: number,
		deadline: number,
	): Promise<RequestLock | undefined> {
		// Same-process duplicates queue here first, so only one of them polls Redis.
		const local = await this.fallback.lockRequest(account, name, holdMs, deadline);
		if (!local) return undefined;
		const keys = accountKeys(account);
		const token = randomBytes(16).toString('hex');
		const lockKey = keys.lock(name);
		const succeededKey = keys.succeeded(name);
		let pollMs = LOCK_POLL_MIN_MS;
		for (;;) {
			const reply = (await this.tryScript('agcodLock', [lockKey, succeededKey, token, holdMs])) as
				[number, number] | undefined;
			if (!reply) {
				// Redis unavailable: this process' map is all there is; a success is still written to Redis later.
				return {
					replay: local.replay,
					release: async (succeeded: boolean) => {
						if (succeeded) await this.releaseInRedis(lockKey, succeededKey, token, true);
						await local.release(succeeded);
					},
				};
			}
			const [acquired, detail] = reply;
			if (acquired === 1)
				return this.heldInRedis(local, lockKey, succeededKey, token, holdMs, detail === 1);
			const remaining = deadline - Date.now();
			if (remaining <= 0) {
				await local.release(false);
				return undefined;
			}
			// Poll until the holder releases (or its hold expires), backing off to a few polls per second.
			await sleep(Math.min(pollMs, remaining, Math.max(detail, LOCK_POLL_MIN_MS)));
			pollMs = Math.min(pollMs * 2, LOCK_POLL_MAX_MS);
		}
	}

	private heldInRedis(
		local: RequestLock,
		lockKey: string,
		succeededKey: string,
		token: string,
		holdMs: number,
		replayInRedis: boolean,
	): RequestLock {
		const renewal = setInterval(
			() => void this.tryScript('agcodRenew', [lockKey, token, holdMs]),
			Math.max(1000, Math.floor(holdMs / 3)),
		);
		renewal.unref();
		return {
			replay: replayInRedis || local.replay,
			release: async (succeeded: boolean) => {
				clearInterval(renewal);
				await this.releaseInRedis(lockKey, succeededKey, token, succeeded);
				await local.release(succeeded);
			},
		};
	}

	/**
	 * Releases a hold in Redis and marks a success there. When Redis is away, the release is kept and sent when
	 * it is back: other processes then see the success (`replay`), and the hold, if Redis kept it, ends before
	 * its expiry. A token that holds nothing only writes the marker.
	 */
	private async releaseInRedis(
		lockKey: string,
		succeededKey: string,
		token: string,
		succeeded: boolean,
	): Promise<void> {
		const args = [lockKey, succeededKey, token, succeeded ? 1 : 0, SUCCEEDED_TTL_MS];
		if ((await this.tryScript('agcodRelease', args)) === undefined)
			setNewest(this.missedReleases, lockKey, args);
	}

	/** Sends the releases Redis missed, oldest first; those it misses again wait until it is back again. */
	private async sendMissedReleases(): Promise<void> {
		this.sendingMissed ??= (async () => {
			for (const [lockKey, args] of this.missedReleases) {
				if (this.client.status !== 'ready') return;
				try {
					await this.script('agcodRelease', args);
				} catch {
					return;
				}
				this.missedReleases.delete(lockKey);
			}
		})().finally(() => (this.sendingMissed = undefined));
		await this.sendingMissed;
	}
}

let processBudget: AccountBudget | undefined;
let currentLogger: BudgetLogger | undefined;

/** Builds the budget the environment asks for (see redisConnection.ts). */
function budgetFromSettings(settings: RedisSettings): AccountBudget {
	const local = new LocalBudget();
	if (settings.kind === 'off') {
		currentLogger?.debug(`Amazon Incentives: rate budget per process (${settings.reason})`);
		return local;
	}
	const ioredis = loadIoredis();
	if (!ioredis) {
		currentLogger?.warn(
			`Amazon Incentives: ${settings.description} is configured for the shared rate budget, but the Redis ` +
				"client (ioredis) could not be loaded from n8n's installation; this process paces requests on its own.",
		);
		return local;
	}
	currentLogger?.debug(`Amazon Incentives: shared rate budget in ${settings.description}`);
	return new RedisBudget(
		createRedisClient(settings, ioredis),
		settings.description,
		local,
		() => currentLogger,
	);
}

/** The budget of this process, built from the environment on first use. */
export function accountBudget(logger?: BudgetLogger): AccountBudget {
	if (logger) currentLogger = logger;
	processBudget ??= budgetFromSettings(redisSettingsFromEnvironment());
	return processBudget;
}

/** Closes this process' Redis connection, if any; the next use builds the budget from the environment again. */
export function closeAccountBudget(): void {
	if (processBudget instanceof RedisBudget) processBudget.close();
	processBudget = undefined;
}
