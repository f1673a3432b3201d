import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import type {
	ICredentialTestFunctions,
	ICredentialType,
	ICredentialsDecrypted,
	IExecuteFunctions,
	INodeCredentialTestResult,
	INodeExecutionData,
	INodeType,
	IRun,
} from 'n8n-workflow';

import { runNode, testCredential } from './n8nHarness';

/** A credential with a default and room for expressions, like a real API credential. */
class HarnessFixtureApi implements ICredentialType {
	name = 'harnessFixtureApi';

	displayName = 'Harness Fixture API';

	properties: ICredentialType['properties'] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{
			displayName: 'Region',
			name: 'region',
			type: 'options',
			options: [
				{ name: 'Europe', value: 'eu' },
				{ name: 'North America', value: 'na' },
				{ name: 'Custom', value: 'eu-west' },
			],
			default: 'eu',
		},
		{
			displayName: 'Timeout (ms)',
			name: 'timeoutMs',
			type: 'number',
			default: 6000,
		},
	];
}

/**
 * Doubles `amount` per item, reports the label and its own type version, logs through this.logger and
 * fails with an item-scoped NodeOperationError for items whose json has `fail: true`, honouring
 * Continue On Fail the way n8n nodes do.
 */
class Doubler implements INodeType {
	description: INodeType['description'] = {
		displayName: 'Doubler',
		name: 'doubler',
		group: ['transform'],
		version: [1, 2],
		description: 'Doubles a number',
		defaults: { name: 'Doubler' },
		inputs: ['main'],
		outputs: ['main'],
		properties: [
			{ displayName: 'Amount', name: 'amount', type: 'number', default: 0 },
			{ displayName: 'Label', name: 'label', type: 'string', default: 'none' },
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const returnData: INodeExecutionData[] = [];
		for (let i = 0; i < items.length; i++) {
			try {
				this.logger.debug('Doubling item', { itemIndex: i });
				if (items[i].json.fail === true) {
					throw new NodeOperationError(this.getNode(), `Item ${i} asked to fail`, {
						itemIndex: i,
					});
				}
				const amount = this.getNodeParameter('amount', i) as number;
				returnData.push({
					json: {
						doubled: amount * 2,
						label: this.getNodeParameter('label', i) as string,
						typeVersion: this.getNode().typeVersion,
					},
					pairedItem: { item: i },
				});
			} catch (error) {
				if (this.continueOnFail()) {
					returnData.push({ json: { error: (error as Error).message }, pairedItem: { item: i } });
					continue;
				}
				throw error;
			}
		}
		return [returnData];
	}
}

/** Reads its credential and reports what n8n handed over (never the key itself). */
class CredentialReader implements INodeType {
	description: INodeType['description'] = {
		displayName: 'Credential Reader',
		name: 'credentialReader',
		group: ['transform'],
		version: 1,
		description: 'Reads a credential',
		defaults: { name: 'Credential Reader' },
		inputs: ['main'],
		outputs: ['main'],
		credentials: [{ name: 'harnessFixtureApi', required: true, testedBy: 'harnessFixtureApiTest' }],
		properties: [],
	};

