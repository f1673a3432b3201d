import * as http from 'node:http';

import {
	type IDataObject,
	type INodeParameters,
	NodeApiError,
	NodeOperationError,
} from 'n8n-workflow';

import { AmazonIncentivesApi } from '../../credentials/AmazonIncentivesApi.credentials';
import { AmazonIncentives } from '../../nodes/AmazonIncentives/AmazonIncentives.node';
import type { RequestIdScope } from '../../nodes/AmazonIncentives/requestId';
import {
	type RecordedRequest,
	type RunningSandbox,
	type SandboxOptions,
	startSandbox,
} from '../sandbox';
import { seededRandom } from '../sandbox/faults';
import { endpointCredential } from '../support/credentials';
import { listenLocally } from '../support/localServer';
import { type RunNodeOptions, type RunNodeResult, runNode } from '../support/n8nHarness';

export const node = new AmazonIncentives();

/** runNode's default workflow id, and the default scope of derived request ids under it (This Workflow). */
const HARNESS_WORKFLOW_ID = 'harness-workflow';
export const HARNESS_SCOPE: RequestIdScope = { type: 'workflow', workflowId: HARNESS_WORKFLOW_ID };
export const credentialType = new AmazonIncentivesApi();

/** Runs the node in n8n-core against the sandbox with its default partner. */
export function runAgainst(
	sandbox: RunningSandbox,
	parameters: INodeParameters,
	items: IDataObject[],
	extra: Partial<Pick<RunNodeOptions, 'settings' | 'workflowId' | 'workflowSettings' | 'mode'>> & {
		credential?: IDataObject;
	} = {},
): Promise<RunNodeResult> {
	return runNode({
		node,
		parameters,
		items,
		credentials: { type: credentialType, data: endpointCredential(sandbox, extra.credential) },
		settings: extra.settings,
		workflowId: extra.workflowId,
		workflowSettings: extra.workflowSettings,
		mode: extra.mode,
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

// ---------------------------------------------------------------------------------------------
// Beyond the basics: parameters per operation, errors, wire capture and deterministic faults.
// ---------------------------------------------------------------------------------------------

let keyCounter = 0;

/**
 * A key no other test in this process has used. The node remembers succeeded request ids for the whole
 * process (to flag replays), while sandbox.reset() forgets them: fresh keys keep tests independent.
 */
export function uniqueKey(label: string): string {
	return `${label}-${process.pid}-${++keyCounter}-${Date.now()}`;
}

/** CreateGiftCard with an explicit request id (mock ids such as F3003 included) taken from `$json.requestId`. */
export const explicitCreateParameters = (extra: INodeParameters = {}): INodeParameters => ({
	resource: 'giftCard',
	operation: 'create',
	amount: '={{ $json.amount }}',
	currencyCode: 'USD',
	requestIdMode: 'explicit',
	requestId: '={{ $json.requestId }}',
	...extra,
});

export const cancelParameters = (extra: INodeParameters = {}): INodeParameters => ({
	resource: 'giftCard',
	operation: 'cancel',
	creationRequestId: '={{ $json.creationRequestId }}',
	gcId: '={{ $json.gcId ?? "" }}',
	...extra,
});

export const fundsParameters = (extra: INodeParameters = {}): INodeParameters => ({
	resource: 'account',
	operation: 'getAvailableFunds',
	...extra,
});

export const activateParameters = (extra: INodeParameters = {}): INodeParameters => ({
	resource: 'physicalCard',
	operation: 'activate',
	cardNumber: '={{ $json.cardNumber }}',
	amount: '={{ $json.amount }}',
	currencyCode: 'USD',
	idempotencyKey: '={{ $json.key }}',
	...extra,
});

export const deactivateParameters = (extra: INodeParameters = {}): INodeParameters => ({
	resource: 'physicalCard',
	operation: 'deactivate',
	cardNumber: '={{ $json.cardInfo?.cardNumber ?? $json.cardNumber }}',
	activationRequestId: '={{ $json.activationRequestId }}',
	...extra,
});

export const statusParameters = (extra: INodeParameters = {}): INodeParameters => ({
	resource: 'physicalCard',
	operation: 'getStatus',
	cardNumber: '={{ $json.cardInfo?.cardNumber ?? $json.cardNumber }}',
	activationRequestId: '={{ $json.activationRequestId }}',
	...extra,
});

export const loadParameters = (extra: INodeParameters = {}): INodeParameters => ({
	resource: 'amazonBalance',
	operation: 'load',
	amazonCustomerId: '={{ $json.customer }}',
	amount: '={{ $json.amount }}',
	currencyCode: 'USD',
	idempotencyKey: '={{ $json.key }}',
	...extra,
});

export const voidParameters = (extra: INodeParameters = {}): INodeParameters => ({
	resource: 'amazonBalance',
	operation: 'void',
	amazonCustomerId: '={{ $json.customer }}',
	loadBalanceRequestId: '={{ $json.loadBalanceRequestId }}',
	// A load's output carries amount as {currencyCode, value}; plain items carry a number.
	amount: '={{ $json.amount?.value ?? $json.amount }}',
	currencyCode: 'USD',
	...extra,
});

/** Continue On Fail in n8n 1.x+ terms: failed items stay in the main output as error items. */
export const continueRegularOutput = { settings: { onError: 'continueRegularOutput' as const } };
export const continueErrorOutput = { settings: { onError: 'continueErrorOutput' as const } };

/**
 * What an error item carries: `{ error: { message, description, errorCode, … } }` (helpers/utils
 * errorItemJson), asserted to be that shape.
 */
export function itemError(json: IDataObject): IDataObject & { message: string } {
	expect(json.error).toEqual(expect.objectContaining({ message: expect.any(String) }));
	return json.error as IDataObject & { message: string };
}

/** The error the node threw, asserted to be the NodeApiError n8n shows with its HTTP code and hint. */
export function apiErrorOf(result: RunNodeResult): NodeApiError {
	expect(result.status).toBe('error');
	expect(result.error).toBeInstanceOf(NodeApiError);
	return result.error as NodeApiError;
}

export function operationErrorOf(result: RunNodeResult): NodeOperationError {
	expect(result.status).toBe('error');
	expect(result.error).toBeInstanceOf(NodeOperationError);
	return result.error as NodeOperationError;
}

/** Everything the sandbox received carrying this request id, oldest first. */
export function requestsWithId(sandbox: RunningSandbox, requestId: string): RecordedRequest[] {
	return sandbox.requests().filter((entry) => entry.requestId === requestId);
}

/** The sandbox state showing that no money moved at all. */
export const NOTHING_MOVED = {
	cardsIssued: 0,
	cardsCancelled: 0,
	activations: 0,
	deactivations: 0,
	balanceLoads: 0,
	balanceVoids: 0,
	debits: 0,
	totalDebited: {},
	totalRefunded: {},
	doubleDebits: [],
};

/**
 * A fault seed whose first draws come out as `hits` (true = the fault fires) for a fault of the given rate.
 * The sandbox draws one number per request for each enabled fault, so a single enabled fault with this seed
 * fires on exactly the attempts asked for, e.g. [true, false]: the first attempt fails, the retry goes through.
 */
export function seedFiring(hits: boolean[], rate = 0.5): number {
	for (let seed = 1; seed < 1_000_000; seed++) {
		const draw = seededRandom(seed);
		if (hits.every((hit) => draw() < rate === hit)) return seed;
	}
	throw new Error(`no seed fires as ${JSON.stringify(hits)}`);
}

interface CapturedRequest {
	path: string;
	headers: Record<string, string | string[] | undefined>;
	body: string;
}

export interface RecordingProxy {
	url: string;
	captured: CapturedRequest[];
	stop(): Promise<void>;
}

/**
 * A pass-through HTTP proxy in front of the sandbox that keeps every request's exact bytes, to prove what the
 * node put on the wire (identical bodies across retries, optional fields). The SigV4 signature covers the host
 * header the node sent (the proxy's), and the sandbox verifies whatever host header it receives, so it passes.
 */
export async function startRecordingProxy(target: RunningSandbox): Promise<RecordingProxy> {
	const targetUrl = new URL(target.url);
	const captured: CapturedRequest[] = [];
	const server = http.createServer((incoming, outgoing) => {
		const chunks: Buffer[] = [];
		incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
		incoming.on('end', () => {
			const body = Buffer.concat(chunks);
			captured.push({
				path: incoming.url ?? '',
				headers: { ...incoming.headers },
				body: body.toString('utf8'),
			});
			const forwarded = http.request(
				{
					hostname: targetUrl.hostname,
					port: targetUrl.port,
					path: incoming.url,
					method: incoming.method,
					headers: incoming.headers,
				},
				(answer) => {
					outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
					answer.pipe(outgoing);
				},
			);
			forwarded.on('error', () => incoming.socket.destroy());
			forwarded.end(body);
		});
	});
	return { ...(await listenLocally(server)), captured };
}
