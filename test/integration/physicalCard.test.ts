import {
	activateParameters,
	apiErrorOf,
	continueRegularOutput,
	deactivateParameters,
	jsonOf,
	operationErrorOf,
	requestsWithId,
	runAgainst,
	seedFiring,
	statusParameters,
	uniqueKey,
	useSandbox,
	itemError,
} from './helpers';

const VARIABLE_CARD = '1400000005567585358';
const SIXTEEN_DIGIT_CARD = '1700000005489413';
const DENOMINATED_CARD = '1700000005490001';
const INVALIDATED_CARD = '1400000009999990001';

describe('physical cards against the local sandbox, through n8n-core', () => {
	const sandbox = useSandbox();

	it('activates a card, reports it Activated, deactivates it and refunds the value', async () => {
		const key = uniqueKey('sale');
		const activated = await runAgainst(sandbox(), activateParameters(), [
			{ key, cardNumber: VARIABLE_CARD, amount: 50 },
		]);
		expect(activated.status).toBe('success');
		const card = jsonOf(activated)[0];
		expect(card).toMatchObject({
			status: 'SUCCESS',
			cardInfo: {
				cardNumber: VARIABLE_CARD,
				cardStatus: 'Activated',
				value: { amount: 50, currencyCode: 'USD' },
			},
			replay: false,
			attempts: 1,
		});
		expect(card.activationRequestId).toMatch(/^Awssb[A-Za-z0-9]{35}$/);
		expect(card.requestId).toBe(card.activationRequestId);
		expect(sandbox().stats()).toMatchObject({ activations: 1, totalDebited: { USD: 50 } });

		const status = jsonOf(await runAgainst(sandbox(), statusParameters(), [card]))[0];
		expect(status).toMatchObject({
			status: 'SUCCESS',
			statusCheckRequestId: card.activationRequestId,
			requestId: card.activationRequestId,
			cardInfo: { cardNumber: VARIABLE_CARD, cardStatus: 'Activated' },
		});

		const deactivated = jsonOf(await runAgainst(sandbox(), deactivateParameters(), [card]))[0];
		expect(deactivated).toMatchObject({
			status: 'SUCCESS',
			activationRequestId: card.activationRequestId,
			cardInfo: { cardNumber: VARIABLE_CARD, cardStatus: 'AwaitingActivation' },
		});
		expect(sandbox().stats()).toMatchObject({
			activations: 1,
			deactivations: 1,
			totalDebited: { USD: 50 },
			totalRefunded: { USD: 50 },
			doubleDebits: [],
		});

		const after = jsonOf(await runAgainst(sandbox(), statusParameters(), [card]))[0];
		expect(after.cardInfo).toMatchObject({ cardStatus: 'AwaitingActivation' });
	});

	it('activating again with the same key is a replay: one activation, one debit', async () => {
		const items = [{ key: uniqueKey('sale'), cardNumber: SIXTEEN_DIGIT_CARD, amount: 20 }];
		const first = jsonOf(await runAgainst(sandbox(), activateParameters(), items))[0];
		const second = jsonOf(await runAgainst(sandbox(), activateParameters(), items))[0];
		expect(second.activationRequestId).toBe(first.activationRequestId);
		expect([first.replay, second.replay]).toEqual([false, true]);
		expect(requestsWithId(sandbox(), first.activationRequestId as string)).toHaveLength(2);
		expect(sandbox().stats()).toMatchObject({
			activations: 1,
			debits: 1,
			totalDebited: { USD: 20 },
		});
	});

	it('a card activated under another key is refused with CardAlreadyActivatedWithDifferentRequestId', async () => {
		const card = { cardNumber: '1400000005567586395', amount: 15 };
		await runAgainst(sandbox(), activateParameters(), [{ ...card, key: uniqueKey('first') }]);
		const result = await runAgainst(sandbox(), activateParameters(), [
			{ ...card, key: uniqueKey('second') },
		]);
		const error = apiErrorOf(result);
		expect(error.message).toContain('CardAlreadyActivatedWithDifferentRequestId');
		expect(error.description).toMatch(/original id/);
		expect(sandbox().stats()).toMatchObject({ activations: 1, totalDebited: { USD: 15 } });
	});

	it('a status check with another request id than the activation is refused', async () => {
		const card = jsonOf(
			await runAgainst(sandbox(), activateParameters(), [
				{ key: uniqueKey('sale'), cardNumber: '1400000005567587432', amount: 5 },
			]),
		)[0];
		const result = await runAgainst(sandbox(), statusParameters(), [
			{ ...card, activationRequestId: 'AwssbSomeOtherActivation' },
		]);
		expect(apiErrorOf(result).message).toContain('CardActivatedWithDifferentRequestId');
	});

	it('a denominated card only activates with its printed value', async () => {
		const wrong = await runAgainst(sandbox(), activateParameters(), [
			{ key: uniqueKey('den'), cardNumber: DENOMINATED_CARD, amount: 30 },
		]);
		expect(apiErrorOf(wrong).message).toContain('AmountDoesNotMatchDenomination');
		const right = await runAgainst(sandbox(), activateParameters(), [
			{ key: uniqueKey('den'), cardNumber: DENOMINATED_CARD, amount: 25 },
		]);
		expect(jsonOf(right)[0].cardInfo).toMatchObject({
			cardStatus: 'Activated',
			value: { amount: 25 },
		});
		expect(sandbox().stats()).toMatchObject({ activations: 1, totalDebited: { USD: 25 } });
	});

	it('an Invalidated card cannot be activated and reports Invalidated', async () => {
		const activation = await runAgainst(sandbox(), activateParameters(), [
			{ key: uniqueKey('inv'), cardNumber: INVALIDATED_CARD, amount: 10 },
		]);
		expect(apiErrorOf(activation).message).toMatch(/Invalidated/);
		const status = await runAgainst(sandbox(), statusParameters(), [
			{ cardNumber: INVALIDATED_CARD, activationRequestId: 'AwssbNeverActivated' },
		]);
		expect(jsonOf(status)[0].cardInfo).toMatchObject({ cardStatus: 'Invalidated' });
		expect(sandbox().stats().activations).toBe(0);
	});

	it('deactivation with an id other than the activation one is refused and refunds nothing', async () => {
		const card = jsonOf(
			await runAgainst(sandbox(), activateParameters(), [
				{ key: uniqueKey('sale'), cardNumber: '1400000005567588469', amount: 12 },
			]),
		)[0];
		const result = await runAgainst(sandbox(), deactivateParameters(), [
			{ ...card, activationRequestId: 'AwssbNotTheActivation' },
		]);
		expect(apiErrorOf(result).message).toMatch(/Amazon refused DeactivateGiftCard/);
		expect(sandbox().stats()).toMatchObject({ deactivations: 0, totalRefunded: {} });
	});

	it('card numbers are validated before anything is sent; spaces and hyphens are accepted', async () => {
		for (const cardNumber of ['14OO000005567585358', '14000000055675853', 1400000005567585358]) {
			const result = await runAgainst(sandbox(), activateParameters(), [
				{ key: uniqueKey('bad'), cardNumber, amount: 5 },
			]);
			expect(operationErrorOf(result).message).toMatch(/^Item 0: invalid cardNumber: /);
		}
		expect(sandbox().stats().requests).toBe(0);

		const spaced = await runAgainst(sandbox(), activateParameters(), [
			{ key: uniqueKey('spaced'), cardNumber: '1400 0000 0556 7589 506', amount: 5 },
		]);
		expect(jsonOf(spaced)[0].cardInfo).toMatchObject({ cardNumber: '1400000005567589506' });
	});

	it('transaction source and external reference are sent for brick-and-mortar activations', async () => {
		const result = await runAgainst(
			sandbox(),
			activateParameters({
				additionalFields: {
					externalReference: 'till-4',
					transactionSource: {
						source: {
							sourceId: 'store-17',
							institutionId: 'inst-1',
							sourceDetails: '{"institutionName":"Shop"}',
						},
					},
				},
			}),
			[{ key: uniqueKey('pos'), cardNumber: '1400000005567590543', amount: 8 }],
		);
		expect(jsonOf(result)[0]).toMatchObject({ status: 'SUCCESS' });

		const invalid = await runAgainst(
			sandbox(),
			activateParameters({
				additionalFields: {
					transactionSource: { source: { sourceId: 'store-17', sourceDetails: '{"x":1}' } },
				},
			}),
			[{ key: uniqueKey('pos'), cardNumber: '1400000005567590543', amount: 8 }],
		);
		expect(operationErrorOf(invalid).message).toMatch(/invalid sourceDetails: .*institutionName/);
	});

	it('an activation whose answer is lost is settled with a status check, then re-sent with the same id', async () => {
		// The activation commits and hangs; the status check and the re-send go through.
		sandbox().configure({
			faults: { hangAfterCommitRate: 0.5, hangMs: 1500, seed: seedFiring([true, false, false]) },
		});
		try {
			const result = await runAgainst(
				sandbox(),
				activateParameters({ options: { timeout: 300 } }),
				[{ key: uniqueKey('lost'), cardNumber: '1400000005567591580', amount: 40 }],
			);
			const card = jsonOf(result)[0];
			expect(card).toMatchObject({
				status: 'SUCCESS',
				cardInfo: { cardStatus: 'Activated' },
				attempts: 2,
				recoveredWithStatusCheck: true,
			});
			const sent = sandbox()
				.requests()
				.map((entry) => [entry.operation, entry.requestId, entry.fault ?? null]);
			expect(sent).toEqual([
				['ActivateGiftCard', card.activationRequestId, 'hang'],
				['ActivationStatusCheck', card.activationRequestId, null],
				['ActivateGiftCard', card.activationRequestId, null],
			]);
			expect(sandbox().stats()).toMatchObject({ activations: 1, debits: 1, doubleDebits: [] });
		} finally {
			sandbox().configure({ faults: {} });
		}
	});

	it('with Continue On Fail a bad card fails alone; the others are activated', async () => {
		const result = await runAgainst(
			sandbox(),
			activateParameters(),
			[
				{ key: uniqueKey('a'), cardNumber: '1400000005567592617', amount: 5 },
				{ key: uniqueKey('b'), cardNumber: INVALIDATED_CARD, amount: 5 },
				{ key: uniqueKey('c'), cardNumber: '1400000005567593654', amount: 5 },
			],
			continueRegularOutput,
		);
		const [a, b, c] = jsonOf(result);
		expect(a.cardInfo).toMatchObject({ cardStatus: 'Activated' });
		expect(itemError(b).message).toMatch(/^Item 1: Amazon refused ActivateGiftCard/);
		expect(itemError(b)).toMatchObject({ errorCode: 'F200', errorType: 'CardInvalidated' });
		expect(c.cardInfo).toMatchObject({ cardStatus: 'Activated' });
		expect(sandbox().stats()).toMatchObject({ activations: 2, totalDebited: { USD: 10 } });
	});
});

