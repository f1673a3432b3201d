import type { IDataObject, INodeParameters } from 'n8n-workflow';

import {
	NOTHING_MOVED,
	activateParameters,
	cancelParameters,
	continueRegularOutput,
	deactivateParameters,
	explicitCreateParameters,
	jsonOf,
	loadParameters,
	runAgainst,
	statusParameters,
	uniqueKey,
	useSandbox,
	voidParameters,
	itemError,
} from './helpers';

/**
 * The sandbox mock ids of Amazon's Errors and Mock Errors page
 * (https://developer.amazon.com/docs/incentives-api/gift-codes-errors.html), written out here rather than taken from the
 * sandbox, so the node is checked against the documented table.
 */
const FAILURES: Array<[mockId: string, errorCode: string, errorType: string, message: string]> = [
	['F1000', 'F100', 'GeneralError', 'General Error'],
	['F2003', 'F200', 'InvalidAmountInput', "Amount can't be null"],
	['F2004', 'F200', 'InvalidAmountValue', 'Amount must be larger than 0'],
	['F2005', 'F200', 'InvalidCurrencyCodeInput', "Currency Code can't be null or empty"],
	['F2010', 'F200', 'CardAlreadyActivatedWithDifferentRequestId', ''],
	['F2015', 'F200', 'MaxAmountExceeded', ''],
	['F2016', 'F200', 'CurrencyCodeMismatch', ''],
	['F2017', 'F200', 'FractionalAmountNotAllowed', ''],
	['F2047', 'F200', 'CancelRequestArrivedAfterTimeLimit', ''],
	['F3003', 'F300', 'InsufficientFunds', 'Insufficient Funds'],
	['F3005', 'F300', 'GeneralError', ''],
	['F3010', 'F300', 'CustomerSurpassedDailyVelocityLimit', ''],
	['F5000', 'F500', 'GeneralError', ''],
];
const RESEND_MOCK = 'F4000';
const SUCCESS_MOCK = 'F0000';
const ALL_MOCK_IDS = [SUCCESS_MOCK, ...FAILURES.map(([mockId]) => mockId), RESEND_MOCK];

const CARD = '1400000005567585358';
const CUSTOMER_OF = (mockId: string) => mockId; // Login & Receive: the mock code goes in the account id.

/** Every operation a mock id can reach (GetAvailableFunds has no request id), with one item per mock id. */
const OPERATIONS: Array<{
	name: string;
	agcod: string;
	parameters: INodeParameters;
	item: (mockId: string) => IDataObject;
	success: (mockId: string) => IDataObject;
}> = [
	{
		name: 'giftCard:create',
		agcod: 'CreateGiftCard',
		parameters: explicitCreateParameters(),
		item: (mockId) => ({ requestId: mockId, amount: 10 }),
		success: () => ({
			creationRequestId: SUCCESS_MOCK,
			requestId: SUCCESS_MOCK,
			gcId: 'ABC123ZYX987',
			gcClaimCode: 'ZYXW-VUTS-RQPO',
			cardInfo: { cardStatus: 'Fulfilled', value: { amount: 10, currencyCode: 'USD' } },
		}),
	},
	{
		name: 'giftCard:cancel',
		agcod: 'CancelGiftCard',
		parameters: cancelParameters(),
		item: (mockId) => ({ creationRequestId: mockId }),
		success: () => ({ creationRequestId: SUCCESS_MOCK, requestId: SUCCESS_MOCK }),
	},
	{
		name: 'physicalCard:activate',
		agcod: 'ActivateGiftCard',
		parameters: activateParameters({
			requestIdMode: 'explicit',
			requestId: '={{ $json.requestId }}',
		}),
		item: (mockId) => ({ requestId: mockId, cardNumber: CARD, amount: 10 }),
		success: () => ({
			activationRequestId: SUCCESS_MOCK,
			requestId: SUCCESS_MOCK,
			cardInfo: { cardNumber: CARD, cardStatus: 'Activated' },
		}),
	},
	{
		name: 'physicalCard:deactivate',
		agcod: 'DeactivateGiftCard',
		parameters: deactivateParameters(),
		item: (mockId) => ({ activationRequestId: mockId, cardNumber: CARD }),
		success: () => ({
			activationRequestId: SUCCESS_MOCK,
			requestId: SUCCESS_MOCK,
			cardInfo: { cardNumber: CARD, cardStatus: 'AwaitingActivation' },
		}),
	},
	{
		name: 'physicalCard:getStatus',
		agcod: 'ActivationStatusCheck',
		parameters: statusParameters(),
		item: (mockId) => ({ activationRequestId: mockId, cardNumber: CARD }),
		success: () => ({
			statusCheckRequestId: SUCCESS_MOCK,
			requestId: SUCCESS_MOCK,
			cardInfo: { cardNumber: CARD, cardStatus: 'Activated' },
		}),
	},
	{
		name: 'amazonBalance:load',
		agcod: 'LoadAmazonBalance',
		parameters: loadParameters(),
		item: (mockId) => ({ key: uniqueKey(mockId), customer: CUSTOMER_OF(mockId), amount: 10 }),
		success: () => ({
			amount: { currencyCode: 'USD', value: 10 },
			amazonTransactionId: expect.any(String),
		}),
	},
	{
		name: 'amazonBalance:void',
		agcod: 'VoidAmazonBalanceLoad',
		parameters: voidParameters(),
		item: (mockId) => ({
			loadBalanceRequestId: `AwssbVoid${mockId}`,
			customer: CUSTOMER_OF(mockId),
			amount: 10,
		}),
		success: () => ({
			loadBalanceRequestId: `AwssbVoid${SUCCESS_MOCK}`,
			requestId: `AwssbVoid${SUCCESS_MOCK}`,
			amount: { currencyCode: 'USD', value: 10 },
		}),
	},
];

