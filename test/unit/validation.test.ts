import {
	CURRENCY_RULES,
	InputError,
	currenciesOf,
	partnerIdProblem,
	readAmount,
	readCardNumber,
	readCurrencyCode,
	readIdempotencyKey,
	readJsonObject,
	readOptionalText,
	readText,
} from '../../nodes/AmazonIncentives/validation';

function failure(action: () => unknown): InputError {
	try {
		action();
	} catch (error) {
		if (error instanceof InputError) return error;
		throw error;
	}
	throw new Error('expected an InputError');
}

describe('readAmount', () => {
	it.each([
		[25, 'USD', 25],
		['25', 'USD', 25],
		[' 25.50 ', 'USD', 25.5],
		['25.500', 'USD', 25.5],
		[0.01, 'USD', 0.01],
		[2000, 'USD', 2000],
		[0.1 + 0.2, 'USD', 0.3],
		[500000, 'JPY', 500000],
		['1000', 'JPY', 1000],
		[0.15, 'EUR', 0.15],
		[21000, 'PLN', 21000],
	])('accepts %j %s as %j', (value, currency, expected) => {
		expect(readAmount(value, currency)).toBe(expected);
	});

	it.each([
		[0, 'USD', 'amount must be greater than 0, got 0'],
		[-5, 'USD', 'amount must be greater than 0, got -5'],
		[10.555, 'USD', 'amount 10.555 has more than 2 decimal places'],
		['10.555', 'USD', 'amount 10.555 has more than 2 decimal places'],
		[2000.01, 'USD', 'amount 2000.01 USD is outside the allowed range 0.01–2000 USD'],
		[0.1, 'EUR', 'amount 0.1 EUR is outside the allowed range 0.15–5000 EUR'],
		[4.99, 'MXN', 'amount 4.99 MXN is outside the allowed range 5–5000 MXN'],
		[100.5, 'JPY', 'amount 100.5 JPY: JPY amounts must be whole numbers'],
		['100.5', 'JPY', 'amount 100.5 JPY: JPY amounts must be whole numbers'],
		[501, 'SGD', 'amount 501 SGD is outside the allowed range 0.01–500 SGD'],
		[Number.NaN, 'USD', 'amount must be a finite number, got NaN'],
		[Number.POSITIVE_INFINITY, 'USD', 'amount must be a finite number, got Infinity'],
		['abc', 'USD', 'amount must be a number such as 25 or 25.50, got "abc"'],
		['1e3', 'USD', 'amount must be a number such as 25 or 25.50, got "1e3"'],
		['-5', 'USD', 'amount must be a number such as 25 or 25.50, got "-5"'],
		['', 'USD', 'amount must be a number such as 25 or 25.50, got an empty text'],
		[null, 'USD', 'amount must be a number such as 25 or 25.50, got null'],
		[
			undefined,
			'USD',
			'amount must be a number such as 25 or 25.50, got nothing (the value is empty or missing)',
		],
		[{ value: 5 }, 'USD', 'amount must be a number such as 25 or 25.50, got an object'],
		[[5], 'USD', 'amount must be a number such as 25 or 25.50, got a list'],
		[true, 'USD', 'amount must be a number such as 25 or 25.50, got boolean true'],
	])('rejects %j %s', (value, currency, message) => {
		const error = failure(() => readAmount(value, currency));
		expect(error.field).toBe('amount');
		expect(error.message).toBe(message);
	});

	it('has a rule for every currency with a sane range', () => {
		for (const [code, rule] of Object.entries(CURRENCY_RULES)) {
			expect(code).toMatch(/^[A-Z]{3}$/);
			expect(rule.min).toBeGreaterThan(0);
			expect(rule.max).toBeGreaterThan(rule.min);
		}
	});
});

describe('readCurrencyCode', () => {
	it('accepts the region group currencies, case-insensitively', () => {
		expect(readCurrencyCode('usd', 'na')).toBe('USD');
		expect(readCurrencyCode(' EUR ', 'eu')).toBe('EUR');
		expect(readCurrencyCode('JPY', 'fe')).toBe('JPY');
	});
	it('rejects a currency outside the credential region group, naming both', () => {
		expect(failure(() => readCurrencyCode('EUR', 'na')).message).toBe(
			'currencyCode EUR belongs to the "eu" region group, but the credential\'s region is "na" (USD, CAD, MXN)',
		);
	});
	it.each([['XYZ'], ['CNY'], [''], [5], [null], [{}]])('rejects %j', (value) => {
		expect(failure(() => readCurrencyCode(value, 'na')).field).toBe('currencyCode');
	});
	it('knows which currencies belong to each group', () => {
		expect(currenciesOf('na')).toEqual(['USD', 'CAD', 'MXN']);
		expect(currenciesOf('fe')).toEqual(['JPY', 'AUD', 'SGD']);
	});
});

