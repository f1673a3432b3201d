import * as http from 'node:http';
import * as https from 'node:https';
import aws4 from 'aws4';
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import { partnerIdProblem, REGION_GROUPS, type RegionGroup } from '../validation';
import {
	type AgcodOperation,
	type BodyFormat,
	type JsonObject,
	contentTypeFor,
	encodeBody,
} from './codec';
import {
	type AttemptOutcome,
	classifyResponse,
	isAmbiguous,
	isRetryable,
	redactSecrets,
} from './errors';
import { rateLimiterFor } from './rateLimiter';

export type Environment = 'sandbox' | 'production' | 'custom';

export const ENDPOINTS: Readonly<
	Record<RegionGroup, { sandbox: string; production: string; signingRegion: string }>
> = {
	na: {
		sandbox: 'https://agcod-v2-gamma.amazon.com',
		production: 'https://agcod-v2.amazon.com',
		signingRegion: 'us-east-1',
	},
	eu: {
		sandbox: 'https://agcod-v2-eu-gamma.amazon.com',
		production: 'https://agcod-v2-eu.amazon.com',
		signingRegion: 'eu-west-1',
	},
	// The Far East endpoint signs with us-west-2, not an AP region.
	fe: {
		sandbox: 'https://agcod-v2-fe-gamma.amazon.com',
		production: 'https://agcod-v2-fe.amazon.com',
		signingRegion: 'us-west-2',
	},
};

const SERVICE = 'AGCODService';
const TARGET_PREFIX = 'com.amazonaws.agcod.AGCODService.';
const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface AgcodConnection {
	partnerId: string;
	accessKeyId: string;
	secretAccessKey: string;
	region: RegionGroup;
	signingRegion: string;
	environment: Environment;
	baseUrl: URL;
	allowUnauthorizedCerts: boolean;
}

/** Why the credential cannot be used as configured, naming the field to fix. */
export interface ConfigProblem {
	field: string;
	message: string;
}

function problem(field: string, message: string): { problem: ConfigProblem } {
	return { problem: { field, message } };
}

export function readConnection(
	data: ICredentialDataDecryptedObject,
): { connection: AgcodConnection } | { problem: ConfigProblem } {
	const partnerId = typeof data.partnerId === 'string' ? data.partnerId.trim() : data.partnerId;
	const partnerProblem = partnerIdProblem(partnerId);
	if (partnerProblem) return problem('partnerId', partnerProblem);
	const accessKeyId = typeof data.accessKeyId === 'string' ? data.accessKeyId.trim() : '';
	if (!accessKeyId) return problem('accessKeyId', 'The Access Key ID is missing');
	const secretAccessKey =
		typeof data.secretAccessKey === 'string' ? data.secretAccessKey.trim() : '';
	if (!secretAccessKey) return problem('secretAccessKey', 'The Secret Access Key is missing');
	const region = data.region as RegionGroup;
	if (!REGION_GROUPS.includes(region))
		return problem('region', `The Region must be one of ${REGION_GROUPS.join(', ')}`);
	const environment = (data.environment ?? 'sandbox') as Environment;

	let baseUrl: URL;
	if (environment === 'sandbox' || environment === 'production') {
		// Amazon's hosts are fixed here: a custom endpoint can never receive production traffic.
		baseUrl = new URL(ENDPOINTS[region][environment]);
	} else if (environment === 'custom') {
		const endpoint = String(data.endpoint ?? '').trim();
		if (!URL.canParse(endpoint))
			return problem(
				'endpoint',
				'The custom Endpoint must be a full URL such as http://127.0.0.1:8787',
			);
		baseUrl = new URL(endpoint);
		if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:')
			return problem('endpoint', 'The custom Endpoint must start with http:// or https://');
		// By host name alone: any port, and the fully qualified spelling with a trailing dot, is still Amazon.
		const hostname = baseUrl.hostname.replace(/\.+$/, '');
		if (Object.values(ENDPOINTS).some((urls) => new URL(urls.production).hostname === hostname))
			return problem(
				'endpoint',
				'The custom Endpoint points at an Amazon production host; choose the Production environment instead',
			);
	} else {
		return problem('environment', 'The Environment must be sandbox, production or custom');
	}
	return {
		connection: {
			partnerId: partnerId as string,
			accessKeyId,
			secretAccessKey,
			region,
			signingRegion: ENDPOINTS[region].signingRegion,
			environment,
			baseUrl,
			allowUnauthorizedCerts: environment === 'custom' && data.ignoreSslIssues === true,
		},
	};
}

