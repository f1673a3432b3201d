/**
 * Spending limits (bad-input suite): optional caps per currency, checked in the validate-everything-first
 * pass. An item over Max Amount Per Item is bad input for that item; a batch over Max Total Per Execution
 * moves no money at all and says by how much it is over. The total counts every run of the node in one
 * workflow execution (a loop, an AI agent calling the node as a tool again and again), and limits are
 * fixed values that no expression or `$fromAI()` can set. As an AI tool the node moves money only under a
 * total per execution.
 */
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import {
	NOTHING_MOVED,
	activateParameters,
	continueErrorOutput,
	createParameters,
	credentialType,
	fundsParameters,
	itemError,
	jsonOf,
	loadParameters,
	node,
	runAgainst,
	uniqueKey,
	useSandbox,
} from '../integration/helpers';
import { endpointCredential } from '../support/credentials';
import { type RunNodeResult, runNode } from '../support/n8nHarness';
import type { RunningSandbox } from '../sandbox';

const FAST = { requestsPerSecond: 100 };
const TOOL_TYPE = 'CUSTOM.amazonIncentivesTool';
let executionCounter = 0;

function limits(...entries: INodeParameters[]): INodeParameters {
	return { limit: entries };
}

function create(spendingLimits: INodeParameters | string | undefined, extra: INodeParameters = {}) {
	return createParameters({
		options: FAST,
		...(spendingLimits === undefined ? {} : { spendingLimits }),
		...extra,
	});
}

function items(...amounts: number[]): IDataObject[] {
	return amounts.map((amount) => ({ amount, key: uniqueKey('limit') }));
}

/** Several runs of the node in one workflow execution, as in a loop or repeated AI tool calls. */
function runInExecution(
	sandbox: RunningSandbox,
	executionId: string,
	parameters: INodeParameters,
	input: IDataObject[],
	nodeTypeName?: string,
): Promise<RunNodeResult> {
	return runNode({
		node,
		nodeTypeName,
		parameters,
		items: input,
		credentials: { type: credentialType, data: endpointCredential(sandbox) },
		executionId,
	});
}

const newExecution = () => `limits-execution-${process.pid}-${++executionCounter}`;