	methods = {
		credentialTest: {
			async harnessFixtureApiTest(
				this: ICredentialTestFunctions,
				credential: ICredentialsDecrypted,
			): Promise<INodeCredentialTestResult> {
				this.logger.debug('Testing credential');
				const data = credential.data ?? {};
				if (data.apiKey !== 'valid-key') return { status: 'Error', message: 'Invalid API key' };
				return { status: 'OK', message: `Connection successful (${String(data.region)})` };
			},
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const returnData: INodeExecutionData[] = [];
		for (let i = 0; i < items.length; i++) {
			const credentials = await this.getCredentials('harnessFixtureApi', i);
			returnData.push({
				json: {
					keyLength: String(credentials.apiKey).length,
					region: credentials.region as string,
					timeoutMs: credentials.timeoutMs as number,
				},
				pairedItem: { item: i },
			});
		}
		return [returnData];
	}
}

/** Throws a NodeApiError on its first `failures` executions, then passes its input through. */
function createFlakyNode(failures: number): INodeType {
	let attempts = 0;
	return {
		description: {
			displayName: 'Flaky',
			name: 'flaky',
			group: ['transform'],
			version: 1,
			description: 'Fails a few times',
			defaults: { name: 'Flaky' },
			inputs: ['main'],
			outputs: ['main'],
			properties: [],
		},
		async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
			attempts++;
			if (attempts <= failures) {
				throw new NodeApiError(
					this.getNode(),
					{ message: 'Rate exceeded' },
					{ message: `Attempt ${attempts} was throttled`, httpCode: '400' },
				);
			}
			return [
				this.getInputData().map((item, i) => ({
					json: { ...item.json, attempts },
					pairedItem: { item: i },
				})),
			];
		},
	};
}

const threeItems = [{ amount: 1 }, { amount: 2, fail: true }, { amount: 3 }];

describe('runNode', () => {
	it('runs the node through WorkflowExecute with outputs and paired items', async () => {
		const result = await runNode({
			node: new Doubler(),
			parameters: { amount: '={{ $json.amount }}' },
			items: [{ amount: 1 }, { amount: 2 }, { json: { amount: 5 } }],
		});

		expect(result.status).toBe('success');
		expect(result.error).toBeUndefined();
		expect(result.runs).toBe(1);
		expect(result.main.map((item) => item.json.doubled)).toEqual([2, 4, 10]);
		expect(result.main.map((item) => item.pairedItem)).toEqual([
			{ item: 0 },
			{ item: 1 },
			{ item: 2 },
		]);
		expect(result.errorOutput).toEqual([]);
		const raw = result.raw as IRun;
		expect(raw.mode).toBe('manual');
		expect(Object.keys(raw.data.resultData.runData)).toEqual([
			'When clicking ‘Execute workflow’',
			'Doubler',
		]);
	});

	it('evaluates expressions per item and applies parameter defaults', async () => {
		const withLabel = await runNode({
			node: new Doubler(),
			parameters: {
				amount: '={{ $json.amount + $itemIndex }}',
				label: '=item {{ $itemIndex }} of {{ $input.all().length }}: {{ $json.name }}',
			},
			items: [
				{ amount: 10, name: 'first' },
				{ amount: 20, name: 'second' },
			],
		});
		expect(withLabel.main.map((item) => item.json)).toEqual([
			{ doubled: 20, label: 'item 0 of 2: first', typeVersion: 2 },
			{ doubled: 42, label: 'item 1 of 2: second', typeVersion: 2 },
		]);

		const withDefaults = await runNode({
			node: new Doubler(),
			parameters: {},
			items: [{}],
			typeVersion: 1,
		});
		expect(withDefaults.main[0].json).toEqual({ doubled: 0, label: 'none', typeVersion: 1 });
	});

	it('does not modify the caller’s items or parameters', async () => {
		const items = [{ amount: 4 }];
		const parameters = { amount: '={{ $json.amount }}' };
		await runNode({ node: new Doubler(), parameters, items });
		expect(items).toEqual([{ amount: 4 }]);
		expect(parameters).toEqual({ amount: '={{ $json.amount }}' });
	});

	it('hands the credential to getCredentials with defaults applied and expressions resolved', async () => {
		const result = await runNode({
			node: new CredentialReader(),
			parameters: {},
			items: [{ id: 1 }, { id: 2 }],
			credentials: {
				type: new HarnessFixtureApi(),
				data: { apiKey: 'abcdefgh', region: '={{ "eu" + "-west" }}' },
			},
		});

		expect(result.status).toBe('success');
		expect(result.main.map((item) => item.json)).toEqual([
			{ keyLength: 8, region: 'eu-west', timeoutMs: 6000 },
			{ keyLength: 8, region: 'eu-west', timeoutMs: 6000 },
		]);
	});

	it('resolves credential expressions against the item being processed', async () => {
		const result = await runNode({
			node: new CredentialReader(),
			parameters: {},
			items: [{ region: 'na' }, { region: 'eu' }],
			credentials: {
				type: new HarnessFixtureApi(),
				data: { apiKey: 'secret-key-123', region: '={{ $json.region }}', timeoutMs: 2500 },
			},
		});

		expect(result.main.map((item) => item.json)).toEqual([
			{ keyLength: 14, region: 'na', timeoutMs: 2500 },
			{ keyLength: 14, region: 'eu', timeoutMs: 2500 },
		]);
		expect(JSON.stringify(result.logs)).not.toContain('secret-key-123');
	});

	it('fails like n8n when a node needs a credential that was not given', async () => {
		const result = await runNode({ node: new CredentialReader(), parameters: {}, items: [{}] });
		expect(result.status).toBe('error');
		expect(result.error?.message).toMatch(/credentials/i);
		expect(result.main).toEqual([]);
	});

	it('reports a run n8n refuses to start (a required parameter left empty) as an error', async () => {
		const strict = new Doubler();
		strict.description.properties[1] = {
			...strict.description.properties[1],
			required: true,
			default: '',
		};
		const result = await runNode({ node: strict, parameters: { amount: 1 }, items: [{}] });

		expect(result.status).toBe('error');
		expect(result.error?.name).toBe('WorkflowHasIssuesError');
		expect(result.error?.message).toContain('Parameter "Label" is required');
		expect(result.runs).toBe(0);
		expect(result.raw).toBeUndefined();
	});

	it('captures what the node logs through this.logger, separately for each run', async () => {
		const first = await runNode({
			node: new Doubler(),
			parameters: { amount: 1 },
			items: [{}, {}],
		});
		const second = await runNode({ node: new Doubler(), parameters: { amount: 1 }, items: [{}] });

		const nodeLogs = (logs: typeof first.logs) =>
			logs.filter((log) => log.message === 'Doubling item');
		expect(nodeLogs(first.logs)).toEqual([
			{ level: 'debug', message: 'Doubling item', meta: { itemIndex: 0 } },
			{ level: 'debug', message: 'Doubling item', meta: { itemIndex: 1 } },
		]);
		expect(nodeLogs(second.logs)).toEqual([
			{ level: 'debug', message: 'Doubling item', meta: { itemIndex: 0 } },
		]);
		// n8n-core's own LoggerProxy messages are captured as well.
		expect(first.logs.map((log) => log.message)).toContain('Start executing node "Doubler"');
	});

	it('continueErrorOutput puts failing items on output 1 and the others on output 0', async () => {
		const result = await runNode({
			node: new Doubler(),
			parameters: { amount: '={{ $json.amount }}' },
			items: threeItems,
			settings: { onError: 'continueErrorOutput' },
		});

		expect(result.status).toBe('success');
		expect(result.main.map((item) => item.json.doubled)).toEqual([2, 6]);
		expect(result.main.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 2 }]);
		expect(result.errorOutput).toHaveLength(1);
		// n8n merges the failing input item into the error item.
		expect(result.errorOutput[0].json).toEqual({
			amount: 2,
			fail: true,
			error: 'Item 1 asked to fail',
		});
		expect(result.errorOutput[0].pairedItem).toEqual({ item: 1 });
	});

