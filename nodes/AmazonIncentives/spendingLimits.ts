/**
 * Spending limits: caps per currency that no input, expression or AI agent can pass. They are read from the
 * node's raw parameters (never evaluated), checked in the validate-everything-first pass, and counted per
 * workflow execution, so a node that runs several times in one execution (a loop, an agent calling it as a
 * tool again and again) shares one total. Amounts are counted in hundredths, as integers.
 */
import { CURRENCY_RULES, InputError } from './validation';

interface SpendingLimit {
	/** Hundredths of the currency; undefined: no per-item cap. */
	maxPerItem?: number;
	/** Hundredths of the currency; undefined: no total cap. */
	maxPerExecution?: number;
}

/** The limits by currency code. An empty map means the node has no spending limits. */
type SpendingLimits = ReadonlyMap<string, SpendingLimit>;

/** What one item would move: the request id it is sent under, and its amount. */
export interface Spend {
	requestId: string;
	currencyCode: string;
	amount: number;
}

export class SpendingLimitError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'SpendingLimitError';
	}
}

const toHundredths = (amount: number) => Math.round(amount * 100);

/** "12.50 USD", "500 JPY": in the currency's own decimals. */
export function formatMoney(hundredths: number, currencyCode: string): string {
	const decimals = CURRENCY_RULES[currencyCode]?.decimals ?? 2;
	return `${(hundredths / 100).toFixed(decimals)} ${currencyCode}`;
}

const FIELD_NAMES: Record<string, string> = {
	currencyCode: 'Currency Code',
	maxPerItem: 'Max Amount Per Item',
	maxPerExecution: 'Max Total Per Execution',
};

/**
 * An expression, or what n8n leaves of one: for fields that take no expressions it drops the leading "="
 * (so `={{ $json.limit }}` arrives as the text `{{ $json.limit }}`) except around a lone `$fromAI()`,
 * which it keeps so that an agent can fill it in.
 */
function isExpression(value: unknown): boolean {
	return typeof value === 'string' && (value.startsWith('=') || value.includes('{{'));
}

function readCap(value: unknown, name: string, currencyCode: string): number | undefined {
	if (value === undefined || value === 0) return undefined;
	if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
		throw new SpendingLimitError(
			`Spending Limits: ${name} for ${currencyCode} must be a number of at least 0 (0: no cap), got ${JSON.stringify(value)}`,
		);
	return toHundredths(value);
}

/**
 * The spendingLimits parameter as saved in the workflow: `{ limit: [{ currencyCode, maxPerItem,
 * maxPerExecution }] }`, with n8n leaving out fields that hold their defaults (USD, 0). Expressions are
 * refused, not evaluated: a limit an expression or `$fromAI()` could set would be no limit.
 */
export function parseSpendingLimits(raw: unknown): SpendingLimits {
	const limits = new Map<string, SpendingLimit>();
	if (raw === undefined || raw === null || raw === '') return limits;
	if (isExpression(raw) || typeof raw !== 'object' || Array.isArray(raw))
		throw new SpendingLimitError(
			'Spending Limits must be fixed values, not an expression: no input and no AI agent may change them',
		);
	const entries = (raw as { limit?: unknown }).limit ?? [];
	if (!Array.isArray(entries))
		throw new SpendingLimitError('Spending Limits: the list of limits could not be read');
	for (const entry of entries) {
		if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
			throw new SpendingLimitError('Spending Limits: a limit could not be read');
		const fields = entry as Record<string, unknown>;
		for (const [name, value] of Object.entries(fields)) {
			if (isExpression(value))
				throw new SpendingLimitError(
					`Spending Limits: ${FIELD_NAMES[name] ?? name} must be a fixed value, not an expression: no input and no AI agent may change a limit`,
				);
		}
		const currencyCode = fields.currencyCode ?? 'USD';
		if (typeof currencyCode !== 'string' || !(currencyCode in CURRENCY_RULES))
			throw new SpendingLimitError(
				`Spending Limits: unknown currency ${JSON.stringify(currencyCode)}`,
			);
		if (limits.has(currencyCode))
			throw new SpendingLimitError(
				`Spending Limits: ${currencyCode} has two limits; keep one per currency`,
			);
		limits.set(currencyCode, {
			maxPerItem: readCap(fields.maxPerItem, 'Max Amount Per Item', currencyCode),
			maxPerExecution: readCap(fields.maxPerExecution, 'Max Total Per Execution', currencyCode),
		});
	}
	return limits;
}

