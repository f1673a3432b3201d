import { type INodeProperties, updateDisplayOptions } from 'n8n-workflow';

import { showFor } from '../resources';
import {
	additionalFields,
	amountFields,
	cardNumberField,
	currencyField,
	externalReferenceOption,
	operationProperty,
	purchaseReferenceOptions,
	requestIdFields,
	spendingFields,
} from './shared';

export const physicalCardOperations: INodeProperties[] = [operationProperty('physicalCard')];

const activateFields: INodeProperties[] = [
	...amountFields(
		"Value to load onto the card; for denominated cards exactly the card's printed value",
	),
	currencyField(),
	...requestIdFields('Activation', 'e.g. {{ $json.saleId }}'),
];

const activationIdField: INodeProperties = {
	displayName: 'Activation Request ID',
	name: 'activationRequestId',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'e.g. {{ $json.activationRequestId }}',
	description:
		'The request ID the card was activated with (output field activationRequestId of Activate)',
};

const activateAdditionalFields = additionalFields([
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
						placeholder: 'e.g. {"institutionName": "Fred Meyer", "city": "Bellevue"}',
						description:
							'JSON text (at most 200 characters) with at least institutionName; add location or phone as needed',
					},
				],
			},
		],
	},
]);

const deactivateAdditionalFields = additionalFields([externalReferenceOption()]);

const statusCheckNotice: INodeProperties = {
	displayName:
		'Amazon matches the status check to the original activation: use the activation request ID, not a new one',
	name: 'statusCheckNotice',
	type: 'notice',
	default: '',
};

// Listed in the editor's order.
export const physicalCardFields: INodeProperties[] = [
	...updateDisplayOptions(showFor('physicalCard', ['activate', 'deactivate', 'getStatus']), [
		cardNumberField(),
	]),
	...updateDisplayOptions(showFor('physicalCard', ['activate']), activateFields),
	...updateDisplayOptions(showFor('physicalCard', ['deactivate', 'getStatus']), [
		activationIdField,
	]),
	...updateDisplayOptions(showFor('physicalCard', ['activate']), [activateAdditionalFields]),
	...updateDisplayOptions(showFor('physicalCard', ['activate']), spendingFields()),
	...updateDisplayOptions(showFor('physicalCard', ['deactivate']), [deactivateAdditionalFields]),
	...updateDisplayOptions(showFor('physicalCard', ['getStatus']), [statusCheckNotice]),
];
