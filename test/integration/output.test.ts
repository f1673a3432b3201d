import type { IDataObject, INodeParameters } from 'n8n-workflow';

import {
	activateParameters,
	cancelParameters,
	continueRegularOutput,
	createParameters,
	deactivateParameters,
	explicitCreateParameters,
	jsonOf,
	loadParameters,
	node,
	runAgainst,
	statusParameters,
	uniqueKey,
	useSandbox,
	voidParameters,
	itemError,
} from './helpers';

const CLAIM_CODE = /^[A-Z0-9]{4}-[A-Z0-9]{6}-[A-Z0-9]{4}$/;

describe('output items', () => {
	const sandbox = useSandbox();

	it('declares the claim code as a sensitive output field, so n8n redacts it', () => {
		expect(node.description.sensitiveOutputFields).toEqual(['gcClaimCode']);
	});

	it('a created card: AGCOD’s fields under their own names, plus requestId, replay and attempts', async () => {
		const card = jsonOf(
			await runAgainst(sandbox(), createParameters(), [{ key: uniqueKey('o'), amount: 10 }]),
		)[0];
		expect(card).toEqual({
			creationRequestId: card.requestId,
			gcId: expect.stringMatching(/^[A-Z0-9]+$/),
			gcClaimCode: expect.stringMatching(CLAIM_CODE),
			gcExpirationDate: null,
			cardInfo: {
				cardNumber: null,
				cardStatus: 'Fulfilled',
				expirationDate: null,
				value: { amount: 10, currencyCode: 'USD' },
			},
			status: 'SUCCESS',
			requestId: expect.stringMatching(/^Awssb[A-Za-z0-9]{35}$/),
			replay: false,
			attempts: 1,
		});
	});

	describe('claim code option', () => {
		it('include (default) outputs the claim code; mask shows only its last 4 characters; omit leaves it out', async () => {
			const items = [{ key: uniqueKey('claim'), amount: 20 }];
			const withCode = (claimCodeOutput?: string): INodeParameters =>
				createParameters(claimCodeOutput ? { options: { claimCodeOutput } } : {});
			const included = jsonOf(await runAgainst(sandbox(), withCode(), items))[0];
			const masked = jsonOf(await runAgainst(sandbox(), withCode('mask'), items))[0];
			const omitted = jsonOf(await runAgainst(sandbox(), withCode('omit'), items))[0];
			const explicitlyIncluded = jsonOf(await runAgainst(sandbox(), withCode('include'), items))[0];

			const code = included.gcClaimCode as string;
			expect(code).toMatch(CLAIM_CODE);
			expect(explicitlyIncluded.gcClaimCode).toBe(code);
			expect(masked.gcClaimCode).toBe(`****-******-${code.slice(-4)}`);
			expect(omitted).not.toHaveProperty('gcClaimCode');
			expect(JSON.stringify(omitted)).not.toContain(code);
			// Only the claim code differs: the same card, sent with the same id.
			const { gcClaimCode: _a, ...rest } = included;
			expect({ ...omitted, replay: false }).toEqual(rest);
			expect({ ...masked, gcClaimCode: code, replay: false }).toEqual(included);
			expect(sandbox().stats()).toMatchObject({ cardsIssued: 1, debits: 1 });
		});

		it('applies to the F0000 mock card too', async () => {
			const masked = jsonOf(
				await runAgainst(
					sandbox(),
					explicitCreateParameters({ options: { claimCodeOutput: 'mask' } }),
					[{ requestId: 'F0000', amount: 5 }],
				),
			)[0];
			expect(masked.gcClaimCode).toBe('****-****-RQPO');
		});
	});

	describe('replay flags', () => {
		it('false the first time; true for a later item with the same key and for later executions', async () => {
			const key = uniqueKey('replay');
			const first = jsonOf(
				await runAgainst(sandbox(), createParameters(), [
					{ key, amount: 5 },
					{ key: uniqueKey('other'), amount: 5 },
					{ key, amount: 5 },
				]),
			);
			expect(first.map((item) => item.replay)).toEqual([false, false, true]);
			expect(first[2].gcId).toBe(first[0].gcId);
			const again = jsonOf(
				await runAgainst(sandbox(), createParameters(), [{ key, amount: 5 }]),
			)[0];
			expect(again).toMatchObject({
				replay: true,
				gcId: first[0].gcId,
				gcClaimCode: first[0].gcClaimCode,
			});
			expect(sandbox().stats()).toMatchObject({ cardsIssued: 2, requests: 3 });
		});

		it('items sharing an id share one call, also when it fails: both get the error', async () => {
			const result = await runAgainst(
				sandbox(),
				explicitCreateParameters(),
				[
					{ requestId: 'F3003', amount: 5 },
					{ requestId: 'F3003', amount: 5 },
				],
				continueRegularOutput,
			);
			const [a, b] = jsonOf(result);
			expect(itemError(a).message).toMatch(/^Item 0: .*InsufficientFunds/);
			expect(itemError(b).message).toMatch(/^Item 1: .*InsufficientFunds/);
			expect(sandbox().stats().requests).toBe(1);
		});
	});

	it('output keeps input order and pairs every item with its input, whatever order answers arrive in', async () => {
		const items = Array.from({ length: 12 }, (_, index) => ({
			requestId: `Awssb${Date.now()}Order${index}`,
			amount: index + 1,
		}));
		// The first item's answer comes last: every other item is answered while it waits.
		sandbox().configure({
			faultRules: [{ requestIdPattern: `^${items[0].requestId}$`, faults: { latencyMs: 200 } }],
		});
		try {
			const result = await runAgainst(
				sandbox(),
				explicitCreateParameters({ options: { maxConcurrentRequests: 4, requestsPerSecond: 100 } }),
				items,
			);
			expect(result.main.map((item) => item.pairedItem)).toEqual(
				items.map((_, index) => ({ item: index })),
			);
			expect(
				jsonOf(result).map((item) => [item.requestId, (item.cardInfo as IDataObject).value]),
			).toEqual(
				items.map((item) => [item.requestId, { amount: item.amount, currencyCode: 'USD' }]),
			);
			expect(sandbox().stats().cardsIssued).toBe(12);
		} finally {
			sandbox().configure({ faultRules: [] });
		}
	});
});

