/**
 * The shared budget against a real redis-server (Debian's package, installed when missing). Each RedisBudget
 * here has its own connection and its own in-process fallback, as each n8n worker process has.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import Redis from 'ioredis';

import {
	AccountSchedule,
	slotRequest,
	type SlotRequest,
} from '../../nodes/AmazonIncentives/transport/rateLimiter';
import type {
	IoredisModule,
	RedisClient,
} from '../../nodes/AmazonIncentives/transport/redisConnection';
import { createRedisClient } from '../../nodes/AmazonIncentives/transport/redisConnection';
import {
	LocalBudget,
	RedisBudget,
	type BudgetLogger,
} from '../../nodes/AmazonIncentives/transport/sharedBudget';
import { RedisServer } from '../e2e/services';
import { findFreePort } from '../support/localServer';

jest.setTimeout(120_000);

class RecordingLogger implements BudgetLogger {
	readonly lines: Array<{ level: string; message: string }> = [];
	warn(message: string) {
		this.lines.push({ level: 'warn', message });
	}
	info(message: string) {
		this.lines.push({ level: 'info', message });
	}
	debug(message: string) {
		this.lines.push({ level: 'debug', message });
	}
	count(level: string) {
		return this.lines.filter((line) => line.level === level).length;
	}
}

let redis: RedisServer;
const clients: RedisClient[] = [];
let accountCounter = 0;

function newAccount(): string {
	return `http://127.0.0.1:1|Test${process.pid}x${++accountCounter}`;
}

function budgetOn(port: number, logger = new RecordingLogger()) {
	const client = createRedisClient(
		{ kind: 'url', url: `redis://127.0.0.1:${port}`, description: `redis ${port}` },
		Redis as unknown as IoredisModule,
	);
	clients.push(client);
	const budget = new RedisBudget(client, `test Redis on ${port}`, new LocalBudget(), () => logger);
	return { budget, logger, client };
}

beforeAll(async () => {
	// On a fresh machine this installs redis-server first.
	redis = await RedisServer.start();
}, 600_000);

afterAll(async () => {
	for (const client of clients) {
		if (client.status === 'ready') await client.quit();
		else client.disconnect();
	}
	await redis?.dispose();
});

/** Acquires `count` slots one after the other (like one item pipeline) and records when each was granted. */
async function grantTimes(
	budget: RedisBudget,
	account: string,
	request: SlotRequest,
	count: number,
	into: number[],
): Promise<void> {
	for (let index = 0; index < count; index++) {
		await budget.acquireSlot(account, request);
		into.push(Date.now());
	}
}

/** Waits until the budget has said that Redis is back (10 s at most), and gives it a moment to catch up. */
async function waitForInfo(logger: RecordingLogger): Promise<void> {
	const deadline = Date.now() + 10_000;
	while (logger.count('info') === 0 && Date.now() < deadline) await sleep(50);
	expect(logger.count('info')).toBe(1);
	await sleep(200);
}

function busiestWindow(times: number[], windowMs: number): number {
	const sorted = [...times].sort((a, b) => a - b);
	let busiest = 0;
	for (let last = 0, first = 0; last < sorted.length; last++) {
		while (sorted[last] - sorted[first] >= windowMs) first++;
		busiest = Math.max(busiest, last - first + 1);
	}
	return busiest;
}

