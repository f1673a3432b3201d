/**
 * The rate budget of one AGCOD account (10 requests/s for all operations, 1/s for GetAvailableFunds, and the
 * pause after a throttle) as a pure schedule. The same algorithm runs in this process (AccountSchedule) and, for
 * several n8n processes, in Redis (the Lua script in sharedBudget.ts), so both behave alike.
 *
 * Algorithm: GCRA, the generic cell rate algorithm (as in redis-cell and ATM networks), in its reservation form.
 * The whole state is one timestamp per budget, the theoretical arrival time (TAT) of the next request. Each
 * caller atomically takes the next slot and is told how long to wait for it, so:
 * - the rate holds however many callers share the budget (one atomic update per request, no counters to reset);
 * - it is work-conserving: one busy caller may use the whole budget, nothing is set aside per process;
 * - it is fair: waiting callers are served in the order they asked (FIFO by slot), nobody starves;
 * - after an idle period up to `burst` requests go at once (the tolerance), then one per interval.
 * A token bucket polled with "try again later" would need retries, favour whoever polls at the right moment and
 * let a busy process starve the others; a sliding-window counter needs one entry per request.
 */

import { FUNDS_REQUESTS_PER_SECOND } from '../defaults';

export interface SlotRequest {
	/** The share of the account's time one request uses: 1000 / requests per second. */
	intervalMs: number;
	/** How far a request may run ahead of the schedule: intervalMs × (burst − 1). */
	toleranceMs: number;
	/** GetAvailableFunds only: the spacing of its own budget (no burst); 0 for every other operation. */
	fundsIntervalMs: number;
}

/**
 * What one take() decided:
 * - `go`: send now;
 * - `reserved`: a slot is held `waitMs` ahead; after waiting, take again with `holding` set (a throttle pause
 *   may have started meanwhile, and then the slot is given up for a new one);
 * - `retry`: nothing was reserved (GetAvailableFunds' own budget is not ready yet); take again after `waitMs`.
 */
export type Take =
	{ kind: 'go' } | { kind: 'reserved'; waitMs: number } | { kind: 'retry'; waitMs: number };

/** Amazon's limits, with the margins that keep network jitter from tripping them. */
export function slotRequest(requestsPerSecond: number, isAvailableFunds: boolean): SlotRequest {
	const intervalMs = 1000 / requestsPerSecond;
	// Amazon's bucket and ours refill at the same rate. Allowing only half a burst leaves Amazon's bucket half
	// full, so requests that arrive closer together than they were sent are absorbed instead of throttled.
	const burst = Math.max(1, Math.floor(requestsPerSecond / 2));
	return {
		intervalMs,
		toleranceMs: intervalMs * (burst - 1),
		fundsIntervalMs: isAvailableFunds ? 1000 / FUNDS_REQUESTS_PER_SECOND : 0,
	};
}

/** The schedule of one account in this process. Times are epoch milliseconds. */
export class AccountSchedule {
	private theoreticalArrival = 0;
	private fundsTheoreticalArrival = 0;
	private pausedUntil = 0;

	/**
	 * Takes the next slot. `holding` says the caller already waited for a reserved slot: it may go unless a
	 * throttle pause covers now, in which case it gets a new slot after the pause (at the back of the queue).
	 */
	take(now: number, request: SlotRequest, holding: boolean): Take {
		if (holding && now >= this.pausedUntil) return { kind: 'go' };
		const sendAt = Math.max(now, this.theoreticalArrival - request.toleranceMs, this.pausedUntil);
		if (request.fundsIntervalMs > 0) {
			// Reserve nothing until the funds budget is ready at the account slot, so a GetAvailableFunds call never
			// holds a slot of the account's budget that others could use meanwhile.
			if (this.fundsTheoreticalArrival > sendAt)
				return { kind: 'retry', waitMs: this.fundsTheoreticalArrival - now };
			this.fundsTheoreticalArrival = sendAt + request.fundsIntervalMs;
		}
		this.theoreticalArrival = Math.max(sendAt, this.theoreticalArrival) + request.intervalMs;
		return sendAt <= now ? { kind: 'go' } : { kind: 'reserved', waitMs: sendAt - now };
	}

	/** After a ThrottlingException nobody sends until now + durationMs; concurrent throttles do not stack. */
	pause(now: number, durationMs: number): void {
		this.pausedUntil = Math.max(this.pausedUntil, now + durationMs);
	}
}

/**
 * Waits for a slot: take, wait for the reserved slot, take again to confirm it (a pause that started meanwhile
 * holds the slot back), until told to go.
 */
export async function waitForSlot(
	take: (holding: boolean) => Promise<Take> | Take,
	sleep: (ms: number) => Promise<void>,
): Promise<void> {
	let holding = false;
	for (;;) {
		const decision = await take(holding);
		if (decision.kind === 'go') return;
		holding = decision.kind === 'reserved';
		await sleep(decision.waitMs);
	}
}
