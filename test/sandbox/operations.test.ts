/**
 * The eight AGCOD operations and Amazon's rules, through the sandbox's HTTP interface: mock ids,
 * idempotency, the cancel window, the funds ledger, currency and amount rules, the physical-card
 * state machine, balance loads, and the XML dialect.
 */
import { clientFor, type SandboxCallResult } from './aws4Client';
import { DEFAULT_PARTNER, MOCK_IDS, startSandbox, type RunningSandbox } from './index';

const P = 'Awssb';
const create = (id: string, amount: number | string = 10, currencyCode = 'USD') => ({
	creationRequestId: id,
	partnerId: P,
	value: { currencyCode, amount },
});
const activate = (
	id: string,
	cardNumber: string,
	amount: number | string,
	currencyCode = 'USD',
) => ({
	activationRequestId: id,
	partnerId: P,
	cardNumber,
	value: { currencyCode, amount },
});
const load = (
	id: string,
	amount: number,
	accountId = 'amzn1.account.AEXAMPLE',
	currencyCode = 'USD',
) => ({
	loadBalanceRequestId: id,
	partnerId: P,
	amount: { currencyCode, value: amount },
	account: { id: accountId, type: '2' },
});

const VARIABLE_CARD = '1400000005567585358';
const VARIABLE_CARD_2 = '1400000005567586395';
const DENOMINATED_CARD = '1700000005490001';
const INVALIDATED_CARD = '1400000009999990001';

function expectFailure(
	result: SandboxCallResult,
	errorCode: string,
	errorType: string,
	operation?: string,
) {
	expect({
		http: result.httpStatus,
		code: result.json?.errorCode,
		type: result.json?.errorType,
	}).toEqual({
		http: errorCode === 'F100' || errorCode === 'F500' ? 500 : errorCode === 'F400' ? 503 : 400,
		code: errorCode,
		type: errorType,
	});
	expect(result.json.agcodResponse.status).toBe(errorCode === 'F400' ? 'RESEND' : 'FAILURE');
	expect(typeof result.json.message).toBe('string');
	if (operation) {
		expect(result.json.agcodResponse.__type).toBe(
			`${operation}Response:http://internal.amazon.com/coral/com.amazonaws.agcod/`,
		);
	}
}

