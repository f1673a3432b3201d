/**
 * Region groups, currency rules and amount parsing of the AGCOD sandbox, per
 * https://developer.amazon.com/docs/incentives-api/incentives-api.html (endpoints) and
 * https://developer.amazon.com/docs/incentives-api/posa-gift-cards.html (amounts).
 */

export type RegionGroup = 'na' | 'eu' | 'fe';

export const SIGNING_REGION: Record<RegionGroup, string> = {
	na: 'us-east-1',
	eu: 'eu-west-1',
	// Far East signs with us-west-2, not an AP region (Amazon's endpoint table).
	fe: 'us-west-2',
};

export const REGION_CURRENCIES: Record<RegionGroup, readonly string[]> = {
	na: ['USD', 'CAD', 'MXN'],
	eu: ['EUR', 'GBP', 'PLN', 'SEK', 'TRY', 'AED', 'SAR', 'EGP', 'ZAR'],
	fe: ['JPY', 'AUD', 'SGD'],
};

/**
 * Allowed amount per card, in hundredths of the currency unit: the ActivateGiftCard table of
 * https://developer.amazon.com/docs/incentives-api/posa-gift-cards.html.
 */
export const AMOUNT_RANGES: Record<string, { minMinor: number; maxMinor: number }> = {
	AUD: { minMinor: 1, maxMinor: 500000 },
	CAD: { minMinor: 1, maxMinor: 500000 },
	EUR: { minMinor: 15, maxMinor: 500000 },
	EGP: { minMinor: 100, maxMinor: 600000 },
	JPY: { minMinor: 100, maxMinor: 50000000 },
	SAR: { minMinor: 100, maxMinor: 500000 },
	MXN: { minMinor: 500, maxMinor: 500000 },
	PLN: { minMinor: 100, maxMinor: 2100000 },
	SGD: { minMinor: 1, maxMinor: 50000 },
	ZAR: { minMinor: 100, maxMinor: 600000 },
	SEK: { minMinor: 100, maxMinor: 1000000 },
	TRY: { minMinor: 100, maxMinor: 500000 },
	AED: { minMinor: 100, maxMinor: 600000 },
	GBP: { minMinor: 1, maxMinor: 500000 },
	USD: { minMinor: 1, maxMinor: 200000 },
};

const CURRENCIES_WITHOUT_FRACTIONS = new Set(['JPY']);
const CURRENCIES_THAT_NEVER_EXPIRE = new Set(['USD', 'CAD', 'AUD']);

/** The AGCOD error a rule violation maps to (errorCode F200 unless said otherwise). */
export interface RuleViolation {
	errorCode: string;
	errorType: string;
	message: string;
}

const violation = (errorType: string, message: string): RuleViolation => ({
	errorCode: 'F200',
	errorType,
	message,
});

function formatMinor(minor: number, currencyCode: string): string {
	return CURRENCIES_WITHOUT_FRACTIONS.has(currencyCode)
		? String(minor / 100)
		: (minor / 100).toFixed(2);
}

/**
 * Turns a wire amount (a JSON number, or a string from XML) into hundredths of the currency unit,
 * enforcing: present, numeric, > 0, at most 2 decimals, none for JPY, inside the currency's range,
 * currency known, in the region group and equal to the partner's currency.
 * The ledger works on these integers so no float rounding ever moves money.
 */
