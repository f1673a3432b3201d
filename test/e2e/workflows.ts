/**
 * The workflow files the end-to-end suites and the demo import into n8n, and the credentials they
 * expect:
 * - `test/workflows/*.json`: one workflow per end-to-end scenario. The Amazon Incentives nodes
 *   carry the placeholder type NODE_TYPE_PLACEHOLDER, swapped for the type of the loading mode in
 *   use (`CUSTOM.amazonIncentives` or `n8n-nodes-amazon-incentives.amazonIncentives`).
 * - `examples/*.json`: the example workflows users import, unchanged.
 * Both reference credentials by name with `id: null`; n8n resolves them by name and type on import.
 */
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { endpointCredential, type TestEndpoint } from '../support/credentials';
import { repositoryRoot } from './communityPackage';
import type { N8nCredential } from './n8nInstance';

const NODE_TYPE_PLACEHOLDER = 'AMAZON_INCENTIVES_NODE_TYPE';
/** The credential name the scenario workflows reference. */
export const SCENARIO_CREDENTIAL_NAME = 'AGCOD local sandbox';

/** The credential names the example workflows reference (what a user creates in n8n). */
const EXAMPLE_CREDENTIAL_NAMES = {
	amazonIncentivesApi: 'Amazon Incentives account',
	smtp: 'SMTP account',
	httpHeaderAuth: 'Webhook secret',
	jwtAuth: 'POS signing key',
} as const;

/** The header the example webhooks check (Header Auth credential "Webhook secret"). */
export const WEBHOOK_SECRET_HEADER = 'X-Webhook-Secret';

export const EXAMPLE_FILES = {
	referralReward: 'referral-reward.json',
	lowBalanceAlert: 'daily-low-balance-alert.json',
	bulkIssuance: 'bulk-issuance-from-spreadsheet.json',
	posActivation: 'physical-card-activation-pos.json',
} as const;

/** Production webhook paths of the examples (POST). */
export const EXAMPLE_WEBHOOK_PATHS = {
	referralReward: 'referral-reward',
	bulkIssuance: 'bulk-gift-cards',
	posActivate: 'pos/activate',
	posDeactivate: 'pos/deactivate',
} as const;

export type WorkflowDefinition = Record<string, unknown> & {
	name: string;
	nodes: Array<Record<string, unknown> & { name: string; type: string }>;
};

export function examplesDir(): string {
	return path.join(repositoryRoot(), 'examples');
}

function scenarioWorkflowsDir(): string {
	return path.join(repositoryRoot(), 'test', 'workflows');
}

export function readWorkflowFile(file: string): WorkflowDefinition {
	return JSON.parse(fs.readFileSync(file, 'utf8')) as WorkflowDefinition;
}

/** Every example workflow file, by file name. */
export function exampleWorkflowFiles(): string[] {
	return fs
		.readdirSync(examplesDir())
		.filter((name) => name.endsWith('.json'))
		.sort()
		.map((name) => path.join(examplesDir(), name));
}

/** A scenario workflow from test/workflows with its placeholder node type replaced. */
export function scenarioWorkflow(fileName: string, nodeType: string): WorkflowDefinition {
	const workflow = readWorkflowFile(path.join(scenarioWorkflowsDir(), fileName));
	let replaced = 0;
	for (const node of workflow.nodes) {
		if (node.type === NODE_TYPE_PLACEHOLDER) {
			node.type = nodeType;
			replaced++;
		}
	}
	if (replaced === 0) throw new Error(`${fileName} has no ${NODE_TYPE_PLACEHOLDER} node`);
	return workflow;
}

/** Stands for the AGCOD endpoint's base URL in scenario workflows that call it without the node. */
const ENDPOINT_PLACEHOLDER = 'AGCOD_ENDPOINT';

/** A scenario workflow from test/workflows with every ENDPOINT_PLACEHOLDER replaced by `baseUrl`. */
export function workflowWithEndpoint(fileName: string, baseUrl: string): WorkflowDefinition {
	const text = fs.readFileSync(path.join(scenarioWorkflowsDir(), fileName), 'utf8');
	if (!text.includes(ENDPOINT_PLACEHOLDER))
		throw new Error(`${fileName} has no ${ENDPOINT_PLACEHOLDER} placeholder`);
	return JSON.parse(text.split(ENDPOINT_PLACEHOLDER).join(baseUrl)) as WorkflowDefinition;
}

/** An n8n credential of type amazonIncentivesApi for a local sandbox (custom endpoint). */
export function sandboxCredential(name: string, sandbox: TestEndpoint): N8nCredential {
	return { name, type: 'amazonIncentivesApi', data: endpointCredential(sandbox) };
}

/** The credentials the examples use, pointing at a local sandbox and SMTP sink. */
export function exampleCredentials(
	sandbox: TestEndpoint,
	smtp: { host: string; port: number },
	webhookSecret: string,
	posSigningKey: string,
): N8nCredential[] {
	return [
		sandboxCredential(EXAMPLE_CREDENTIAL_NAMES.amazonIncentivesApi, sandbox),
		{
			name: EXAMPLE_CREDENTIAL_NAMES.smtp,
			type: 'smtp',
			data: {
				host: smtp.host,
				port: smtp.port,
				secure: false,
				disableStartTls: true,
				user: '',
				password: '',
			},
		},
		{
			name: EXAMPLE_CREDENTIAL_NAMES.httpHeaderAuth,
			type: 'httpHeaderAuth',
			data: { name: WEBHOOK_SECRET_HEADER, value: webhookSecret },
		},
		{
			name: EXAMPLE_CREDENTIAL_NAMES.jwtAuth,
			type: 'jwtAuth',
			data: { keyType: 'passphrase', secret: posSigningKey, algorithm: 'HS256' },
		},
	];
}

/**
 * A signed call for the point-of-sale example, as a till makes it: an HS256 JWT over the claims
 * (`saleId`, or `activationRequestId` for a refund) with an expiry, for `Authorization: Bearer`.
 */
export function posToken(
	signingKey: string,
	claims: Record<string, unknown>,
	lifetimeSeconds = 300,
): string {
	const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
	const now = Math.floor(Date.now() / 1000);
	const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ iat: now, exp: now + lifetimeSeconds, ...claims })}`;
	return `${unsigned}.${createHmac('sha256', signingKey).update(unsigned).digest('base64url')}`;
}