describe('AGCOD operations (na, USD)', () => {
	let sandbox: RunningSandbox;
	let call: ReturnType<typeof clientFor>;
	const balance = () => sandbox.stats().balances[P].amount;

	beforeAll(async () => {
		sandbox = await startSandbox({ rateLimit: false });
		call = clientFor(sandbox);
	});
	afterAll(() => sandbox.stop());
	beforeEach(() => sandbox.reset());

	describe('mock ids', () => {
		const failures = Object.entries(MOCK_IDS).filter(([id]) => id !== 'F0000');

		it("has every mock id of Amazon's mock error table", () => {
			expect(Object.keys(MOCK_IDS).sort()).toEqual(
				[
					'F0000',
					'F1000',
					'F2003',
					'F2004',
					'F2005',
					'F2010',
					'F2015',
					'F2016',
					'F2017',
					'F2047',
					'F3003',
					'F3005',
					'F3010',
					'F4000',
					'F5000',
				].sort(),
			);
		});

		it('F0000 on CreateGiftCard answers a canned success that moves no money', async () => {
			const result = await call('CreateGiftCard', create('F0000', 5));
			expect(result.httpStatus).toBe(200);
			expect(result.json).toMatchObject({
				creationRequestId: 'F0000',
				status: 'SUCCESS',
				cardInfo: { cardStatus: 'Fulfilled', value: { amount: 5, currencyCode: 'USD' } },
			});
			expect(sandbox.stats()).toMatchObject({ cardsIssued: 0, debits: 0 });
		});

		it.each(failures)('%s on CreateGiftCard answers its reference case', async (id, mock) => {
			const result = await call('CreateGiftCard', create(id, 5));
			expectFailure(result, mock.error!.errorCode, mock.error!.errorType, 'CreateGiftCard');
			expect(result.json.agcodResponse).toMatchObject({
				gcId: null,
				gcClaimCode: null,
				cardInfo: null,
			});
		});

		it('F1000 is a failure (F100 GeneralError), following the real captures', async () => {
			const result = await call('CreateGiftCard', create('F1000', 5));
			expect(result.json).toMatchObject({
				errorCode: 'F100',
				errorType: 'GeneralError',
				message: 'General Error',
			});
		});

		it.each(Object.entries(MOCK_IDS))(
			'%s on ActivateGiftCard answers its reference case',
			async (id, mock) => {
				const result = await call('ActivateGiftCard', activate(id, VARIABLE_CARD, 10));
				if (mock.status === 'SUCCESS') {
					expect(result.json).toMatchObject({
						activationRequestId: id,
						cardInfo: { cardNumber: VARIABLE_CARD, cardStatus: 'Activated' },
						status: 'SUCCESS',
					});
				} else {
					expectFailure(result, mock.error!.errorCode, mock.error!.errorType, 'ActivateGiftCard');
				}
				expect(sandbox.stats()).toMatchObject({ activations: 0, debits: 0 });
			},
		);

		it.each(Object.entries(MOCK_IDS))(
			'%s in account.id on LoadAmazonBalance answers its reference case',
			async (id, mock) => {
				const result = await call('LoadAmazonBalance', load('AwssbLoadMock1', 10, id));
				if (mock.status === 'SUCCESS') {
					expect(result.json).toMatchObject({
						loadBalanceRequestId: 'AwssbLoadMock1',
						amount: { currencyCode: 'USD', value: 10 },
						status: 'SUCCESS',
					});
				} else {
					expectFailure(result, mock.error!.errorCode, mock.error!.errorType, 'LoadAmazonBalance');
				}
				expect(sandbox.stats()).toMatchObject({ balanceLoads: 0, debits: 0 });
			},
		);

		it('answers mock ids on the other operations too', async () => {
			expectFailure(
				await call('CancelGiftCard', { creationRequestId: 'F2047', partnerId: P }),
				'F200',
				'CancelRequestArrivedAfterTimeLimit',
				'CancelGiftCard',
			);
			expectFailure(
				await call('DeactivateGiftCard', {
					activationRequestId: 'F4000',
					partnerId: P,
					cardNumber: VARIABLE_CARD,
				}),
				'F400',
				'SystemTemporarilyUnavailable',
			);
			expectFailure(
				await call('ActivationStatusCheck', {
					statusCheckRequestId: 'F5000',
					partnerId: P,
					cardNumber: VARIABLE_CARD,
				}),
				'F500',
				'GeneralError',
			);
			expectFailure(
				await call('VoidAmazonBalanceLoad', load('AwssbVoidMock', 1, 'F3003')),
				'F300',
				'InsufficientFunds',
			);
			const cancelled = await call('CancelGiftCard', { creationRequestId: 'F0000', partnerId: P });
			expect(cancelled.json).toMatchObject({ creationRequestId: 'F0000', status: 'SUCCESS' });
		});
	});

	describe('request ids', () => {
		it.each([
			['a'.repeat(0), 'InvalidRequestIdInput'],
			[`${P}${'1'.repeat(36)}`, 'RequestIdTooLong'],
			[`${P}-order-1`, 'InvalidRequestIdFormat'],
			['OtherPartner1', 'RequestIdMustStartWithPartnerName'],
		])('rejects %j with %s and moves nothing', async (id, errorType) => {
			expectFailure(await call('CreateGiftCard', create(id, 1)), 'F200', errorType);
			expect(sandbox.stats().debits).toBe(0);
		});

		it('accepts exactly 40 alphanumeric characters', async () => {
			const id = `${P}${'9'.repeat(35)}`;
			expect(id).toHaveLength(40);
			expect((await call('CreateGiftCard', create(id, 1))).json.status).toBe('SUCCESS');
		});

		it("rejects a body partnerId that is not the signing key's partner", async () => {
			const result = await call('CreateGiftCard', {
				...create('AwssbPartner1', 1),
				partnerId: 'Other',
			});
			expectFailure(result, 'F200', 'InvalidPartnerId');
			expectFailure(
				await call('GetAvailableFunds', {}),
				'F200',
				'InvalidPartnerIdInput',
				'GetAvailableFunds',
			);
		});
	});

	describe('CreateGiftCard and CancelGiftCard', () => {
		it('rejects the same id with a different amount or currency, moving nothing', async () => {
			await call('CreateGiftCard', create('AwssbConflict1', 10));
			const differentAmount = await call('CreateGiftCard', create('AwssbConflict1', 11));
			expectFailure(differentAmount, 'F200', 'RequestIdReusedWithDifferentInput');
			expect(sandbox.stats()).toMatchObject({ debits: 1, cardsIssued: 1 });
			expect(balance()).toBe(1000000 - 10);
			// 10 and "10.00" are the same amount: a retry, not a conflict.
			expect((await call('CreateGiftCard', create('AwssbConflict1', '10.00'))).json.status).toBe(
				'SUCCESS',
			);
		});

		it('cancels inside the 15-minute window, refunds, and stays idempotent', async () => {
			const card = (await call('CreateGiftCard', create('AwssbCancel1', 40))).json;
			sandbox.clock.advance(14 * 60 * 1000);
			const cancel = await call('CancelGiftCard', {
				creationRequestId: 'AwssbCancel1',
				partnerId: P,
				gcId: card.gcId,
			});
			expect(cancel.json).toEqual({
				creationRequestId: 'AwssbCancel1',
				gcId: card.gcId,
				status: 'SUCCESS',
			});
			expect(balance()).toBe(1000000);
			const twice = await call('CancelGiftCard', {
				creationRequestId: 'AwssbCancel1',
				partnerId: P,
			});
			expect(twice.json.status).toBe('SUCCESS');
			expect(sandbox.stats()).toMatchObject({ cardsCancelled: 1, totalRefunded: { USD: 40 } });
			expect(balance()).toBe(1000000);

			const recreated = await call('CreateGiftCard', create('AwssbCancel1', 40));
			expect(recreated.json).toMatchObject({
				gcId: card.gcId,
				gcClaimCode: card.gcClaimCode,
				cardInfo: { cardStatus: 'RefundedToPurchaser' },
			});
			expect(sandbox.stats().debits).toBe(1);
		});

		it('refuses to cancel after the window', async () => {
			await call('CreateGiftCard', create('AwssbLate1', 40));
			sandbox.clock.advance(15 * 60 * 1000 + 1);
			const late = await call('CancelGiftCard', { creationRequestId: 'AwssbLate1', partnerId: P });
			expectFailure(late, 'F200', 'CancelRequestArrivedAfterTimeLimit', 'CancelGiftCard');
			expect(balance()).toBe(1000000 - 40);
		});

		it('checks gcId when sent and the creation id always', async () => {
			await call('CreateGiftCard', create('AwssbGcId1', 1));
			expectFailure(
				await call('CancelGiftCard', {
					creationRequestId: 'AwssbGcId1',
					partnerId: P,
					gcId: 'AWRONGGCID0000',
				}),
				'F200',
				'InvalidGcId',
			);
			expectFailure(
				await call('CancelGiftCard', { creationRequestId: 'AwssbNever1', partnerId: P }),
				'F200',
				'InvalidCreationRequestId',
			);
		});

		it('answers InsufficientFunds when the balance runs out, and funds come back on cancel', async () => {
			const small = await startSandbox({
				rateLimit: false,
				partners: [{ ...DEFAULT_PARTNER, startingBalance: 30 }],
			});
			try {
				const callSmall = clientFor(small);
				expect((await callSmall('CreateGiftCard', create('AwssbFunds1', 20))).json.status).toBe(
					'SUCCESS',
				);
				const short = await callSmall('CreateGiftCard', create('AwssbFunds2', 20));
				expectFailure(short, 'F300', 'InsufficientFunds', 'CreateGiftCard');
				expect(short.json.message).toBe('Insufficient Funds');
				expect(small.stats().balances[P].amount).toBe(10);
				await callSmall('CancelGiftCard', { creationRequestId: 'AwssbFunds1', partnerId: P });
				// The failed id was never committed, so the same id may succeed once funds are back.
				expect((await callSmall('CreateGiftCard', create('AwssbFunds2', 20))).json.status).toBe(
					'SUCCESS',
				);
				const funds = await callSmall('GetAvailableFunds', { partnerId: P });
				expect(funds.json).toEqual({
					availableFunds: { amount: 10, currencyCode: 'USD' },
					status: 'SUCCESS',
					timestamp: expect.stringMatching(/^\d{8}T\d{6}Z$/),
				});
			} finally {
				await small.stop();
			}
		});

		it('answers 0 from GetAvailableFunds in Amazon-like mode while still enforcing the ledger', async () => {
			sandbox.configure({ amazonLikeFunds: true });
			try {
				const funds = await call('GetAvailableFunds', { partnerId: P });
				expect(funds.json.availableFunds).toEqual({ amount: 0, currencyCode: 'USD' });
				expect((await call('CreateGiftCard', create('AwssbAmazonLike1', 5))).json.status).toBe(
					'SUCCESS',
				);
				expect(balance()).toBe(1000000 - 5);
			} finally {
				sandbox.configure({ amazonLikeFunds: false });
			}
		});
	});

	describe('currency and amount rules', () => {
		it.each([
			[{ currencyCode: 'EUR', amount: 10 }, 'CurrencyCodeMismatch'],
			[{ currencyCode: 'CAD', amount: 10 }, 'CurrencyCodeMismatch'],
			[{ currencyCode: 'XYZ', amount: 10 }, 'InvalidCurrencyCodeInput'],
			[{ currencyCode: '', amount: 10 }, 'InvalidCurrencyCodeInput'],
			[{ currencyCode: 'USD' }, 'InvalidAmountInput'],
			[{ currencyCode: 'USD', amount: 'ten' }, 'InvalidAmountInput'],
			[{ currencyCode: 'USD', amount: 0 }, 'InvalidAmountValue'],
			[{ currencyCode: 'USD', amount: -5 }, 'InvalidAmountValue'],
			[{ currencyCode: 'USD', amount: 1.005 }, 'InvalidAmountValue'],
			[{ currencyCode: 'USD', amount: 2000.01 }, 'MaxAmountExceeded'],
		])('rejects %j with %s', async (value, errorType) => {
			const result = await call('CreateGiftCard', {
				creationRequestId: 'AwssbRule1',
				partnerId: P,
				value,
			});
			expectFailure(result, 'F200', errorType);
			expect(sandbox.stats().debits).toBe(0);
		});

		it('accepts the ends of the USD range and two decimals', async () => {
			expect((await call('CreateGiftCard', create('AwssbMin1', 0.01))).json.status).toBe('SUCCESS');
			expect((await call('CreateGiftCard', create('AwssbMax1', 2000))).json.status).toBe('SUCCESS');
			expect(
				(await call('CreateGiftCard', create('AwssbCents1', 12.34))).json.cardInfo.value.amount,
			).toBe(12.34);
			expect(sandbox.stats().totalDebited).toEqual({ USD: 2012.35 });
		});
	});

	describe('physical cards', () => {
		it('activates, reports, deactivates and re-activates a variable card', async () => {
			const activated = await call('ActivateGiftCard', activate('AwssbAct1', VARIABLE_CARD, 50));
			expect(activated.json).toEqual({
				activationRequestId: 'AwssbAct1',
				cardInfo: {
					cardNumber: VARIABLE_CARD,
					cardStatus: 'Activated',
					expirationDate: null,
					value: { amount: 50, currencyCode: 'USD' },
				},
				status: 'SUCCESS',
			});
			expect(balance()).toBe(1000000 - 50);

			// The same id again: the original activation, no second debit.
			expect(
				(await call('ActivateGiftCard', activate('AwssbAct1', VARIABLE_CARD, 50))).json.status,
			).toBe('SUCCESS');
			expect(sandbox.stats().debits).toBe(1);
			expectFailure(
				await call('ActivateGiftCard', activate('AwssbAct1', VARIABLE_CARD, 60)),
				'F200',
				'RequestIdReusedWithDifferentInput',
			);
			expectFailure(
				await call('ActivateGiftCard', activate('AwssbAct1', VARIABLE_CARD_2, 50)),
				'F200',
				'RequestIdReusedWithDifferentInput',
			);

			const otherId = await call('ActivateGiftCard', activate('AwssbAct2', VARIABLE_CARD, 50));
			expectFailure(
				otherId,
				'F200',
				'CardAlreadyActivatedWithDifferentRequestId',
				'ActivateGiftCard',
			);
			expect(otherId.json.message).toBe(
				'The card was already activated with a different request id',
			);

			const status = await call('ActivationStatusCheck', {
				statusCheckRequestId: 'AwssbAct1',
				partnerId: P,
				cardNumber: VARIABLE_CARD,
			});
			expect(status.json).toMatchObject({
				statusCheckRequestId: 'AwssbAct1',
				cardInfo: {
					cardNumber: VARIABLE_CARD,
					cardStatus: 'Activated',
					value: { amount: 50, currencyCode: 'USD' },
				},
				status: 'SUCCESS',
			});
			expectFailure(
				await call('ActivationStatusCheck', {
					statusCheckRequestId: 'AwssbCheck9',
					partnerId: P,
					cardNumber: VARIABLE_CARD,
				}),
				'F200',
				'CardActivatedWithDifferentRequestId',
			);

			expectFailure(
				await call('DeactivateGiftCard', {
					activationRequestId: 'AwssbAct1',
					partnerId: P,
					cardNumber: VARIABLE_CARD_2,
				}),
				'F200',
				'CardNumberMismatch',
			);
			expectFailure(
				await call('DeactivateGiftCard', {
					activationRequestId: 'AwssbNope',
					partnerId: P,
					cardNumber: VARIABLE_CARD,
				}),
				'F200',
				'InvalidActivationRequestId',
			);
			const deactivated = await call('DeactivateGiftCard', {
				activationRequestId: 'AwssbAct1',
				partnerId: P,
				cardNumber: VARIABLE_CARD,
			});
			expect(deactivated.json).toMatchObject({
				activationRequestId: 'AwssbAct1',
				cardInfo: { cardNumber: VARIABLE_CARD, cardStatus: 'AwaitingActivation' },
				status: 'SUCCESS',
			});
			expect(balance()).toBe(1000000);
			expect(
				(
					await call('DeactivateGiftCard', {
						activationRequestId: 'AwssbAct1',
						partnerId: P,
						cardNumber: VARIABLE_CARD,
					})
				).json.status,
			).toBe('SUCCESS');
			expect(sandbox.stats()).toMatchObject({
				activations: 1,
				deactivations: 1,
				totalRefunded: { USD: 50 },
			});

			const awaiting = await call('ActivationStatusCheck', {
				statusCheckRequestId: 'AwssbAnyId1',
				partnerId: P,
				cardNumber: VARIABLE_CARD,
			});
			expect(awaiting.json.cardInfo).toMatchObject({
				cardStatus: 'AwaitingActivation',
				value: null,
			});

			expect(
				(await call('ActivateGiftCard', activate('AwssbAct3', VARIABLE_CARD, 20))).json.status,
			).toBe('SUCCESS');
			expect(balance()).toBe(1000000 - 20);
		});

		it('activates denominated cards only with their denomination', async () => {
			expectFailure(
				await call('ActivateGiftCard', activate('AwssbDen1', DENOMINATED_CARD, 20)),
				'F200',
				'AmountDoesNotMatchDenomination',
			);
			expect(
				(await call('ActivateGiftCard', activate('AwssbDen2', DENOMINATED_CARD, 25))).json.status,
			).toBe('SUCCESS');
		});

		it('refuses invalidated, unknown and malformed cards', async () => {
			expectFailure(
				await call('ActivateGiftCard', activate('AwssbInv1', INVALIDATED_CARD, 10)),
				'F200',
				'CardInvalidated',
			);
			const status = await call('ActivationStatusCheck', {
				statusCheckRequestId: 'AwssbInv2',
				partnerId: P,
				cardNumber: INVALIDATED_CARD,
			});
			expect(status.json.cardInfo.cardStatus).toBe('Invalidated');
			expectFailure(
				await call('ActivateGiftCard', activate('AwssbInv3', '1999999999999999999', 10)),
				'F200',
				'CardNumberNotFound',
			);
			expectFailure(
				await call('ActivateGiftCard', activate('AwssbInv4', '12345', 10)),
				'F200',
				'InvalidCardNumber',
			);
			expect(sandbox.stats().debits).toBe(0);
		});

		it('serves a configured inventory', async () => {
			const custom = await startSandbox({
				rateLimit: false,
				physicalCards: [
					{ cardNumber: '1111222233334444', currencyCode: 'USD', denomination: 100 },
					{ cardNumber: '5555666677778888999', currencyCode: 'USD', state: 'Invalidated' },
				],
			});
			try {
				const callCustom = clientFor(custom);
				expect(
					(await callCustom('ActivateGiftCard', activate('AwssbCus1', '1111222233334444', 100)))
						.json.status,
				).toBe('SUCCESS');
				expectFailure(
					await callCustom('ActivateGiftCard', activate('AwssbCus2', VARIABLE_CARD, 10)),
					'F200',
					'CardNumberNotFound',
				);
			} finally {
				await custom.stop();
			}
		});
	});

	describe('Amazon balance loads', () => {
		it('loads once per id, voids with the same amount and account, idempotently', async () => {
			const loaded = await call('LoadAmazonBalance', load('AwssbLoad1', 15));
			expect(loaded.json).toEqual({
				amazonTransactionId: expect.stringMatching(/^[A-Z0-9]+$/),
				amount: { currencyCode: 'USD', value: 15 },
				loadBalanceRequestId: 'AwssbLoad1',
				status: 'SUCCESS',
			});
			const again = await call('LoadAmazonBalance', load('AwssbLoad1', 15));
			expect(again.json.amazonTransactionId).toBe(loaded.json.amazonTransactionId);
			expectFailure(
				await call('LoadAmazonBalance', load('AwssbLoad1', 15, 'amzn1.account.OTHER')),
				'F200',
				'RequestIdReusedWithDifferentInput',
			);
			expect(balance()).toBe(1000000 - 15);

			expectFailure(
				await call('VoidAmazonBalanceLoad', load('AwssbLoad1', 14)),
				'F200',
				'VoidDoesNotMatchLoad',
			);
			expectFailure(
				await call('VoidAmazonBalanceLoad', load('AwssbLoad9', 15)),
				'F200',
				'InvalidLoadBalanceRequestId',
			);
			const voided = await call('VoidAmazonBalanceLoad', load('AwssbLoad1', 15));
			expect(voided.json).toMatchObject({ loadBalanceRequestId: 'AwssbLoad1', status: 'SUCCESS' });
			expect(
				(await call('VoidAmazonBalanceLoad', load('AwssbLoad1', 15))).json.amazonTransactionId,
			).toBe(voided.json.amazonTransactionId);
			expect(balance()).toBe(1000000);
			expect(sandbox.stats()).toMatchObject({ balanceLoads: 1, balanceVoids: 1, debits: 1 });
		});
	});

	describe('XML', () => {
		const xmlCreate = (id: string, amount: string) =>
			`<CreateGiftCardRequest><creationRequestId>${id}</creationRequestId><partnerId>${P}</partnerId>` +
			`<value><currencyCode>USD</currencyCode><amount>${amount}</amount></value></CreateGiftCardRequest>`;

		it('answers an XML CreateGiftCard in XML, sharing state with JSON', async () => {
			const result = await call('CreateGiftCard', xmlCreate('AwssbXml1', '1.00'), {
				format: 'xml',
			});
			expect(result.httpStatus).toBe(200);
			expect(result.headers['content-type']).toBe('application/xml');
			expect(result.text).toMatch(
				/^<CreateGiftCardResponse><cardInfo><cardStatus>Fulfilled<\/cardStatus><value><amount>1\.00<\/amount><currencyCode>USD<\/currencyCode><\/value><\/cardInfo><creationRequestId>AwssbXml1<\/creationRequestId><gcClaimCode>[A-Z0-9-]{16}<\/gcClaimCode><gcId>[A-Z0-9]{14}<\/gcId><status>SUCCESS<\/status><\/CreateGiftCardResponse>$/,
			);
			const gcId = /<gcId>(\w+)<\/gcId>/.exec(result.text)![1];
			const json = await call('CreateGiftCard', create('AwssbXml1', 1));
			expect(json.json.gcId).toBe(gcId);
			expect(sandbox.stats().debits).toBe(1);
		});

		it("treats a body starting with '<' as XML whatever the content-type (Amazon's sample sends charset=UTF-8)", async () => {
			const result = await call('CreateGiftCard', xmlCreate('AwssbXml2', '2.50'), {
				headers: { 'content-type': 'charset=UTF-8' },
			});
			expect(result.text).toContain('<amount>2.50</amount>');
			expect(sandbox.requests()[0].format).toBe('xml');
		});

		it('answers XML errors with ErrorResponse and a capital-M Message', async () => {
			const result = await call('CreateGiftCard', xmlCreate('F3003', '1.00'), { format: 'xml' });
			expect(result.httpStatus).toBe(400);
			expect(result.text).toBe(
				'<ErrorResponse><agcodResponse><status>FAILURE</status></agcodResponse><errorCode>F300</errorCode>' +
					'<errorType>InsufficientFunds</errorType><Message>Insufficient Funds</Message></ErrorResponse>',
			);
			const wrongRoot = await call('CreateGiftCard', '<CancelGiftCardRequest/>', { format: 'xml' });
			expect(wrongRoot.text).toContain('<errorType>InvalidRequestInput</errorType>');
		});

		it("accepts <GetAvailableFunds> without the Request suffix, as in Amazon's page", async () => {
			const result = await call(
				'GetAvailableFunds',
				`<GetAvailableFunds><partnerId>${P}</partnerId></GetAvailableFunds>`,
				{ format: 'xml' },
			);
			expect(result.text).toMatch(
				/^<GetAvailableFundsResponse><availableFunds><amount>1000000\.00<\/amount><currencyCode>USD<\/currencyCode><\/availableFunds><status>SUCCESS<\/status><timestamp>\d{8}T\d{6}Z<\/timestamp><\/GetAvailableFundsResponse>$/,
			);
		});

		it('answers throttling in XML for XML callers', async () => {
			const limited = await startSandbox({
				rateLimit: { requestsPerSecond: 1, availableFundsPerSecond: 1 },
				now: () => 0,
			});
			try {
				const callLimited = clientFor(limited);
				await callLimited(
					'GetAvailableFunds',
					`<GetAvailableFundsRequest><partnerId>${P}</partnerId></GetAvailableFundsRequest>`,
					{ format: 'xml' },
				);
				const throttled = await callLimited(
					'GetAvailableFunds',
					`<GetAvailableFundsRequest><partnerId>${P}</partnerId></GetAvailableFundsRequest>`,
					{ format: 'xml' },
				);
				expect(throttled.httpStatus).toBe(400);
				expect(throttled.text).toBe(
					'<ThrottlingException><Message>Rate exceeded</Message></ThrottlingException>',
				);
			} finally {
				await limited.stop();
			}
		});
	});
});