describe('shared budget in Redis', () => {
	it('makes the same decisions as the in-process schedule (same script, same clock)', async () => {
		const { budget } = budgetOn(redis.port);
		const account = newAccount();
		const local = new AccountSchedule();
		let seed = 7;
		const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
		let now = 1_700_000_000_000;
		const requests = [slotRequest(10, false), slotRequest(10, true), slotRequest(4, false)];
		for (let step = 0; step < 400; step++) {
			now += Math.floor(random() * 120);
			if (random() < 0.03) {
				local.pause(now, 1000);
				await budget.pause(account, 1000, now);
				continue;
			}
			const request = requests[Math.floor(random() * requests.length)];
			const holding = random() < 0.3;
			const expected = local.take(now, request, holding);
			const actual = await budget.take(account, request, holding, now);
			// Redis answers whole milliseconds (rounded up).
			expect(actual).toEqual(
				expected.kind === 'go' ? expected : { ...expected, waitMs: Math.ceil(expected.waitMs) },
			);
		}
	});

	it('holds the account to its rate across processes, and one busy process may use it all', async () => {
		const account = newAccount();
		const request = slotRequest(10, false);
		const workers = [budgetOn(redis.port), budgetOn(redis.port), budgetOn(redis.port)];
		// Connected before the race starts, as a running worker is.
		for (const { budget } of workers) await budget.acquireSlot(newAccount(), request);
		// Alone: a single process with 10 pipelines gets the whole budget.
		const alone: number[] = [];
		const aloneStart = Date.now();
		await Promise.all(
			Array.from({ length: 10 }, () => grantTimes(workers[0].budget, account, request, 4, alone)),
		);
		const aloneSpan = Date.now() - aloneStart;
		// 40 slots: 5 at once (half burst), then 35 at 100 ms.
		expect(aloneSpan).toBeGreaterThanOrEqual(3400);
		expect(aloneSpan).toBeLessThan(4200);

		// Three processes at once: 60 slots in total, never more than 10 + 5 in any second, and each process
		// is served in proportion to what it asked for (the FIFO slots), so none starves.
		await new Promise((resolve) => setTimeout(resolve, 1000));
		const perWorker: number[][] = [[], [], []];
		const startedAt = Date.now();
		await Promise.all(
			workers.flatMap(({ budget }, index) =>
				Array.from({ length: 5 }, () => grantTimes(budget, account, request, 4, perWorker[index])),
			),
		);
		const span = Date.now() - startedAt;
		const all = perWorker.flat();
		expect(all).toHaveLength(60);
		expect(busiestWindow(all, 1000)).toBeLessThanOrEqual(15);
		expect(span).toBeGreaterThanOrEqual(5400);
		expect(span).toBeLessThan(6400);
		// Halfway through, every process has had a fair share of the slots granted so far.
		const middle = startedAt + span / 2;
		for (const times of perWorker) {
			const early = times.filter((time) => time <= middle).length;
			expect(early).toBeGreaterThanOrEqual(6);
			expect(early).toBeLessThanOrEqual(14);
		}
	});

	it('spaces GetAvailableFunds across processes by 1.1 s', async () => {
		const account = newAccount();
		const funds = slotRequest(10, true);
		const [a, b] = [budgetOn(redis.port), budgetOn(redis.port)];
		const times: number[] = [];
		await Promise.all([
			grantTimes(a.budget, account, funds, 2, times),
			grantTimes(b.budget, account, funds, 2, times),
		]);
		times.sort((x, y) => x - y);
		for (let index = 1; index < times.length; index++)
			expect(times[index] - times[index - 1]).toBeGreaterThanOrEqual(1090);
	});

	it('a throttle pause in one process holds back slots another process had already reserved', async () => {
		const account = newAccount();
		const request = { intervalMs: 100, toleranceMs: 0, fundsIntervalMs: 0 };
		const [a, b] = [budgetOn(redis.port), budgetOn(redis.port)];
		await a.budget.acquireSlot(account, request);
		const startedAt = Date.now();
		// b reserves the next slots (100, 200 ms ahead); a is throttled right away.
		const granted = Promise.all([
			b.budget.acquireSlot(account, request).then(() => Date.now() - startedAt),
			b.budget.acquireSlot(account, request).then(() => Date.now() - startedAt),
		]);
		await new Promise((resolve) => setTimeout(resolve, 20));
		await a.budget.pause(account, 1000);
		const [first, second] = await granted;
		// Both after the pause, one interval apart. Bounds from below only: a busy machine wakes a waiter late,
		// never early, so the gap between wake-ups can shrink while the slots themselves stay 100 ms apart.
		expect(Math.min(first, second)).toBeGreaterThanOrEqual(1000);
		expect(Math.max(first, second)).toBeGreaterThanOrEqual(1090);
	});
});