/**
 * One item against the limits, before anything is sent. Once a node has limits, a currency without one is
 * refused; as an AI tool the node moves money only under a total per execution.
 */
export function checkItemSpend(
	limits: SpendingLimits,
	spend: Pick<Spend, 'currencyCode' | 'amount'>,
	asTool: boolean,
): void {
	const limit = limits.get(spend.currencyCode);
	if (!limit) {
		if (asTool)
			throw new InputError(
				'spendingLimits',
				`as an AI tool this node moves money only within its Spending Limits, and it has no limit for ${spend.currencyCode}: add one with a Max Total Per Execution`,
			);
		if (limits.size > 0)
			throw new InputError(
				'currencyCode',
				`${spend.currencyCode} has no spending limit on this node (limits are set for ${[...limits.keys()].join(', ')})`,
			);
		return;
	}
	if (asTool && limit.maxPerExecution === undefined)
		throw new InputError(
			'spendingLimits',
			`as an AI tool this node moves money only within a Max Total Per Execution, and the ${spend.currencyCode} limit has none`,
		);
	const amount = toHundredths(spend.amount);
	if (limit.maxPerItem !== undefined && amount > limit.maxPerItem)
		throw new InputError(
			'amount',
			`${formatMoney(amount, spend.currencyCode)} is over this node's spending limit of ${formatMoney(limit.maxPerItem, spend.currencyCode)} per item`,
		);
}

/** A batch that does not fit: by how much, in the first currency that is over. */
interface Overspend {
	currencyCode: string;
	limit: number;
	before: number;
	batch: number;
	over: number;
}

interface ExecutionSpending {
	spent: Map<string, number>;
	/** Request ids already counted: a repeat moves no money at Amazon, so it is not counted again. */
	counted: Set<string>;
}

/**
 * What each node has moved in each workflow execution, in this process. A scope is one node in one
 * execution. Bounded: the least recently used scopes are forgotten first, long after their executions end.
 */
export class SpendingLedger {
	private readonly scopes = new Map<string, ExecutionSpending>();

	constructor(private readonly maxScopes = 10_000) {}

	spent(scope: string, currencyCode: string): number {
		return this.scopes.get(scope)?.spent.get(currencyCode) ?? 0;
	}

	/**
	 * Counts a batch against the totals and records it when every currency fits; otherwise records
	 * nothing and says by how much the batch is over. Checking and recording happen in one synchronous
	 * step, so concurrent runs of the node in one execution cannot both squeeze under a limit.
	 */
	reserve(scope: string, batch: Spend[], limits: SpendingLimits): Overspend | undefined {
		const state = this.scopes.get(scope) ?? {
			spent: new Map<string, number>(),
			counted: new Set<string>(),
		};
		const added = new Map<string, number>();
		const newIds = new Set<string>();
		for (const spend of batch) {
			const key = `${spend.currencyCode}|${spend.requestId}`;
			if (state.counted.has(key) || newIds.has(key)) continue;
			newIds.add(key);
			added.set(
				spend.currencyCode,
				(added.get(spend.currencyCode) ?? 0) + toHundredths(spend.amount),
			);
		}
		for (const [currencyCode, batchTotal] of added) {
			const limit = limits.get(currencyCode)?.maxPerExecution;
			const before = state.spent.get(currencyCode) ?? 0;
			if (limit !== undefined && before + batchTotal > limit)
				return {
					currencyCode,
					limit,
					before,
					batch: batchTotal,
					over: before + batchTotal - limit,
				};
		}
		for (const [currencyCode, batchTotal] of added)
			state.spent.set(currencyCode, (state.spent.get(currencyCode) ?? 0) + batchTotal);
		for (const key of newIds) state.counted.add(key);
		this.scopes.delete(scope);
		this.scopes.set(scope, state);
		if (this.scopes.size > this.maxScopes)
			this.scopes.delete(this.scopes.keys().next().value as string);
		return undefined;
	}
}

export function describeOverspend(overspend: Overspend): string {
	const money = (hundredths: number) => formatMoney(hundredths, overspend.currencyCode);
	const before =
		overspend.before > 0
			? ` on top of ${money(overspend.before)} it already moved in this execution`
			: '';
	return `Spending limit: this would move ${money(overspend.batch)}${before}, ${money(overspend.over)} over the node's limit of ${money(overspend.limit)} per execution. Nothing was sent.`;
}
