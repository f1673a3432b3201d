import {
	encodeBody,
	normalizeResponse,
	parseBody,
} from '../../nodes/AmazonIncentives/transport/codec';
import { classifyResponse, hintFor, authHint } from '../../nodes/AmazonIncentives/transport/errors';

// Real captures: JSON from Amazon's NA/JP sandbox (published by open-source clients), XML from Amazon's docs.
const JSON_SUCCESS =
	'{"cardInfo":{"cardNumber":null,"cardStatus":"Fulfilled","expirationDate":null,"value":{"amount":500.0,"currencyCode":"JPY"}},"creationRequestId":"F0000","gcClaimCode":"ZYXW-VUTS-RQPO","gcExpirationDate":null,"gcId":"ABC123ZYX987","status":"SUCCESS"}';
const XML_SUCCESS =
	'<CreateGiftCardResponse><gcClaimCode>W3GU-YD4NGH-88C8</gcClaimCode><cardInfo><value><currencyCode>EUR</currencyCode><amount>1.00</amount></value><cardStatus>Fulfilled</cardStatus></cardInfo><gcId>A3B6AC387ESRIX</gcId><creationRequestId>AwssbTSpecTest001</creationRequestId><gcExpirationDate>Mon Jun 09 21:59:59 UTC 2025</gcExpirationDate><status>SUCCESS</status></CreateGiftCardResponse>';
const JSON_FAILURE =
	'{"agcodResponse":{"__type":"CreateGiftCardResponse:http://internal.amazon.com/coral/com.amazonaws.agcod/","cardInfo":null,"creationRequestId":null,"gcClaimCode":null,"gcExpirationDate":null,"gcId":null,"status":"FAILURE"},"errorCode":"F300","errorType":"InsufficientFunds","message":"Insufficient Funds"}';

describe('request encoding', () => {
	const body = {
		creationRequestId: 'AwssbTSpecTest001',
		partnerId: 'Awssb',
		value: { currencyCode: 'USD', amount: 1 },
	};
	it('JSON is the plain body', () => {
		expect(encodeBody('CreateGiftCard', body, 'json')).toBe(JSON.stringify(body));
	});
	it('XML wraps it in <OperationRequest> with the same field names', () => {
		expect(encodeBody('CreateGiftCard', body, 'xml')).toBe(
			'<CreateGiftCardRequest><creationRequestId>AwssbTSpecTest001</creationRequestId><partnerId>Awssb</partnerId><value><currencyCode>USD</currencyCode><amount>1</amount></value></CreateGiftCardRequest>',
		);
	});
	it('XML escapes markup in user text', () => {
		expect(encodeBody('CancelGiftCard', { externalReference: 'a<b>&c' }, 'xml')).toContain(
			'a&lt;b&gt;&amp;c',
		);
	});
});

describe('response parsing and normalisation', () => {
	it('gives the same output for the same answer in JSON and XML', () => {
		const json = {
			creationRequestId: 'AwssbTSpecTest001',
			gcId: 'A3B6AC387ESRIX',
			gcClaimCode: 'W3GU-YD4NGH-88C8',
			gcExpirationDate: 'Mon Jun 09 21:59:59 UTC 2025',
			cardInfo: {
				cardNumber: null,
				cardStatus: 'Fulfilled',
				expirationDate: null,
				value: { amount: 1, currencyCode: 'EUR' },
			},
			status: 'SUCCESS',
		};
		const fromJson = normalizeResponse(
			'CreateGiftCard',
			parseBody(JSON.stringify(json), 'application/json')!.body,
		);
		const fromXml = normalizeResponse(
			'CreateGiftCard',
			parseBody(XML_SUCCESS, 'application/xml')!.body,
		);
		expect(fromXml).toEqual(fromJson);
		expect(fromXml.cardInfo).toEqual({
			cardNumber: null,
			cardStatus: 'Fulfilled',
			expirationDate: null,
			value: { amount: 1, currencyCode: 'EUR' },
		});
	});
	it("reads XML by its first character even with Amazon's odd content type", () => {
		expect(parseBody(XML_SUCCESS, 'charset=UTF-8')?.root).toBe('CreateGiftCardResponse');
	});
	it('accepts GetAvailableFunds XML with or without the Response suffix', () => {
		for (const root of ['GetAvailableFundsResponse', 'GetAvailableFunds']) {
			const xml = `<${root}><availableFunds><amount>0.0</amount><currencyCode>PLN</currencyCode></availableFunds><timestamp>20230821T154205Z</timestamp><status>SUCCESS</status></${root}>`;
			expect(classifyResponse('GetAvailableFunds', 200, 'application/xml', xml, undefined)).toEqual(
				{
					kind: 'success',
					data: {
						availableFunds: { amount: 0, currencyCode: 'PLN' },
						timestamp: '20230821T154205Z',
						status: 'SUCCESS',
					},
				},
			);
		}
	});
	it('keeps 19-digit card numbers as text and trims ids', () => {
		const body = {
			statusCheckRequestId: ' Awssb0327141418PM',
			cardInfo: { cardNumber: 1400000005567585, cardStatus: 'Activated', value: null },
			status: 'SUCCESS',
		};
		expect(normalizeResponse('ActivationStatusCheck', body)).toEqual({
			statusCheckRequestId: 'Awssb0327141418PM',
			cardInfo: {
				cardNumber: '1400000005567585',
				cardStatus: 'Activated',
				expirationDate: null,
				value: null,
			},
			status: 'SUCCESS',
		});
	});
	it.each([
		['<html><body>Bad gateway</body></html>'],
		['<!DOCTYPE html><html></html>'],
		['{"status":"SUCC'],
		['<CreateGiftCardResponse><gcId>A'],
		[''],
		['[1,2]'],
		['"text"'],
	])('does not parse %j as an AGCOD body', (text) => {
		expect(parseBody(text, undefined)).toBeUndefined();
	});
});

