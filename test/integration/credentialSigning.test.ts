/**
 * The credential's authenticate(): what n8n's HTTP Request node calls with "Predefined Credential Type →
 * Amazon Incentives API". The signed request is sent as n8n would send it (the options' URL, headers and
 * body, nothing else), and the sandbox's own SigV4 verifier decides whether the signature is right.
 */
import * as http from 'node:http';

import type { IDataObject, IHttpRequestOptions } from 'n8n-workflow';

import { endpointCredential } from '../support/credentials';
import { credentialType, useSandbox } from './helpers';

interface Answer {
	status: number;
	contentType: string | undefined;
	text: string;
}

/** Sends signed options the way n8n's request helpers do: POST url (or uri), headers, body as given. */
async function send(options: IHttpRequestOptions & { uri?: string }): Promise<Answer> {
	const url = new URL((options.uri ?? options.url) as string);
	const body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
	return await new Promise<Answer>((resolve, reject) => {
		const request = http.request(
			url,
			{ method: options.method, headers: options.headers as http.OutgoingHttpHeaders },
			(response) => {
				let text = '';
				response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
				response.on('end', () =>
					resolve({
						status: response.statusCode ?? 0,
						contentType: response.headers['content-type'],
						text,
					}),
				);
			},
		);
		request.on('error', reject);
		request.end(body);
	});
}

