/**
 * Where requests may go: production only to Amazon's fixed https hosts, and a custom endpoint never to an
 * Amazon production host (however the URL is spelled), so the production environment cannot be bypassed.
 */
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import {
	type AgcodConnection,
	ENDPOINTS,
	readConnection,
} from '../../nodes/AmazonIncentives/transport/connection';

const SECRET = 'readConnection/Secret+Key/0123456789abcdefghijkl';

function credential(change: ICredentialDataDecryptedObject): ICredentialDataDecryptedObject {
	return {
		partnerId: 'Awssb',
		accessKeyId: 'AKIAREADCONNECTION01',
		secretAccessKey: SECRET,
		region: 'na',
		environment: 'sandbox',
		...change,
	};
}

function connectionOf(data: ICredentialDataDecryptedObject): AgcodConnection {
	const read = readConnection(data);
	if ('problem' in read) throw new Error(`unexpected problem: ${read.problem.message}`);
	return read.connection;
}

const AMAZON_PRODUCTION_HOSTS = [
	'agcod-v2.amazon.com',
	'agcod-v2-eu.amazon.com',
	'agcod-v2-fe.amazon.com',
];

describe('production and sandbox environments use only Amazon https hosts', () => {
	it.each([
		['na', 'https://agcod-v2.amazon.com', 'us-east-1'],
		['eu', 'https://agcod-v2-eu.amazon.com', 'eu-west-1'],
		['fe', 'https://agcod-v2-fe.amazon.com', 'us-west-2'],
	])('production, region %s → %s (signing region %s)', (region, origin, signingRegion) => {
		const connection = connectionOf(credential({ region, environment: 'production' }));
		expect(connection.baseUrl.origin).toBe(origin);
		expect(connection.baseUrl.protocol).toBe('https:');
		expect(connection.signingRegion).toBe(signingRegion);
		expect(AMAZON_PRODUCTION_HOSTS).toContain(connection.baseUrl.hostname);
	});

	it('every production and sandbox URL in the endpoint table is https on an amazon.com host', () => {
		for (const urls of Object.values(ENDPOINTS))
			for (const url of [urls.production, urls.sandbox]) {
				const parsed = new URL(url);
				expect(parsed.protocol).toBe('https:');
				expect(parsed.hostname).toMatch(/^agcod-v2(-eu|-fe)?(-gamma)?\.amazon\.com$/);
				expect(parsed.port).toBe('');
			}
	});

	it.each(['production', 'sandbox'])(
		'%s ignores the endpoint field and the ignore-SSL switch',
		(environment) => {
			const connection = connectionOf(
				credential({
					environment,
					endpoint: 'http://attacker.example:8080',
					ignoreSslIssues: true,
				}),
			);
			expect(connection.baseUrl.href).toBe(
				`${ENDPOINTS.na[environment as 'production' | 'sandbox']}/`,
			);
			expect(connection.allowUnauthorizedCerts).toBe(false);
		},
	);

	it('no environment means the sandbox, never production', () => {
		const { environment: _unset, ...withoutEnvironment } = credential({});
		const connection = connectionOf(withoutEnvironment);
		expect(connection.environment).toBe('sandbox');
		expect(connection.baseUrl.origin).toBe('https://agcod-v2-gamma.amazon.com');
	});

	it('an unknown environment is refused', () => {
		expect(readConnection(credential({ environment: 'prod' }))).toEqual({
			problem: {
				field: 'environment',
				message: expect.stringMatching(/sandbox, production or custom/),
			},
		});
	});
});

describe('a custom endpoint is never an Amazon production host', () => {
	it.each([
		'https://agcod-v2.amazon.com',
		'http://agcod-v2.amazon.com',
		'https://AGCOD-V2.Amazon.COM',
		'https://agcod-v2.amazon.com:443',
		'https://agcod-v2.amazon.com/some/path',
		'https://user:password@agcod-v2-fe.amazon.com',
		'https://agcod-v2-eu.amazon.com',
		// The fully qualified spelling (trailing dot) resolves to the same host.
		'https://agcod-v2.amazon.com.',
		'https://agcod-v2-eu.amazon.com./CreateGiftCard',
		// Another port on Amazon's production host is still Amazon's production host.
		'https://agcod-v2.amazon.com:8443',
		'http://agcod-v2-fe.amazon.com:80',
	])('%s is refused, naming the endpoint field', (endpoint) => {
		const read = readConnection(credential({ environment: 'custom', endpoint }));
		expect(read).toEqual({
			problem: {
				field: 'endpoint',
				message:
					'The custom Endpoint points at an Amazon production host; choose the Production environment instead',
			},
		});
	});

	it.each(['file:///etc/passwd', 'ftp://127.0.0.1/', 'javascript:alert(1)', 'not a url', ''])(
		'%j is refused',
		(endpoint) => {
			const read = readConnection(credential({ environment: 'custom', endpoint }));
			expect('problem' in read && read.problem.field).toBe('endpoint');
		},
	);

	it('a local sandbox URL is accepted, and ignore-SSL applies only there', () => {
		const plain = connectionOf(
			credential({ environment: 'custom', endpoint: 'http://127.0.0.1:8089' }),
		);
		expect(plain.baseUrl.origin).toBe('http://127.0.0.1:8089');
		expect(plain.allowUnauthorizedCerts).toBe(false);
		const selfSigned = connectionOf(
			credential({
				environment: 'custom',
				endpoint: 'https://localhost:8443',
				ignoreSslIssues: true,
			}),
		);
		expect(selfSigned.allowUnauthorizedCerts).toBe(true);
	});

	it('the sandbox hosts are not production hosts, so they stay usable as custom endpoints', () => {
		const connection = connectionOf(
			credential({ environment: 'custom', endpoint: 'https://agcod-v2-gamma.amazon.com' }),
		);
		expect(connection.environment).toBe('custom');
	});

	it('no credential problem message repeats the secret key', () => {
		const problems = [
			credential({ partnerId: 'bad' }),
			credential({ accessKeyId: '' }),
			credential({ region: 'moon' }),
			credential({ environment: 'custom', endpoint: SECRET }),
			credential({
				environment: 'custom',
				endpoint: `https://key:${encodeURIComponent(SECRET)}@agcod-v2.amazon.com`,
			}),
		].map((data) => readConnection(data));
		for (const read of problems) {
			expect('problem' in read).toBe(true);
			expect(JSON.stringify(read)).not.toContain(SECRET);
		}
	});
});
