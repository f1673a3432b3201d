import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import { NUMBER_OPTIONS } from '../defaults';
import { type OperationOf, type Resource, RESOURCES } from '../resources';
import { CURRENCY_RULES } from '../validation';

// n8n's lint reads a parameter's `default` only when it is a literal, a variable or a call.
const defaultResource: Resource = 'giftCard';
const defaultOf = (option: keyof typeof NUMBER_OPTIONS): number => NUMBER_OPTIONS[option].default;

/** The Resource field, listing every resource of the table in resources.ts. */
export const resourceProperty: INodeProperties = {
	displayName: 'Resource',
	name: 'resource',
	type: 'options',
	noDataExpression: true,
	options: Object.entries(RESOURCES).map(([value, resource]) => ({
		name: resource.name,
		value,
		description: resource.description,
	})),
	default: defaultResource,
};

/** The Operation field of one resource, listing its operations from resources.ts. */
export function operationProperty(resource: Resource): INodeProperties {
	const operations = Object.entries(RESOURCES[resource].operations);
	const firstOperation = operations[0][0];
	return {
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: [resource] } },
		options: operations.map(([value, operation]) => ({
			name: operation.name,
			value,
			description: operation.description,
			action: operation.action,
		})),
		default: firstOperation,
	};
}

const currencyOptions: INodePropertyOptions[] = Object.entries(CURRENCY_RULES).map(
	([code, rule]) => ({
		name: code,
		value: code,
		description: `${rule.min}–${rule.max} ${code}, region group ${rule.region}`,
	}),
);

/**
 * The node's subtitle: the display names of the chosen operation and resource ("Create: Gift Card"), not
 * their internal values. The editor evaluates it as an expression over the node's parameters.
 */
export function nodeSubtitle(): string {
	const names: Record<string, string> = {};
	for (const [resource, { name, operations }] of Object.entries(RESOURCES))
		for (const [operation, text] of Object.entries(operations))
			names[`${resource}:${operation}`] = `${text.name}: ${name}`;
	return `={{ ${JSON.stringify(names)}[$parameter["resource"] + ":" + $parameter["operation"]] }}`;
}

function amountField(description: string): INodeProperties {
	return {
		displayName: 'Amount',
		name: 'amount',
		type: 'number',
		required: true,
		default: 0,
		typeOptions: { numberPrecision: 2, minValue: 0 },
		description,
	};
}

/**
 * The Amount field and, under it, a notice the editor shows while it holds its empty default 0 (n8n flags no
 * number field as missing, and any real amount is above 0), so the problem shows before the run.
 */
export function amountFields(description: string): INodeProperties[] {
	return [
		amountField(description),
		{
			displayName: 'Enter the amount: 0 is only the empty default, and Amazon moves no 0 amounts',
			name: 'amountNotice',
			type: 'notice',
			default: '',
			// Hidden unless the amount is 0: a "show" rule would also show it for every expression.
			displayOptions: { hide: { amount: [{ _cnd: { not: 0 } }] } },
		},
	];
}

export function currencyField(): INodeProperties {
	return {
		displayName: 'Currency Code',
		name: 'currencyCode',
		type: 'options',
		options: currencyOptions,
		default: 'USD',
		required: true,
		description:
			"The account's marketplace currency. It must belong to the credential's region group (na: USD, CAD, MXN; eu: EUR, GBP, PLN, SEK, TRY, AED, SAR, EGP, ZAR; fe: JPY, AUD, SGD).",
	};
}

/**
 * Optional caps on what Create, Activate and Load move, per currency. The node reads them as saved and never
 * evaluates them (spendingLimits.ts), so expressions are refused and no AI agent can set them.
 */
