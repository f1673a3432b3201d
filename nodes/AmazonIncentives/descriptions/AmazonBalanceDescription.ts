import type { INodeProperties } from 'n8n-workflow';

import {
	accountTypeOption,
	amountField,
	currencyField,
	externalReferenceOption,
	extraBodyFieldsOption,
	requestIdFields,
} from './shared';

const load = { resource: ['amazonBalance'], operation: ['load'] };
const voidLoad = { resource: ['amazonBalance'], operation: ['void'] };
const both = { resource: ['amazonBalance'], operation: ['load', 'void'] };

export const amazonBalanceOperations: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['amazonBalance'] } },
		options: [
			{
				name: 'Load',
				value: 'load',
				description:
					"Add money directly to a customer's Amazon balance with Login & Receive (LoadAmazonBalance). Exactly once per idempotency key.",
				action: 'Load an amazon balance',
			},
			{
				name: 'Void',
				value: 'void',
				description: 'Reverse an earlier balance load by its request ID (VoidAmazonBalanceLoad)',
				action: 'Void an amazon balance load',
			},
		],
		default: 'load',
	},
];

export const amazonBalanceFields: INodeProperties[] = [
	{
		displayName: 'Amazon Customer ID',
		name: 'amazonCustomerId',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'amzn1.account.AEXAMPLE',
		displayOptions: { show: both },
		description:
			"The customer's Login with Amazon user ID, sent as the account ID. In the sandbox a mock code such as F3003 here simulates that answer.",
	},
	amountField(both, 'Amount to load (for Void: the amount of the original load)'),
	currencyField(both),
	...requestIdFields(load, 'e.g. {{ $json.rewardId }}'),
	{
		displayName: 'Load Balance Request ID',
		name: 'loadBalanceRequestId',
		type: 'string',
		required: true,
		default: '',
		placeholder: '={{ $json.loadBalanceRequestId }}',
		displayOptions: { show: voidLoad },
		description:
			'The request ID of the load to reverse (output field loadBalanceRequestId of Load)',
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: { show: load },
		options: [
			accountTypeOption(),
			externalReferenceOption(),
			extraBodyFieldsOption(),
			{
				displayName: 'Notification Message',
				name: 'notificationMessage',
				type: 'string',
				default: '',
				description: 'Message for the customer in the notification e-mail',
			},
			{
				displayName: 'Send Email Notification',
				name: 'sendEmailNotification',
				type: 'boolean',
				default: false,
				description: 'Whether Amazon e-mails the customer about the load',
			},
			{
				displayName: 'Transaction Source ID',
				name: 'transactionSourceId',
				type: 'string',
				default: '',
				description:
					'TransactionSource.sourceId, e.g. a store or channel ID (at most 20 characters)',
			},
		],
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: { show: voidLoad },
		options: [accountTypeOption(), extraBodyFieldsOption()],
	},
];
