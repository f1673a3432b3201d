/**
 * The sandbox's own SigV4 verifier against AWS's published SigV4 test-suite vectors (credentials
 * AKIDEXAMPLE, 20150830T123600Z, us-east-1, service "service") and Amazon's AGCOD worked example.
 */
import {
	calculateSignature,
	canonicalQuery,
	canonicalRequest,
	canonicalUri,
	deriveSigningKey,
	parseAuthorization,
	sha256Hex,
	stringToSign,
	verifySigV4,
	type SignedRequestParts,
} from './sigv4';

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const AMZ_DATE = '20150830T123600Z';
const SCOPE = '20150830/us-east-1/service/aws4_request';
const SIGNED_AT = Date.UTC(2015, 7, 30, 12, 36, 0);
const EMPTY_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

interface Vector {
	name: string;
	request: SignedRequestParts;
	signedHeaders: string[];
	signature: string;
	canonicalRequest?: string;
	stringToSignHash?: string;
}

const hostAndDate = { Host: 'example.amazonaws.com', 'X-Amz-Date': AMZ_DATE };

const VECTORS: Vector[] = [
	{
		name: 'get-vanilla',
		request: { method: 'GET', path: '/', headers: hostAndDate, body: '' },
		signedHeaders: ['host', 'x-amz-date'],
		signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
		canonicalRequest: `GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:${AMZ_DATE}\n\nhost;x-amz-date\n${EMPTY_HASH}`,
		stringToSignHash: 'bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63',
	},
	{
		name: 'get-vanilla-query-order-key-case',
		request: {
			method: 'GET',
			path: '/?Param2=value2&Param1=value1',
			headers: hostAndDate,
			body: '',
		},
		signedHeaders: ['host', 'x-amz-date'],
		signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
	},
	{
		name: 'post-vanilla',
		request: { method: 'POST', path: '/', headers: hostAndDate, body: '' },
		signedHeaders: ['host', 'x-amz-date'],
		signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
		canonicalRequest: `POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:${AMZ_DATE}\n\nhost;x-amz-date\n${EMPTY_HASH}`,
		stringToSignHash: '553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87',
	},
	{
		name: 'post-x-www-form-urlencoded',
		request: {
			method: 'POST',
			path: '/',
			headers: { ...hostAndDate, 'Content-Type': 'application/x-www-form-urlencoded' },
			body: 'Param1=value1',
		},
		signedHeaders: ['content-type', 'host', 'x-amz-date'],
		signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
		canonicalRequest:
			'POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n' +
			`x-amz-date:${AMZ_DATE}\n\ncontent-type;host;x-amz-date\n` +
			'9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e',
		stringToSignHash: '42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281',
	},
];

function authorizationFor(vector: Vector): string {
	return (
		`AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/${SCOPE}, ` +
		`SignedHeaders=${vector.signedHeaders.join(';')}, Signature=${vector.signature}`
	);
}

const verifyOptions = (overrides: Partial<Parameters<typeof verifySigV4>[1]> = {}) => ({
	service: 'service',
	region: 'us-east-1',
	secretFor: (id: string) => (id === 'AKIDEXAMPLE' ? SECRET : undefined),
	now: SIGNED_AT,
	maxClockSkewMs: 5 * 60 * 1000,
	...overrides,
});