describe('the credential signs HTTP Request node calls (authenticate)', () => {
	const sandbox = useSandbox();
	const data = (overrides: IDataObject = {}) => endpointCredential(sandbox(), overrides);
	const sign = async (options: IHttpRequestOptions, overrides: IDataObject = {}) =>
		await credentialType.authenticate(data(overrides), options);

	it('JSON: any operation, x-amz-target from the path, a body given as an object', async () => {
		const partnerId = sandbox().partner.partnerId;
		const created = await send(
			await sign({
				method: 'POST',
				url: `${sandbox().url}/CreateGiftCard`,
				body: {
					creationRequestId: `${partnerId}HttpNode1`,
					partnerId,
					value: { currencyCode: 'USD', amount: 12.5 },
				},
				json: true,
			}),
		);
		expect(created.status).toBe(200);
		const card = JSON.parse(created.text) as IDataObject;
		expect(card).toMatchObject({ status: 'SUCCESS', creationRequestId: `${partnerId}HttpNode1` });

		const cancelled = await send(
			await sign({
				method: 'POST',
				url: `${sandbox().url}/CancelGiftCard`,
				body: { creationRequestId: `${partnerId}HttpNode1`, partnerId, gcId: card.gcId },
			}),
		);
		expect(JSON.parse(cancelled.text)).toMatchObject({ status: 'SUCCESS' });

		const funds = await send(
			await sign({
				method: 'POST',
				url: `${sandbox().url}/GetAvailableFunds`,
				body: { partnerId },
			}),
		);
		expect(JSON.parse(funds.text)).toMatchObject({ status: 'SUCCESS' });
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 1, cardsCancelled: 1 });
		expect(
			sandbox()
				.requests()
				.map((request) => [request.operation, request.format]),
		).toEqual([
			['CreateGiftCard', 'json'],
			['CancelGiftCard', 'json'],
			['GetAvailableFunds', 'json'],
		]);
	});

	it('XML: a body of XML text with an XML content type is signed and answered as XML', async () => {
		const partnerId = sandbox().partner.partnerId;
		const answer = await send(
			await sign({
				method: 'POST',
				// The HTTP Request node's legacy options name the URL `uri`.
				...({ uri: `${sandbox().url}/CreateGiftCard` } as object),
				url: '',
				headers: {
					'Content-Type': 'application/xml',
					accept: 'application/json,text/html,application/xhtml+xml,application/xml,text/*;q=0.9',
				},
				body: `<CreateGiftCardRequest><creationRequestId>${partnerId}HttpNodeXml1</creationRequestId><partnerId>${partnerId}</partnerId><value><currencyCode>USD</currencyCode><amount>7</amount></value></CreateGiftCardRequest>`,
			}),
		);
		expect(answer.status).toBe(200);
		expect(answer.contentType).toMatch(/xml/);
		expect(answer.text).toMatch(/<status>SUCCESS<\/status>/);
		expect(sandbox().requests()).toEqual([
			expect.objectContaining({ operation: 'CreateGiftCard', format: 'xml', status: 'SUCCESS' }),
		]);
	});

	it('keeps headers it does not sign, and replaces the ones the signature must own', async () => {
		const signed = await sign({
			method: 'POST',
			url: `${sandbox().url}/GetAvailableFunds`,
			headers: {
				'X-Trace': 'abc',
				Authorization: 'Bearer something-else',
				'x-amz-target': 'com.amazonaws.agcod.AGCODService.CreateGiftCard',
			},
			body: { partnerId: sandbox().partner.partnerId },
		});
		const headers = signed.headers as IDataObject;
		expect(headers['X-Trace']).toBe('abc');
		expect(headers['x-amz-target']).toBe('com.amazonaws.agcod.AGCODService.GetAvailableFunds');
		expect(headers.Authorization).toMatch(
			/^AWS4-HMAC-SHA256 Credential=\w+\/\d{8}\/us-east-1\/AGCODService\/aws4_request, /,
		);
		expect(Object.keys(headers).filter((name) => name.toLowerCase() === 'authorization')).toEqual([
			'Authorization',
		]);
		expect(signed.body).toBe(JSON.stringify({ partnerId: sandbox().partner.partnerId }));
		expect((await send(signed)).status).toBe(200);
	});

	it('signs for the credential region: an eu credential is refused by a na endpoint with the region hint', async () => {
		const answer = await send(
			await sign(
				{
					method: 'POST',
					url: `${sandbox().url}/GetAvailableFunds`,
					body: { partnerId: sandbox().partner.partnerId },
				},
				{ region: 'eu' },
			),
		);
		expect(answer.status).toBe(403);
		expect(answer.text).toContain("Credential should be scoped to a valid region, not 'eu-west-1'");
	});

	it.each([
		[
			'another host',
			{ url: 'https://example.com/CreateGiftCard' },
			/signs only calls to http:\/\/127\.0\.0\.1:\d+\/<Operation> \(custom, region na\); the request goes to https:\/\/example\.com\/CreateGiftCard$/,
		],
		[
			'a production host with sandbox keys',
			{ url: 'https://agcod-v2.amazon.com/CreateGiftCard' },
			/signs only calls to/,
		],
		[
			'a misspelt operation',
			{ urlPath: '/CreateGiftcard' },
			/"CreateGiftcard" is not an AGCOD operation; the URL must end with one of CreateGiftCard, /,
		],
		['a query string', { urlPath: '/CreateGiftCard?debug=1' }, /take no query string/],
		['GET', { method: 'GET' }, /called with POST, not GET/],
	])('refuses to sign %s, before anything is sent', async (_label, change, message) => {
		const { urlPath, ...rest } = change as { urlPath?: string; url?: string; method?: string };
		const options = {
			method: 'POST',
			url: `${sandbox().url}${urlPath ?? '/CreateGiftCard'}`,
			body: { partnerId: 'Awssb' },
			...rest,
		} as IHttpRequestOptions;
		await expect(sign(options)).rejects.toThrow(message);
		expect(sandbox().stats().requests).toBe(0);
	});

	it('an incomplete credential says which field to fix, and never echoes the secret', async () => {
		const secret = sandbox().partner.secretAccessKey;
		const failure = sign(
			{ method: 'POST', url: `${sandbox().url}/GetAvailableFunds`, body: {} },
			{ region: 'xx' },
		);
		await expect(failure).rejects.toThrow(/^Amazon Incentives API credential: The Region must be/);
		await expect(failure).rejects.not.toThrow(secret);
	});
});
