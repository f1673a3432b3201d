import { type INodeProperties, updateDisplayOptions } from 'n8n-workflow';

import { showFor } from '../resources';
import {
	additionalFields,
	amountFields,
	currencyField,
	operationProperty,
	purchaseReferenceOptions,
	requestIdFields,
	spendingFields,
} from './shared';

export const giftCardOperations: INodeProperties[] = [operationProperty('giftCard')];

const createFields: INodeProperties[] = [
	...amountFields(
		'Value of the gift card, in the currency below (at most 2 decimals; whole numbers for JPY)',
	),
	currencyField(),
	...requestIdFields('Reward', 'e.g. {{ $json.referralId }}'),
	additionalFields(purchaseReferenceOptions()),
	...spendingFields(),
];

const cancelFields: INodeProperties[] = [
	{
		displayName: 'Creation Request ID',
		name: 'creationRequestId',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. {{ $json.creationRequestId }}',
		description:
			'The request ID the card was created with (output field creationRequestId of Create)',
	},
	{
		displayName: 'Gift Card ID',
		name: 'gcId',
		type: 'string',
		default: '',
		placeholder: 'e.g. {{ $json.gcId }}',
		description: 'The gcId returned by Create. Older Amazon docs require it; send it when known.',
	},
];

export const giftCardFields: INodeProperties[] = [
	...updateDisplayOptions(showFor('giftCard', ['create']), createFields),
	...updateDisplayOptions(showFor('giftCard', ['cancel']), cancelFields),
];