function spendingLimitsField(): INodeProperties {
	return {
		displayName: 'Spending Limits',
		name: 'spendingLimits',
		type: 'fixedCollection',
		placeholder: 'Add Limit',
		typeOptions: { multipleValues: true },
		default: {},
		description:
			'Optional caps per currency that no input, expression or AI agent can pass, checked before anything is sent. Once a limit is set, other currencies are refused.',
		options: [
			{
				displayName: 'Limit',
				name: 'limit',
				values: [
					{
						displayName: 'Currency Code',
						name: 'currencyCode',
						type: 'options',
						options: currencyOptions,
						default: 'USD',
						noDataExpression: true,
					},
					{
						displayName: 'Max Amount Per Item',
						name: 'maxPerItem',
						type: 'number',
						typeOptions: { minValue: 0, numberPrecision: 2 },
						default: 0,
						noDataExpression: true,
						description: 'The largest amount one item may move; an item over it fails. 0: no cap.',
					},
					{
						displayName: 'Max Total Per Execution',
						name: 'maxPerExecution',
						type: 'number',
						typeOptions: { minValue: 0, numberPrecision: 2 },
						default: 0,
						noDataExpression: true,
						description:
							'The most this node may move in one workflow execution, all its runs together (loops, repeated AI tool calls). A batch that would pass it moves nothing. 0: no cap.',
					},
				],
			},
		],
	};
}

/** The spending fields of Create, Activate and Load: the AI-tool notice and the limits. */
export function spendingFields(): INodeProperties[] {
	return [toolSpendingNotice(), spendingLimitsField()];
}

/** Shown in the node's AI-tool variant only: money moves there only within a total per execution. */
function toolSpendingNotice(): INodeProperties {
	return {
		displayName:
			'As an AI tool this node moves money only within its Spending Limits: add a limit with a Max Total Per Execution for each currency. The agent cannot change the limits.',
		name: 'toolSpendingNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { '@tool': [true] } },
	};
}

/** What one new transaction is called beside its unique ID field. */
type TransactionNoun = 'Reward' | 'Activation' | 'Balance Load';

/**
 * How a new transaction's request id is chosen: derived from a unique ID of the user's data (the idempotency
 * key) within a scope, or given exactly. Plain words lead; Amazon's and n8n's terms are in the descriptions.
 */
export function requestIdFields(noun: TransactionNoun, example: string): INodeProperties[] {
	return [
		{
			displayName:
				'Amazon carries out each unique ID once: a re-run or retry with the same ID gets the original result back instead of paying again, and a new ID is a new payment.',
			name: 'uniqueIdNotice',
			type: 'notice',
			default: '',
		},
		{
			displayName: 'Unique ID Source',
			name: 'requestIdMode',
			type: 'options',
			options: [
				{
					name: 'From My Data (Recommended)',
					value: 'derive',
					description:
						"A value of your data, such as a referral or order ID, is the idempotency key; the node derives Amazon's request ID from it",
				},
				{
					name: 'Exact Amazon Request ID',
					value: 'explicit',
					description:
						'Send this exact request ID (letters and digits, at most 40, starting with the Partner ID; sandbox mock IDs like F3003 are allowed outside production)',
				},
			],
			default: 'derive',
		},
		{
			displayName: `Unique ID for This ${noun}`,
			name: 'idempotencyKey',
			type: 'string',
			required: true,
			default: '',
			placeholder: example,
			displayOptions: { show: { requestIdMode: ['derive'] } },
			description:
				"A value that identifies this transaction in your data and never changes, such as a referral, order or survey-response ID (the idempotency key). Amazon's request ID is derived from it and the scope below, so the same ID is never paid twice however often the workflow runs.",
		},
		{
			displayName: 'Unique Within',
			name: 'idempotencyScope',
			type: 'options',
			options: [
				{
					name: 'This Workflow',
					value: 'workflow',
					description:
						'The same ID in another workflow is another transaction; re-runs of this workflow keep their IDs',
				},
				{
					name: 'A Named Scope',
					value: 'named',
					description:
						'Workflows that use the same scope name share IDs, e.g. a workflow and the error workflow that retries it',
				},
				{
					name: 'The Whole Amazon Account',
					value: 'account',
					description:
						'Every workflow that uses this ID with this account means the same transaction',
				},
			],
			default: 'workflow',
			displayOptions: { show: { requestIdMode: ['derive'] } },
			description:
				'Where the unique ID must be unique (the idempotency scope). Changing it changes every request ID, so pick it before the first real run.',
		},
		{
			displayName: 'Scope Name',
			name: 'idempotencyScopeName',
			type: 'string',
			required: true,
			default: '',
			placeholder: 'spring-referral-campaign',
			displayOptions: { show: { requestIdMode: ['derive'], idempotencyScope: ['named'] } },
			description:
				'A name the workflows that should share IDs all use (at most 100 characters), e.g. a campaign name',
		},
		{
			displayName: 'Amazon Request ID',
			name: 'requestId',
			type: 'string',
			required: true,
			default: '',
			placeholder: 'Awssb0001',
			displayOptions: { show: { requestIdMode: ['explicit'] } },
			description:
				'The exact request ID to send (creationRequestId, activationRequestId or loadBalanceRequestId). Re-using it returns the original result; a new ID is a new transaction.',
		},
	];
}