describe('readCardNumber', () => {
	it.each([
		['1400000005567585358', '1400000005567585358'],
		['1700000005489413', '1700000005489413'],
		['1400 0000 0556 7585 358', '1400000005567585358'],
		['1700-0000-0548-9413', '1700000005489413'],
		[1700000005489413, '1700000005489413'],
	])('accepts %j', (value, expected) => {
		expect(readCardNumber(value)).toBe(expected);
	});
	it.each([
		[
			'14000000055675853',
			'cardNumber must have 16 digits (or 19 with the checksum), got 17 digits',
		],
		['123', 'cardNumber must have 16 digits (or 19 with the checksum), got 3 digits'],
		['1400000005567585ABC', 'cardNumber may only contain digits, got "1400000005567585ABC"'],
		[
			1400000005567585358,
			'cardNumber must be given as text: 1400000005567585300 is too long for a number and has lost digits',
		],
		['', "cardNumber must be the card's 16 or 19 digits, got an empty text"],
		[{}, "cardNumber must be the card's 16 or 19 digits, got an object"],
	])('rejects %j', (value, message) => {
		expect(failure(() => readCardNumber(value)).message).toBe(message);
	});
});

describe('text fields', () => {
	it('enforces length in characters, not bytes', () => {
		expect(readText('é'.repeat(100), 'externalReference', { maxLength: 100 })).toHaveLength(100);
		expect(
			failure(() => readText('x'.repeat(101), 'externalReference', { maxLength: 100 })).message,
		).toBe('externalReference is 101 characters long; at most 100 are allowed');
	});
	it('rejects control characters and non-text', () => {
		expect(
			failure(() => readText('a\nb', 'externalReference', { maxLength: 100 })).message,
		).toContain('control characters');
		expect(failure(() => readText(['a'], 'externalReference', { maxLength: 100 })).message).toBe(
			'externalReference must be text, got a list',
		);
	});
	it('treats empty optional text as absent and numbers as text', () => {
		expect(readOptionalText('', 'x', { maxLength: 5 })).toBeUndefined();
		expect(readOptionalText(undefined, 'x', { maxLength: 5 })).toBeUndefined();
		expect(readOptionalText(123, 'x', { maxLength: 5 })).toBe('123');
	});
});

describe('readIdempotencyKey', () => {
	it('accepts text and numbers, trimmed', () => {
		expect(readIdempotencyKey(' order-1 ')).toBe('order-1');
		expect(readIdempotencyKey(42)).toBe('42');
	});
	it.each([[''], ['   '], [null], [undefined], [{ id: 1 }], [[1]], [true]])(
		'rejects %j',
		(value) => {
			expect(failure(() => readIdempotencyKey(value)).field).toBe('idempotencyKey');
		},
	);
	it('rejects huge keys', () => {
		expect(failure(() => readIdempotencyKey('k'.repeat(1001))).message).toBe(
			'idempotencyKey is 1001 characters long; at most 1000 are allowed',
		);
	});
});

describe('readJsonObject and partner ids', () => {
	it('parses JSON objects and rejects everything else', () => {
		expect(readJsonObject('{"a":1}', 'extra')).toEqual({ a: 1 });
		expect(readJsonObject({ a: 1 }, 'extra')).toEqual({ a: 1 });
		expect(readJsonObject('', 'extra')).toEqual({});
		expect(failure(() => readJsonObject('{a', 'extra')).message).toBe('extra is not valid JSON');
		expect(failure(() => readJsonObject('[1]', 'extra')).message).toBe(
			'extra must be a JSON object, got a list',
		);
	});
	it('checks the partner id shape', () => {
		expect(partnerIdProblem('Awssb')).toBeUndefined();
		expect(partnerIdProblem('Amzn1')).toBeUndefined();
		expect(partnerIdProblem('awssb')).toBeDefined();
		expect(partnerIdProblem('Awssbb')).toBeDefined();
		expect(partnerIdProblem(undefined)).toBeDefined();
	});
});
