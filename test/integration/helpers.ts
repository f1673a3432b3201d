import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { AmazonIncentivesApi } from '../../credentials/AmazonIncentivesApi.credentials';
import { AmazonIncentives } from '../../nodes/AmazonIncentives/AmazonIncentives.node';
import { type RunningSandbox, type SandboxOptions, startSandbox } from '../sandbox';
import { type RunNodeOptions, type RunNodeResult, runNode } from '../support/n8nHarness';

export const node = new AmazonIncentives();
export const credentialType = new AmazonIncentivesApi();

export function sandboxCredential(sandbox: RunningSandbox, overrides: IDataObject = {}) {
	return {
		partnerId: sandbox.partner.partnerId,
		accessKeyId: sandbox.partner.accessKeyId,
		secretAccessKey: sandbox.partner.secretAccessKey,
		region: sandbox.region,
		environment: 'custom',
		endpoint: sandbox.url,
		...overrides,
	};
}

/** Runs the node in n8n-core against the sandbox with its default partner. */
export function runAgainst(
	sandbox: RunningSandbox,
	parameters: INodeParameters,
	items: IDataObject[],
	extra: Partial<Pick<RunNodeOptions, 'settings'>> & { credential?: IDataObject } = {},
): Promise<RunNodeResult> {
	return runNode({
		node,
		parameters,
		items,
		credentials: { type: credentialType, data: sandboxCredential(sandbox, extra.credential) },
		settings: extra.settings,
	});
}

/** A sandbox for one test file; reset between tests so stats describe one test only. */
export function useSandbox(options: SandboxOptions = {}): () => RunningSandbox {
	let sandbox: RunningSandbox | undefined;
	beforeAll(async () => {
		sandbox = await startSandbox({ quiet: true, rateLimit: false, ...options });
	});
	beforeEach(() => sandbox?.reset());
	afterAll(async () => {
		await sandbox?.stop();
	});
	return () => {
		if (!sandbox) throw new Error('sandbox not started');
		return sandbox;
	};
}

export function jsonOf(result: RunNodeResult): IDataObject[] {
	return result.main.map((item) => item.json);
}

export const createParameters = (extra: INodeParameters = {}): INodeParameters => ({
	resource: 'giftCard',
	operation: 'create',
	amount: '={{ $json.amount }}',
	currencyCode: 'USD',
	idempotencyKey: '={{ $json.key }}',
	...extra,
});
