/**
 * The node's own HTTP transport: node:http(s) with keep-alive agents, and n8n's proxy rules.
 *
 * Why not `this.helpers.httpRequestWithAuthentication` (n8n's request helpers, signing with the credential's
 * authenticate()): decided on purpose, measured with `npm run bench` on 2026-12-02, each run alone on the
 * same 2-core VM (CPU per item, median of 7: node's execute() in a minimal execute context ÷ the bare aws4 +
 * node:http loop of the same run):
 * - own transport (commit 9ec0eb3): 0.997 of the rate limit, 0 failures, CPU 1.48× (897 µs, bare 605 µs;
 *   through WorkflowExecute 2.25×), within the 1.5× target;
 * - through httpRequestWithAuthentication (n8n-core 2.40.3's helper, same limiter and retries; throwaway
 *   branch 1a5a9a6, AGCOD_TRANSPORT=helpers): 0.999 of the limit, 0 failures, but CPU 3.03× (2282 µs, bare
 *   754 µs; through WorkflowExecute 3.55×), twice the target: every call re-reads the credential and goes
 *   through n8n's axios pipeline.
 * - The retry and idempotency rules need the raw outcome of each attempt: refused (nothing sent) vs reset or
 *   timed out (maybe committed), the HTTP status and the body as sent. The helpers wrap these in a
 *   NodeApiError whose shape differs between n8n 1.x (n8n-core's axios helpers) and 2.x (@n8n/backend-network).
 * - The credential test context has no httpRequestWithAuthentication (only the legacy `request`).
 * Proxies are honoured as n8n honours them, with the libraries n8n uses (proxy-from-env, https-proxy-agent,
 * http-proxy-agent). n8n 2.x's SSRF policy (off by default) applies to its helpers, not here: the node calls
 * only Amazon's fixed hosts or the credential's custom endpoint.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';

import { MAX_RESPONSE_BYTES } from '../defaults';
import type { AgcodConnection } from './connection';
import type { AttemptOutcome } from './errors';

/** An answer as it came off the wire, not yet read as AGCOD. */
interface RawResponse {
	statusCode: number;
	contentType: string | undefined;
	/** The `x-amzn-ErrorType` header, which AWS front ends use to name an error such as a throttle. */
	errorTypeHeader: string | undefined;
	body: string;
	/** The proxy it came through (describeProxy), if any: a proxy may answer in Amazon's place. */
	proxy?: string;
}

/** Why there is no answer. */
type TransportFailure = Extract<AttemptOutcome, { kind: 'timeout' | 'connection' | 'tls' }>;

/** Where a POST goes and whether a self-signed certificate is accepted there. */
type Target = Pick<AgcodConnection, 'baseUrl' | 'allowUnauthorizedCerts'>;

/**
 * The forward proxy for this endpoint, as n8n picks it: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY
 * (either case, read on every call) through proxy-from-env, the library n8n's own request helpers use.
 */
function proxyFor(baseUrl: URL): URL | undefined {
	const proxy = getProxyForUrl(baseUrl.href);
	return proxy && URL.canParse(proxy) ? new URL(proxy) : undefined;
}

/** A proxy as messages and logs name it: scheme, host and port, never its user name or password. */
function describeProxy(proxy: URL): string {
	return `${proxy.protocol}//${proxy.host}`;
}

const agents = new Map<string, http.Agent>();

/**
 * One keep-alive agent per origin, certificate policy and proxy, shared by every call of the process. Through
 * a proxy: CONNECT tunnels for https endpoints, absolute-form requests for http ones (the agents n8n uses).
 */
function agentFor(target: Target, proxy: URL | undefined): http.Agent {
	const key = `${target.baseUrl.origin}|${target.allowUnauthorizedCerts}|${proxy?.href ?? ''}`;
	let agent = agents.get(key);
	if (!agent) {
		const options = { keepAlive: true, maxSockets: 64 };
		const secure = target.baseUrl.protocol === 'https:';
		if (proxy)
			agent = secure ? new HttpsProxyAgent(proxy, options) : new HttpProxyAgent(proxy, options);
		else
			agent = secure
				? new https.Agent({ ...options, rejectUnauthorized: !target.allowUnauthorizedCerts })
				: new http.Agent(options);
		agents.set(key, agent);
	}
	return agent;
}

/**
 * Sends one signed POST. Resolves with the answer or with why there is none; it never rejects. `timeoutMs`
 * covers connect to last byte; answers over MAX_RESPONSE_BYTES are discarded.
 */
export function post(
	target: Target,
	path: string,
	headers: Record<string, string>,
	body: string,
	timeoutMs: number,
): Promise<RawResponse | TransportFailure> {
	const { baseUrl } = target;
	const secure = baseUrl.protocol === 'https:';
	const client = secure ? https : http;
	const proxy = proxyFor(baseUrl);
	const via = proxy ? ` via proxy ${describeProxy(proxy)}` : '';
	return new Promise((resolve) => {
		let settled = false;
		const fail = (failure: TransportFailure) => {
			if (settled) return;
			settled = true;
			clearTimeout(timer);
			resolve(failure);
		};
		const request = client.request(
			{
				hostname: baseUrl.hostname.replace(/^\[|\]$/g, ''),
				port: baseUrl.port || (secure ? 443 : 80),
				path,
				method: 'POST',
				headers,
				agent: agentFor(target, proxy),
				// Inside a proxy tunnel the endpoint's TLS is set up per request, so the policy goes here too.
				...(secure ? { rejectUnauthorized: !target.allowUnauthorizedCerts } : {}),
			},
			(response) => {
				const chunks: Buffer[] = [];
				let size = 0;
				response.on('data', (chunk: Buffer) => {
					size += chunk.length;
					if (size > MAX_RESPONSE_BYTES) {
						request.destroy();
						fail({
							kind: 'connection',
							message: `answer larger than ${MAX_RESPONSE_BYTES / (1024 * 1024)} MB, discarded`,
						});
					} else chunks.push(chunk);
				});
				const lost = () =>
					fail({
						kind: 'connection',
						code: 'ECONNRESET',
						message: 'connection lost while reading the answer',
					});
				response.on('error', lost);
				response.on('end', () => {
					if (!response.complete) {
						lost();
						return;
					}
					if (settled) return;
					settled = true;
					clearTimeout(timer);
					resolve({
						statusCode: response.statusCode ?? 0,
						contentType: response.headers['content-type'],
						errorTypeHeader: headerText(response.headers['x-amzn-errortype']),
						body: Buffer.concat(chunks).toString('utf8'),
						...(proxy ? { proxy: describeProxy(proxy) } : {}),
					});
				});
			},
		);
		const timer = setTimeout(() => {
			fail({ kind: 'timeout', message: `no complete answer within ${timeoutMs / 1000} s${via}` });
			request.destroy();
		}, timeoutMs);
		request.on('error', (error: NodeJS.ErrnoException) => {
			const code = error.code ?? 'ECONNRESET';
			// A certificate the client will not trust is not transient: re-sending cannot fix it.
			if (/CERT|SELF_SIGNED|TLS|SSL/i.test(code))
				fail({ kind: 'tls', code, message: `TLS certificate not trusted (${code})${via}` });
			else fail({ kind: 'connection', code, message: `connection error ${code}${via}` });
		});
		request.end(body);
	});
}

function headerText(value: string | string[] | undefined): string | undefined {
	return Array.isArray(value) ? value.join(', ') : value;
}
