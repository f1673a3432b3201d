import { type INodeProperties, updateDisplayOptions } from 'n8n-workflow';

import { showFor } from '../resources';
import {
	additionalFields,
	accountTypeOption,
	amountFields,
	currencyField,
	externalReferenceOption,
	extraBodyFieldsOption,
	operationProperty,
	requestIdFields,
	spendingFields,
} from './shared';

export const amazonBalanceOperations: INodeProperties[] = [operationProperty('amazonBalance')];

const customerAndAmountFields: INodeProperties[] = [
	{
		displayName: 'Amazon Customer ID',
		name: 'amazonCustomerId',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. amzn1.account.AEXAMPLE',
		description:
			"The customer's Login with Amazon user ID, sent as the account ID. In the sandbox a mock code such as F3003 here simulates that answer.",
	},
	...amountFields('Amount to load (for Void: the amount of the original load)'),
	currencyField(),
];

const loadAdditionalFields = additionalFields([
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
		description: 'TransactionSource.sourceId, e.g. a store or channel ID (at most 20 characters)',
	},
]);

const loadBalanceRequestIdField: INodeProperties = {
	displayName: 'Load Balance Request ID',
	name: 'loadBalanceRequestId',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'e.g. {{ $json.loadBalanceRequestId }}',
	description: 'The request ID of the load to reverse (output field loadBalanceRequestId of Load)',
};

const voidAdditionalFields = additionalFields([accountTypeOption(), extraBodyFieldsOption()]);

// Listed in the editor's order.
export const amazonBalanceFields: INodeProperties[] = [
	...updateDisplayOptions(showFor('amazonBalance', ['load', 'void']), customerAndAmountFields),
	...updateDisplayOptions(
		showFor('amazonBalance', ['load']),
		requestIdFields('Balance Load', 'e.g. {{ $json.rewardId }}'),
	),
	...updateDisplayOptions(showFor('amazonBalance', ['void']), [loadBalanceRequestIdField]),
	...updateDisplayOptions(showFor('amazonBalance', ['load']), [loadAdditionalFields]),
	...updateDisplayOptions(showFor('amazonBalance', ['load']), spendingFields()),
	...updateDisplayOptions(showFor('amazonBalance', ['void']), [voidAdditionalFields]),
];