export function cardNumberField(): INodeProperties {
	return {
		displayName: 'Card Number',
		name: 'cardNumber',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. 1400000005567585358',
		description:
			'The physical card (WAC) number: 16 digits, or 19 with the 3-digit checksum as printed for Amazon. Spaces and hyphens are ignored.',
	};
}

/** The optional fields of an operation, under one "Additional Fields" collection. */
export function additionalFields(options: INodeProperties[]): INodeProperties {
	return {
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options,
	};
}

export function externalReferenceOption(): INodeProperties {
	return {
		displayName: 'External Reference',
		name: 'externalReference',
		type: 'string',
		default: '',
		description:
			'Your own reference stored with the transaction at Amazon (at most 100 characters), e.g. an order or case ID',
	};
}

/** The optional fields CreateGiftCard and ActivateGiftCard share: a reference and two Amazon-approved codes. */
export function purchaseReferenceOptions(): INodeProperties[] {
	return [
		externalReferenceOption(),
		{
			displayName: 'Program ID',
			name: 'programId',
			type: 'string',
			default: '',
			description: 'Resellers only: the program ID Amazon approved for this client and use case',
		},
		{
			displayName: 'Product Type',
			name: 'productType',
			type: 'string',
			default: '',
			description: 'Product voucher use case only, as authorised by Amazon',
		},
	];
}

export function accountTypeOption(): INodeProperties {
	return {
		displayName: 'Account Type',
		name: 'accountType',
		type: 'string',
		default: '2',
		description:
			'AGCOD account.type code for the customer ID. "2" is believed to mean a Login with Amazon user ID; change it if Amazon tells you otherwise.',
	};
}

export function extraBodyFieldsOption(): INodeProperties {
	return {
		displayName: 'Extra Body Fields (JSON)',
		name: 'extraBodyFields',
		type: 'json',
		default: '{}',
		description:
			'Escape hatch for Login & Receive fields this node does not know yet: merged into the request body. Cannot replace the partner ID, request ID, amount or account.',
	};
}

// Every operation name is unique across resources, so these two lists select exactly create, activate and load.
const OPERATIONS_WITH_NEW_TRANSACTIONS = {
	resource: ['giftCard', 'physicalCard', 'amazonBalance'] satisfies Resource[],
	operation: ['create', 'activate', 'load'] satisfies Array<
		OperationOf<'giftCard' | 'physicalCard' | 'amazonBalance'>
	>,
};

