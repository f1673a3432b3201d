/**
 * Load through a queue-mode cluster, shared by the queue-mode end-to-end suite and the benchmark: a webhook
 * workflow that issues one gift card per item of its body, executions fired at once through main's production
 * webhook, and what the sandbox and n8n saw.
 */
import { randomUUID } from 'node:crypto';

import type { RecordedRequest } from '../sandbox';
import type { QueueCluster, WebhookAnswer } from './queueCluster';

export const QUEUE_WEBHOOK_PATH = 'queue-batch';

interface QueueBatchWorkflowOptions {
	webhookPath?: string;
	/**
	 * true (default): failed items continue as regular output, so each answer lists every item's outcome;
	 * false: a failed item fails the execution, as without Continue On Fail.
	 */
	continueOnFail?: boolean;
	/** Requests Per Second from each item's `rps` field instead of the default (for manual division). */
	rateFromItems?: boolean;
}

/**
 * Webhook (answers with every item of the last node) → Split Out `body.items` → Amazon Incentives Create.
 * Claim codes are omitted from the output.
 */
export function queueBatchWorkflow(
	nodeType: string,
	credentialName: string,
	options: QueueBatchWorkflowOptions = {},
) {
	const webhookPath = options.webhookPath ?? QUEUE_WEBHOOK_PATH;
	return {
		name: `e2e: queue batch ${webhookPath}`,
		nodes: [
			{
				parameters: {
					httpMethod: 'POST',
					path: webhookPath,
					responseMode: 'lastNode',
					responseData: 'allEntries',
					options: {},
				},
				id: randomUUID(),
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2.1,
				position: [0, 0],
				webhookId: randomUUID(),
			},
			{
				parameters: { fieldToSplitOut: 'body.items', options: {} },
				id: randomUUID(),
				name: 'Items',
				type: 'n8n-nodes-base.splitOut',
				typeVersion: 1,
				position: [220, 0],
			},
			{
				parameters: {
					resource: 'giftCard',
					operation: 'create',
					amount: '={{ $json.amount }}',
					currencyCode: 'USD',
					idempotencyKey: '={{ $json.key }}',
					options: {
						claimCodeOutput: 'omit',
						...(options.rateFromItems ? { requestsPerSecond: '={{ $json.rps }}' } : {}),
					},
				},
				id: randomUUID(),
				name: 'Amazon Incentives',
				type: nodeType,
				typeVersion: 1,
				position: [440, 0],
				credentials: { amazonIncentivesApi: { id: null, name: credentialName } },
				...(options.continueOnFail === false ? {} : { onError: 'continueRegularOutput' }),
			},
		],
		connections: {
			Webhook: { main: [[{ node: 'Items', type: 'main', index: 0 }]] },
			Items: { main: [[{ node: 'Amazon Incentives', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

interface BatchItem {
	key: string;
	amount: number;
	/** Requests Per Second, read by a workflow built with rateFromItems. */
	rps?: number;
}

export function batchItems(
	label: string,
	count: number,
	extra: Partial<BatchItem> = {},
): BatchItem[] {
	return Array.from({ length: count }, (_, index) => ({
		key: `${label}-${index + 1}`,
		amount: 1,
		...extra,
	}));
}

export type ItemOutcome = Record<string, unknown> & {
	status?: string;
	requestId?: string;
	gcId?: string;
	replay?: boolean;
	attempts?: number;
	/** A failed item (Continue On Fail): what the node says about it. */
	error?: { message?: string; retryable?: boolean; requestId?: string };
};

export interface ExecutionAnswer {
	answer: WebhookAnswer;
	/** The items the Amazon Incentives node put out (success or error items), when the webhook answered them. */
	items: ItemOutcome[];
}

/** Fires one execution per batch at once and waits for all answers. */
export async function fireBatches(
	cluster: QueueCluster,
	batches: BatchItem[][],
	webhookPath = QUEUE_WEBHOOK_PATH,
): Promise<ExecutionAnswer[]> {
	return await Promise.all(
		batches.map(async (items) => {
			const answer = await cluster.postWebhook(webhookPath, { items });
			const body = answer.body;
			const list = Array.isArray(body) ? body : body && typeof body === 'object' ? [body] : [];
			return { answer, items: list as ItemOutcome[] };
		}),
	);
}

interface LoadMeasure {
	/** CreateGiftCard requests the sandbox received in the window. */
	requests: number;
	throttled: number;
	cardsIssued: number;
	/** Seconds from the first to the last request the sandbox received. */
	spanSeconds: number;
	/** Successful requests per second over that span ((n − 1) / span), ÷ the account's limit. */
	aggregateRatio: number;
	/** Most requests received in any 1-second window. */
	busiestSecond: number;
}

/** What the sandbox saw of the CreateGiftCard requests after `sinceSeq` (a sandbox request sequence number). */
export function measureLoad(
	recorded: RecordedRequest[],
	sinceSeq: number,
	limitPerSecond: number,
): LoadMeasure {
	const requests = recorded.filter(
		(request) => request.seq > sinceSeq && request.operation === 'CreateGiftCard',
	);
	const times = requests.map((request) => request.receivedAt).sort((a, b) => a - b);
	const succeeded = requests.filter((request) => request.status === 'SUCCESS');
	const successTimes = succeeded.map((request) => request.receivedAt).sort((a, b) => a - b);
	const spanMs = successTimes.length > 1 ? successTimes.at(-1)! - successTimes[0] : 0;
	let busiest = 0;
	for (let last = 0, first = 0; last < times.length; last++) {
		while (times[last] - times[first] >= 1000) first++;
		busiest = Math.max(busiest, last - first + 1);
	}
	return {
		requests: requests.length,
		throttled: requests.filter((request) => request.throttled).length,
		cardsIssued: new Set(succeeded.map((request) => request.requestId)).size,
		spanSeconds: spanMs / 1000,
		aggregateRatio: spanMs > 0 ? (successTimes.length - 1) / (spanMs / 1000) / limitPerSecond : 0,
		busiestSecond: busiest,
	};
}

/** The sequence number of the newest request the sandbox recorded (0 when none). */
export function lastRequestSeq(recorded: RecordedRequest[]): number {
	return recorded.at(-1)?.seq ?? 0;
}
