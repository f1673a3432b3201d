/**
 * The test forward proxy itself, driven with raw node:http/tls (not the agents the node uses), so a
 * bug in the node's proxy support cannot hide behind a matching bug here.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import * as tls from 'node:tls';

import { createSelfSignedCertificate } from '../sandbox/certificate';
import { type RunningForwardProxy, startForwardProxy } from './forwardProxy';

interface Answer {
	status: number;
	body: string;
}

async function listen(server: http.Server | https.Server): Promise<number> {
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
	return (server.address() as net.AddressInfo).port;
}

/** CONNECT through the proxy, then one HTTPS request inside the tunnel. */
async function throughTunnel(
	proxy: RunningForwardProxy,
	authority: string,
	headers: http.OutgoingHttpHeaders = {},
): Promise<Answer> {
	const connectAnswer = await new Promise<{ status: number; socket?: net.Socket }>(
		(resolve, reject) => {
			const request = http.request({
				host: '127.0.0.1',
				port: proxy.port,
				method: 'CONNECT',
				path: authority,
				headers: { host: authority, ...headers },
			});
			request.on('connect', (response, socket) =>
				resolve({ status: response.statusCode ?? 0, socket }),
			);
			request.on('error', reject);
			request.end();
		},
	);
	if (connectAnswer.status !== 200 || !connectAnswer.socket) {
		connectAnswer.socket?.destroy();
		return { status: connectAnswer.status, body: '' };
	}
	const secure = tls.connect({ socket: connectAnswer.socket, rejectUnauthorized: false });
	return await new Promise<Answer>((resolve, reject) => {
		const request = https.request(
			{
				createConnection: () => secure,
				host: authority.split(':')[0],
				path: '/hello',
				method: 'GET',
			},
			(response) => {
				let body = '';
				response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
				response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
			},
		);
		request.on('error', reject);
		request.end();
	});
}

async function plainThroughProxy(
	proxy: RunningForwardProxy,
	url: string,
	headers: http.OutgoingHttpHeaders = {},
): Promise<Answer> {
	return await new Promise<Answer>((resolve, reject) => {
		const request = http.request(
			{
				host: '127.0.0.1',
				port: proxy.port,
				method: 'POST',
				path: url,
				// As a proxy client sends it: the target's authority, not the proxy's.
				headers: { host: new URL(url, 'http://invalid').host, ...headers },
			},
			(response) => {
				let body = '';
				response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
				response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
			},
		);
		request.on('error', reject);
		request.end('ping');
	});
}

describe('the test forward proxy', () => {
	let proxy: RunningForwardProxy;
	let httpsServer: https.Server;
	let httpServer: http.Server;
	let httpsPort: number;
	let httpPort: number;

	beforeAll(async () => {
		const certificate = createSelfSignedCertificate(['127.0.0.1', 'agcod.invalid']);
		httpsServer = https.createServer(
			{ key: certificate.keyPem, cert: certificate.certPem },
			(request, response) => response.end(`secure ${request.url}`),
		);
		httpServer = http.createServer((request, response) => {
			let body = '';
			request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
			request.on('end', () =>
				response.end(`${request.method} ${request.url} ${body} via=${request.headers.host}`),
			);
		});
		httpsPort = await listen(httpsServer);
		httpPort = await listen(httpServer);
		proxy = await startForwardProxy({ hosts: { 'agcod.invalid': '127.0.0.1' } });
	});

	afterAll(async () => {
		await proxy.stop();
		httpsServer.close();
		httpServer.close();
	});

	beforeEach(() => proxy.reset());

	it('tunnels HTTPS with CONNECT and records the target', async () => {
		await expect(throughTunnel(proxy, `127.0.0.1:${httpsPort}`)).resolves.toEqual({
			status: 200,
			body: 'secure /hello',
		});
		expect(proxy.requests()).toEqual([
			{ method: 'CONNECT', target: `127.0.0.1:${httpsPort}`, status: 200, authenticated: false },
		]);
	});

	it('resolves names only it knows, so such an endpoint is reachable through it alone', async () => {
		await expect(throughTunnel(proxy, `agcod.invalid:${httpsPort}`)).resolves.toMatchObject({
			status: 200,
		});
		await expect(
			plainThroughProxy(proxy, `http://agcod.invalid:${httpPort}/CreateGiftCard?x=1`),
		).resolves.toEqual({
			status: 200,
			body: `POST /CreateGiftCard?x=1 ping via=agcod.invalid:${httpPort}`,
		});
		expect(proxy.requests().map((entry) => [entry.method, entry.target, entry.status])).toEqual([
			['CONNECT', `agcod.invalid:${httpsPort}`, 200],
			['POST', `http://agcod.invalid:${httpPort}/CreateGiftCard?x=1`, 200],
		]);
	});

	it('answers 502 when the target cannot be reached, and 400 to a request that is not absolute-form', async () => {
		await expect(throughTunnel(proxy, 'unknown-host.invalid:443')).resolves.toEqual({
			status: 502,
			body: '',
		});
		await expect(plainThroughProxy(proxy, '/CreateGiftCard')).resolves.toMatchObject({
			status: 400,
		});
	});

	it('requires Basic proxy authentication when configured, and never records the secret', async () => {
		const guarded = await startForwardProxy({
			credentials: { username: 'egress', password: 'proxy-s3cret' },
		});
		try {
			expect(guarded.urlWithCredentials).toBe(
				`http://egress:proxy-s3cret@127.0.0.1:${guarded.port}`,
			);
			await expect(throughTunnel(guarded, `127.0.0.1:${httpsPort}`)).resolves.toEqual({
				status: 407,
				body: '',
			});
			const authorization = `Basic ${Buffer.from('egress:proxy-s3cret').toString('base64')}`;
			await expect(
				throughTunnel(guarded, `127.0.0.1:${httpsPort}`, { 'proxy-authorization': authorization }),
			).resolves.toEqual({ status: 200, body: 'secure /hello' });
			await expect(
				plainThroughProxy(guarded, `http://127.0.0.1:${httpPort}/x`, {
					'proxy-authorization': 'Basic d3Jvbmc6d3Jvbmc=',
				}),
			).resolves.toMatchObject({ status: 407 });
			expect(guarded.requests()).toEqual([
				{ method: 'CONNECT', target: `127.0.0.1:${httpsPort}`, status: 407, authenticated: false },
				{ method: 'CONNECT', target: `127.0.0.1:${httpsPort}`, status: 200, authenticated: true },
				{
					method: 'POST',
					target: `http://127.0.0.1:${httpPort}/x`,
					status: 407,
					authenticated: true,
				},
			]);
			expect(JSON.stringify(guarded.requests())).not.toContain('s3cret');
		} finally {
			await guarded.stop();
		}
	});
});
