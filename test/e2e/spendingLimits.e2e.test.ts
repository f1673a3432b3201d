/**
 * Spending limits in a real n8n (each supported line): the node inside a Loop Over Items runs once per
 * batch in one workflow execution, and its Max Total Per Execution counts all those runs together. The
 * batch that would pass the total sends nothing, and the error says by how much it is over; the next
 * execution starts from zero.
 */
import { type RunningSandbox, startSandbox } from '../sandbox';
import { lineLabel } from './cache';
import { lineUnderTest, N8nInstance } from './n8nInstance';
import { SCENARIO_CREDENTIAL_NAME, sandboxCredential, type WorkflowDefinition } from './workflows';

/** Five 10 USD rewards through a loop of batches of two, into a node allowed 30 USD per execution. */
function loopWorkflow(nodeType: string): WorkflowDefinition {
	const rewards = Array.from(
		{ length: 5 },
		(_, index) => `{ json: { rewardId: 'loop-${index + 1}-' + $execution.id, amount: 10 } }`,
	);
	return {
		name: 'Spending limit in a loop',
		nodes: [
			{
				id: 'trigger',
				name: 'Start',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: 'rewards',
				name: 'Rewards',
				type: 'n8n-nodes-base.code',
				typeVersion: 2,
				position: [200, 0],
				parameters: { jsCode: `return [${rewards.join(', ')}];` },
			},
			{
				id: 'loop',
				name: 'Loop Over Items',
				type: 'n8n-nodes-base.splitInBatches',
				typeVersion: 3,
				position: [400, 0],
				parameters: { batchSize: 2, options: {} },
			},
			{
				id: 'agcod',
				name: 'Issue gift card',
				type: nodeType,
				typeVersion: 1,
				position: [600, 100],
				parameters: {
					resource: 'giftCard',
					operation: 'create',
					amount: '={{ $json.amount }}',
					currencyCode: 'USD',
					idempotencyKey: '={{ $json.rewardId }}',
					spendingLimits: { limit: [{ currencyCode: 'USD', maxPerItem: 20, maxPerExecution: 30 }] },
					options: {},
				},
				credentials: { amazonIncentivesApi: { id: null, name: SCENARIO_CREDENTIAL_NAME } },
			},
			{
				id: 'done',
				name: 'Done',
				type: 'n8n-nodes-base.noOp',
				typeVersion: 1,
				position: [600, -100],
				parameters: {},
			},
		],
		connections: {
			Start: { main: [[{ node: 'Rewards', type: 'main', index: 0 }]] },
			Rewards: { main: [[{ node: 'Loop Over Items', type: 'main', index: 0 }]] },
			'Loop Over Items': {
				main: [
					[{ node: 'Done', type: 'main', index: 0 }],
					[{ node: 'Issue gift card', type: 'main', index: 0 }],
				],
			},
			'Issue gift card': { main: [[{ node: 'Loop Over Items', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

describe(`spending limits in ${lineLabel(lineUnderTest())}`, () => {
	let sandbox: RunningSandbox;
	let n8n: N8nInstance;
	let workflowId: string;

	beforeAll(async () => {
		sandbox = await startSandbox({ quiet: true });
		n8n = await N8nInstance.create({ packageLoading: 'communityPackage' });
		await n8n.importCredentials([sandboxCredential(SCENARIO_CREDENTIAL_NAME, sandbox)]);
		workflowId = await n8n.importWorkflow(loopWorkflow(n8n.nodeType('amazonIncentives')));
	});

	afterAll(async () => {
		await n8n?.dispose();
		await sandbox?.stop();
	});

	it('a loop cannot pass Max Total Per Execution: the batch that would sends nothing, and the error says by how much', async () => {
		for (const execution of [1, 2]) {
			const cardsBefore = sandbox.stats().cardsIssued;
			const run = await n8n.execute(workflowId);
			expect(run.status).toBe('error');
			const node = run.nodes['Issue gift card'];
			expect(node.runCount).toBe(2);
			expect(node.error).toBe(
				"Spending limit: this would move 20.00 USD on top of 20.00 USD it already moved in this execution, 10.00 USD over the node's limit of 30.00 USD per execution. Nothing was sent.",
			);
			// The first batch went through, the second sent nothing; the next execution starts from zero.
			expect({ execution, issued: sandbox.stats().cardsIssued - cardsBefore }).toEqual({
				execution,
				issued: 2,
			});
		}
		expect(sandbox.stats()).toMatchObject({ totalDebited: { USD: 40 }, doubleDebits: [] });
	});
});
