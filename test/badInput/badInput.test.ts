/**
 * Bad-input suite: each malformed item sits between two good items. With Continue On Fail (error output)
 * it must come out as an error item at its index naming the item and the field, the good items must
 * succeed, and the sandbox must have received nothing for it. Without Continue On Fail the node must fail
 * before sending anything at all.
 */
import { type IDataObject, type INodeParameters, NodeOperationError } from 'n8n-workflow';

import {
	activateParameters,
	cancelParameters,
	explicitCreateParameters,
	jsonOf,
	loadParameters,
	runAgainst,
	useSandbox,
	itemError,
} from '../integration/helpers';
import type { RunningSandbox } from '../sandbox';

const PARTNER = 'Awssb';
let labelCounter = 0;

/** Alphanumeric and unique in this process (the node remembers succeeded ids for the whole process). */
function freshLabel(): string {
	return `bad${process.pid}x${++labelCounter}x${Date.now().toString(36)}`;
}

interface Scenario {
	parameters: INodeParameters;
	/** A valid item; `label` keeps its ids unique, `slot` picks distinct resources (cards). */
	validItem(label: string, slot: number): IDataObject;
	/** Work done before the batch so the good items can succeed (e.g. the cards to cancel). */
	prepare?(sandbox: RunningSandbox, goodItems: IDataObject[]): Promise<IDataObject[]>;
}

/** Only the pace changes: the default 10 req/s would make this suite wait for no reason. */
const FAST = { requestsPerSecond: 100 };

const createGiftCard: INodeParameters = {
	resource: 'giftCard',
	operation: 'create',
	amount: '={{ $json.amount }}',
	currencyCode: '={{ $json.currency }}',
	idempotencyKey: '={{ $json.key }}',
	additionalFields: { externalReference: '={{ $json.reference }}' },
	options: FAST,
};

const SCENARIOS = {
	create: {
		parameters: createGiftCard,
		validItem: (label) => ({
			key: label,
			amount: 10,
			currency: 'USD',
			reference: `order ${label}`,
		}),
	},
	createWithOptions: {
		parameters: {
			...createGiftCard,
			idempotencyScope: 'named',
			idempotencyScopeName: '={{ $json.namespace }}',
			options: {
				...FAST,
				timeout: '={{ $json.timeout }}',
				maxRetries: '={{ $json.maxRetries }}',
				format: '={{ $json.format }}',
				claimCodeOutput: '={{ $json.claimCodeOutput }}',
				retryBudget: '={{ $json.retryBudget }}',
			},
		},
		validItem: (label) => ({
			key: label,
			amount: 10,
			currency: 'USD',
			reference: 'ok',
			namespace: 'bad-input-suite',
		}),
	},
	createExplicit: {
		parameters: explicitCreateParameters({ options: FAST }),
		validItem: (label) => ({ requestId: `${PARTNER}${label}`, amount: 12 }),
	},
	cancel: {
		parameters: cancelParameters({ options: FAST }),
		validItem: (label) => ({ creationRequestId: `${PARTNER}${label}`, gcId: 'ABCDEF123456' }),
		async prepare(sandbox, goodItems) {
			// Cancel needs cards: create them first and cancel those.
			const created = await runAgainst(
				sandbox,
				explicitCreateParameters({
					amount: 5,
					requestId: '={{ $json.creationRequestId }}',
					options: FAST,
				}),
				goodItems,
			);
			return jsonOf(created).map((json) => ({
				creationRequestId: json.creationRequestId,
				gcId: json.gcId,
			}));
		},
	},
	activate: {
		parameters: activateParameters({
			additionalFields: { transactionSource: { source: { sourceId: '={{ $json.sourceId }}' } } },
			options: FAST,
		}),
		validItem: (label, slot) => ({
			key: label,
			// Variable 19-digit USD cards of the sandbox's default inventory: WAC …5585 + suffix, …5586 + suffix.
			cardNumber: ['1400000005567585358', '1400000005567586395', '1400000005567587432'][slot],
			amount: 20,
			sourceId: 'store42',
		}),
	},
	load: {
		parameters: loadParameters({
			additionalFields: {
				extraBodyFields: '={{ $json.extra }}',
				sendEmailNotification: '={{ $json.sendEmail }}',
			},
			options: FAST,
		}),
		validItem: (label) => ({
			key: label,
			customer: 'amzn1.account.AEXAMPLECUSTOMER0001',
			amount: 15,
			extra: '{}',
			sendEmail: false,
		}),
	},
} satisfies Record<string, Scenario>;

type ScenarioName = keyof typeof SCENARIOS;

