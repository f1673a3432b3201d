import {
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	NodeConnectionTypes,
} from 'n8n-workflow';

import { accountOperations } from './descriptions/AccountDescription';
import {
	amazonBalanceFields,
	amazonBalanceOperations,
} from './descriptions/AmazonBalanceDescription';
import { giftCardFields, giftCardOperations } from './descriptions/GiftCardDescription';
import { physicalCardFields, physicalCardOperations } from './descriptions/PhysicalCardDescription';
import { nodeSubtitle, optionsCollection, resourceProperty } from './descriptions/shared';
import { executeAmazonIncentives } from './execute';
import { credentialTest } from './methods';

export class AmazonIncentives implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Amazon Incentives',
		name: 'amazonIncentives',
		icon: { light: 'file:amazonIncentives.svg', dark: 'file:amazonIncentives.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: nodeSubtitle(),
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
		// Claim codes are bearer money. Neither supported n8n applies this yet: 1.x never reads it, and 2.40.7
		// has a strategy for it that its (licensed) execution-data redaction does not run. Saved executions
		// store the codes in clear and the editor shows them: hence the Claim Code Output option and the
		// execution hint (claimCodesAtRest.ts).
		sensitiveOutputFields: ['gcClaimCode'],
		properties: [
			resourceProperty,
			...giftCardOperations,
			...giftCardFields,
			...accountOperations,
			...physicalCardOperations,
			...physicalCardFields,
			...amazonBalanceOperations,
			...amazonBalanceFields,
			optionsCollection,
		],
	};

	methods = { credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return executeAmazonIncentives.call(this);
	}
}