export interface CallOptions {
	format: BodyFormat;
	/** Per attempt, connect to last byte. Amazon recommends 6 s. */
	timeoutMs: number;
	/** Re-sends after the first attempt for RESEND, throttling, timeouts, connection errors, 5xx. */
	maxRetries: number;
	/** Wall-clock limit for all attempts and waits of one call. */
	retryBudgetMs: number;
	requestsPerSecond: number;
	/** First back-off step; doubles per attempt, with jitter. */
	retryBaseDelayMs?: number;
	log?: (message: string, meta: Record<string, unknown>) => void;
}

export interface CallResult {
	data: JsonObject;
	attempts: number;
	/** An activation whose answer was lost was settled with ActivationStatusCheck before it was re-sent. */
	statusChecked: boolean;
}

/**
 * The call did not succeed. `retryable` means Amazon's answer never became final within the budget: the
 * identical request (same request id) may be sent again later and cannot create a duplicate.
 */
export class AgcodCallError extends Error {
	readonly retryable: boolean;

	constructor(
		readonly operation: AgcodOperation,
		readonly requestId: string | undefined,
		readonly outcome: Exclude<AttemptOutcome, { kind: 'success' }>,
		readonly attempts: number,
	) {
		super(outcome.message);
		this.name = 'AgcodCallError';
		this.retryable = isRetryable(outcome.kind);
	}
}

interface RawResponse {
	statusCode: number;
	contentType: string | undefined;
	body: string;
}

const agents = new Map<string, http.Agent>();

function agentFor(connection: AgcodConnection): http.Agent {
	const key = `${connection.baseUrl.origin}|${connection.allowUnauthorizedCerts}`;
	let agent = agents.get(key);
	if (!agent) {
		const options = { keepAlive: true, maxSockets: 64 };
		agent =
			connection.baseUrl.protocol === 'https:'
				? new https.Agent({ ...options, rejectUnauthorized: !connection.allowUnauthorizedCerts })
				: new http.Agent(options);
		agents.set(key, agent);
	}
	return agent;
}

function operationPath(connection: AgcodConnection, operation: AgcodOperation): string {
	return `${connection.baseUrl.pathname.replace(/\/+$/, '')}/${operation}`;
}

/** Signs with aws4 (SigV4, service AGCODService); a fresh x-amz-date on every attempt, same body. */
function signedHeaders(
	connection: AgcodConnection,
	operation: AgcodOperation,
	body: string,
	format: BodyFormat,
): Record<string, string> {
	const contentType = contentTypeFor(format);
	const signed = aws4.sign(
		{
			host: connection.baseUrl.host,
			path: operationPath(connection, operation),
			method: 'POST',
			service: SERVICE,
			region: connection.signingRegion,
			body,
			headers: {
				accept: contentType,
				'content-type': contentType,
				'x-amz-target': TARGET_PREFIX + operation,
			},
		},
		{ accessKeyId: connection.accessKeyId, secretAccessKey: connection.secretAccessKey },
	);
	return signed.headers as Record<string, string>;
}

type TransportFailure = Extract<AttemptOutcome, { kind: 'timeout' | 'connection' | 'tls' }>;

