/**
 * The package's n8n-side features in a real n8n of each supported line, against the local sandbox in
 * HTTPS mode:
 * - n8n's own HTTP Request node calling AGCOD with "Predefined Credential Type → Amazon Incentives API"
 *   (the credential's authenticate() signs), JSON and XML;
 * - the node's calls going through the forward proxy in HTTPS_PROXY, as n8n's own nodes' do. Its
 *   endpoint `agcod.invalid` resolves only in the test proxy, so a call that bypassed it would fail.
 */
import { type RunningSandbox, startSandbox } from '../sandbox';
import { endpointCredential } from '../support/credentials';
import { type RunningForwardProxy, startForwardProxy } from '../support/forwardProxy';
import { lineLabel } from './cache';
import { lineUnderTest, N8nInstance } from './n8nInstance';
import {
	SCENARIO_CREDENTIAL_NAME,
	scenarioWorkflow,
	workflowWithEndpoint,
	type WorkflowDefinition,
} from './workflows';
import { outputOf } from './runOutput';

const PROXY_HOST = 'agcod.invalid';
const PROXIED_CREDENTIAL_NAME = 'AGCOD through the proxy';

/** The scenario with its Amazon Incentives nodes switched to another credential (by name). */
function usingCredential(workflow: WorkflowDefinition, name: string): WorkflowDefinition {
	for (const node of workflow.nodes) {
		const credentials = node.credentials as Record<string, { name: string }> | undefined;
		if (credentials?.amazonIncentivesApi) credentials.amazonIncentivesApi.name = name;
	}
	return workflow;
}

describe(`n8n-side features in ${lineLabel(lineUnderTest())}`, () => {
	let sandbox: RunningSandbox;
	let proxy: RunningForwardProxy;
	let n8n: N8nInstance;
	let httpRequestWorkflow: string;
	let proxiedReferralWorkflow: string;

	beforeAll(async () => {
		sandbox = await startSandbox({ quiet: true, https: true });
		proxy = await startForwardProxy({ hosts: { [PROXY_HOST]: '127.0.0.1' } });
		// n8n's usual proxy settings; the instance keeps 127.0.0.1 and localhost in NO_PROXY.
		n8n = await N8nInstance.create({
			packageLoading: 'communityPackage',
			env: { HTTPS_PROXY: proxy.url },
		});
		await n8n.importCredentials([
			{
				name: SCENARIO_CREDENTIAL_NAME,
				type: 'amazonIncentivesApi',
				data: endpointCredential(sandbox, { ignoreSslIssues: true }),
			},
			{
				name: PROXIED_CREDENTIAL_NAME,
				type: 'amazonIncentivesApi',
				data: endpointCredential(sandbox, {
					endpoint: sandbox.url.replace('127.0.0.1', PROXY_HOST),
					ignoreSslIssues: true,
				}),
			},
		]);
		[httpRequestWorkflow, proxiedReferralWorkflow] = await n8n.importWorkflows([
			workflowWithEndpoint('http-request-node.json', sandbox.url),
			usingCredential(
				scenarioWorkflow('referral-reward.json', n8n.nodeType('amazonIncentives')),
				PROXIED_CREDENTIAL_NAME,
			),
		]);
	});

	beforeEach(() => {
		sandbox.reset();
		proxy.reset();
	});

	afterAll(async () => {
		await n8n?.dispose();
		await proxy?.stop();
		await sandbox?.stop();
	});

	it('the HTTP Request node calls AGCOD with the Amazon Incentives API credential, JSON and XML', async () => {
		const run = await n8n.execute(httpRequestWorkflow);
		expect({ status: run.status, error: run.error }).toEqual({
			status: 'success',
			error: undefined,
		});

		const cards = outputOf(run, 'Create (JSON)');
		expect(
			cards.map((card) => [card.status, card.creationRequestId, card.cardInfo?.value]),
		).toEqual([
			['SUCCESS', 'AwssbHttpRequestNode1', { amount: 5, currencyCode: 'USD' }],
			['SUCCESS', 'AwssbHttpRequestNode2', { amount: 7.5, currencyCode: 'USD' }],
		]);
		const [funds] = outputOf(run, 'Funds (XML)');
		expect(funds.data).toMatch(/^<GetAvailableFundsResponse>.*<status>SUCCESS<\/status>/s);

		// The sandbox verified every signature (a wrong one answers 403, which would fail the node).
		expect(
			sandbox.requests().map((request) => [request.operation, request.format, request.status]),
		).toEqual(
			expect.arrayContaining([
				['CreateGiftCard', 'json', 'SUCCESS'],
				['CreateGiftCard', 'json', 'SUCCESS'],
				['GetAvailableFunds', 'xml', 'SUCCESS'],
			]),
		);
		expect(sandbox.requests()).toHaveLength(3);
		expect(sandbox.stats()).toMatchObject({ cardsIssued: 2, totalDebited: { USD: 12.5 } });
		// 127.0.0.1 is in NO_PROXY: n8n called the sandbox directly.
		expect(proxy.requests()).toEqual([]);
	});

	it('with HTTPS_PROXY set, every AGCOD call of the node goes through the proxy', async () => {
		const run = await n8n.execute(proxiedReferralWorkflow);
		expect({ status: run.status, error: run.error }).toEqual({
			status: 'success',
			error: undefined,
		});
		const cards = outputOf(run, 'Amazon Incentives');
		expect(cards).toHaveLength(25);
		expect(cards.every((card) => card.status === 'SUCCESS')).toBe(true);
		expect(sandbox.stats()).toMatchObject({ cardsIssued: 25, doubleDebits: [] });

		const tunnels = proxy.requests();
		expect(tunnels.length).toBeGreaterThan(0);
		expect(
			new Set(tunnels.map((tunnel) => `${tunnel.method} ${tunnel.target} ${tunnel.status}`)),
		).toEqual(new Set([`CONNECT ${PROXY_HOST}:${sandbox.port} 200`]));
	});
});
