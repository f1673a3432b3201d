/**
 * What a newcomer sees in the n8n editor, read from the node and credential descriptions with n8n's own
 * helpers (the editor shows a field when NodeHelpers.displayParameter says so, and evaluates the subtitle as
 * an expression over the node's parameters).
 */
import {
	type INode,
	type INodeProperties,
	type INodePropertyCollection,
	type INodeType,
	type INodeTypes,
	NodeHelpers,
	Workflow,
} from 'n8n-workflow';

import { AmazonIncentivesApi } from '../../credentials/AmazonIncentivesApi.credentials';
import { AmazonIncentives } from '../../nodes/AmazonIncentives/AmazonIncentives.node';
import { RESOURCES } from '../../nodes/AmazonIncentives/resources';
import { DEFAULT_CLI_PORT } from '../sandbox/cli';

const nodeType = new AmazonIncentives();
const { description } = nodeType;
const credential = new AmazonIncentivesApi();

/** Every property, collection options and fixed-collection values included. */
function allProperties(properties: INodeProperties[]): INodeProperties[] {
	return properties.flatMap((property) => [
		property,
		...allProperties(
			(property.options ?? []).flatMap((option) => {
				if ('values' in option) return (option as INodePropertyCollection).values;
				if ('type' in option) return [option as INodeProperties];
				return [];
			}),
		),
	]);
}

const OPERATIONS = Object.entries(RESOURCES).flatMap(([resource, { operations }]) =>
	Object.keys(operations).map((operation) => ({ resource, operation })),
);
const MONEY_OPERATIONS = [
	{ resource: 'giftCard', operation: 'create' },
	{ resource: 'physicalCard', operation: 'activate' },
	{ resource: 'amazonBalance', operation: 'load' },
];

function nodeWith(parameters: Record<string, unknown>, type = 'CUSTOM.amazonIncentives'): INode {
	return {
		id: 'node',
		name: 'Amazon Incentives',
		type,
		typeVersion: 1,
		position: [0, 0],
		parameters: parameters as INode['parameters'],
	};
}

/** Is this top-level property shown for these parameter values, as the editor decides it. */
function shown(name: string, values: Record<string, unknown>, toolVariant = false): boolean {
	const typeDescription = toolVariant
		? { ...description, name: `${description.name}Tool` }
		: description;
	const node = nodeWith(values, toolVariant ? 'CUSTOM.amazonIncentivesTool' : undefined);
	const parameters =
		NodeHelpers.getNodeParameters(
			description.properties,
			node.parameters,
			true,
			false,
			node,
			typeDescription,
		) ?? {};
	return description.properties
		.filter((property) => property.name === name)
		.some((property) =>
			NodeHelpers.displayParameter(parameters, property, node, typeDescription, parameters),
		);
}