/** Resolves with the answer or with why there is none; it never rejects. */
function post(
	connection: AgcodConnection,
	operation: AgcodOperation,
	headers: Record<string, string>,
	body: string,
	timeoutMs: number,
): Promise<RawResponse | TransportFailure> {
	const { baseUrl } = connection;
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
				path: operationPath(connection, operation),
				method: 'POST',
				headers,
				agent: agentFor(connection),
			},
			(response) => {
				const chunks: Buffer[] = [];
				let size = 0;
				response.on('data', (chunk: Buffer) => {
					size += chunk.length;
					if (size > MAX_RESPONSE_BYTES) {
						request.destroy();
						fail({ kind: 'connection', message: 'answer larger than 1 MB, discarded' });
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

/**
 * Amazon's bucket and ours both refill at the account rate. Starting with only half a burst leaves Amazon's
 * bucket half full, so network jitter (requests arriving closer together than they were sent) is absorbed
 * instead of throttled; the sustained rate is unchanged.
 */
function accountLimiter(key: string, requestsPerSecond: number) {
	return rateLimiterFor(key, requestsPerSecond, Math.max(1, Math.floor(requestsPerSecond / 2)));
}

// GetAvailableFunds allows 1/s with no burst at all: a 10% margin keeps jitter from tripping it.
const FUNDS_REQUESTS_PER_SECOND = 1 / 1.1;

async function attemptOnce(
	connection: AgcodConnection,
	operation: AgcodOperation,
	payload: string,
	requestId: string | undefined,
	options: CallOptions,
): Promise<AttemptOutcome> {
	const limiterKey = `${connection.baseUrl.origin}|${connection.partnerId}`;
	const now = Date.now();
	let wait = accountLimiter(limiterKey, options.requestsPerSecond).reserve(now);
	if (operation === 'GetAvailableFunds')
		wait = Math.max(
			wait,
			rateLimiterFor(`${limiterKey}|GetAvailableFunds`, FUNDS_REQUESTS_PER_SECOND, 1).reserve(now),
		);
	if (wait > 0) await sleep(wait);

	const headers = signedHeaders(connection, operation, payload, options.format);
	const response = await post(connection, operation, headers, payload, options.timeoutMs);
	const outcome: AttemptOutcome =
		'kind' in response
			? response
			: classifyResponse(
					operation,
					response.statusCode,
					response.contentType,
					response.body,
					requestId,
				);
	// Messages quote the server; a server or proxy echoing the request must not carry the signature onward.
	if ('message' in outcome)
		outcome.message = redactSecrets(outcome.message, connection.secretAccessKey);
	if (outcome.kind === 'throttled')
		// Everyone sharing this account backs off, not only the request that was refused.
		accountLimiter(limiterKey, options.requestsPerSecond).pause(Date.now(), 1000);
	return outcome;
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Exponential back-off with jitter; throttling starts at 1 s because the account's budget is per second. */
function backoffMs(attempt: number, kind: AttemptOutcome['kind'], baseMs: number): number {
	const base = kind === 'throttled' ? Math.max(1000, baseMs) : baseMs;
	const ceiling = Math.min(kind === 'throttled' ? 10_000 : 5_000, base * 2 ** (attempt - 1));
	return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Sends one AGCOD operation until it gets a final answer: RESEND, throttling, timeouts, connection errors,
 * 5xx and unreadable answers are re-sent with the identical body (same request id); FAILURE is final.
 */
export async function callAgcod(
	connection: AgcodConnection,
	operation: AgcodOperation,
	body: JsonObject,
	requestId: string | undefined,
	options: CallOptions,
): Promise<CallResult> {
	const payload = encodeBody(operation, body, options.format);
	const startedAt = Date.now();
	const log = options.log ?? (() => undefined);
	let statusChecked = false;

	for (let attempt = 1; ; attempt++) {
		const outcome = await attemptOnce(connection, operation, payload, requestId, options);
		log(`AGCOD ${operation} attempt ${attempt}: ${outcome.kind}`, {
			operation,
			requestId,
			attempt,
			outcome: outcome.kind,
			...('httpStatus' in outcome ? { httpStatus: outcome.httpStatus } : {}),
			...('errorCode' in outcome
				? { errorCode: outcome.errorCode, errorType: outcome.errorType }
				: {}),
		});
		if (outcome.kind === 'success') return { data: outcome.data, attempts: attempt, statusChecked };
		if (!isRetryable(outcome.kind))
			throw new AgcodCallError(operation, requestId, outcome, attempt);

		const delay = backoffMs(attempt, outcome.kind, options.retryBaseDelayMs ?? 250);
		const outOfBudget = Date.now() - startedAt + delay + options.timeoutMs > options.retryBudgetMs;
		if (attempt > options.maxRetries || outOfBudget)
			throw new AgcodCallError(operation, requestId, outcome, attempt);

		if (operation === 'ActivateGiftCard' && isAmbiguous(outcome)) {
			statusChecked = true;
			await settleActivation(connection, body, requestId, attempt, options);
		}
		await sleep(delay);
	}
}

/**
 * Amazon: after a timed-out activation, ask ActivationStatusCheck before sending it again. Activated (by us)
 * or AwaitingActivation both make the identical re-send safe; any definite refusal ends the call.
 */
async function settleActivation(
	connection: AgcodConnection,
	activation: JsonObject,
	requestId: string | undefined,
	attempts: number,
	options: CallOptions,
): Promise<void> {
	const check = await attemptOnce(
		connection,
		'ActivationStatusCheck',
		encodeBody(
			'ActivationStatusCheck',
			{
				statusCheckRequestId: activation.activationRequestId,
				partnerId: activation.partnerId,
				cardNumber: activation.cardNumber,
			},
			options.format,
		),
		undefined,
		options,
	);
	options.log?.(`AGCOD ActivationStatusCheck after an unanswered activation: ${check.kind}`, {
		operation: 'ActivationStatusCheck',
		requestId,
		outcome: check.kind,
	});
	if (check.kind === 'success') {
		const cardInfo = check.data.cardInfo as JsonObject | null;
		if (cardInfo?.cardStatus === 'Invalidated')
			throw new AgcodCallError(
				'ActivateGiftCard',
				requestId,
				{
					kind: 'failure',
					httpStatus: 200,
					errorCode: null,
					errorType: 'CardInvalidated',
					message: 'The card is Invalidated and cannot be activated',
				},
				attempts,
			);
	} else if (check.kind === 'failure' || check.kind === 'auth' || check.kind === 'client') {
		throw new AgcodCallError('ActivateGiftCard', requestId, check, attempts);
	}
}