describe('SigV4 against the AWS test-suite vectors', () => {
	const key = deriveSigningKey(SECRET, '20150830', 'us-east-1', 'service');

	it.each(VECTORS)('$name: canonical request, string to sign and signature', (vector) => {
		const canonical = canonicalRequest(
			vector.request,
			vector.signedHeaders,
			sha256Hex(vector.request.body),
		);
		expect(canonical).not.toBeNull();
		if (vector.canonicalRequest) expect(canonical).toBe(vector.canonicalRequest);
		if (vector.stringToSignHash) {
			expect(stringToSign(AMZ_DATE, SCOPE, canonical!).split('\n')).toEqual([
				'AWS4-HMAC-SHA256',
				AMZ_DATE,
				SCOPE,
				vector.stringToSignHash,
			]);
		}
		expect(calculateSignature(key, AMZ_DATE, SCOPE, canonical!)).toBe(vector.signature);
	});

	it.each(VECTORS)('$name: the published Authorization header verifies', (vector) => {
		const result = verifySigV4(
			{
				...vector.request,
				headers: {
					...(vector.request.headers as Record<string, string>),
					Authorization: authorizationFor(vector),
				},
			},
			verifyOptions(),
		);
		expect(result).toEqual({ ok: true, accessKeyId: 'AKIDEXAMPLE', amzDate: AMZ_DATE });
	});

	it('rejects the published header once the body or a signed header changes', () => {
		const vector = VECTORS[3];
		const headers = {
			...(vector.request.headers as Record<string, string>),
			Authorization: authorizationFor(vector),
		};
		const tamperedBody = verifySigV4(
			{ ...vector.request, headers, body: 'Param1=value2' },
			verifyOptions(),
		);
		expect(tamperedBody).toMatchObject({ ok: false, kind: 'InvalidSignature' });
		expect((tamperedBody as { message: string }).message).toMatch(
			/^The request signature we calculated does not match the signature you provided/,
		);
		const tamperedHeader = verifySigV4(
			{ ...vector.request, headers: { ...headers, 'Content-Type': 'application/json' } },
			verifyOptions(),
		);
		expect(tamperedHeader).toMatchObject({ ok: false, kind: 'InvalidSignature' });
		const missingHeader = verifySigV4(
			{
				...vector.request,
				headers: {
					Host: 'example.amazonaws.com',
					'X-Amz-Date': AMZ_DATE,
					Authorization: headers.Authorization,
				},
			},
			verifyOptions(),
		);
		expect(missingHeader).toMatchObject({ ok: false, kind: 'InvalidSignature' });
	});

	it("hashes Amazon's AGCOD worked-example payload to the published value", () => {
		const payload =
			'{"creationRequestId": "AwssbTSpecTest001", "partnerId": "Awssb", "value": {"currencyCode": "USD", "amount": 1.00}}';
		expect(sha256Hex(payload)).toBe(
			'6193dc333ef1db9edae1f17989c71ce5f1939706a79be5bb924fc2e92bc23961',
		);
	});
});

