/**
 * Input rules checked before any request is sent, so a bad item never moves money. Each reader takes the raw
 * parameter value (expressions can resolve to anything) and returns the clean value or throws InputError
 * naming the field.
 */

export type RegionGroup = 'na' | 'eu' | 'fe';

interface CurrencyRule {
	min: number;
	max: number;
	decimals: 0 | 2;
	region: RegionGroup;
}

// Per the ActivateGiftCard table of https://developer.amazon.com/docs/incentives-api/posa-gift-cards.html.
// CreateGiftCard is checked against the same ranges; Amazon may refuse narrower ones for digital cards
// (US: $0.15–$2,000 per https://developer.amazon.com/docs/incentives-api/gift-codes-faq.html).
export const CURRENCY_RULES: Readonly<Record<string, CurrencyRule>> = {
	USD: { min: 0.01, max: 2000, decimals: 2, region: 'na' },
	CAD: { min: 0.01, max: 5000, decimals: 2, region: 'na' },
	MXN: { min: 5, max: 5000, decimals: 2, region: 'na' },
	EUR: { min: 0.15, max: 5000, decimals: 2, region: 'eu' },
	GBP: { min: 0.01, max: 5000, decimals: 2, region: 'eu' },
	PLN: { min: 1, max: 21000, decimals: 2, region: 'eu' },
	SEK: { min: 1, max: 10000, decimals: 2, region: 'eu' },
	TRY: { min: 1, max: 5000, decimals: 2, region: 'eu' },
	AED: { min: 1, max: 6000, decimals: 2, region: 'eu' },
	SAR: { min: 1, max: 5000, decimals: 2, region: 'eu' },
	EGP: { min: 1, max: 6000, decimals: 2, region: 'eu' },
	ZAR: { min: 1, max: 6000, decimals: 2, region: 'eu' },
	JPY: { min: 1, max: 500000, decimals: 0, region: 'fe' },
	AUD: { min: 0.01, max: 5000, decimals: 2, region: 'fe' },
	SGD: { min: 0.01, max: 500, decimals: 2, region: 'fe' },
};

export const REGION_GROUPS: readonly RegionGroup[] = ['na', 'eu', 'fe'];

export function currenciesOf(region: RegionGroup): string[] {
	return Object.keys(CURRENCY_RULES).filter((code) => CURRENCY_RULES[code].region === region);
}

/** Bad input for one field of one item; the node turns it into a NodeOperationError with the item index. */
export class InputError extends Error {
	constructor(
		readonly field: string,
		message: string,
	) {
		super(message);
		this.name = 'InputError';
	}
}

const PARTNER_ID_PATTERN = /^[A-Z][A-Za-z0-9]{4}$/;

const MAX_IDEMPOTENCY_KEY_LENGTH = 1000;
const CONTROL_CHARACTERS = /\p{Cc}/u;

function describeType(value: unknown): string {
	if (value === undefined) return 'nothing (the value is empty or missing)';
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'a list';
	if (typeof value === 'object') return 'an object';
	if (typeof value === 'string') return value.trim() === '' ? 'an empty text' : `"${clip(value)}"`;
	return `${typeof value} ${String(value)}`;
}

/** Shortens echoed user input so a huge value cannot flood an error message. */
function clip(text: string, max = 40): string {
	return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

export function readAmount(value: unknown, currencyCode: string, field = 'amount'): number {
	let amount: number;
	let decimalsGiven: number;
	if (typeof value === 'number') {
		if (!Number.isFinite(value))
			throw new InputError(field, `${field} must be a finite number, got ${value}`);
		amount = value;
		// Float noise from expressions (0.1 + 0.2) must not count as a third decimal.
		const cents = value * 100;
		decimalsGiven =
			Math.abs(cents - Math.round(cents)) < 1e-6 ? (Number.isInteger(value) ? 0 : 2) : 3;
	} else if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)) {
		const text = value.trim();
		amount = Number(text);
		// Hundreds of digits parse to Infinity; echo what was given rather than "Infinity".
		if (!Number.isFinite(amount))
			throw new InputError(field, `${field} is far too large, got ${describeType(value)}`);
		decimalsGiven = (text.split('.')[1] ?? '').replace(/0+$/, '').length;
	} else {
		throw new InputError(
			field,
			`${field} must be a number such as 25 or 25.50, got ${describeType(value)}`,
		);
	}

	const rule = CURRENCY_RULES[currencyCode];
	if (amount <= 0) throw new InputError(field, `${field} must be greater than 0, got ${amount}`);
	if (rule.decimals === 0 && decimalsGiven > 0)
		throw new InputError(
			field,
			`${field} ${amount} ${currencyCode}: ${currencyCode} amounts must be whole numbers`,
		);
	if (decimalsGiven > 2)
		throw new InputError(field, `${field} ${amount} has more than 2 decimal places`);
	if (amount < rule.min || amount > rule.max)
		throw new InputError(
			field,
			`${field} ${amount} ${currencyCode} is outside the allowed range ${rule.min}–${rule.max} ${currencyCode}`,
		);
	return Math.round(amount * 100) / 100;
}

