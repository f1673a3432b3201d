/**
 * A forward proxy for tests, as a corporate egress proxy behaves: HTTPS through `CONNECT host:port`
 * tunnels, plain HTTP as absolute-form requests (`POST http://host:port/path`). It records every
 * request it handles, so a test can prove a call went through it, and it can resolve host names
 * that nothing else can (`hosts`): an endpoint such as `https://agcod.invalid:8443` is then
 * reachable only through the proxy, and a single direct call fails with ENOTFOUND.
 *
 * Optional Basic proxy authentication (`credentials`) answers 407 to requests without the right
 * Proxy-Authorization header, like Squid or tinyproxy with BasicAuth.
 */
import * as http from 'node:http';
import * as net from 'node:net';

interface ProxiedRequest {
	/** 'CONNECT' for a tunnel, else the HTTP method of a plain request. */
	method: string;
	/** `host:port` for CONNECT, the absolute URL for a plain request. */
	target: string;
	/** The proxy answered: 200 for an established tunnel, the upstream status, or its own error. */
	status: number;
	/** Whether a Proxy-Authorization header came with it (never its value). */
	authenticated: boolean;
}

interface ForwardProxyOptions {
	/** Port to listen on (default: any free port), always on 127.0.0.1. */
	port?: number;
	/** Names only this proxy resolves, e.g. `{ 'agcod.invalid': '127.0.0.1' }`. */
	hosts?: Record<string, string>;
	/** Require Basic proxy authentication with these credentials. */
	credentials?: { username: string; password: string };
}

export interface RunningForwardProxy {
	/** e.g. `http://127.0.0.1:40123` (without credentials). */
	url: string;
	port: number;
	/** `url` with the configured credentials in it, as HTTPS_PROXY takes them. */
	urlWithCredentials: string;
	requests(): ProxiedRequest[];
	reset(): void;
	/** Closes the listener and every tunnel and connection. */
	stop(): Promise<void>;
}

const HOP_BY_HOP_HEADERS = new Set([
	'connection',
	'keep-alive',
	'proxy-authorization',
	'proxy-connection',
	'te',
	'trailer',
	'transfer-encoding',
	'upgrade',
]);

function splitHostPort(authority: string): { host: string; port: number } | undefined {
	const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(authority);
	if (!match) return undefined;
	return { host: match[1], port: Number(match[2]) };
}

export async function startForwardProxy(
	options: ForwardProxyOptions = {},
): Promise<RunningForwardProxy> {
	const recorded: ProxiedRequest[] = [];
	const sockets = new Set<net.Socket>();
	const hosts = options.hosts ?? {};
	const expectedAuthorization = options.credentials
		? `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`
		: undefined;
	const resolveHost = (host: string) => hosts[host.toLowerCase()] ?? host;
	const authorised = (headers: http.IncomingHttpHeaders) =>
		expectedAuthorization === undefined || headers['proxy-authorization'] === expectedAuthorization;
	const track = (socket: net.Socket) => {
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
		// A peer resetting a tunnel is normal; it must not crash the test process.
		socket.on('error', () => socket.destroy());
	};

	const server = http.createServer((request, response) => {
		const record: ProxiedRequest = {
			method: request.method ?? 'GET',
			target: request.url ?? '',
			status: 0,
			authenticated: request.headers['proxy-authorization'] !== undefined,
		};
		recorded.push(record);
		const answer = (status: number, text: string, headers: http.OutgoingHttpHeaders = {}) => {
			record.status = status;
			response.writeHead(status, { 'content-type': 'text/plain', ...headers });
			response.end(text);
		};
		if (!authorised(request.headers)) {
			answer(407, 'Proxy authentication required', {
				'proxy-authenticate': 'Basic realm="test proxy"',
			});
			return;
		}
		let target: URL;
		try {
			// A forward proxy only takes absolute-form request targets.
			target = new URL(request.url ?? '');
			if (target.protocol !== 'http:') throw new Error('not http');
		} catch {
			answer(400, 'A forward proxy needs an absolute http:// request target');
			return;
		}
		const headers: http.OutgoingHttpHeaders = {};
		for (const [name, value] of Object.entries(request.headers)) {
			if (!HOP_BY_HOP_HEADERS.has(name)) headers[name] = value;
		}
		const upstream = http.request(
			{
				host: resolveHost(target.hostname.replace(/^\[|\]$/g, '')),
				port: target.port || 80,
				method: request.method,
				path: `${target.pathname}${target.search}`,
				headers,
			},
			(upstreamResponse) => {
				record.status = upstreamResponse.statusCode ?? 0;
				const responseHeaders: http.OutgoingHttpHeaders = {};
				for (const [name, value] of Object.entries(upstreamResponse.headers)) {
					if (!HOP_BY_HOP_HEADERS.has(name)) responseHeaders[name] = value;
				}
				response.writeHead(upstreamResponse.statusCode ?? 502, responseHeaders);
				upstreamResponse.pipe(response);
			},
		);
		upstream.on('error', () => {
			if (!response.headersSent) answer(502, 'Bad gateway');
			else response.destroy();
		});
		request.pipe(upstream);
	});

	server.on('connection', track);

	server.on('connect', (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
		const record: ProxiedRequest = {
			method: 'CONNECT',
			target: request.url ?? '',
			status: 0,
			authenticated: request.headers['proxy-authorization'] !== undefined,
		};
		recorded.push(record);
		const refuse = (status: number, reason: string, extra = '') => {
			record.status = status;
			client.end(`HTTP/1.1 ${status} ${reason}\r\n${extra}Content-Length: 0\r\n\r\n`);
		};
		if (!authorised(request.headers)) {
			refuse(
				407,
				'Proxy Authentication Required',
				'Proxy-Authenticate: Basic realm="test proxy"\r\n',
			);
			return;
		}
		const authority = splitHostPort(request.url ?? '');
		if (!authority) {
			refuse(400, 'Bad Request');
			return;
		}
		const upstream = net.connect(authority.port, resolveHost(authority.host));
		track(upstream);
		upstream.once('connect', () => {
			record.status = 200;
			client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
			if (head.length > 0) upstream.write(head);
			upstream.pipe(client);
			client.pipe(upstream);
		});
		upstream.once('error', () => {
			if (record.status === 0) refuse(502, 'Bad Gateway');
			else client.destroy();
		});
		client.once('close', () => upstream.destroy());
	});

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
	});
	const port = (server.address() as net.AddressInfo).port;
	const url = `http://127.0.0.1:${port}`;
	const credentials = options.credentials;
	return {
		url,
		port,
		urlWithCredentials: credentials
			? `http://${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`
			: url,
		requests: () => recorded.map((entry) => ({ ...entry })),
		reset: () => {
			recorded.length = 0;
		},
		stop: async () => {
			for (const socket of sockets) socket.destroy();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
