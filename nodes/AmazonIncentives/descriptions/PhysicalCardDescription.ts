import type { INodeProperties } from 'n8n-workflow';

import {
	amountField,
	cardNumberField,
	currencyField,
	externalReferenceOption,
	purchaseReferenceOptions,
	requestIdFields,
} from './shared';

const activate = { resource: ['physicalCard'], operation: ['activate'] };
const deactivate = { resource: ['physicalCard'], operation: ['deactivate'] };
const getStatus = { resource: ['physicalCard'], operation: ['getStatus'] };
const withActivationId = { resource: ['physicalCard'], operation: ['deactivate', 'getStatus'] };
const anyOperation = {
	resource: ['physicalCard'],
	operation: ['activate', 'deactivate', 'getStatus'],
};

export const physicalCardOperations: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['physicalCard'] } },
		options: [
			{
				name: 'Activate',
				value: 'activate',
				description:
					'Activate a physical (web-activated) gift card so it can be redeemed (ActivateGiftCard). Exactly once per idempotency key.',
				action: 'Activate a physical card',
			},
			{
				name: 'Deactivate',
				value: 'deactivate',
				description:
					'Deactivate an unclaimed physical card with its original activation request ID (DeactivateGiftCard)',
				action: 'Deactivate a physical card',
			},
			{
				name: 'Get Status',
				value: 'getStatus',
				description:
					'Get the activation status of a physical card: Activated, AwaitingActivation or Invalidated (ActivationStatusCheck)',
				action: 'Get the status of a physical card',
			},
		],
		default: 'activate',
	},
];

export const physicalCardFields: INodeProperties[] = [
	cardNumberField(anyOperation),
	amountField(
		activate,
		"Value to load onto the card; for denominated cards exactly the card's printed value",
	),
	currencyField(activate),
	...requestIdFields(activate, 'e.g. {{ $json.saleId }}'),
	{
		displayName: 'Activation Request ID',
		name: 'activationRequestId',
		type: 'string',
		required: true,
		default: '',
		placeholder: '={{ $json.activationRequestId }}',
		displayOptions: { show: withActivationId },
		description:
			'The request ID the card was activated with (output field activationRequestId of Activate)',
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: { show: activate },
		options: [
			...purchaseReferenceOptions(),
			{
				displayName: 'Transaction Source',
				name: 'transactionSource',
				type: 'fixedCollection',
				default: {},
				description: 'Brick-and-mortar activations must say where they happened',
				options: [
					{
						displayName: 'Source',
						name: 'source',
						values: [
							{
								displayName: 'Source ID',
								name: 'sourceId',
								type: 'string',
								default: '',
								description: 'Store number or ID (at most 20 characters)',
							},
							{
								displayName: 'Institution ID',
								name: 'institutionId',
								type: 'string',
								default: '',
								description:
									'Merchant ID of the parent entity (at most 20 characters); repeat the source ID if there is none',
							},
							{
								displayName: 'Source Details',
								name: 'sourceDetails',
								type: 'string',
								default: '',
								placeholder: '{"institutionName": "Fred Meyer", "city": "Bellevue"}',
								description:
									'JSON text (at most 200 characters) with at least institutionName; add location or phone as needed',
							},
						],
					},
				],
			},
		],
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: { show: deactivate },
		options: [externalReferenceOption()],
	},
	{
		displayName:
			'Amazon matches the status check to the original activation: use the activation request ID, not a new one',
		name: 'statusCheckNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: getStatus },
	},
];
