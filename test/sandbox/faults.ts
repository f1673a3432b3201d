/** Seeded fault decisions and the token-bucket rate limiter of the sandbox. */
import type { FaultConfig, FaultRule, RateLimitConfig } from './config';

const DEFAULT_FAULT_SEED = 0x5eed;
export const DEFAULT_HANG_MS = 30000;

/** mulberry32: small, fast and deterministic, which is all fault injection needs. */
export function seededRandom(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function checkRate(name: string, value: number | undefined): void {
	if (value !== undefined && !(value >= 0 && value <= 1)) {
		throw new Error(`fault ${name} must be between 0 and 1, got ${value}`);
	}
}

export function validateFaults(faults: FaultConfig): void {
	checkRate('resendFirstAttemptRate', faults.resendFirstAttemptRate);
	checkRate('hangAfterCommitRate', faults.hangAfterCommitRate);
	checkRate('connectionResetRate', faults.connectionResetRate);
	checkRate('html500Rate', faults.html500Rate);
	checkRate('truncatedJsonRate', faults.truncatedJsonRate);
	checkRate('resetAfterCommitRate', faults.resetAfterCommitRate);
	checkRate('failureRate', faults.failureRate);
	checkRate('bare429Rate', faults.bare429Rate);
	checkRate('throttleHeaderRate', faults.throttleHeaderRate);
	const failure = faults.failure;
	if (
		failure !== undefined &&
		!(
			typeof failure === 'object' &&
			typeof failure.errorCode === 'string' &&
			typeof failure.errorType === 'string' &&
			typeof failure.message === 'string'
		)
	)
		throw new Error('fault failure must be {errorCode, errorType, message}');
	for (const name of ['latencyMs', 'latencyJitterMs', 'hangMs'] as const) {
		const value = faults[name];
		if (value !== undefined && !(value >= 0)) throw new Error(`fault ${name} must be >= 0`);
	}
}

interface CompiledRule {
	pattern: RegExp | null;
	operations: string[] | null;
	times: number | null;
	matched: number;
	faults: FaultConfig;
}

export function validateRule(rule: FaultRule): void {
	validateFaults(rule.faults ?? {});
	if (rule.requestIdPattern !== undefined) new RegExp(rule.requestIdPattern);
	if (rule.operations !== undefined && !Array.isArray(rule.operations))
		throw new Error('fault rule operations must be a list of operation names');
	if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times >= 0))
		throw new Error('fault rule times must be a whole number >= 0');
}

/** Picks the fault configuration of a request and rolls the dice for it. */
export class FaultInjector {
	private random: () => number;
	private rules: CompiledRule[] = [];
	private faults: FaultConfig = {};
	private seenRequestIds = new Set<string>();

	constructor(faults: FaultConfig = {}, rules: FaultRule[] = []) {
		this.random = seededRandom(faults.seed ?? DEFAULT_FAULT_SEED);
		this.setFaults(faults);
		this.setRules(rules);
	}

	setFaults(faults: FaultConfig): void {
		validateFaults(faults);
		this.faults = { ...faults };
		if (faults.seed !== undefined) this.random = seededRandom(faults.seed);
	}

	setRules(rules: FaultRule[]): void {
		for (const rule of rules) validateRule(rule);
		this.rules = rules.map((rule) => ({
			pattern: rule.requestIdPattern === undefined ? null : new RegExp(rule.requestIdPattern),
			operations: rule.operations ? [...rule.operations] : null,
			times: rule.times ?? null,
			matched: 0,
			faults: { ...rule.faults },
		}));
	}

	config(): { faults: FaultConfig; faultRules: FaultRule[] } {
		return {
			faults: { ...this.faults },
			faultRules: this.rules.map((rule) => ({
				...(rule.pattern ? { requestIdPattern: rule.pattern.source } : {}),
				...(rule.operations ? { operations: [...rule.operations] } : {}),
				...(rule.times !== null ? { times: rule.times } : {}),
				faults: { ...rule.faults },
			})),
		};
	}