/** Behaviour settings shared by every operation. */
export const optionsCollection: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add Option',
	default: {},
	options: [
		{
			displayName: 'Claim Code Output',
			name: 'claimCodeOutput',
			type: 'options',
			displayOptions: {
				show: {
					'/resource': ['giftCard'] satisfies Resource[],
					'/operation': ['create'] satisfies Array<OperationOf<'giftCard'>>,
				},
			},
			options: [
				{
					name: 'Include',
					value: 'include',
					description: 'Output the claim code to deliver it to the recipient',
				},
				{
					name: 'Mask',
					value: 'mask',
					description:
						'Output only the last 4 characters, for workflows that record but do not deliver',
				},
				{ name: 'Omit', value: 'omit', description: 'Leave the claim code out of the output' },
			],
			default: 'include',
			description:
				'Amazon forbids storing claim codes: deliver them and let them go. Amazon returns the code again when the same request ID is sent.',
		},
		{
			displayName: 'Format',
			name: 'format',
			type: 'options',
			options: [
				{ name: 'JSON', value: 'json' },
				{ name: 'XML', value: 'xml' },
			],
			default: 'json',
			description: 'Body format on the wire. The output is the same either way.',
		},
		{
			displayName: 'Max Concurrent Requests',
			name: 'maxConcurrentRequests',
			type: 'number',
			typeOptions: {
				minValue: NUMBER_OPTIONS.maxConcurrentRequests.min,
				maxValue: NUMBER_OPTIONS.maxConcurrentRequests.max,
			},
			default: defaultOf('maxConcurrentRequests'),
			description: 'How many items are in flight at once; raise it when Amazon answers slowly',
		},
		{
			displayName: 'Max Retries',
			name: 'maxRetries',
			type: 'number',
			typeOptions: {
				minValue: NUMBER_OPTIONS.maxRetries.min,
				maxValue: NUMBER_OPTIONS.maxRetries.max,
			},
			default: defaultOf('maxRetries'),
			description:
				'Re-sends of the identical request after RESEND, timeouts, connection errors or 5xx answers. Throttled requests are re-sent too and do not count here (only against the retry budget). Refusals (FAILURE) are never retried.',
		},
		{
			displayName: 'Requests Per Second',
			name: 'requestsPerSecond',
			type: 'number',
			typeOptions: {
				minValue: NUMBER_OPTIONS.requestsPerSecond.min,
				maxValue: NUMBER_OPTIONS.requestsPerSecond.max,
				numberPrecision: 1,
			},
			default: defaultOf('requestsPerSecond'),
			description:
				"The account's rate limit (10 for standard accounts), shared by every execution that uses this account: in this n8n process, and in queue mode by all workers together",
		},
		{
			displayName: 'Retry Budget (Seconds)',
			name: 'retryBudget',
			type: 'number',
			typeOptions: {
				minValue: NUMBER_OPTIONS.retryBudget.min,
				maxValue: NUMBER_OPTIONS.retryBudget.max,
			},
			default: defaultOf('retryBudget'),
			description: 'Wall-clock limit for all attempts of one item before it fails as retryable',
		},
		{
			// eslint-disable-next-line n8n-nodes-base/node-param-display-name-miscased -- "ms" is a unit symbol; title case would make it "Ms"
			displayName: 'Timeout (ms)',
			name: 'timeout',
			type: 'number',
			typeOptions: {
				minValue: NUMBER_OPTIONS.timeout.min,
				maxValue: NUMBER_OPTIONS.timeout.max,
			},
			default: defaultOf('timeout'),
			description: 'Per attempt. Amazon recommends 6 seconds.',
		},
		{
			displayName: 'Treat Same-ID Items as Replays',
			name: 'sameIdItemsAreReplays',
			type: 'boolean',
			displayOptions: {
				show: {
					'/resource': OPERATIONS_WITH_NEW_TRANSACTIONS.resource,
					'/operation': OPERATIONS_WITH_NEW_TRANSACTIONS.operation,
				},
			},
			default: false,
			description:
				"Whether items of one run that share a unique ID but differ in their input data all get the first one's result. Off, the later ones fail as conflicts and nothing is sent for them; items that are exact duplicates are replays either way.",
		},
	],
};