export function readCurrencyCode(
	value: unknown,
	region: RegionGroup,
	field = 'currencyCode',
): string {
	if (typeof value !== 'string' || value.trim() === '')
		throw new InputError(
			field,
			`${field} must be a currency code such as USD, got ${describeType(value)}`,
		);
	const code = value.trim().toUpperCase();
	const rule = CURRENCY_RULES[code];
	if (!rule)
		throw new InputError(
			field,
			`${field} "${clip(code, 10)}" is not an Amazon Incentives currency (${Object.keys(CURRENCY_RULES).join(', ')})`,
		);
	if (rule.region !== region)
		throw new InputError(
			field,
			`${field} ${code} belongs to the "${rule.region}" region group, but the credential's region is "${region}" (${currenciesOf(region).join(', ')})`,
		);
	return code;
}

/** WAC numbers: 16 digits, or 16 digits plus the 3-digit checksum. Spaces and hyphens are ignored. */
export function readCardNumber(value: unknown, field = 'cardNumber'): string {
	if (typeof value === 'number') {
		// A 19-digit number cannot survive JSON/JavaScript numbers: its last digits are already wrong.
		if (!Number.isSafeInteger(value))
			throw new InputError(
				field,
				`${field} must be given as text: ${value} is too long for a number and has lost digits`,
			);
		value = String(value);
	}
	if (typeof value !== 'string' || value.trim() === '')
		throw new InputError(
			field,
			`${field} must be the card's 16 or 19 digits, got ${describeType(value)}`,
		);
	const digits = value.replace(/[\s-]/g, '');
	if (!/^\d+$/.test(digits))
		throw new InputError(field, `${field} may only contain digits, got "${clip(value)}"`);
	if (digits.length !== 16 && digits.length !== 19)
		throw new InputError(
			field,
			`${field} must have 16 digits (or 19 with the checksum), got ${digits.length} digits`,
		);
	return digits;
}

interface TextRule {
	maxLength: number;
	pattern?: RegExp;
	patternHint?: string;
}

/** Optional text: undefined/empty gives undefined; numbers are accepted as text; anything else is an error. */
export function readOptionalText(
	value: unknown,
	field: string,
	rule: TextRule,
): string | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	return readText(value, field, rule);
}

export function readText(value: unknown, field: string, rule: TextRule): string {
	if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
	if (typeof value !== 'string' || value.trim() === '')
		throw new InputError(field, `${field} must be text, got ${describeType(value)}`);
	const text = value.trim();
	const length = [...text].length;
	if (length > rule.maxLength)
		throw new InputError(
			field,
			`${field} is ${length} characters long; at most ${rule.maxLength} are allowed`,
		);
	if (CONTROL_CHARACTERS.test(text))
		throw new InputError(field, `${field} contains control characters (line breaks, tabs, …)`);
	if (rule.pattern && !rule.pattern.test(text))
		throw new InputError(
			field,
			`${field} "${clip(text)}" ${rule.patternHint ?? 'has an invalid format'}`,
		);
	return text;
}

export function readIdempotencyKey(value: unknown, field = 'idempotencyKey'): string {
	if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	if (typeof value !== 'string' || value.trim() === '')
		throw new InputError(
			field,
			`${field} must be a text or number that identifies this transaction (e.g. {{ $json.orderId }}), got ${describeType(value)}`,
		);
	const key = value.trim();
	if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH)
		throw new InputError(
			field,
			`${field} is ${key.length} characters long; at most ${MAX_IDEMPOTENCY_KEY_LENGTH} are allowed`,
		);
	return key;
}

export function readBoolean(value: unknown, field: string): boolean {
	if (typeof value === 'boolean') return value;
	if (value === 'true') return true;
	if (value === 'false') return false;
	throw new InputError(field, `${field} must be true or false, got ${describeType(value)}`);
}

/** An object given as JSON text or as an object (from an expression); arrays and other values are errors. */
export function readJsonObject(value: unknown, field: string): Record<string, unknown> {
	let parsed = value;
	if (typeof value === 'string') {
		if (value.trim() === '') return {};
		parsed = parseJsonOrUndefined(value);
		if (parsed === undefined) throw new InputError(field, `${field} is not valid JSON`);
	}
	if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
		throw new InputError(field, `${field} must be a JSON object, got ${describeType(parsed)}`);
	return parsed as Record<string, unknown>;
}

function parseJsonOrUndefined(text: string): unknown {
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return undefined;
	}
}

export function partnerIdProblem(partnerId: unknown): string | undefined {
	if (typeof partnerId !== 'string' || !PARTNER_ID_PATTERN.test(partnerId))
		return 'The Partner ID must be 5 letters or digits starting with an upper-case letter (e.g. Awssb), exactly as Amazon issued it';
	return undefined;
}