describe('every sandbox mock id × every operation it applies to, through n8n-core', () => {
	const sandbox = useSandbox();

	it.each(OPERATIONS.map((operation) => [operation.name, operation] as const))(
		'%s: F0000 succeeds, each failure mock gives its errorCode/errorType, F4000 is retried; no money moves',
		async (_name, operation) => {
			const items = ALL_MOCK_IDS.map(operation.item);
			const result = await runAgainst(
				sandbox(),
				{
					...operation.parameters,
					// One quick retry for F4000; a high client rate so 105 requests do not take 10 s.
					options: { maxRetries: 1, requestsPerSecond: 100 },
				},
				items,
				continueRegularOutput,
			);
			expect(result.status).toBe('success');
			const output = jsonOf(result);
			expect(output).toHaveLength(ALL_MOCK_IDS.length);
			expect(result.main.map((item) => item.pairedItem)).toEqual(
				ALL_MOCK_IDS.map((_, index) => ({ item: index })),
			);

			const [success, ...rest] = output;
			expect(success).toMatchObject({
				status: 'SUCCESS',
				attempts: 1,
				...operation.success(SUCCESS_MOCK),
			});

			const movesMoney = operation.agcod !== 'ActivationStatusCheck';
			FAILURES.forEach(([mockId, errorCode, errorType, message], index) => {
				const itemIndex = index + 1;
				const failed = rest[index];
				// An internal (F100) or unknown (F500) error proves nothing: for an operation that moves money
				// the outcome is unknown; a status check that fails that way is refused but worth retrying.
				const inconclusive = /^F[15]/.test(errorCode);
				expect(itemError(failed).message).toEqual(
					expect.stringContaining(
						inconclusive && movesMoney
							? `Item ${itemIndex}: outcome unknown: Amazon's answers to ${operation.agcod} do not prove whether it was carried out`
							: `Item ${itemIndex}: Amazon refused ${operation.agcod}: `,
					),
				);
				expect(itemError(failed).message).toEqual(
					expect.stringContaining(`(${errorCode} ${errorType})`),
				);
				if (message) expect(itemError(failed).message).toEqual(expect.stringContaining(message));
				expect(itemError(failed)).toMatchObject({
					errorCode,
					errorType,
					outcome: inconclusive && movesMoney ? 'unknown' : 'refused',
					retryable: inconclusive,
					attempts: 1,
				});
				expect(itemError(failed).description).toMatch(/^[^\n]+$/);
				// A FAILURE is final: sent once, never retried.
				const answered = sandbox()
					.requests()
					.filter((entry) => entry.errorCode === errorCode && entry.errorType === errorType);
				expect(answered).toHaveLength(1);
				if (operation.agcod !== 'LoadAmazonBalance')
					expect(answered[0].requestId).toMatch(new RegExp(`${mockId}$`));
			});

			const resend = rest[FAILURES.length];
			expect(itemError(resend).message).toMatch(
				new RegExp(
					movesMoney
						? `^Item ${ALL_MOCK_IDS.length - 1}: outcome unknown: Amazon's answers to ${operation.agcod} do not prove whether it was carried out \\(after 2 attempt\\(s\\).*Safe to retry with the same ID\\.$`
						: `^Item ${ALL_MOCK_IDS.length - 1}: Amazon gave no final answer to ${operation.agcod} after 2 attempt\\(s\\).*Safe to retry\\.$`,
				),
			);
			expect(itemError(resend)).toMatchObject({
				errorCode: 'F400',
				errorType: 'SystemTemporarilyUnavailable',
				outcome: 'unknown',
				retryable: true,
				attempts: 2,
			});

			// FAILURE answers are sent once; the RESEND twice, with the same id.
			const sent = sandbox().requests();
			expect(sent.filter((entry) => entry.operation === operation.agcod)).toHaveLength(
				ALL_MOCK_IDS.length + 1,
			);
			// (An activation's RESEND may have been applied, so it is followed by a status check too.)
			const resends = sent.filter(
				(entry) => entry.status === 'RESEND' && entry.operation === operation.agcod,
			);
			expect(resends).toHaveLength(2);
			const resendIds = resends.map((entry) => entry.requestId);
			expect(resendIds[0]).toBe(resendIds[1]);
			expect(sandbox().stats()).toMatchObject(NOTHING_MOVED);
		},
	);
});

describe('mock ids are refused before sending when the credential is for production', () => {
	const sandbox = useSandbox();

	it.each(['F0000', 'F3003'])(
		'%s with a production credential fails validation, nothing is sent',
		async (mockId) => {
			const result = await runAgainst(
				sandbox(),
				explicitCreateParameters(),
				[{ requestId: mockId, amount: 5 }],
				{
					credential: { environment: 'production' },
				},
			);
			expect(result.status).toBe('error');
			expect(result.error?.message).toBe(
				`Item 0: invalid requestId: requestId "${mockId}" must start with the partner id "Awssb"`,
			);
			expect(sandbox().stats().requests).toBe(0);
		},
	);
});
