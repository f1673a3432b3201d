import {
	SpendingLedger,
	SpendingLimitError,
	checkItemSpend,
	describeOverspend,
	formatMoney,
	parseSpendingLimits,
} from '../../nodes/AmazonIncentives/spendingLimits';
import { InputError } from '../../nodes/AmazonIncentives/validation';

describe('parseSpendingLimits', () => {
	it('reads the saved collection in hundredths, with n8n leaving out defaults (USD, 0: no cap)', () => {
		expect(parseSpendingLimits(undefined)).toEqual(new Map());
		expect(parseSpendingLimits({})).toEqual(new Map());
		expect(
			parseSpendingLimits({
				limit: [{ maxPerItem: 25.5 }, { currencyCode: 'JPY', maxPerExecution: 3000 }],
			}),
		).toEqual(
			new Map([
				['USD', { maxPerItem: 2550, maxPerExecution: undefined }],
				['JPY', { maxPerItem: undefined, maxPerExecution: 300000 }],
			]),
		);
	});

	it.each([
		[{ limit: [{ maxPerItem: -1 }] }, /Max Amount Per Item for USD must be a number of at least 0/],
		[{ limit: [{ maxPerExecution: '100' }] }, /Max Total Per Execution for USD must be a number/],
		[{ limit: [{ currencyCode: 'XXX' }] }, /unknown currency "XXX"/],
		[{ limit: [{ maxPerItem: 5 }, { currencyCode: 'USD' }] }, /USD has two limits/],
		[{ limit: [{ maxPerItem: '{{ $json.cap }}' }] }, /Max Amount Per Item must be a fixed value/],
		['={{ $json.limits }}', /must be fixed values, not an expression/],
	])('refuses %j', (raw, message) => {
		expect(() => parseSpendingLimits(raw)).toThrow(SpendingLimitError);
		expect(() => parseSpendingLimits(raw)).toThrow(message);
	});
});

describe('checkItemSpend', () => {
	const limits = parseSpendingLimits({ limit: [{ maxPerItem: 100 }] });

	it('passes an item at its cap and refuses one a cent over', () => {
		expect(() => checkItemSpend(limits, { currencyCode: 'USD', amount: 100 }, false)).not.toThrow();
		expect(() => checkItemSpend(limits, { currencyCode: 'USD', amount: 100.01 }, false)).toThrow(
			new InputError(
				'amount',
				"100.01 USD is over this node's spending limit of 100.00 USD per item",
			),
		);
	});

	it('lets anything through when the node has no limits, except as an AI tool', () => {
		const none = parseSpendingLimits(undefined);
		expect(() => checkItemSpend(none, { currencyCode: 'USD', amount: 2000 }, false)).not.toThrow();
		expect(() => checkItemSpend(none, { currencyCode: 'USD', amount: 1 }, true)).toThrow(
			/as an AI tool this node moves money only within its Spending Limits/,
		);
	});
});

describe('SpendingLedger', () => {
	const limits = parseSpendingLimits({
		limit: [{ maxPerExecution: 50 }, { currencyCode: 'CAD', maxPerExecution: 10 }],
	});
	const spend = (requestId: string, amount: number, currencyCode = 'USD') => ({
		requestId,
		currencyCode,
		amount,
	});

	it('records a batch that fits, and records nothing of a batch that does not', () => {
		const ledger = new SpendingLedger();
		expect(ledger.reserve('run', [spend('a', 20), spend('b', 20)], limits)).toBeUndefined();
		const over = ledger.reserve(
			'run',
			[spend('c', 5), spend('d', 6, 'CAD'), spend('e', 5, 'CAD')],
			limits,
		);
		expect(over).toEqual({ currencyCode: 'CAD', limit: 1000, before: 0, batch: 1100, over: 100 });
		// The USD part of the refused batch was not counted either.
		expect(ledger.spent('run', 'USD')).toBe(4000);
		expect(ledger.reserve('run', [spend('c', 10)], limits)).toBeUndefined();
		expect(ledger.spent('run', 'USD')).toBe(5000);
	});

	it('counts a request id once, within a batch and across batches', () => {
		const ledger = new SpendingLedger();
		expect(ledger.reserve('run', [spend('a', 30), spend('a', 30)], limits)).toBeUndefined();
		expect(ledger.reserve('run', [spend('a', 30)], limits)).toBeUndefined();
		expect(ledger.spent('run', 'USD')).toBe(3000);
	});

	it('keeps scopes apart and forgets the least recently used first', () => {
		const ledger = new SpendingLedger(2);
		ledger.reserve('one', [spend('a', 10)], limits);
		ledger.reserve('two', [spend('b', 10)], limits);
		ledger.reserve('one', [spend('c', 10)], limits);
		ledger.reserve('three', [spend('d', 10)], limits);
		expect([
			ledger.spent('one', 'USD'),
			ledger.spent('two', 'USD'),
			ledger.spent('three', 'USD'),
		]).toEqual([2000, 0, 1000]);
	});
});

describe('messages', () => {
	it('write money in the currency’s own decimals', () => {
		expect(formatMoney(123456, 'USD')).toBe('1234.56 USD');
		expect(formatMoney(50000, 'JPY')).toBe('500 JPY');
		expect(
			describeOverspend({
				currencyCode: 'USD',
				limit: 10000,
				before: 8000,
				batch: 4000,
				over: 2000,
			}),
		).toBe(
			"Spending limit: this would move 40.00 USD on top of 80.00 USD it already moved in this execution, 20.00 USD over the node's limit of 100.00 USD per execution. Nothing was sent.",
		);
	});
});