describe('the node in the editor', () => {
	it('writes every placeholder without a leading "=", expression examples as "e.g. {{ … }}"', () => {
		const placeholders = [...allProperties(description.properties), ...credential.properties]
			.map((property) => property.placeholder)
			.filter((placeholder): placeholder is string => typeof placeholder === 'string');
		expect(placeholders.length).toBeGreaterThan(5);
		for (const placeholder of placeholders) {
			expect(placeholder).not.toMatch(/^=/);
			if (placeholder.includes('{{')) expect(placeholder).toMatch(/^e\.g\. \{\{ \$json\.\w+ \}\}$/);
		}
	});

	it('shows the display names of the operation and resource as the subtitle', () => {
		const nodeTypes: INodeTypes = {
			getByName: () => nodeType,
			getByNameAndVersion: () => nodeType as INodeType,
			getKnownTypes: () => ({}),
		};
		const subtitles = OPERATIONS.map(({ resource, operation }) => {
			const node = nodeWith({ resource, operation });
			const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes });
			return workflow.expression.getSimpleParameterValue(
				node,
				description.subtitle as string,
				'internal',
				{},
			);
		});
		expect(subtitles).toEqual([
			'Create: Gift Card',
			'Cancel: Gift Card',
			'Get Available Funds: Account',
			'Activate: Physical Card',
			'Deactivate: Physical Card',
			'Get Status: Physical Card',
			'Load: Amazon Balance',
			'Void: Amazon Balance',
		]);
	});

	it('keeps the brand in action names, which become default node names', () => {
		const actions = Object.values(RESOURCES).flatMap(({ operations }) =>
			Object.values(operations).map((operation) => operation.action),
		);
		expect(actions).toContain('Load an Amazon balance');
		expect(actions).toContain('Void an Amazon balance load');
		for (const action of actions) expect(action).not.toMatch(/amazon/);
	});

	it('names the timeout option "Timeout (ms)"', () => {
		const timeout = allProperties(description.properties).find(
			(property) => property.name === 'timeout',
		);
		expect(timeout?.displayName).toBe('Timeout (ms)');
	});

	it("suggests the local sandbox's port in the credential's Endpoint", () => {
		const endpoint = credential.properties.find((property) => property.name === 'endpoint');
		expect(endpoint?.placeholder).toBe(`e.g. http://127.0.0.1:${DEFAULT_CLI_PORT}`);
	});

	describe('Amount', () => {
		const amountOperations = [
			...MONEY_OPERATIONS,
			{ resource: 'amazonBalance', operation: 'void' },
		];

		it.each(amountOperations)(
			'$resource/$operation: a notice under Amount while it holds its default 0, before any run',
			(operation) => {
				expect(shown('amount', operation)).toBe(true);
				expect(shown('amountNotice', operation)).toBe(true);
				expect(shown('amountNotice', { ...operation, amount: 25 })).toBe(false);
				expect(shown('amountNotice', { ...operation, amount: '={{ $json.amount }}' })).toBe(false);
			},
		);

		it('shows no amount notice where there is no amount', () => {
			expect(shown('amountNotice', { resource: 'giftCard', operation: 'cancel' })).toBe(false);
		});
	});

	describe('Unique ID: plain words first, the exact terms in the descriptions', () => {
		const shownFields = (operation: Record<string, unknown>) =>
			description.properties.filter((property) => shown(property.name, operation));

		it.each(MONEY_OPERATIONS)(
			'$resource/$operation: a notice saying why, the unique ID and its scope beside it',
			(operation) => {
				const fields = shownFields(operation);
				const names = fields.map((field) => field.name);
				expect(names).toEqual(
					expect.arrayContaining(['uniqueIdNotice', 'requestIdMode', 'idempotencyKey']),
				);
				// The scope stands beside the key, at the top level: not hidden in Options.
				expect(names.indexOf('idempotencyScope')).toBe(names.indexOf('idempotencyKey') + 1);
				const byName = Object.fromEntries(fields.map((field) => [field.name, field]));
				expect(byName.uniqueIdNotice.displayName).toMatch(/once.*same ID.*original result/);
				expect(byName.requestIdMode.displayName).toBe('Unique ID Source');
				expect(byName.idempotencyKey.displayName).toMatch(/^Unique ID for This /);
				expect(byName.idempotencyScope.displayName).toBe('Unique Within');
				// The power users' terms are still there, in the descriptions.
				expect(byName.idempotencyKey.description).toContain('idempotency key');
				expect(byName.idempotencyScope.description).toContain('idempotency scope');
				expect(byName.idempotencyScope.default).toBe('workflow');
			},
		);

		it('no field is named with the jargon itself', () => {
			const displayNames = allProperties(description.properties).map((field) => field.displayName);
			for (const jargon of [/Idempotency/i, /Request ID Source/i, /Namespace/i])
				expect(displayNames.filter((name) => jargon.test(name))).toEqual([]);
		});
	});

	describe('Spending Limits', () => {
		it.each(MONEY_OPERATIONS)('$resource/$operation has them', (operation) => {
			expect(shown('spendingLimits', operation)).toBe(true);
		});

		it('only the operations that move money have them', () => {
			const others = OPERATIONS.filter(
				(operation) =>
					!MONEY_OPERATIONS.some(
						(money) =>
							money.resource === operation.resource && money.operation === operation.operation,
					),
			);
			for (const operation of others) expect(shown('spendingLimits', operation)).toBe(false);
		});

		it('takes no expressions in the editor', () => {
			const limit = description.properties.find((property) => property.name === 'spendingLimits');
			const values = (limit?.options as INodePropertyCollection[])[0].values;
			expect(values.map((value) => [value.name, value.noDataExpression])).toEqual([
				['currencyCode', true],
				['maxPerItem', true],
				['maxPerExecution', true],
			]);
		});

		it('explains in the AI-tool variant only that money moves there only within them', () => {
			const create = MONEY_OPERATIONS[0];
			expect(shown('toolSpendingNotice', create, true)).toBe(true);
			expect(shown('toolSpendingNotice', create, false)).toBe(false);
			expect(
				shown('toolSpendingNotice', { resource: 'account', operation: 'getAvailableFunds' }, true),
			).toBe(false);
		});
	});
});
