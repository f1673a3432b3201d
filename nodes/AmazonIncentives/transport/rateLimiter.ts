/**
 * Paces requests to an AGCOD account below its rate limit (10/s, GetAvailableFunds 1/s). One limiter per
 * endpoint + partner + bucket lives for the whole process, so concurrent executions of any workflow share the
 * account's budget instead of each assuming it owns it. Queue-mode workers are separate processes: give each
 * a share of the account's rate.
 *
 * GCRA (virtual scheduling): each request reserves the next free slot, so waiting callers are served in
 * order and a burst of `burst` requests may go at once after an idle period.
 */
export class RateLimiter {
	private theoreticalArrival = 0;
	private pausedUntil = 0;
	private intervalMs = 0;
	private toleranceMs = 0;

	constructor(requestsPerSecond: number, burst: number) {
		this.configure(requestsPerSecond, burst);
	}

	/** The latest caller's setting wins: it is the account's limit, not a per-workflow choice. */
	configure(requestsPerSecond: number, burst: number): void {
		this.intervalMs = 1000 / requestsPerSecond;
		this.toleranceMs = this.intervalMs * (Math.max(1, burst) - 1);
	}

	/** Reserves a slot and returns how long the caller must wait before sending (0 = now). */
	reserve(now: number): number {
		const sendAt = Math.max(now, this.theoreticalArrival - this.toleranceMs, this.pausedUntil);
		this.theoreticalArrival = Math.max(sendAt, this.theoreticalArrival) + this.intervalMs;
		return sendAt - now;
	}

	/** After a ThrottlingException nobody sends for a while; concurrent throttles do not stack. */
	pause(now: number, durationMs: number): void {
		this.pausedUntil = Math.max(this.pausedUntil, now + durationMs);
	}
}

const limiters = new Map<string, RateLimiter>();

export function rateLimiterFor(key: string, requestsPerSecond: number, burst: number): RateLimiter {
	let limiter = limiters.get(key);
	if (limiter) limiter.configure(requestsPerSecond, burst);
	else {
		limiter = new RateLimiter(requestsPerSecond, burst);
		limiters.set(key, limiter);
	}
	return limiter;
}