interface Row {
	what: string;
	scenario: ScenarioName;
	/** Merged over a valid item: only these fields are wrong. */
	bad: IDataObject;
	/** The field the error must name. */
	field: string;
}

const huge = (length: number, unit = 'x') => unit.repeat(length);

const ROWS: Row[] = [
	// Amounts: types, ranges, precision, unicode, objects and arrays from expressions.
	{ what: 'amount as text', scenario: 'create', bad: { amount: 'ten' }, field: 'amount' },
	{ what: 'amount negative', scenario: 'create', bad: { amount: -5 }, field: 'amount' },
	{ what: 'amount zero', scenario: 'create', bad: { amount: 0 }, field: 'amount' },
	{ what: 'amount with 3 decimals', scenario: 'create', bad: { amount: 10.125 }, field: 'amount' },
	{
		what: 'amount above the USD maximum',
		scenario: 'create',
		bad: { amount: 2000.01 },
		field: 'amount',
	},
	{
		what: 'amount below the USD minimum',
		scenario: 'create',
		bad: { amount: '0.001' },
		field: 'amount',
	},
	{
		what: 'amount below the MXN minimum',
		scenario: 'create',
		bad: { currency: 'MXN', amount: 4.99 },
		field: 'amount',
	},
	{
		what: 'amount in exponent notation',
		scenario: 'create',
		bad: { amount: '1e3' },
		field: 'amount',
	},
	{
		what: 'amount with a decimal comma',
		scenario: 'create',
		bad: { amount: '10,50' },
		field: 'amount',
	},
	{
		what: 'amount in full-width digits',
		scenario: 'create',
		bad: { amount: '１０' },
		field: 'amount',
	},
	{
		what: 'amount as a huge digit string',
		scenario: 'create',
		bad: { amount: huge(5000, '9') },
		field: 'amount',
	},
	{
		what: 'amount resolving to an object',
		scenario: 'create',
		bad: { amount: { value: 10 } },
		field: 'amount',
	},
	{
		what: 'amount resolving to an array',
		scenario: 'create',
		bad: { amount: [10] },
		field: 'amount',
	},
	{ what: 'amount null', scenario: 'create', bad: { amount: null }, field: 'amount' },
	{ what: 'amount missing', scenario: 'create', bad: { amount: undefined }, field: 'amount' },
	{ what: 'amount boolean', scenario: 'create', bad: { amount: true }, field: 'amount' },
	// Currencies.
	{ what: 'unknown currency', scenario: 'create', bad: { currency: 'XYZ' }, field: 'currencyCode' },
	{
		what: 'currency of another region group',
		scenario: 'create',
		bad: { currency: 'EUR' },
		field: 'currencyCode',
	},
	{ what: 'empty currency', scenario: 'create', bad: { currency: '' }, field: 'currencyCode' },
	{
		what: 'currency as a number',
		scenario: 'create',
		bad: { currency: 840 },
		field: 'currencyCode',
	},
	{
		what: 'currency in full-width letters',
		scenario: 'create',
		bad: { currency: 'ＵＳＤ' },
		field: 'currencyCode',
	},
	{
		what: 'currency with a zero-width space',
		scenario: 'create',
		bad: { currency: 'US\u200bD' },
		field: 'currencyCode',
	},
	{
		what: 'currency resolving to an array',
		scenario: 'create',
		bad: { currency: ['USD'] },
		field: 'currencyCode',
	},
	{
		what: 'currency resolving to an object',
		scenario: 'create',
		bad: { currency: { code: 'USD' } },
		field: 'currencyCode',
	},
	// Idempotency keys.
	{ what: 'empty idempotency key', scenario: 'create', bad: { key: '' }, field: 'idempotencyKey' },
	{
		what: 'blank idempotency key',
		scenario: 'create',
		bad: { key: '   ' },
		field: 'idempotencyKey',
	},
	{ what: 'idempotency key null', scenario: 'create', bad: { key: null }, field: 'idempotencyKey' },
	{
		what: 'idempotency key resolving to an object',
		scenario: 'create',
		bad: { key: { id: 7 } },
		field: 'idempotencyKey',
	},
	{
		what: 'idempotency key resolving to an array',
		scenario: 'create',
		bad: { key: ['a', 'b'] },
		field: 'idempotencyKey',
	},
	{
		what: 'idempotency key of 1,001 characters',
		scenario: 'create',
		bad: { key: huge(1001) },
		field: 'idempotencyKey',
	},
	// Text limits.
	{
		what: 'external reference of 101 characters',
		scenario: 'create',
		bad: { reference: huge(101) },
		field: 'externalReference',
	},
	{
		what: 'external reference of 1 MB',
		scenario: 'create',
		bad: { reference: huge(1024 * 1024) },
		field: 'externalReference',
	},
	{
		what: 'external reference of 101 emoji',
		scenario: 'create',
		bad: { reference: huge(101, '🎁') },
		field: 'externalReference',
	},
	{
		what: 'external reference with a line break',
		scenario: 'create',
		bad: { reference: 'line\nbreak' },
		field: 'externalReference',
	},
	{
		what: 'external reference resolving to an object',
		scenario: 'create',
		bad: { reference: { a: 1 } },
		field: 'externalReference',
	},
	// Options given per item by expression.
	{
		what: 'timeout as text',
		scenario: 'createWithOptions',
		bad: { timeout: 'fast' },
		field: 'timeout',
	},
	{
		what: 'timeout below 100 ms',
		scenario: 'createWithOptions',
		bad: { timeout: 5 },
		field: 'timeout',
	},
	{
		what: 'maxRetries above 20',
		scenario: 'createWithOptions',
		bad: { maxRetries: 99 },
		field: 'maxRetries',
	},
	{
		what: 'retry budget negative',
		scenario: 'createWithOptions',
		bad: { retryBudget: -1 },
		field: 'retryBudget',
	},
	{
		what: 'unknown format',
		scenario: 'createWithOptions',
		bad: { format: 'yaml' },
		field: 'format',
	},
	{
		what: 'unknown claim code output',
		scenario: 'createWithOptions',
		bad: { claimCodeOutput: 'print' },
		field: 'claimCodeOutput',
	},
	{
		what: 'scope name resolving to an array',
		scenario: 'createWithOptions',
		bad: { namespace: ['a'] },
		field: 'idempotencyScopeName',
	},
	{
		what: 'empty scope name',
		scenario: 'createWithOptions',
		bad: { namespace: '' },
		field: 'idempotencyScopeName',
	},
	// Explicit request ids.
	{
		what: 'request id without the partner prefix',
		scenario: 'createExplicit',
		bad: { requestId: 'Other123' },
		field: 'requestId',
	},
	{
		what: 'request id with a hyphen',
		scenario: 'createExplicit',
		bad: { requestId: `${PARTNER}-order-1` },
		field: 'requestId',
	},
	{
		what: 'request id of 41 characters',
		scenario: 'createExplicit',
		bad: { requestId: PARTNER + huge(36, '1') },
		field: 'requestId',
	},
	{
		what: 'request id with an accented letter',
		scenario: 'createExplicit',
		bad: { requestId: `${PARTNER}café` },
		field: 'requestId',
	},
	{
		what: 'request id resolving to an object',
		scenario: 'createExplicit',
		bad: { requestId: { id: 'Awssb1' } },
		field: 'requestId',
	},
	{
		what: 'request id with the partner prefix in the wrong case',
		scenario: 'createExplicit',
		bad: { requestId: 'AWSSB123' },
		field: 'requestId',
	},
	// Cancel.
	{
		what: 'cancel with an empty creation request id',
		scenario: 'cancel',
		bad: { creationRequestId: '' },
		field: 'creationRequestId',
	},
	{
		what: 'cancel with spaces in the creation request id',
		scenario: 'cancel',
		bad: { creationRequestId: `${PARTNER} 123` },
		field: 'creationRequestId',
	},
	{
		what: 'cancel with a gcId containing symbols',
		scenario: 'cancel',
		bad: { gcId: 'AB-12/34' },
		field: 'gcId',
	},
	// Physical card numbers.
	{
		what: 'card number of 15 digits',
		scenario: 'activate',
		bad: { cardNumber: '140000000556758' },
		field: 'cardNumber',
	},
	{
		what: 'card number with letters',
		scenario: 'activate',
		bad: { cardNumber: '14000000055675853A' },
		field: 'cardNumber',
	},
	{
		what: 'card number as an unsafe JavaScript number',
		scenario: 'activate',
		bad: { cardNumber: 1400000005567585358 },
		field: 'cardNumber',
	},
	{
		what: 'card number in Arabic-Indic digits',
		scenario: 'activate',
		bad: { cardNumber: '١٤٠٠٠٠٠٠٠٥٥٦٧٥٨٥٣٥٨' },
		field: 'cardNumber',
	},
	{
		what: 'card number resolving to an array',
		scenario: 'activate',
		bad: { cardNumber: ['1400000005567585358'] },
		field: 'cardNumber',
	},
	{
		what: 'transaction source id of 21 characters',
		scenario: 'activate',
		bad: { sourceId: huge(21, 's') },
		field: 'sourceId',
	},
	// Login & Receive.
	{
		what: 'customer id with spaces',
		scenario: 'load',
		bad: { customer: 'amzn1.account. X' },
		field: 'amazonCustomerId',
	},
	{
		what: 'customer id resolving to an array',
		scenario: 'load',
		bad: { customer: ['amzn1.account.X'] },
		field: 'amazonCustomerId',
	},
	{
		what: 'extra body fields that are not JSON',
		scenario: 'load',
		bad: { extra: '{not json' },
		field: 'extraBodyFields',
	},
	{
		what: 'extra body fields that are a JSON array',
		scenario: 'load',
		bad: { extra: '[1,2]' },
		field: 'extraBodyFields',
	},
	{
		what: 'extra body fields overriding the partner id',
		scenario: 'load',
		bad: { extra: '{"partnerId":"Evil1"}' },
		field: 'extraBodyFields',
	},
	{
		what: 'send email notification as "yes"',
		scenario: 'load',
		bad: { sendEmail: 'yes' },
		field: 'sendEmailNotification',
	},
];