	/** Back to the first draw of the seed, with no request id seen and no rule used up. */
	reset(): void {
		this.random = seededRandom(this.faults.seed ?? DEFAULT_FAULT_SEED);
		this.seenRequestIds.clear();
		for (const rule of this.rules) rule.matched = 0;
	}

	/**
	 * The first rule matching the operation and request id (and not used up) replaces the server-wide
	 * faults. A rule with a pattern never matches a request without an id.
	 */
	faultsFor(requestId: string | null, operation: string | null = null): FaultConfig {
		for (const rule of this.rules) {
			if (rule.times !== null && rule.matched >= rule.times) continue;
			if (rule.operations && (operation === null || !rule.operations.includes(operation))) continue;
			if (rule.pattern && (requestId === null || !rule.pattern.test(requestId))) continue;
			rule.matched += 1;
			return rule.faults;
		}
		return this.faults;
	}

	/** True with probability `rate`; draws nothing when the rate is 0, so unused faults keep sequences stable. */
	roll(rate: number | undefined): boolean {
		if (!rate) return false;
		return this.random() < rate;
	}

	/** Whether this is the first request seen with the id (then it is remembered). */
	firstAttempt(key: string): boolean {
		if (this.seenRequestIds.has(key)) return false;
		this.seenRequestIds.add(key);
		return true;
	}

	latencyMs(faults: FaultConfig): number {
		const fixed = faults.latencyMs ?? 0;
		const jitter = faults.latencyJitterMs ? this.random() * faults.latencyJitterMs : 0;
		return fixed + jitter;
	}
}

/** A token bucket: `capacity` tokens, refilled at `perSecond`; time comes from the caller. */
class TokenBucket {
	private tokens: number;
	private last: number | null = null;

	constructor(
		private readonly capacity: number,
		private readonly perSecond: number,
	) {
		this.tokens = capacity;
	}

	private refill(now: number): void {
		if (this.last !== null && now > this.last) {
			this.tokens = Math.min(
				this.capacity,
				this.tokens + ((now - this.last) / 1000) * this.perSecond,
			);
		}
		if (this.last === null || now > this.last) this.last = now;
	}

	available(now: number): boolean {
		this.refill(now);
		return this.tokens >= 1;
	}

	take(): void {
		this.tokens -= 1;
	}
}

/** 10 requests/second per account and a separate 1/second bucket for GetAvailableFunds. */
export class RateLimiter {
	private accounts = new Map<string, { all: TokenBucket; funds: TokenBucket }>();

	constructor(private readonly config: Required<RateLimitConfig>) {}

	/** Takes a token (GetAvailableFunds: one from each bucket) and answers true, or answers false and takes none. */
	admit(partnerId: string, isAvailableFunds: boolean, now: number): boolean {
		let buckets = this.accounts.get(partnerId);
		if (!buckets) {
			buckets = {
				all: new TokenBucket(this.config.burst, this.config.requestsPerSecond),
				funds: new TokenBucket(1, this.config.availableFundsPerSecond),
			};
			this.accounts.set(partnerId, buckets);
		}
		if (!buckets.all.available(now)) return false;
		if (isAvailableFunds && !buckets.funds.available(now)) return false;
		buckets.all.take();
		if (isAvailableFunds) buckets.funds.take();
		return true;
	}
}

export function completeRateLimit(config: RateLimitConfig): Required<RateLimitConfig> {
	const requestsPerSecond = config.requestsPerSecond ?? 10;
	const completed = {
		requestsPerSecond,
		burst: config.burst ?? requestsPerSecond,
		availableFundsPerSecond: config.availableFundsPerSecond ?? 1,
	};
	for (const [name, value] of Object.entries(completed)) {
		if (!(value > 0)) throw new Error(`rateLimit.${name} must be > 0, got ${value}`);
	}
	return completed;
}
