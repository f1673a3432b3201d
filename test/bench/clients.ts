/**
 * The clients the benchmark compares: the node as built (dist/, through n8n-core or through a minimal
 * execute context) and a bare aws4 + node:http loop doing the least any AGCOD client must do.
 */
import * as http from 'node:http';
import path from 'node:path';
import aws4 from 'aws4';
import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	INode,
	INodeExecutionData,
	INodeParameters,
} from 'n8n-workflow';

import type * as CredentialModule from '../../credentials/AmazonIncentivesApi.credentials';
import type * as NodeModule from '../../nodes/AmazonIncentives/AmazonIncentives.node';
import { endpointCredential } from '../support/credentials';
import { type RunNodeResult, runNode } from '../support/n8nHarness';
import { CURRENCY, type BenchItem } from './items';
import { REPO_ROOT, type SandboxDetails } from './sandboxChild';

/** What a client needs to reach the sandbox. */
export type Target = Omit<SandboxDetails, 'caCertPath'>;

/**
 * The node from the BUILT package (dist/), as n8n loads it. Loaded with require so that type-checking
 * the benchmark does not need a build; the types come from the sources.
 */
export function loadBuiltNode(): {
	node: NodeModule.AmazonIncentives;
	credentialType: CredentialModule.AmazonIncentivesApi;
} {
	/* eslint-disable @typescript-eslint/no-require-imports */
	const nodeModule = require(
		path.join(REPO_ROOT, 'dist', 'nodes', 'AmazonIncentives', 'AmazonIncentives.node.js'),
	) as typeof NodeModule;
	const credentialModule = require(
		path.join(REPO_ROOT, 'dist', 'credentials', 'AmazonIncentivesApi.credentials.js'),
	) as typeof CredentialModule;
	/* eslint-enable @typescript-eslint/no-require-imports */
	return {
		node: new nodeModule.AmazonIncentives(),
		credentialType: new credentialModule.AmazonIncentivesApi(),
	};
}

function credentialFor(target: Target): ICredentialDataDecryptedObject {
	return endpointCredential(
		{ url: target.url, region: target.region, partner: target },
		// The https sandbox has a self-signed certificate; only the custom environment allows this.
		{ ignoreSslIssues: target.url.startsWith('https:') },
	);
}

/** Create Gift Card parameters; the idempotency key is the only per-item expression. */
export function createParameters(
	options: INodeParameters,
	amountExpression: boolean,
): INodeParameters {
	return {
		resource: 'giftCard',
		operation: 'create',
		amount: amountExpression ? '={{ $json.amount }}' : 10,
		currencyCode: CURRENCY,
		idempotencyKey: '={{ $json.key }}',
		options,
	};
}

/** The node through n8n-core's WorkflowExecute (expressions, paired items, run data: as in n8n). */
export function runThroughN8n(
	built: ReturnType<typeof loadBuiltNode>,
	target: Target,
	items: BenchItem[],
	parameters: INodeParameters,
): Promise<RunNodeResult> {
	return runNode({
		node: built.node,
		parameters,
		items: items.map((item) => ({ ...item })),
		credentials: { type: built.credentialType, data: credentialFor(target) },
		settings: { onError: 'continueRegularOutput' },
	});
}

let minimalRuns = 0;

/**
 * The node's execute() with the smallest context it needs: fixed parameter values (no expression engine),
 * the idempotency key read straight from the item. It measures the node's own per-item work.
 */
export async function runThroughMinimalContext(
	built: ReturnType<typeof loadBuiltNode>,
	target: Target,
	items: BenchItem[],
	options: IDataObject,
): Promise<INodeExecutionData[]> {
	const input: INodeExecutionData[] = items.map((item) => ({ json: { ...item } }));
	const parameters: IDataObject = {
		resource: 'giftCard',
		operation: 'create',
		amount: 10,
		currencyCode: CURRENCY,
		requestIdMode: 'derive',
		options,
	};
	const node = {
		id: 'bench-node',
		name: 'Amazon Incentives',
		type: 'CUSTOM.amazonIncentives',
		parameters,
	} as unknown as INode;
	const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };
	const executionId = `bench-${++minimalRuns}`;
	// What n8n gives every execution and the node reads: the workflow id (the default key scope), the
	// execution id (the spending limits' per-execution total), the mode and settings (the claim-code hint).
	const context = {
		getInputData: () => input,
		continueOnFail: () => true,
		getNode: () => node,
		getWorkflow: () => ({ id: 'bench-workflow', name: 'bench', active: true }),
		getExecutionId: () => executionId,
		getMode: () => 'trigger',
		getWorkflowSettings: () => ({ saveDataSuccessExecution: 'none' }),
		addExecutionHints() {},
		logger: quietLogger,
		getCredentials: async () => credentialFor(target),
		getNodeParameter(name: string, itemIndex: number, fallback?: unknown) {
			if (name === 'idempotencyKey') return input[itemIndex].json.key;
			return parameters[name] ?? fallback;
		},
	} as unknown as IExecuteFunctions;
	const [output] = await built.node.execute.call(context);
	return output;
}

interface LoopResult {
	succeeded: number;
	failed: number;
}

/** Shared by every bare-loop run, as the node keeps one keep-alive agent per endpoint for the process. */
const bareAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * The least an AGCOD client does per item: JSON body, aws4.sign, keep-alive POST, JSON.parse, with the
 * same number of requests in flight as the node. No retries, no validation, no rate limiting.
 */
export async function bareLoop(
	target: Target,
	items: BenchItem[],
	settings: { concurrency: number; idPrefix: string },
): Promise<LoopResult> {
	const url = new URL(target.url);
	const agent = bareAgent;
	const send = (item: BenchItem, index: number) =>
		new Promise<boolean>((resolve) => {
			const body = JSON.stringify({
				creationRequestId: `${target.partnerId}${settings.idPrefix}x${index}`,
				partnerId: target.partnerId,
				value: { currencyCode: CURRENCY, amount: item.amount },
			});
			const signed = aws4.sign(
				{
					host: url.host,
					path: '/CreateGiftCard',
					method: 'POST',
					service: 'AGCODService',
					region: target.signingRegion,
					body,
					headers: {
						accept: 'application/json',
						'content-type': 'application/json',
						'x-amz-target': 'com.amazonaws.agcod.AGCODService.CreateGiftCard',
					},
				},
				{ accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
			);
			const request = http.request(
				{
					hostname: url.hostname,
					port: url.port,
					path: '/CreateGiftCard',
					method: 'POST',
					headers: signed.headers as http.OutgoingHttpHeaders,
					agent,
				},
				(response) => {
					const chunks: Buffer[] = [];
					response.on('data', (chunk: Buffer) => chunks.push(chunk));
					response.on('end', () => {
						try {
							const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as IDataObject;
							resolve(parsed.status === 'SUCCESS');
						} catch {
							resolve(false);
						}
					});
					response.on('error', () => resolve(false));
				},
			);
			request.on('error', () => resolve(false));
			request.end(body);
		});

	let next = 0;
	let succeeded = 0;
	const worker = async () => {
		while (next < items.length) {
			const index = next++;
			if (await send(items[index], index)) succeeded++;
		}
	};
	await Promise.all(Array.from({ length: settings.concurrency }, worker));
	return { succeeded, failed: items.length - succeeded };
}
