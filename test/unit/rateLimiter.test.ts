import {
	AccountSchedule,
	slotRequest,
	waitForSlot,
	type SlotRequest,
	type Take,
} from '../../nodes/AmazonIncentives/transport/rateLimiter';

const TEN_PER_SECOND_BURST_TEN: SlotRequest = {
	intervalMs: 100,
	toleranceMs: 900,
	fundsIntervalMs: 0,
};

/** Send times of callers that each take a slot at `arrivals[i]` and wait for it (no throttles). */
function sendTimes(schedule: AccountSchedule, request: SlotRequest, arrivals: number[]): number[] {
	return arrivals.map((now) => {
		const decision = schedule.take(now, request, false);
		if (decision.kind === 'go') return now;
		if (decision.kind === 'reserved') {
			expect(schedule.take(now + decision.waitMs, request, true)).toEqual({ kind: 'go' });
			return now + decision.waitMs;
		}
		throw new Error('unexpected retry');
	});
}

describe('AccountSchedule (GCRA)', () => {
	it('lets a burst through, then spaces requests at the rate', () => {
		const schedule = new AccountSchedule();
		const waits = sendTimes(schedule, TEN_PER_SECOND_BURST_TEN, Array(15).fill(1000)).map(
			(time) => time - 1000,
		);
		expect(waits.slice(0, 10)).toEqual(Array(10).fill(0));
		expect(waits.slice(10)).toEqual([100, 200, 300, 400, 500]);
	});

	it('never lets more than rate × seconds + burst through in any window', () => {
		const schedule = new AccountSchedule();
		let now = 0;
		const arrivals = Array.from({ length: 200 }, () => (now += Math.random() * 30));
		const times = sendTimes(schedule, TEN_PER_SECOND_BURST_TEN, arrivals);
		for (const start of times) {
			const inWindow = times.filter((time) => time >= start && time < start + 1000).length;
			expect(inWindow).toBeLessThanOrEqual(10 + 10);
		}
		// Sustained: 200 requests at 10/s need at least ~19 s after the initial burst.
		expect(Math.max(...times)).toBeGreaterThanOrEqual(18_900);
	});

	it('serves waiting callers in the order they asked (FIFO slots)', () => {
		const schedule = new AccountSchedule();
		const request = slotRequest(10, false);
		const times = sendTimes(schedule, request, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
		expect([...times].sort((a, b) => a - b)).toEqual(times);
	});

	it('uses the whole budget for a single caller (work-conserving)', () => {
		const schedule = new AccountSchedule();
		const request = slotRequest(10, false);
		// 100 requests asked for at once: the last one goes after (100 − burst) intervals, not later.
		const times = sendTimes(schedule, request, Array(100).fill(0));
		expect(Math.max(...times)).toBe((100 - 5) * 100);
	});

	it('starts with half a burst and charges each request its own interval', () => {
		expect(slotRequest(10, false)).toEqual({
			intervalMs: 100,
			toleranceMs: 400,
			fundsIntervalMs: 0,
		});
		expect(slotRequest(1, false)).toEqual({ intervalMs: 1000, toleranceMs: 0, fundsIntervalMs: 0 });
		expect(slotRequest(10, true).fundsIntervalMs).toBe(1100);
		// A request at 5/s uses 200 ms of the account's time, one at 10/s 100 ms: no shared setting is changed.
		const schedule = new AccountSchedule();
		const slow = { intervalMs: 200, toleranceMs: 0, fundsIntervalMs: 0 };
		const fast = { intervalMs: 100, toleranceMs: 0, fundsIntervalMs: 0 };
		expect(schedule.take(0, slow, false)).toEqual({ kind: 'go' });
		expect(schedule.take(0, fast, false)).toEqual({ kind: 'reserved', waitMs: 200 });
		expect(schedule.take(0, slow, false)).toEqual({ kind: 'reserved', waitMs: 300 });
	});

	it('spaces GetAvailableFunds 1.1 s apart without holding account slots while it waits', () => {
		const schedule = new AccountSchedule();
		const funds = slotRequest(10, true);
		const other = slotRequest(10, false);
		expect(schedule.take(0, funds, false)).toEqual({ kind: 'go' });
		// The second funds call reserves nothing yet: the account's slots stay free for others.
		expect(schedule.take(0, funds, false)).toEqual({ kind: 'retry', waitMs: 1100 });
		expect(sendTimes(schedule, other, [0, 0, 0, 0])).toEqual([0, 0, 0, 0]);
		expect(schedule.take(1100, funds, false)).toEqual({ kind: 'go' });
		// When the account's queue is longer than the funds spacing, the funds call simply queues.
		const busy = new AccountSchedule();
		sendTimes(busy, other, Array(30).fill(0));
		expect(busy.take(0, funds, false)).toEqual({ kind: 'reserved', waitMs: 2600 });
		expect(busy.take(0, funds, false)).toEqual({ kind: 'retry', waitMs: 3700 });
	});

	it('pauses everyone after a throttle, without stacking concurrent pauses', () => {
		const schedule = new AccountSchedule();
		const request = { intervalMs: 100, toleranceMs: 0, fundsIntervalMs: 0 };
		expect(schedule.take(0, request, false)).toEqual({ kind: 'go' });
		schedule.pause(0, 1000);
		schedule.pause(10, 1000);
		expect(schedule.take(20, request, false)).toEqual({ kind: 'reserved', waitMs: 990 });
	});

	it('holds back slots reserved before a throttle: they are given up for new ones after the pause', () => {
		const schedule = new AccountSchedule();
		const request = { intervalMs: 100, toleranceMs: 0, fundsIntervalMs: 0 };
		// Three callers hold slots at 0, 100 and 200 ms; the first one is throttled at 50 ms.
		expect(schedule.take(0, request, false)).toEqual({ kind: 'go' });
		expect(schedule.take(0, request, false)).toEqual({ kind: 'reserved', waitMs: 100 });
		expect(schedule.take(0, request, false)).toEqual({ kind: 'reserved', waitMs: 200 });
		schedule.pause(50, 1000);
		// At their slots they find the pause and queue again behind it, one interval apart.
		expect(schedule.take(100, request, true)).toEqual({ kind: 'reserved', waitMs: 950 });
		expect(schedule.take(200, request, true)).toEqual({ kind: 'reserved', waitMs: 950 });
		// Once the pause is over, a held slot is good.
		expect(schedule.take(1050, request, true)).toEqual({ kind: 'go' });
		expect(schedule.take(1150, request, true)).toEqual({ kind: 'go' });
	});
});

describe('waitForSlot', () => {
	it('waits for a reserved slot, confirms it, and retries when nothing was reserved', async () => {
		const decisions: Take[] = [
			{ kind: 'retry', waitMs: 30 },
			{ kind: 'reserved', waitMs: 20 },
			{ kind: 'reserved', waitMs: 10 },
			{ kind: 'go' },
		];
		const holdingFlags: boolean[] = [];
		const sleeps: number[] = [];
		await waitForSlot(
			(holding) => {
				holdingFlags.push(holding);
				return decisions.shift() as Take;
			},
			async (ms) => {
				sleeps.push(ms);
			},
		);
		expect(sleeps).toEqual([30, 20, 10]);
		expect(holdingFlags).toEqual([false, false, true, true]);
	});
});
