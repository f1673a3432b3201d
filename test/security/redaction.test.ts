/** redactSecrets: what a server might echo from a signed request is gone before any message is built. */
import { redactSecrets } from '../../nodes/AmazonIncentives/transport/errors';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SIGNATURE = '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7';
const AUTHORIZATION = `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/AGCODService/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=${SIGNATURE}`;

describe('redactSecrets', () => {
	it.each([
		[
			'a whole Authorization header',
			`Denied: ${AUTHORIZATION}.`,
			'Denied: [Authorization header removed].',
		],
		[
			'the header in JSON quotes',
			`{"authorization":"${AUTHORIZATION}"}`,
			'{"authorization":"[Authorization header removed]"}',
		],
		[
			'a presigned-URL signature',
			`GET /x?X-Amz-Signature=${SIGNATURE}&a=1`,
			'GET /x?X-Amz-Signature=***&a=1',
		],
		['a lone signature', `signature=${SIGNATURE.toUpperCase()}`, 'signature=***'],
		['the secret key anywhere', `key ${SECRET} and again ${SECRET}`, 'key *** and again ***'],
	])('removes %s', (_what, text, expected) => {
		expect(redactSecrets(text, SECRET)).toBe(expected);
	});

	it('leaves ordinary AGCOD messages alone', () => {
		const message =
			'The request signature we calculated does not match the signature you provided.';
		expect(redactSecrets(message, SECRET)).toBe(message);
		expect(redactSecrets('Insufficient Funds', SECRET)).toBe('Insufficient Funds');
	});

	it('copes with an empty secret', () => {
		expect(redactSecrets('Rate exceeded', '')).toBe('Rate exceeded');
	});
});
