import type { IDisplayOptions } from 'n8n-workflow';

interface OperationText {
	name: string;
	description: string;
	action: string;
}

interface ResourceText {
	name: string;
	description: string;
	/** In the editor's order; the first is the default. */
	operations: Record<string, OperationText>;
}

/**
 * Every resource and operation of the node, as the editor lists them. The Resource and Operation fields are
 * built from this table, and OperationKey comes from it: the operation table (operations.ts) must have
 * exactly these keys, so a new or misspelt operation does not compile until both agree.
 */
export const RESOURCES = {
	giftCard: {
		name: 'Gift Card',
		description: 'Digital Amazon gift cards (claim codes)',
		operations: {
			create: {
				name: 'Create',
				description:
					'Issue a digital Amazon gift card and get its claim code (CreateGiftCard). Exactly once per idempotency key.',
				action: 'Create a gift card',
			},
			cancel: {
				name: 'Cancel',
				description:
					'Cancel an unclaimed gift card within 15 minutes of creation and refund it (CancelGiftCard)',
				action: 'Cancel a gift card',
			},
		},
	},
	account: {
		name: 'Account',
		description: 'Your Amazon Incentives prepaid account',
		operations: {
			getAvailableFunds: {
				name: 'Get Available Funds',
				description:
					"Get the account's prepaid balance (GetAvailableFunds; Amazon allows 1 call per second, Amazon's sandbox always answers 0)",
				action: 'Get available funds',
			},
		},
	},
	physicalCard: {
		name: 'Physical Card',
		description: 'Physical web-activated cards (point of sale activation)',
		operations: {
			activate: {
				name: 'Activate',
				description:
					'Activate a physical (web-activated) gift card so it can be redeemed (ActivateGiftCard). Exactly once per idempotency key.',
				action: 'Activate a physical card',
			},
			deactivate: {
				name: 'Deactivate',
				description:
					'Deactivate an unclaimed physical card with its original activation request ID (DeactivateGiftCard)',
				action: 'Deactivate a physical card',
			},
			getStatus: {
				name: 'Get Status',
				description:
					'Get the activation status of a physical card: Activated, AwaitingActivation or Invalidated (ActivationStatusCheck)',
				action: 'Get the status of a physical card',
			},
		},
	},
	amazonBalance: {
		name: 'Amazon Balance',
		description: "Money loaded straight into a customer's Amazon balance (Login & Receive)",
		operations: {
			load: {
				name: 'Load',
				description:
					"Add money directly to a customer's Amazon balance with Login & Receive (LoadAmazonBalance). Exactly once per idempotency key.",
				action: 'Load an Amazon balance',
			},
			void: {
				name: 'Void',
				description: 'Reverse an earlier balance load by its request ID (VoidAmazonBalanceLoad)',
				action: 'Void an Amazon balance load',
			},
		},
	},
} as const satisfies Record<string, ResourceText>;

export type Resource = keyof typeof RESOURCES;

/** The operation names of a resource (of any of them, for a union of resources). */
export type OperationOf<R extends Resource> = R extends Resource
	? keyof (typeof RESOURCES)[R]['operations'] & string
	: never;

/** `resource:operation`, the key of the operation table: e.g. `giftCard:create`. */
export type OperationKey = { [R in Resource]: `${R}:${OperationOf<R>}` }[Resource];

/** Display options that show a field only for these operations of one resource. */
export function showFor<R extends Resource>(
	resource: R,
	operations: ReadonlyArray<OperationOf<R>>,
): IDisplayOptions {
	return { show: { resource: [resource], operation: [...operations] } };
}
