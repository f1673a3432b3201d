import * as http from 'node:http';
import * as https from 'node:https';

import { MAX_RESPONSE_BYTES } from '../defaults';
import type { AgcodConnection } from './connection';
import type { AttemptOutcome } from './errors';

/** An answer as it came off the wire, not yet read as AGCOD. */
export interface RawResponse {
	statusCode: number;
	contentType: string | undefined;
	/** The `x-amzn-ErrorType` header, which AWS front ends use to name an error such as a throttle. */
	errorTypeHeader: string | undefined;
	body: string;
}

/** Why there is no answer. */
export type TransportFailure = Extract<AttemptOutcome, { kind: 'timeout' | 'connection' | 'tls' }>;

/** Where a POST goes and whether a self-signed certificate is accepted there. */
type Target = Pick<AgcodConnection, 'baseUrl' | 'allowUnauthorizedCerts'>;

const agents = new Map<string, http.Agent>();

/** One keep-alive agent per origin and certificate policy, shared by every call of the process. */
function agentFor(target: Target): http.Agent {
	const key = `${target.baseUrl.origin}|${target.allowUnauthorizedCerts}`;
	let agent = agents.get(key);
	if (!agent) {
		const options = { keepAlive: true, maxSockets: 64 };
		agent =
			target.baseUrl.protocol === 'https:'
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
	const client = baseUrl.protocol === 'https:' ? https : http;
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
				port: baseUrl.port || undefined,
				path,
				method: 'POST',
				headers,
				agent: agentFor(target),
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
				response.on('error', () =>
					fail({
						kind: 'connection',
						code: 'ECONNRESET',
						message: 'connection lost while reading the answer',
					}),
				);
				response.on('end', () => {
					if (!response.complete) {
						fail({
							kind: 'connection',
							code: 'ECONNRESET',
							message: 'connection lost while reading the answer',
						});
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
					});
				});
			},
		);
		const timer = setTimeout(() => {
			fail({ kind: 'timeout', message: `no complete answer within ${timeoutMs / 1000} s` });
			request.destroy();
		}, timeoutMs);
		request.on('error', (error: NodeJS.ErrnoException) => {
			const code = error.code ?? 'ECONNRESET';
			// A certificate the client will not trust is not transient: re-sending cannot fix it.
			if (/CERT|SELF_SIGNED|TLS|SSL/i.test(code))
				fail({ kind: 'tls', code, message: `TLS certificate not trusted (${code})` });
			else fail({ kind: 'connection', code, message: `connection error ${code}` });
		});
		request.end(body);
	});
}

function headerText(value: string | string[] | undefined): string | undefined {
	return Array.isArray(value) ? value.join(', ') : value;
}
