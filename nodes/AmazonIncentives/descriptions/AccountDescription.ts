import type { INodeProperties } from 'n8n-workflow';

export const accountOperations: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['account'] } },
		options: [
			{
				name: 'Get Available Funds',
				value: 'getAvailableFunds',
				description:
					"Get the account's prepaid balance (GetAvailableFunds; Amazon allows 1 call per second, Amazon's sandbox always answers 0)",
				action: 'Get available funds',
			},
		],
		default: 'getAvailableFunds',
	},
];

export const accountFields: INodeProperties[] = [];