	it('continueRegularOutput keeps failing items on output 0', async () => {
		const result = await runNode({
			node: new Doubler(),
			parameters: { amount: '={{ $json.amount }}' },
			items: threeItems,
			settings: { onError: 'continueRegularOutput' },
		});

		expect(result.status).toBe('success');
		expect(result.main.map((item) => item.json)).toEqual([
			{ doubled: 2, label: 'none', typeVersion: 2 },
			{ error: 'Item 1 asked to fail' },
			{ doubled: 6, label: 'none', typeVersion: 2 },
		]);
		expect(result.errorOutput).toEqual([]);
	});

	it('stopWorkflow fails the run with the node’s error and its item index', async () => {
		const result = await runNode({
			node: new Doubler(),
			parameters: { amount: '={{ $json.amount }}' },
			items: threeItems,
			settings: { onError: 'stopWorkflow' },
		});

		expect(result.status).toBe('error');
		expect(result.error).toBeInstanceOf(NodeOperationError);
		expect(result.error?.message).toBe('Item 1 asked to fail');
		expect((result.error as NodeOperationError).context.itemIndex).toBe(1);
		expect(result.main).toEqual([]);
		expect(result.runs).toBe(1);
		expect((result.raw as IRun).status).toBe('error');
	});

	// n8n-core 2.40.3 behaviour worth knowing: only error *items* are routed; a thrown error is not.
	it.each(['continueRegularOutput', 'continueErrorOutput'] as const)(
		'a node that throws under %s passes its input through on output 0 and the run ends in error',
		async (onError) => {
			const result = await runNode({
				node: createFlakyNode(5),
				parameters: {},
				items: [{ id: 'a' }],
				settings: { onError },
			});
			expect(result.status).toBe('error');
			expect(result.main).toEqual([{ json: { id: 'a' }, pairedItem: { item: 0 } }]);
			expect(result.errorOutput).toEqual([]);
			expect(result.error).toBeInstanceOf(NodeApiError);
			expect(result.error?.message).toBe('Attempt 1 was throttled');
		},
	);

	it('retryOnFail re-runs a node that keeps failing maxTries times', async () => {
		const result = await runNode({
			node: new Doubler(),
			parameters: { amount: 1 },
			items: [{ fail: true }],
			settings: { retryOnFail: true, maxTries: 3, waitBetweenTries: 1 },
		});
		expect(result.status).toBe('error');
		expect(result.runs).toBe(3);
		expect(result.error?.message).toBe('Item 0 asked to fail');
	});

	it('retryOnFail ends in success when a later try succeeds', async () => {
		const result = await runNode({
			node: createFlakyNode(1),
			parameters: {},
			items: [{ id: 'a' }],
			settings: { retryOnFail: true, maxTries: 3, waitBetweenTries: 1 },
		});
		expect(result.status).toBe('success');
		expect(result.runs).toBe(2);
		expect(result.error).toBeUndefined();
		expect(result.main.map((item) => item.json)).toEqual([{ id: 'a', attempts: 2 }]);
	});