describe('spending limits', () => {
	const sandbox = useSandbox();

	describe('Max Amount Per Item', () => {
		const usd100 = limits({ currencyCode: 'USD', maxPerItem: 100 });

		it('fails an item over its cap, naming the item and the field; the others go through (Continue On Fail)', async () => {
			const result = await runAgainst(
				sandbox(),
				create(usd100),
				items(10, 150, 20),
				continueErrorOutput,
			);
			expect(result.status).toBe('success');
			expect(jsonOf(result).map((json) => json.status)).toEqual(['SUCCESS', 'SUCCESS']);
			expect(result.errorOutput).toHaveLength(1);
			expect(result.errorOutput[0].pairedItem).toEqual({ item: 1 });
			expect(itemError(result.errorOutput[0].json).message).toBe(
				"Item 1: invalid amount: 150.00 USD is over this node's spending limit of 100.00 USD per item",
			);
			expect(sandbox().stats()).toMatchObject({ cardsIssued: 2, totalDebited: { USD: 30 } });
		});

		it('stops the node before anything is sent without Continue On Fail', async () => {
			const result = await runAgainst(sandbox(), create(usd100), items(10, 150, 20));
			expect(result.status).toBe('error');
			expect(result.error?.message).toBe(
				"Item 1: invalid amount: 150.00 USD is over this node's spending limit of 100.00 USD per item",
			);
			expect(sandbox().stats()).toMatchObject({ requests: 0, ...NOTHING_MOVED });
		});

		it('refuses a currency that has no limit once the node has limits', async () => {
			const result = await runAgainst(
				sandbox(),
				create(usd100, { currencyCode: 'CAD' }),
				items(10),
			);
			expect(result.error?.message).toBe(
				'Item 0: invalid currencyCode: CAD has no spending limit on this node (limits are set for USD)',
			);
			expect(sandbox().stats().requests).toBe(0);
		});
	});

	describe('Max Total Per Execution', () => {
		const usdTotal100 = limits({ currencyCode: 'USD', maxPerExecution: 100 });

		it('moves no money at all for a batch over the total, and says by how much it is over', async () => {
			const result = await runAgainst(sandbox(), create(usdTotal100), items(40, 40, 40));
			expect(result.status).toBe('error');
			expect(result.error?.message).toBe(
				"Spending limit: this would move 120.00 USD, 20.00 USD over the node's limit of 100.00 USD per execution. Nothing was sent.",
			);
			expect(sandbox().stats()).toMatchObject({ requests: 0, ...NOTHING_MOVED });
		});

		it('with Continue On Fail, every item of that batch is an error item and nothing is sent', async () => {
			const result = await runAgainst(
				sandbox(),
				create(usdTotal100),
				items(40, 40, 40),
				continueErrorOutput,
			);
			expect(result.main).toEqual([]);
			expect(result.errorOutput.map((item) => item.pairedItem)).toEqual([
				{ item: 0 },
				{ item: 1 },
				{ item: 2 },
			]);
			for (const item of result.errorOutput) {
				expect(itemError(item.json).message).toMatch(/20\.00 USD over .* Nothing was sent\.$/);
				expect(itemError(item.json).outcome).toBe('refused');
			}
			expect(sandbox().stats().requests).toBe(0);
		});

		it('counts every run of the node in one execution (a loop): the run that would pass the total sends nothing', async () => {
			const execution = newExecution();
			const run = (amounts: number[]) =>
				runInExecution(sandbox(), execution, create(usdTotal100), items(...amounts));
			expect((await run([20, 20])).status).toBe('success');
			expect((await run([20, 20])).status).toBe('success');
			const third = await run([20, 20]);
			expect(third.error?.message).toBe(
				"Spending limit: this would move 40.00 USD on top of 80.00 USD it already moved in this execution, 20.00 USD over the node's limit of 100.00 USD per execution. Nothing was sent.",
			);
			// What still fits goes through: the total is a total, not a count of runs.
			expect((await run([20])).status).toBe('success');
			expect(sandbox().stats()).toMatchObject({ cardsIssued: 5, totalDebited: { USD: 100 } });
		});

		it('counts a repeated request ID once: Amazon moves no money for it again', async () => {
			const execution = newExecution();
			const again = items(60);
			const first = await runInExecution(sandbox(), execution, create(usdTotal100), again);
			const second = await runInExecution(sandbox(), execution, create(usdTotal100), again);
			expect([first.status, second.status]).toEqual(['success', 'success']);
			expect(jsonOf(second)[0].gcId).toBe(jsonOf(first)[0].gcId);
			expect(sandbox().stats()).toMatchObject({ cardsIssued: 1, totalDebited: { USD: 60 } });
		});

		it('starts from zero in another execution', async () => {
			for (const execution of [newExecution(), newExecution()]) {
				const result = await runInExecution(sandbox(), execution, create(usdTotal100), items(90));
				expect(result.status).toBe('success');
			}
			expect(sandbox().stats().cardsIssued).toBe(2);
		});

		it('holds for Activate and Load too', async () => {
			const activate = await runAgainst(
				sandbox(),
				activateParameters({ options: FAST, spendingLimits: limits({ maxPerExecution: 60 }) }),
				[
					{ cardNumber: '1400000005567586019', amount: 50, key: uniqueKey('act') },
					{ cardNumber: '1400000005567586027', amount: 50, key: uniqueKey('act') },
				],
			);
			expect(activate.error?.message).toMatch(/40\.00 USD over the node's limit of 60\.00 USD/);
			const load = await runAgainst(
				sandbox(),
				loadParameters({ options: FAST, spendingLimits: limits({ maxPerItem: 5 }) }),
				[{ customer: 'amzn1.account.LIMITTEST', amount: 7.5, key: uniqueKey('load') }],
			);
			expect(load.error?.message).toBe(
				"Item 0: invalid amount: 7.50 USD is over this node's spending limit of 5.00 USD per item",
			);
			expect(sandbox().stats()).toMatchObject({ requests: 0, ...NOTHING_MOVED });
		});
	});

	describe('limits are fixed values', () => {
		// n8n hands the node these fields without the leading "=" (they take no expressions), except a
		// lone $fromAI(), which it keeps for the agent to fill in: the node refuses both forms.
		it.each([
			['an expression', limits({ currencyCode: 'USD', maxPerExecution: '={{ $json.limit }}' })],
			[
				'$fromAI()',
				limits({ currencyCode: 'USD', maxPerItem: "={{ $fromAI('maxPerItem', '', 'number') }}" }),
			],
			[
				'an expression for the currency',
				limits({ currencyCode: '={{ $json.currency }}', maxPerItem: 10 }),
			],
		])('refuses %s in a limit before anything is sent', async (_label, spendingLimits) => {
			const result = await runAgainst(sandbox(), create(spendingLimits), [
				{ amount: 10, key: uniqueKey('fixed'), limit: 1_000_000, currency: 'USD' },
			]);
			expect(result.status).toBe('error');
			expect(result.error?.message).toMatch(
				/^Spending Limits: (Max Total Per Execution|Max Amount Per Item|Currency Code) must be a fixed value, not an expression: no input and no AI agent may change a limit$/,
			);
			expect(sandbox().stats().requests).toBe(0);
		});
	});

	describe('as an AI tool (usableAsTool)', () => {
		it('moves no money without a limit for the currency', async () => {
			const result = await runInExecution(
				sandbox(),
				newExecution(),
				create(undefined),
				items(10),
				TOOL_TYPE,
			);
			expect(result.error?.message).toBe(
				'Item 0: invalid spendingLimits: as an AI tool this node moves money only within its Spending Limits, and it has no limit for USD: add one with a Max Total Per Execution',
			);
			expect(sandbox().stats().requests).toBe(0);
		});

		it('needs a Max Total Per Execution: a per-item cap alone does not bound repeated calls', async () => {
			const result = await runInExecution(
				sandbox(),
				newExecution(),
				create(limits({ maxPerItem: 50 })),
				items(10),
				TOOL_TYPE,
			);
			expect(result.error?.message).toBe(
				'Item 0: invalid spendingLimits: as an AI tool this node moves money only within a Max Total Per Execution, and the USD limit has none',
			);
			expect(sandbox().stats().requests).toBe(0);
		});

		it('an agent calling the tool again and again in one execution cannot pass the total', async () => {
			const execution = newExecution();
			const parameters = create(limits({ maxPerItem: 25, maxPerExecution: 50 }), {
				// What an agent fills in: the amount and the key come from the model.
				amount: "={{ $fromAI('amount', 'Gift card value in USD', 'number') }}",
				idempotencyKey: "={{ $fromAI('rewardId', 'Unique ID of this reward', 'string') }}",
			});
			const call = (amount: number) =>
				runInExecution(
					sandbox(),
					execution,
					parameters,
					[{ amount, rewardId: uniqueKey('agent') }],
					TOOL_TYPE,
				);
			const results: RunNodeResult[] = [];
			for (const amount of [20, 20, 20, 30]) results.push(await call(amount));
			expect(results.map((result) => result.status)).toEqual([
				'success',
				'success',
				'error',
				'error',
			]);
			expect(results[2].error?.message).toBe(
				"Spending limit: this would move 20.00 USD on top of 40.00 USD it already moved in this execution, 10.00 USD over the node's limit of 50.00 USD per execution. Nothing was sent.",
			);
			expect(results[3].error?.message).toBe(
				"Item 0: invalid amount: 30.00 USD is over this node's spending limit of 25.00 USD per item",
			);
			expect(sandbox().stats()).toMatchObject({ cardsIssued: 2, totalDebited: { USD: 40 } });
		});

		it('reads funds without any limit: only moving money needs one', async () => {
			const result = await runInExecution(
				sandbox(),
				newExecution(),
				fundsParameters(),
				[{}],
				TOOL_TYPE,
			);
			expect(result.status).toBe('success');
		});
	});
});
