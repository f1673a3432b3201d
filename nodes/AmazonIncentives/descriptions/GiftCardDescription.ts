import type { INodeProperties } from 'n8n-workflow';

import { amountField, currencyField, purchaseReferenceOptions, requestIdFields } from './shared';

const create = { resource: ['giftCard'], operation: ['create'] };
const cancel = { resource: ['giftCard'], operation: ['cancel'] };

export const giftCardOperations: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['giftCard'] } },
		options: [
			{
				name: 'Create',
				value: 'create',
				description:
					'Issue a digital Amazon gift card and get its claim code (CreateGiftCard). Exactly once per idempotency key.',
				action: 'Create a gift card',
			},
			{
				name: 'Cancel',
				value: 'cancel',
				description:
					'Cancel an unclaimed gift card within 15 minutes of creation and refund it (CancelGiftCard)',
				action: 'Cancel a gift card',
			},
		],
		default: 'create',
	},
];

export const giftCardFields: INodeProperties[] = [
	amountField(
		create,
		'Value of the gift card, in the currency below (at most 2 decimals; whole numbers for JPY)',
	),
	currencyField(create),
	...requestIdFields(create, 'e.g. {{ $json.referralId }}'),
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: { show: create },
		options: [...purchaseReferenceOptions()],
	},

	{
		displayName: 'Creation Request ID',
		name: 'creationRequestId',
		type: 'string',
		required: true,
		default: '',
		placeholder: '={{ $json.creationRequestId }}',
		displayOptions: { show: cancel },
		description:
			'The request ID the card was created with (output field creationRequestId of Create)',
	},
	{
		displayName: 'Gift Card ID',
		name: 'gcId',
		type: 'string',
		default: '',
		placeholder: '={{ $json.gcId }}',
		displayOptions: { show: cancel },
		description: 'The gcId returned by Create. Older Amazon docs require it; send it when known.',
	},
];