describe('one request in flight per id across processes', () => {
	it('makes the second holder wait for the first, then tells it the answer is a replay', async () => {
		const account = newAccount();
		const [a, b] = [budgetOn(redis.port), budgetOn(redis.port)];
		const first = await a.budget.lockRequest(
			account,
			'CreateGiftCard:AwssbX1',
			10_000,
			Date.now() + 5000,
		);
		expect(first).toBeDefined();
		expect(first?.replay).toBe(false);
		const startedAt = Date.now();
		const second = b.budget.lockRequest(
			account,
			'CreateGiftCard:AwssbX1',
			10_000,
			Date.now() + 5000,
		);
		// Another id is not held up.
		const other = await b.budget.lockRequest(
			account,
			'CreateGiftCard:AwssbX2',
			10_000,
			Date.now() + 5000,
		);
		expect(other?.replay).toBe(false);
		await other?.release(false);
		await new Promise((resolve) => setTimeout(resolve, 400));
		await first?.release(true);
		const secondLock = await second;
		expect(Date.now() - startedAt).toBeGreaterThanOrEqual(400);
		expect(secondLock?.replay).toBe(true);
		await secondLock?.release(true);
	});

	it('a failed first call is no replay; a waiter gives up at its deadline; only the holder releases', async () => {
		const account = newAccount();
		const [a, b] = [budgetOn(redis.port), budgetOn(redis.port)];
		const first = await a.budget.lockRequest(
			account,
			'ActivateGiftCard:AwssbY',
			10_000,
			Date.now() + 1000,
		);
		const startedAt = Date.now();
		expect(
			await b.budget.lockRequest(account, 'ActivateGiftCard:AwssbY', 10_000, Date.now() + 600),
		).toBe(undefined);
		expect(Date.now() - startedAt).toBeGreaterThanOrEqual(590);
		await first?.release(false);
		const second = await b.budget.lockRequest(
			account,
			'ActivateGiftCard:AwssbY',
			10_000,
			Date.now() + 1000,
		);
		expect(second?.replay).toBe(false);
		// The first holder's late second release must not free the second holder's lock.
		await first?.release(false);
		expect(
			await a.budget.lockRequest(account, 'ActivateGiftCard:AwssbY', 10_000, Date.now() + 300),
		).toBe(undefined);
		await second?.release(false);
	});

	it('renews the hold while the call runs, and a dead holder frees the id after its hold time', async () => {
		const account = newAccount();
		const [a, b] = [budgetOn(redis.port), budgetOn(redis.port)];
		const held = await a.budget.lockRequest(
			account,
			'LoadAmazonBalance:AwssbZ',
			1500,
			Date.now() + 1000,
		);
		// Well past the 1.5 s hold, the id is still held because its holder is alive and renews it.
		expect(
			await b.budget.lockRequest(account, 'LoadAmazonBalance:AwssbZ', 1500, Date.now() + 3000),
		).toBe(undefined);
		await held?.release(false);
		// A holder that vanishes without releasing (its process died): the id frees after the hold time.
		const c = budgetOn(redis.port);
		const orphan = await c.budget.lockRequest(
			account,
			'LoadAmazonBalance:AwssbW',
			1500,
			Date.now() + 1000,
		);
		expect(orphan).toBeDefined();
		c.client.disconnect();
		const startedAt = Date.now();
		const next = await b.budget.lockRequest(
			account,
			'LoadAmazonBalance:AwssbW',
			1500,
			Date.now() + 5000,
		);
		expect(next).toBeDefined();
		expect(Date.now() - startedAt).toBeLessThan(4000);
		await next?.release(false);
	});

	it('keeps no answers in Redis: only the lock while in flight and that an id succeeded', async () => {
		const account = newAccount();
		const { budget } = budgetOn(redis.port);
		const lock = await budget.lockRequest(
			account,
			'CreateGiftCard:AwssbKeys',
			10_000,
			Date.now() + 1000,
		);
		await lock?.release(true);
		const inspector = new Redis({ port: redis.port, lazyConnect: true });
		await inspector.connect();
		try {
			const keys = await inspector.keys('amazon-incentives:*');
			const values = await Promise.all(
				keys.map(async (key) =>
					(await inspector.type(key)) === 'string' ? await inspector.get(key) : 'hash',
				),
			);
			for (const value of values) expect(['1', 'hash']).toContain(value);
			expect(keys.some((key) => key.endsWith(':ok:CreateGiftCard:AwssbKeys'))).toBe(true);
			expect(keys.some((key) => key.includes(':lock:CreateGiftCard:AwssbKeys'))).toBe(false);
		} finally {
			inspector.disconnect();
		}
	});
});