describe('other region groups', () => {
	it('fe: signs with us-west-2, JPY without fractions, expiring cards', async () => {
		const fe = await startSandbox({
			region: 'fe',
			rateLimit: false,
			partners: [{ ...DEFAULT_PARTNER, currencyCode: 'JPY' }],
		});
		try {
			expect(fe.signingRegion).toBe('us-west-2');
			const call = clientFor(fe);
			expectFailure(
				await call('CreateGiftCard', create('AwssbJpy1', 500.5, 'JPY')),
				'F200',
				'FractionalAmountNotAllowed',
			);
			expectFailure(
				await call('CreateGiftCard', create('AwssbJpy2', 10, 'USD')),
				'F200',
				'CurrencyCodeMismatch',
			);
			expectFailure(
				await call('CreateGiftCard', create('AwssbJpy3', 500001, 'JPY')),
				'F200',
				'MaxAmountExceeded',
			);
			const card = await call('CreateGiftCard', create('AwssbJpy4', 500, 'JPY'));
			expect(card.json.cardInfo.value).toEqual({ amount: 500, currencyCode: 'JPY' });
			const year = new Date().getUTCFullYear();
			expect(card.json.gcExpirationDate).toMatch(
				new RegExp(
					`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \\d{2} 23:59:59 UTC ${year + 10}$`,
				),
			);
			const wrongRegion = await call('CreateGiftCard', create('AwssbJpy5', 500, 'JPY'), {
				region: 'us-east-1',
			});
			expect(wrongRegion.json.message).toBe(
				"Credential should be scoped to a valid region, not 'us-east-1'.",
			);
		} finally {
			await fe.stop();
		}
	});

	it('eu: EUR minimum 0.15, and a partner currency outside the group is refused at start', async () => {
		const eu = await startSandbox({
			region: 'eu',
			rateLimit: false,
			partners: [{ ...DEFAULT_PARTNER, currencyCode: 'EUR' }],
		});
		try {
			const call = clientFor(eu);
			expect(eu.signingRegion).toBe('eu-west-1');
			expectFailure(
				await call('CreateGiftCard', create('AwssbEur1', 0.14, 'EUR')),
				'F200',
				'InvalidAmountValue',
			);
			expect(
				(await call('CreateGiftCard', create('AwssbEur2', 0.15, 'EUR'))).json.gcExpirationDate,
			).not.toBeNull();
		} finally {
			await eu.stop();
		}
		await expect(startSandbox({ region: 'eu', partners: [DEFAULT_PARTNER] })).rejects.toThrow(
			/currency USD is not one of region eu/,
		);
		const defaultEu = await startSandbox({ region: 'eu' });
		expect(defaultEu.partner.currencyCode).toBe('EUR');
		await defaultEu.stop();
	});
});
