import { RateLimiter, rateLimiterFor } from '../../nodes/AmazonIncentives/transport/rateLimiter';

describe('RateLimiter', () => {
	it('lets a burst through, then spaces requests at the rate', () => {
		const limiter = new RateLimiter(10, 10);
		const waits = Array.from({ length: 15 }, () => limiter.reserve(1_000));
		expect(waits.slice(0, 10)).toEqual(Array(10).fill(0));
		expect(waits.slice(10)).toEqual([100, 200, 300, 400, 500]);
	});
	it('never lets more than rate × seconds + burst through in any window', () => {
		const limiter = new RateLimiter(10, 10);
		const sendTimes: number[] = [];
		let now = 0;
		for (let index = 0; index < 200; index++) {
			now += Math.random() * 30;
			sendTimes.push(now + limiter.reserve(now));
		}
		for (const start of sendTimes) {
			const inWindow = sendTimes.filter((time) => time >= start && time < start + 1000).length;
			expect(inWindow).toBeLessThanOrEqual(10 + 10);
		}
		// Sustained: 200 requests at 10/s need at least ~19 s after the initial burst.
		expect(Math.max(...sendTimes)).toBeGreaterThanOrEqual(18_900);
	});
	it('pauses everyone after a throttle, without stacking concurrent pauses', () => {
		const limiter = new RateLimiter(10, 1);
		expect(limiter.reserve(0)).toBe(0);
		limiter.pause(0, 1000);
		limiter.pause(10, 1000);
		expect(limiter.reserve(20)).toBe(990);
	});
	it('is shared per key and takes the latest rate', () => {
		const a = rateLimiterFor('unit-test-key', 10, 1);
		const b = rateLimiterFor('unit-test-key', 1, 1);
		expect(a).toBe(b);
		expect(a.reserve(0)).toBe(0);
		expect(a.reserve(0)).toBe(1000);
	});
});