describe('when Redis is unavailable', () => {
	it('at start: paces in this process, warns once, keeps same-process duplicates apart', async () => {
		const nobodyListens = await findFreePort();
		const { budget, logger } = budgetOn(nobodyListens);
		const account = newAccount();
		const request = slotRequest(10, false);
		const times: number[] = [];
		const startedAt = Date.now();
		await Promise.all(
			Array.from({ length: 4 }, () => grantTimes(budget, account, request, 5, times)),
		);
		// 20 slots from the local schedule: 5 at once, then 100 ms apart.
		expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1400);
		expect(logger.count('warn')).toBe(1);
		expect(logger.lines[0].message).toMatch(
			/shared rate budget in test Redis on \d+ is unavailable/,
		);
		const first = await budget.lockRequest(
			account,
			'CreateGiftCard:AwssbL',
			10_000,
			Date.now() + 1000,
		);
		expect(
			await budget.lockRequest(account, 'CreateGiftCard:AwssbL', 10_000, Date.now() + 200),
		).toBe(undefined);
		await first?.release(true);
		const again = await budget.lockRequest(
			account,
			'CreateGiftCard:AwssbL',
			10_000,
			Date.now() + 200,
		);
		expect(again?.replay).toBe(true);
		await again?.release(true);
		expect(logger.count('warn')).toBe(1);
	});

	it.each([
		['succeeded: every process sees a replay', true],
		['failed: no process sees a replay', false],
	])(
		'ids released while Redis is away reach Redis when it is back; %s, and no hold outlives the outage',
		async (_, succeeded) => {
			const server = await RedisServer.start({ persistent: true });
			try {
				const account = newAccount();
				const [a, b] = [budgetOn(server.port), budgetOn(server.port)];
				const hold = (name: string) =>
					a.budget.lockRequest(account, name, 60_000, Date.now() + 1000);
				// One id held in Redis before the outage, one taken during it (in this process only).
				const heldBefore = await hold('CreateGiftCard:AwssbM1');
				await server.stop();
				const heldDuring = await hold('CreateGiftCard:AwssbM2');
				expect([heldBefore, heldDuring].every(Boolean)).toBe(true);
				await heldBefore?.release(succeeded);
				await heldDuring?.release(succeeded);
				await server.restart();
				await waitForInfo(a.logger);
				// Another process may take both at once (Redis kept the first hold until its release arrived).
				for (const name of ['CreateGiftCard:AwssbM1', 'CreateGiftCard:AwssbM2']) {
					const startedAt = Date.now();
					const lock = await b.budget.lockRequest(account, name, 60_000, Date.now() + 5000);
					expect(Date.now() - startedAt).toBeLessThan(1000);
					expect(lock?.replay).toBe(succeeded);
					await lock?.release(succeeded);
				}
			} finally {
				await server.dispose();
			}
		},
	);

	it('mid-run: no request fails, one warning, and the budget returns to Redis when it is back', async () => {
		const server = await RedisServer.start();
		try {
			const { budget, logger } = budgetOn(server.port);
			const account = newAccount();
			const request = slotRequest(10, false);
			await budget.acquireSlot(account, request);
			expect(logger.count('warn')).toBe(0);
			const times: number[] = [];
			const pipelines = Promise.all(
				Array.from({ length: 5 }, () => grantTimes(budget, account, request, 10, times)),
			);
			await new Promise((resolve) => setTimeout(resolve, 1500));
			await server.stop();
			await new Promise((resolve) => setTimeout(resolve, 1500));
			await server.restart();
			await pipelines;
			expect(times).toHaveLength(50);
			expect(logger.count('warn')).toBe(1);
			// ioredis reconnects within a second or two; then decisions are made in Redis again.
			const deadline = Date.now() + 10_000;
			while (logger.count('info') === 0 && Date.now() < deadline) {
				await budget.acquireSlot(account, request);
				await new Promise((resolve) => setTimeout(resolve, 200));
			}
			expect(logger.lines.map((line) => line.level)).toEqual(['warn', 'info']);
			expect(await budget.take(account, request, false)).toBeDefined();
		} finally {
			await server.dispose();
		}
	});
});