	it.each([
		{ failing: 'the first', items: [{ amount: 2, fail: true }, { amount: 1 }], runs: 3 },
		{ failing: 'a later', items: [{ amount: 1 }, { amount: 2, fail: true }], runs: 1 },
	])(
		'retryOnFail re-runs on an error item only when it is $failing item',
		async ({ items, runs }) => {
			const result = await runNode({
				node: new Doubler(),
				parameters: { amount: '={{ $json.amount }}' },
				items,
				settings: {
					onError: 'continueRegularOutput',
					retryOnFail: true,
					maxTries: 3,
					waitBetweenTries: 1,
				},
			});
			expect(result.runs).toBe(runs);
			expect(result.status).toBe('success');
			expect(result.main.map((item) => item.json.error ?? item.json.doubled)).toEqual(
				items.map((item) =>
					item.fail ? `Item ${items.indexOf(item)} asked to fail` : item.amount * 2,
				),
			);
		},
	);

	it('runs one workflow id by default, or the one given, with its settings, mode and hints', async () => {
		const probe: INodeType = {
			description: {
				displayName: 'Probe',
				name: 'probe',
				group: ['transform'],
				version: 1,
				description: 'Reports what n8n tells a node about its workflow',
				defaults: { name: 'Probe' },
				inputs: ['main'],
				outputs: ['main'],
				properties: [],
			},
			async execute(this: IExecuteFunctions) {
				this.addExecutionHints({ message: `mode ${this.getMode()}`, location: 'outputPane' });
				const settings = this.getWorkflowSettings();
				return [
					[
						{
							json: {
								workflowId: this.getWorkflow().id ?? null,
								saveManualExecutions: settings.saveManualExecutions ?? null,
								executionOrder: settings.executionOrder ?? null,
							},
						},
					],
				];
			},
		};
		const first = await runNode({ node: probe, parameters: {}, items: [{}] });
		const second = await runNode({ node: probe, parameters: {}, items: [{}] });
		expect(first.main[0].json.workflowId).toBe('harness-workflow');
		expect(second.main[0].json.workflowId).toBe('harness-workflow');
		expect(first.hints).toEqual([{ message: 'mode manual', location: 'outputPane' }]);

		const other = await runNode({
			node: probe,
			parameters: {},
			items: [{}],
			workflowId: 'wf-42',
			workflowSettings: { saveManualExecutions: false },
			mode: 'webhook',
		});
		expect(other.main[0].json).toEqual({
			workflowId: 'wf-42',
			saveManualExecutions: false,
			executionOrder: 'v1',
		});
		expect(other.hints).toEqual([{ message: 'mode webhook', location: 'outputPane' }]);
	});

	it('does not retry without retryOnFail', async () => {
		const result = await runNode({
			node: createFlakyNode(1),
			parameters: {},
			items: [{ id: 'a' }],
			settings: { maxTries: 3, waitBetweenTries: 1 },
		});
		expect(result.status).toBe('error');
		expect(result.runs).toBe(1);
		expect(result.error).toBeInstanceOf(NodeApiError);
		expect(result.error?.message).toBe('Attempt 1 was throttled');
	});
});

describe('testCredential', () => {
	it('returns the node’s OK result for a good credential, with defaults applied', async () => {
		await expect(
			testCredential(new CredentialReader(), new HarnessFixtureApi(), { apiKey: 'valid-key' }),
		).resolves.toEqual({ status: 'OK', message: 'Connection successful (eu)' });
	});

	it('resolves expressions in the credential before the test sees it', async () => {
		await expect(
			testCredential(new CredentialReader(), new HarnessFixtureApi(), {
				apiKey: '={{ "valid" + "-key" }}',
				region: '={{ "n" + "a" }}',
			}),
		).resolves.toEqual({ status: 'OK', message: 'Connection successful (na)' });
	});

	it('returns the node’s Error result for a bad credential', async () => {
		await expect(
			testCredential(new CredentialReader(), new HarnessFixtureApi(), {
				apiKey: 'wrong',
				region: 'na',
			}),
		).resolves.toEqual({ status: 'Error', message: 'Invalid API key' });
	});

	it('reports a node without a test for the credential as n8n does', async () => {
		await expect(
			testCredential(new Doubler(), new HarnessFixtureApi(), { apiKey: 'valid-key' }),
		).resolves.toEqual({
			status: 'Error',
			message: 'No testing function found for this credential.',
		});
	});
});