describe('XML gives the same output as JSON, for every operation', () => {
	const sandbox = useSandbox();
	const xml = (parameters: INodeParameters): INodeParameters => ({
		...parameters,
		options: { ...(parameters.options as IDataObject), format: 'xml' },
	});
	/** Runs the parameters in JSON, then in XML (the second is a replay of the first by design). */
	async function bothFormats(parameters: INodeParameters, items: IDataObject[]) {
		const fromJson = jsonOf(await runAgainst(sandbox(), parameters, items, continueRegularOutput));
		const fromXml = jsonOf(
			await runAgainst(sandbox(), xml(parameters), items, continueRegularOutput),
		);
		const formats = sandbox()
			.requests()
			.map((entry) => entry.format);
		expect(formats.slice(-items.length)).toEqual(items.map(() => 'xml'));
		const comparable = (item: IDataObject): IDataObject => ({ ...item, replay: null });
		return { json: fromJson.map(comparable), xml: fromXml.map(comparable) };
	}

	it('create, cancel', async () => {
		const created = await bothFormats(createParameters(), [{ key: uniqueKey('x'), amount: 12.34 }]);
		expect(created.xml).toEqual(created.json);
		const cancelled = await bothFormats(cancelParameters(), [created.json[0]]);
		expect(cancelled.xml).toEqual(cancelled.json);
	});

	it('activate, get status, deactivate', async () => {
		const card = { key: uniqueKey('x'), cardNumber: '1400000005567585358', amount: 33.5 };
		const activated = await bothFormats(activateParameters(), [card]);
		expect(activated.xml).toEqual(activated.json);
		const status = await bothFormats(statusParameters(), [activated.json[0]]);
		expect(status.xml).toEqual(status.json);
		const deactivated = await bothFormats(deactivateParameters(), [activated.json[0]]);
		expect(deactivated.xml).toEqual(deactivated.json);
	});

	it('load, void', async () => {
		const loaded = await bothFormats(loadParameters(), [
			{ key: uniqueKey('x'), customer: 'amzn1.account.XMLTEST', amount: 8 },
		]);
		expect(loaded.xml).toEqual(loaded.json);
		const voided = await bothFormats(voidParameters(), [
			{ ...loaded.json[0], customer: 'amzn1.account.XMLTEST' },
		]);
		expect(voided.xml).toEqual(voided.json);
	});

	it('errors: the same message, codes and hint', async () => {
		const failed = await bothFormats(explicitCreateParameters(), [
			{ requestId: 'F2017', amount: 5 },
			{ requestId: 'F3003', amount: 5 },
		]);
		expect(failed.xml).toEqual(failed.json);
		expect(itemError(failed.json[0])).toMatchObject({
			errorCode: 'F200',
			errorType: 'FractionalAmountNotAllowed',
		});
	});
});