describe('bad input: one malformed item between two good ones', () => {
	const sandbox = useSandbox();

	it('has at least 40 rows', () => {
		expect(ROWS.length).toBeGreaterThanOrEqual(40);
	});

	it.each(ROWS.map((row) => [row.what, row] as const))('%s', async (_what, row) => {
		const scenario: Scenario = SCENARIOS[row.scenario];
		let good = [scenario.validItem(freshLabel(), 0), scenario.validItem(freshLabel(), 2)];
		if (scenario.prepare) good = await scenario.prepare(sandbox(), good);
		const bad = { ...scenario.validItem(freshLabel(), 1), ...row.bad };
		const items = [good[0], bad, good[1]];
		const sentBefore = sandbox().requests().length;
		const expectedMessage = new RegExp(`^Item 1: invalid ${row.field}: `);

		// Without Continue On Fail: the node refuses the whole batch before sending anything.
		const stopped = await runAgainst(sandbox(), scenario.parameters, items);
		expect(stopped.status).toBe('error');
		expect(stopped.error?.message).toMatch(expectedMessage);
		expect(sandbox().requests()).toHaveLength(sentBefore);

		// With Continue On Fail (error output): an error item for the bad item, the others go through.
		const result = await runAgainst(sandbox(), scenario.parameters, items, {
			settings: { onError: 'continueErrorOutput' },
		});
		expect(result.status).toBe('success');
		expect(result.errorOutput).toHaveLength(1);
		const [errorItem] = result.errorOutput;
		expect(errorItem.pairedItem).toEqual({ item: 1 });
		expect(itemError(errorItem.json).message).toMatch(expectedMessage);
		// Clear: no JavaScript leftovers standing in for the value the user gave.
		expect(itemError(errorItem.json).message).not.toMatch(
			/undefined|NaN|Infinity|\[object Object\]/,
		);
		expect(itemError(errorItem.json).description).toBe('Nothing was sent to Amazon for this item.');
		// Short and readable, even when the input was a megabyte.
		expect(itemError(errorItem.json).message.length).toBeLessThan(400);

		expect(result.main.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 2 }]);
		const outputs = jsonOf(result);
		expect(outputs.map((json) => json.status)).toEqual(['SUCCESS', 'SUCCESS']);

		// The sandbox saw exactly the two good items' requests in this run.
		const sent = sandbox().requests().slice(sentBefore);
		expect(sent.map((request) => request.requestId)).toEqual(
			expect.arrayContaining(outputs.map((json) => json.requestId)),
		);
		expect(sent).toHaveLength(2);
	});
});

describe('an operation its resource does not have (a workflow saved with a bad value)', () => {
	const sandbox = useSandbox();

	it.each([
		['giftCard', 'refund'],
		['account', 'create'],
	])(
		'%s:%s fails the node with a NodeOperationError naming it, sending nothing',
		async (resource, operation) => {
			const sentBefore = sandbox().requests().length;
			const result = await runAgainst(sandbox(), { ...createGiftCard, resource, operation }, [
				{ key: freshLabel(), amount: 10, currency: 'USD' },
			]);
			expect(result.status).toBe('error');
			expect(result.error).toBeInstanceOf(NodeOperationError);
			expect(result.error?.message).toBe(`Unsupported operation "${resource}:${operation}"`);
			expect(sandbox().requests()).toHaveLength(sentBefore);
		},
	);
});