describe('region groups sign for their own SigV4 region', () => {
	const euSandbox = useSandbox({
		region: 'eu',
		partners: [
			{
				partnerId: 'Aeuro',
				accessKeyId: 'AKIAEUSANDBOX',
				secretAccessKey: 'eu-secret-not-real',
				currencyCode: 'EUR',
			},
		],
	});
	const feSandbox = useSandbox({
		region: 'fe',
		partners: [
			{
				partnerId: 'Ajpnx',
				accessKeyId: 'AKIAFESANDBOX',
				secretAccessKey: 'fe-secret-not-real',
				currencyCode: 'JPY',
			},
		],
	});

	it('activates a EUR card in eu (eu-west-1)', async () => {
		const result = await runAgainst(euSandbox(), activateParameters({ currencyCode: 'EUR' }), [
			{ key: uniqueKey('eu'), cardNumber: '1420000000000001201', amount: 20 },
		]);
		expect(jsonOf(result)[0]).toMatchObject({
			status: 'SUCCESS',
			cardInfo: { value: { currencyCode: 'EUR' } },
		});
		expect(euSandbox().stats()).toMatchObject({ signatureFailures: 0, totalDebited: { EUR: 20 } });
	});

	it('activates a JPY card in fe (us-west-2) and refuses fractional yen before sending', async () => {
		const result = await runAgainst(feSandbox(), activateParameters({ currencyCode: 'JPY' }), [
			{ key: uniqueKey('fe'), cardNumber: '1440000000000001401', amount: 3000 },
		]);
		expect(jsonOf(result)[0]).toMatchObject({
			status: 'SUCCESS',
			cardInfo: { value: { amount: 3000 } },
		});
		const fractional = await runAgainst(feSandbox(), activateParameters({ currencyCode: 'JPY' }), [
			{ key: uniqueKey('fe'), cardNumber: '1440000000000002438', amount: 10.5 },
		]);
		expect(operationErrorOf(fractional).message).toMatch(/invalid amount: .*whole numbers/);
		expect(feSandbox().stats()).toMatchObject({
			requests: 1,
			signatureFailures: 0,
			totalDebited: { JPY: 3000 },
		});
	});

	it('a currency outside the region group is refused before sending', async () => {
		const result = await runAgainst(feSandbox(), activateParameters({ currencyCode: 'USD' }), [
			{ key: uniqueKey('fe'), cardNumber: '1440000000000002438', amount: 10 },
		]);
		expect(operationErrorOf(result).message).toMatch(/^Item 0: invalid currencyCode/);
		expect(feSandbox().stats().requests).toBe(0);
	});
});
