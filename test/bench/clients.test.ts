/**
 * The benchmark's clients keep working as the node changes: `npm run bench` is not part of `npm test`, so a
 * new thing the node reads from n8n (say the workflow id) would otherwise fail every bench item unseen.
 * Runs each client on a few items against an in-process sandbox, from the sources instead of dist/.
 */
import { AmazonIncentivesApi } from '../../credentials/AmazonIncentivesApi.credentials';
import { AmazonIncentives } from '../../nodes/AmazonIncentives/AmazonIncentives.node';
import { type RunningSandbox, startSandbox } from '../sandbox';
import {
	type Target,
	bareLoop,
	createParameters,
	runThroughMinimalContext,
	runThroughN8n,
} from './clients';
import { benchItems } from './items';

const built = { node: new AmazonIncentives(), credentialType: new AmazonIncentivesApi() };
let sandbox: RunningSandbox;
let target: Target;

beforeAll(async () => {
	sandbox = await startSandbox({ quiet: true, rateLimit: false });
	const { url, region, signingRegion, partner } = sandbox;
	target = { url, region, signingRegion, ...partner };
});
beforeEach(() => sandbox.reset());
afterAll(async () => {
	await sandbox?.stop();
});

const options = { requestsPerSecond: 100, maxConcurrentRequests: 10 };

it('the minimal execute context issues one card per item', async () => {
	const output = await runThroughMinimalContext(built, target, benchItems(5, 'minimal'), options);
	expect(output.map((item) => [item.json.status, item.json.error])).toEqual(
		Array(5).fill(['SUCCESS', undefined]),
	);
	expect(sandbox.stats()).toMatchObject({ cardsIssued: 5 });
});

it('the run through n8n-core issues one card per item', async () => {
	const result = await runThroughN8n(
		built,
		target,
		benchItems(5, 'n8n'),
		createParameters(options, true),
	);
	expect(result.main.map((item) => [item.json.status, item.json.error])).toEqual(
		Array(5).fill(['SUCCESS', undefined]),
	);
	expect(sandbox.stats()).toMatchObject({ cardsIssued: 5 });
});

it('the bare loop issues one card per item', async () => {
	const result = await bareLoop(target, benchItems(5, 'bare'), {
		concurrency: 2,
		idPrefix: 'bare',
	});
	expect(result).toEqual({ succeeded: 5, failed: 0 });
	expect(sandbox.stats()).toMatchObject({ cardsIssued: 5 });
});