describe('classifyResponse', () => {
	it('a SUCCESS with every required field is a success', () => {
		const outcome = classifyResponse(
			'CreateGiftCard',
			200,
			'application/json',
			JSON_SUCCESS,
			'F0000',
		);
		expect(outcome.kind).toBe('success');
	});
	it('a SUCCESS for another request id is never trusted', () => {
		expect(
			classifyResponse('CreateGiftCard', 200, 'application/json', JSON_SUCCESS, 'AwssbOther'),
		).toMatchObject({
			kind: 'malformed',
			message: 'SUCCESS answer for a different request id (F0000); not trusted as a success',
		});
	});
	it('a SUCCESS without the claim code is never a success', () => {
		const body = JSON.parse(JSON_SUCCESS);
		delete body.gcClaimCode;
		expect(
			classifyResponse('CreateGiftCard', 200, 'application/json', JSON.stringify(body), 'F0000'),
		).toMatchObject({
			kind: 'malformed',
			message: 'SUCCESS answer without gcClaimCode; not trusted as a success',
		});
	});
	it('reads AGCOD failures from the body', () => {
		expect(
			classifyResponse('CreateGiftCard', 400, 'application/json', JSON_FAILURE, 'Awssb1'),
		).toEqual({
			kind: 'failure',
			httpStatus: 400,
			errorCode: 'F300',
			errorType: 'InsufficientFunds',
			message: 'Insufficient Funds',
		});
	});
	it('reads XML failures with a capital-M Message', () => {
		const xml =
			'<ErrorResponse><agcodResponse><status>FAILURE</status></agcodResponse><errorCode>F200</errorCode><errorType>CancelRequestArrivedAfterTimeLimit</errorType><Message>Too late</Message></ErrorResponse>';
		expect(classifyResponse('CancelGiftCard', 400, 'application/xml', xml, 'Awssb1')).toMatchObject(
			{
				kind: 'failure',
				errorCode: 'F200',
				errorType: 'CancelRequestArrivedAfterTimeLimit',
				message: 'Too late',
			},
		);
	});
	it('treats RESEND and F400 as retryable resend', () => {
		const body = JSON_FAILURE.replace('"FAILURE"', '"RESEND"')
			.replace('F300', 'F400')
			.replace('InsufficientFunds', 'SystemTemporarilyUnavailable');
		expect(classifyResponse('CreateGiftCard', 503, 'application/json', body, 'Awssb1').kind).toBe(
			'resend',
		);
	});
	it('recognises throttling in JSON and XML', () => {
		expect(
			classifyResponse(
				'CreateGiftCard',
				400,
				'application/json',
				'{"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate exceeded"}',
				'A',
			).kind,
		).toBe('throttled');
		expect(
			classifyResponse(
				'CreateGiftCard',
				400,
				'application/xml',
				'<ThrottlingException><Message>Rate exceeded</Message></ThrottlingException>',
				'A',
			).kind,
		).toBe('throttled');
	});
	it.each([
		['a bare 429 with no body', 429, '', undefined],
		['a 429 with an HTML body', 429, '<html>Too Many Requests</html>', undefined],
		['a 429 with a JSON body', 429, '{"message":"slow down"}', undefined],
		[
			'only the x-amzn-ErrorType header',
			400,
			'{}',
			'ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/',
		],
		['the header on an empty body', 400, '', 'ThrottlingException'],
		['a throttling errorType', 400, '{"errorType":"Throttling","message":"x"}', undefined],
		['a "Too Many Requests" message', 400, '{"message":"Too Many Requests"}', undefined],
	])('recognises a throttle from %s', (_what, status, body, header) => {
		expect(classifyResponse('CreateGiftCard', status, undefined, body, 'A', header).kind).toBe(
			'throttled',
		);
	});
	it('does not take other x-amzn-ErrorType values or AGCOD velocity limits for throttles', () => {
		expect(
			classifyResponse('CreateGiftCard', 403, undefined, '{}', 'A', 'InvalidSignatureException:x')
				.kind,
		).not.toBe('throttled');
		expect(
			classifyResponse(
				'CreateGiftCard',
				400,
				'application/json',
				'{"agcodResponse":{"status":"FAILURE"},"errorCode":"F300","errorType":"CustomerSurpassedDailyVelocityLimit","message":"Customer Surpassed Daily Velocity Limit"}',
				'A',
			).kind,
		).toBe('failure');
	});
	it('accepts a Login & Receive SUCCESS without the echoed id and fills in the id it sent', () => {
		const outcome = classifyResponse(
			'LoadAmazonBalance',
			200,
			'application/json',
			'{"amazonTransactionId":"TX","amount":{"currencyCode":"USD","value":5},"status":"SUCCESS"}',
			'AwssbLoad1',
		);
		expect(outcome).toMatchObject({
			kind: 'success',
			data: { loadBalanceRequestId: 'AwssbLoad1', amazonTransactionId: 'TX' },
		});
		expect(
			classifyResponse(
				'LoadAmazonBalance',
				200,
				'application/json',
				'{"loadBalanceRequestId":"AwssbOther","status":"SUCCESS"}',
				'AwssbLoad1',
			).kind,
		).toBe('malformed');
	});
	it('maps AWS 403 bodies to auth errors', () => {
		expect(
			classifyResponse(
				'GetAvailableFunds',
				403,
				'application/json',
				'{"message":"The security token included in the request is invalid."}',
				undefined,
			),
		).toEqual({
			kind: 'auth',
			httpStatus: 403,
			message: 'The security token included in the request is invalid.',
		});
	});
	it.each([
		[500, '<html>oops</html>', 'server'],
		[502, '', 'server'],
		[200, '{"cardInfo":', 'malformed'],
		[200, '{"foo":1}', 'malformed'],
		[404, '{"message":"UnknownOperationException"}', 'client'],
		[400, 'garbage', 'client'],
	])('HTTP %i %j → %s', (status, body, kind) => {
		expect(classifyResponse('CreateGiftCard', status, undefined, body, 'A').kind).toBe(kind);
	});
});

describe('hints', () => {
	it('has a one-line fix for the common AGCOD errors', () => {
		expect(hintFor('F300', 'InsufficientFunds')).toMatch(/Fund your Amazon Incentives account/);
		expect(hintFor('F200', 'CancelRequestArrivedAfterTimeLimit')).toMatch(/15 minutes/);
		expect(hintFor('F200', 'CardAlreadyActivatedWithDifferentRequestId')).toMatch(/original id/);
		expect(hintFor('F100', 'SomethingNew')).toMatch(/internal error/);
		expect(hintFor(null, null)).toMatch(/error table/);
	});
	it('names the credential field for each auth failure', () => {
		expect(authHint('The security token included in the request is invalid.')).toMatch(
			/Access Key ID/,
		);
		expect(
			authHint('The request signature we calculated does not match the signature you provided.'),
		).toMatch(/Secret Access Key/);
		expect(authHint("Credential should be scoped to a valid region, not 'eu-west-1'.")).toMatch(
			/Region/,
		);
		expect(
			authHint('Signature expired: 20130910T222620Z is now earlier than 20130910T223120Z'),
		).toMatch(/clock/);
	});
});