describe('SigV4 verification failures, with AWS messages', () => {
	const vector = VECTORS[0];
	const withAuthorization = (
		authorization: string | undefined,
		extra: Record<string, string> = {},
	) => ({
		...vector.request,
		headers: {
			...(vector.request.headers as Record<string, string>),
			...extra,
			...(authorization === undefined ? {} : { Authorization: authorization }),
		},
	});

	it('answers "Missing Authentication Token" without an Authorization header', () => {
		expect(verifySigV4(withAuthorization(undefined), verifyOptions())).toEqual({
			ok: false,
			kind: 'MissingAuthenticationToken',
			message: 'Missing Authentication Token',
		});
	});

	it('answers the invalid-token message for an unknown access key', () => {
		const result = verifySigV4(
			withAuthorization(authorizationFor(vector).replace('AKIDEXAMPLE', 'AKIDUNKNOWN')),
			verifyOptions(),
		);
		expect(result).toEqual({
			ok: false,
			kind: 'UnrecognizedClient',
			message: 'The security token included in the request is invalid.',
		});
	});

	it('rejects a credential scoped to another region or service', () => {
		const region = verifySigV4(
			withAuthorization(authorizationFor(vector)),
			verifyOptions({ region: 'eu-west-1' }),
		);
		expect(region).toMatchObject({
			ok: false,
			message: "Credential should be scoped to a valid region, not 'us-east-1'.",
		});
		const service = verifySigV4(
			withAuthorization(authorizationFor(vector)),
			verifyOptions({ service: 'AGCODService' }),
		);
		expect(service).toMatchObject({
			ok: false,
			message: "Credential should be scoped to correct service: 'AGCODService'.",
		});
	});

	it('rejects an x-amz-date more than the allowed skew away, either way', () => {
		const sixMinutes = 6 * 60 * 1000;
		const expired = verifySigV4(
			withAuthorization(authorizationFor(vector)),
			verifyOptions({ now: SIGNED_AT + sixMinutes }),
		);
		expect(expired).toMatchObject({ ok: false, kind: 'InvalidSignature' });
		expect((expired as { message: string }).message).toBe(
			'Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T124200Z - 5 min.)',
		);
		const early = verifySigV4(
			withAuthorization(authorizationFor(vector)),
			verifyOptions({ now: SIGNED_AT - sixMinutes }),
		);
		expect((early as { message: string }).message).toMatch(
			/^Signature not yet current: 20150830T123600Z/,
		);
		const inside = verifySigV4(
			withAuthorization(authorizationFor(vector)),
			verifyOptions({ now: SIGNED_AT + 4 * 60 * 1000 }),
		);
		expect(inside.ok).toBe(true);
	});

	it('rejects a scope date that differs from x-amz-date and unsigned host or date headers', () => {
		const otherDay = verifySigV4(
			withAuthorization(authorizationFor(vector), { 'X-Amz-Date': '20150831T000000Z' }),
			verifyOptions({ now: Date.UTC(2015, 7, 31) }),
		);
		expect((otherDay as { message: string }).message).toMatch(
			/^Date in Credential scope does not match/,
		);
		const noHost = verifySigV4(
			withAuthorization(authorizationFor({ ...vector, signedHeaders: ['x-amz-date'] })),
			verifyOptions(),
		);
		expect((noHost as { message: string }).message).toMatch(/'Host' .* must be a 'SignedHeader'/);
	});

	it('rejects malformed Authorization headers', () => {
		expect(parseAuthorization('AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc')).toHaveProperty(
			'error',
		);
		expect(parseAuthorization('Basic dXNlcjpwYXNz')).toHaveProperty('error');
		expect(
			parseAuthorization(
				`AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/aws4_request, SignedHeaders=host, Signature=${'a'.repeat(64)}`,
			),
		).toHaveProperty('error');
		expect(
			verifySigV4(withAuthorization('AWS4-HMAC-SHA256 nonsense'), verifyOptions()),
		).toMatchObject({
			ok: false,
			kind: 'IncompleteSignature',
		});
	});
});

describe('canonical forms', () => {
	it('normalises paths and encodes each segment again (non-S3 rules)', () => {
		expect(canonicalUri('/')).toBe('/');
		expect(canonicalUri('/CreateGiftCard')).toBe('/CreateGiftCard');
		expect(canonicalUri('/example/../x/./y//')).toBe('/x/y/');
		expect(canonicalUri('/a b')).toBe('/a%20b');
		expect(canonicalUri('/a%20b')).toBe('/a%2520b');
		expect(canonicalUri('/\u1234')).toBe('/%E1%88%B4');
	});

	it('sorts the query by encoded name then value', () => {
		expect(canonicalQuery('b=2&a=1&A=0&a=0')).toBe('A=0&a=0&a=1&b=2');
		expect(canonicalQuery('key=a b&x=%2F')).toBe('key=a%20b&x=%2F');
	});

	it('joins repeated headers with commas and collapses inner spaces', () => {
		const canonical = canonicalRequest(
			{
				method: 'GET',
				path: '/',
				headers: [
					['Host', 'example.amazonaws.com'],
					['My-Header1', ' value2'],
					['My-Header1', 'value1   with  spaces '],
				],
				body: '',
			},
			['host', 'my-header1'],
			EMPTY_HASH,
		);
		expect(canonical).toContain('\nmy-header1:value2,value1 with spaces\n');
	});
});
