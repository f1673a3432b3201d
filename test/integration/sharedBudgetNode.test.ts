/**
 * The node run through n8n-core with its budget in a real Redis (AMAZON_INCENTIVES_REDIS_URL, as a queue-mode
 * worker would get it from n8n's queue settings), beside a second RedisBudget with its own connection standing in
 * for another worker process.
 */
import { randomBytes } from 'node:crypto';

import Redis from 'ioredis';

import { slotRequest } from '../../nodes/AmazonIncentives/transport/rateLimiter';
import {
	createRedisClient,
	type IoredisModule,
	type RedisClient,
} from '../../nodes/AmazonIncentives/transport/redisConnection';
import {
	closeAccountBudget,
	LocalBudget,
	RedisBudget,
} from '../../nodes/AmazonIncentives/transport/sharedBudget';
import { RedisServer } from '../e2e/services';
import {
	explicitCreateParameters,
	jsonOf,
	requestsWithId,
	runAgainst,
	useSandbox,
} from './helpers';

let redis: RedisServer;
let otherClient: RedisClient;
let otherWorker: RedisBudget;

beforeAll(async () => {
	redis = await RedisServer.start();
	// Read by the node's process budget on first use.
	process.env.AMAZON_INCENTIVES_REDIS_URL = redis.url;
	otherClient = createRedisClient(
		{ kind: 'url', url: redis.url, description: 'test Redis' },
		Redis as unknown as IoredisModule,
	);
	otherWorker = new RedisBudget(otherClient, 'test Redis', new LocalBudget(), () => undefined);
}, 600_000);

afterAll(async () => {
	closeAccountBudget();
	delete process.env.AMAZON_INCENTIVES_REDIS_URL;
	otherClient?.disconnect();
	await redis?.dispose();
});

const explicitId = () => `Awssb${randomBytes(12).toString('hex')}`;

describe('the node with its budget in Redis', () => {
	const sandbox = useSandbox({ faults: { latencyMs: 100 } });
	const account = () => `${new URL(sandbox().url).origin}|${sandbox().partner.partnerId}`;

	it('waits while another worker holds the request id, sends after it, and reports the replay', async () => {
		const requestId = explicitId();
		const hold = await otherWorker.lockRequest(
			account(),
			`CreateGiftCard:${requestId}`,
			30_000,
			Date.now() + 1000,
		);
		expect(hold?.replay).toBe(false);
		const run = runAgainst(sandbox(), explicitCreateParameters(), [{ requestId, amount: 2 }]);
		await new Promise((resolve) => setTimeout(resolve, 800));
		expect(requestsWithId(sandbox(), requestId)).toEqual([]);
		const releasedAt = Date.now();
		// The other worker's call succeeded (it did not send here: the marker alone says so).
		await hold?.release(true);
		const [output] = jsonOf(await run);
		expect(output).toMatchObject({ status: 'SUCCESS', requestId, replay: true });
		const sent = requestsWithId(sandbox(), requestId);
		expect(sent).toHaveLength(1);
		expect(sent[0].receivedAt).toBeGreaterThanOrEqual(releasedAt);
	});

	it('takes its slots from the same budget as the other worker', async () => {
		// The other worker reserves the next 2 s of the account's budget ...
		const request = slotRequest(10, false);
		const reserved = Array.from({ length: 25 }, () => otherWorker.take(account(), request, false));
		await Promise.all(reserved);
		const startedAt = Date.now();
		// ... so the node's first request waits for the slot after them.
		const [output] = jsonOf(
			await runAgainst(sandbox(), explicitCreateParameters(), [
				{ requestId: explicitId(), amount: 1 },
			]),
		);
		expect(output.status).toBe('SUCCESS');
		const firstRequest = sandbox()
			.requests()
			.find((entry) => entry.requestId === output.requestId);
		expect(firstRequest!.receivedAt - startedAt).toBeGreaterThanOrEqual(1800);
	});
});
