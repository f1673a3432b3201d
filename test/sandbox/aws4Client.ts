/**
 * A minimal AGCOD client signed with plain `aws4` (not the node's code): what the sandbox's own
 * tests, benchmarks and ad-hoc scripts use to talk to it like any outside caller would.
 */
import aws4 from 'aws4';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

interface SandboxCallOptions {
	credentials: { accessKeyId: string; secretAccessKey: string };
	/** The SigV4 region to sign for (the sandbox's signingRegion). */
	region: string;
	/** Default 'json'. XML bodies must be passed as strings. */
	format?: 'json' | 'xml';
	/** Extra or overriding headers, signed along (e.g. a fixed `x-amz-date`). */
	headers?: Record<string, string>;
	/** Default com.amazonaws.agcod.AGCODService.<operation>. */
	target?: string;
	/** Service name to sign for. Default AGCODService. */
	service?: string;
	/** Trust anchor for an https sandbox. */
	ca?: string;
	timeoutMs?: number;
	agent?: HttpAgent | HttpsAgent;
	/** Skip signing entirely (to test the missing-Authorization case). */
	unsigned?: boolean;
	/** Change the body after signing (to test tampering). */
	bodyAfterSigning?: string;
}

export interface SandboxCallResult {
	httpStatus: number;
	headers: IncomingHttpHeaders;
	text: string;
	/** The parsed body when it is JSON. */
	// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any JSON answer; tests read it freely
	json: any;
}

export class SandboxCallTimeout extends Error {
	constructor(ms: number) {
		super(`no response within ${ms} ms`);
		this.name = 'SandboxCallTimeout';
	}
}

export function callSandbox(
	baseUrl: string,
	operation: string,
	body: unknown,
	options: SandboxCallOptions,
): Promise<SandboxCallResult> {
	const url = new URL(baseUrl);
	const format = options.format ?? 'json';
	const payload = typeof body === 'string' ? body : JSON.stringify(body);
	const request: aws4.Request = {
		host: url.host,
		path: `/${operation}`,
		method: 'POST',
		service: options.service ?? 'AGCODService',
		region: options.region,
		body: payload,
		headers: {
			accept: format === 'xml' ? 'application/xml' : 'application/json',
			'content-type': format === 'xml' ? 'application/xml' : 'application/json',
			'x-amz-target': options.target ?? `com.amazonaws.agcod.AGCODService.${operation}`,
			...options.headers,
		},
	};
	if (!options.unsigned) aws4.sign(request, options.credentials);
	const finalBody = options.bodyAfterSigning ?? payload;
	const headers = { ...(request.headers as Record<string, string>) };
	headers['content-length'] = String(Buffer.byteLength(finalBody));
	const isHttps = url.protocol === 'https:';
	const send = isHttps ? httpsRequest : httpRequest;
	return new Promise((resolve, reject) => {
		const req = send(
			{
				protocol: url.protocol,
				hostname: url.hostname,
				port: url.port,
				path: `/${operation}`,
				method: 'POST',
				headers,
				agent: options.agent,
				...(isHttps ? { ca: options.ca } : {}),
			},
			(res) => {
				const chunks: Buffer[] = [];
				res.on('data', (chunk: Buffer) => chunks.push(chunk));
				res.on('error', reject);
				res.on('end', () => {
					clearTimeout(timer);
					const text = Buffer.concat(chunks).toString('utf8');
					let json: unknown;
					try {
						json = JSON.parse(text);
					} catch {
						json = undefined;
					}
					resolve({ httpStatus: res.statusCode ?? 0, headers: res.headers, text, json });
				});
			},
		);
		const timeoutMs = options.timeoutMs ?? 10000;
		const timer = setTimeout(() => req.destroy(new SandboxCallTimeout(timeoutMs)), timeoutMs);
		req.on('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
		req.end(finalBody);
	});
}

/** A caller bound to a running sandbox, its first partner's keys and its signing region. */
export function clientFor(sandbox: {
	url: string;
	signingRegion: string;
	partner: { accessKeyId: string; secretAccessKey: string };
	caCertPem?: string;
}) {
	return (operation: string, body: unknown, options: Partial<SandboxCallOptions> = {}) =>
		callSandbox(sandbox.url, operation, body, {
			credentials: sandbox.partner,
			region: sandbox.signingRegion,
			ca: sandbox.caCertPem,
			...options,
		});
}
