import {
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	NodeConnectionTypes,
} from 'n8n-workflow';

import { testAmazonIncentivesCredential } from './credentialTest';
import { accountFields, accountOperations } from './descriptions/AccountDescription';
import {
	amazonBalanceFields,
	amazonBalanceOperations,
} from './descriptions/AmazonBalanceDescription';
import { giftCardFields, giftCardOperations } from './descriptions/GiftCardDescription';
import { physicalCardFields, physicalCardOperations } from './descriptions/PhysicalCardDescription';
import { optionsCollection } from './descriptions/shared';
import { executeAmazonIncentives } from './execute';

export class AmazonIncentives implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Amazon Incentives',
		name: 'amazonIncentives',
		icon: { light: 'file:amazonIncentives.svg', dark: 'file:amazonIncentives.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description:
			'Create and cancel Amazon gift cards, check funds, activate physical cards and load Amazon balance (Amazon Incentives API / AGCOD), exactly once per item',
		documentationUrl:
			'https://github.com/n8n-nodes-amazon-incentives/n8n-nodes-amazon-incentives#readme',
		defaults: { name: 'Amazon Incentives' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'amazonIncentivesApi', required: true, testedBy: 'amazonIncentivesApiTest' },
		],
		// Claim codes are bearer money: n8n redacts them whenever executions are shown.
		sensitiveOutputFields: ['gcClaimCode'],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Gift Card',
						value: 'giftCard',
						description: 'Digital Amazon gift cards (claim codes)',
					},
					{
						name: 'Account',
						value: 'account',
						description: 'Your Amazon Incentives prepaid account',
					},
					{
						name: 'Physical Card',
						value: 'physicalCard',
						description: 'Physical web-activated cards (point of sale activation)',
					},
					{
						name: 'Amazon Balance',
						value: 'amazonBalance',
						description: "Money loaded straight into a customer's Amazon balance (Login & Receive)",
					},
				],
				default: 'giftCard',
			},
			...giftCardOperations,
			...giftCardFields,
			...accountOperations,
			...accountFields,
			...physicalCardOperations,
			...physicalCardFields,
			...amazonBalanceOperations,
			...amazonBalanceFields,
			optionsCollection,
		],
	};

	methods = {
		credentialTest: { amazonIncentivesApiTest: testAmazonIncentivesCredential },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return executeAmazonIncentives.call(this);
	}
}
