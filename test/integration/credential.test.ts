import * as http from 'node:http';

import type { IDataObject } from 'n8n-workflow';

import { endpointCredential } from '../support/credentials';
import { closedPortUrl, listenLocally } from '../support/localServer';
import { testCredential } from '../support/n8nHarness';
import {
	createParameters,
	credentialType,
	node,
	operationErrorOf,
	runAgainst,
	uniqueKey,
	useSandbox,
} from './helpers';

describe('credential test (n8n’s “Test” button): one GetAvailableFunds call, a message per failure', () => {
	const sandbox = useSandbox();
	const test = (overrides: IDataObject = {}) =>
		testCredential(node, credentialType, endpointCredential(sandbox(), overrides));
	const where = () => `${sandbox().url} (custom, region na)`;

	it('success shows where it connected, the partner and the funds', async () => {
		await expect(test()).resolves.toEqual({
			status: 'OK',
			message: `Connected to ${where()} as partner Awssb: available funds 1000000 USD`,
		});
		expect(sandbox().stats().requestsByOperation).toMatchObject({ GetAvailableFunds: 1 });
	});

	it('a wrong secret says the secret does not belong to the key, and never shows it', async () => {
		const secret = 'definitely-the-wrong-secret-4242';
		const result = await test({ secretAccessKey: secret });
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(
			/^The Secret Access Key does not belong to this Access Key ID; .* \(Amazon: The request signature we calculated does not match/,
		);
		expect(result.message).not.toContain(secret);
	});

	it('an unknown access key says Amazon does not know it in this environment', async () => {
		const result = await test({ accessKeyId: 'AKIAUNKNOWNKEY000000' });
		expect(result).toEqual({
			status: 'Error',
			message: expect.stringMatching(
				/^Amazon does not know this Access Key ID in this environment: .*\(Amazon: The security token included in the request is invalid\.\)$/,
			),
		});
	});

	it('a wrong region says the region does not match the endpoint', async () => {
		const result = await test({ region: 'eu' });
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(
			/^The credential's Region does not match this endpoint: na for US\/CA\/MX/,
		);
		expect(result.message).toContain(
			"Credential should be scoped to a valid region, not 'eu-west-1'",
		);
	});

	it('a wrong partner id says the keys work but the partner id does not match them', async () => {
		const result = await test({ partnerId: 'Bwssb' });
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(
			/^The keys work, but Amazon refused partner Bwssb: .*Check the Partner ID matches these keys\./,
		);
	});

	it('a malformed partner id is caught without calling Amazon', async () => {
		const result = await test({ partnerId: 'awssb' });
		expect(result).toEqual({
			status: 'Error',
			message: expect.stringMatching(
				/^The Partner ID must be 5 letters or digits starting with an upper-case letter/,
			),
		});
		expect(sandbox().stats().requests).toBe(0);
	});

	it('an unreachable endpoint says it could not be reached and what to check', async () => {
		const endpoint = await closedPortUrl();
		const result = await test({ endpoint });
		expect(result).toEqual({
			status: 'Error',
			message: `Could not reach ${endpoint} (custom, region na): connection error ECONNREFUSED. Check the environment, region and endpoint, and that this machine can reach it.`,
		});
	});

	it('an endpoint that is not AGCOD is named as such', async () => {
		const server = http.createServer((_request, response) => {
			response.writeHead(404, { 'content-type': 'text/html' });
			response.end('<html><body>Not here</body></html>');
		});
		const { url: endpoint, stop } = await listenLocally(server);
		try {
			const result = await test({ endpoint });
			expect(result.status).toBe('Error');
			expect(result.message).toMatch(
				/^Unexpected answer from .*HTTP 404.*Is the endpoint an AGCOD endpoint\?$/,
			);
		} finally {
			await stop();
		}
	});

	it('a custom endpoint may not be an Amazon production host', async () => {
		const result = await test({ endpoint: 'https://agcod-v2-eu.amazon.com' });
		expect(result).toEqual({
			status: 'Error',
			message:
				'The custom Endpoint points at an Amazon production host; choose the Production environment instead',
		});
	});
});

describe('credential test against a sandbox that answers like Amazon’s (funds always 0)', () => {
	const sandbox = useSandbox({ amazonLikeFunds: true });

	it('reports 0 funds as a success', async () => {
		const result = await testCredential(node, credentialType, endpointCredential(sandbox()));
		expect(result).toEqual({
			status: 'OK',
			message: expect.stringMatching(/available funds 0 USD$/),
		});
	});
});

describe('a credential the node cannot use fails the run before anything is sent, naming the field', () => {
	const sandbox = useSandbox();

	it.each([
		[{ partnerId: 'toolong' }, 'partnerId'],
		[{ accessKeyId: '' }, 'accessKeyId'],
		[{ endpoint: 'not a url' }, 'endpoint'],
		[{ endpoint: 'https://agcod-v2.amazon.com' }, 'endpoint'],
	])('%j → fix "%s"', async (overrides, field) => {
		const result = await runAgainst(
			sandbox(),
			createParameters(),
			[{ key: uniqueKey('k'), amount: 5 }],
			{
				credential: overrides,
			},
		);
		const error = operationErrorOf(result);
		expect(error.message).toMatch(/^Amazon Incentives credential: /);
		expect(error.description).toBe(`Fix the "${field}" field of the credential.`);
		expect(sandbox().stats().requests).toBe(0);
	});
});

describe('a custom HTTPS endpoint with a self-signed certificate', () => {
	const sandbox = useSandbox({ https: true });

	it('is refused at once, not retried, unless Ignore SSL Issues is on', async () => {
		const refused = await runAgainst(sandbox(), createParameters(), [
			{ key: uniqueKey('tls'), amount: 5 },
		]);
		expect(refused.status).toBe('error');
		expect(refused.error?.message).toMatch(
			/^Item 0: the endpoint's TLS certificate is not trusted: TLS certificate not trusted \([A-Z_]*CERT/,
		);
		expect((refused.error as { description?: string }).description).toMatch(/Ignore SSL Issues/);
		expect(sandbox().stats().requests).toBe(0);

		const accepted = await runAgainst(
			sandbox(),
			createParameters(),
			[{ key: uniqueKey('tls'), amount: 5 }],
			{
				credential: { ignoreSslIssues: true },
			},
		);
		expect(accepted.status).toBe('success');
		expect(sandbox().stats().cardsIssued).toBe(1);
	});

	it('the credential test names Ignore SSL Issues when the certificate is not trusted', async () => {
		const result = await testCredential(node, credentialType, endpointCredential(sandbox()));
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/^TLS certificate not trusted \([A-Z_]*CERT.*Ignore SSL Issues/);
	});

	it('the credential test passes with Ignore SSL Issues on', async () => {
		const result = await testCredential(
			node,
			credentialType,
			endpointCredential(sandbox(), { ignoreSslIssues: true }),
		);
		expect(result).toEqual({
			status: 'OK',
			message: expect.stringMatching(
				/^Connected to https:\/\/127\.0\.0\.1:\d+ \(custom, region na\)/,
			),
		});
	});
});