export function parseAmount(
	rawAmount: unknown,
	rawCurrency: unknown,
	region: RegionGroup,
	partnerCurrency: string,
): { minor: number; currencyCode: string } | RuleViolation {
	if (rawAmount === undefined || rawAmount === null || rawAmount === '') {
		return violation('InvalidAmountInput', "Amount can't be null");
	}
	if (typeof rawCurrency !== 'string' || rawCurrency.trim() === '') {
		return violation('InvalidCurrencyCodeInput', "Currency Code can't be null or empty");
	}
	const currencyCode = rawCurrency.trim();
	const range = AMOUNT_RANGES[currencyCode];
	if (!range) {
		return violation('InvalidCurrencyCodeInput', `Currency Code ${currencyCode} is not supported`);
	}
	if (!REGION_CURRENCIES[region].includes(currencyCode) || currencyCode !== partnerCurrency) {
		return violation(
			'CurrencyCodeMismatch',
			`Currency Code ${currencyCode} does not match the account currency ${partnerCurrency}`,
		);
	}
	const text = amountText(rawAmount);
	if (text === null) return violation('InvalidAmountInput', 'Amount must be a number');
	const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
	if (!match) return violation('InvalidAmountInput', 'Amount must be a number');
	const [, sign, whole, fraction = ''] = match;
	const significantFraction = fraction.replace(/0+$/, '');
	if (sign === '-' || (/^0+$/.test(whole) && significantFraction === '')) {
		return violation('InvalidAmountValue', 'Amount must be larger than 0');
	}
	if (CURRENCIES_WITHOUT_FRACTIONS.has(currencyCode) && significantFraction !== '') {
		return violation(
			'FractionalAmountNotAllowed',
			`Fractional amounts are not allowed for ${currencyCode}`,
		);
	}
	if (significantFraction.length > 2) {
		return violation('InvalidAmountValue', 'Amount can have at most 2 decimal places');
	}
	if (whole.length > 12) {
		return violation('MaxAmountExceeded', 'Amount exceeds the maximum allowed');
	}
	const minor = Number(whole) * 100 + Number(significantFraction.padEnd(2, '0'));
	if (minor > range.maxMinor) {
		return violation(
			'MaxAmountExceeded',
			`Amount exceeds the maximum of ${formatMinor(range.maxMinor, currencyCode)} ${currencyCode}`,
		);
	}
	if (minor < range.minMinor) {
		return violation(
			'InvalidAmountValue',
			`Amount is below the minimum of ${formatMinor(range.minMinor, currencyCode)} ${currencyCode}`,
		);
	}
	return { minor, currencyCode };
}

function amountText(raw: unknown): string | null {
	if (typeof raw === 'number') {
		if (!Number.isFinite(raw)) return null;
		const text = String(raw);
		// 1e-7 and friends: more decimals than allowed; 1e21: too big. Both fail the regex on purpose.
		return text;
	}
	if (typeof raw === 'string') return raw.trim();
	return null;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Card expiry as Amazon prints it ("Thu Jun 10 14:59:59 UTC 2032"): null for USD/CAD/AUD, 5 years
 * for MXN, 10 years otherwise, at the end of that day (UTC).
 */
export function expirationDateFor(currencyCode: string, issuedAt: number): string | null {
	if (CURRENCIES_THAT_NEVER_EXPIRE.has(currencyCode)) return null;
	const years = currencyCode === 'MXN' ? 5 : 10;
	const issued = new Date(issuedAt);
	const expiry = new Date(
		Date.UTC(
			issued.getUTCFullYear() + years,
			issued.getUTCMonth(),
			issued.getUTCDate(),
			23,
			59,
			59,
		),
	);
	const pad = (n: number) => String(n).padStart(2, '0');
	return (
		`${WEEKDAYS[expiry.getUTCDay()]} ${MONTHS[expiry.getUTCMonth()]} ${pad(expiry.getUTCDate())} ` +
		`${pad(expiry.getUTCHours())}:${pad(expiry.getUTCMinutes())}:${pad(expiry.getUTCSeconds())} UTC ` +
		`${expiry.getUTCFullYear()}`
	);
}

/** `yyyymmddTHHMMSSZ`, the format of x-amz-date and of GetAvailableFunds' timestamp. */
export function amzDate(epochMs: number): string {
	return new Date(epochMs)
		.toISOString()
		.replace(/[-:]/g, '')
		.replace(/\.\d{3}/, '');
}
