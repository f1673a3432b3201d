/** The sandbox's HTTP(S) server: signature check, routing, rate limits, faults and introspection. */
import { randomUUID } from 'node:crypto';
import {
	createServer as createHttpServer,
	type IncomingMessage,
	type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server, Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { createSelfSignedCertificate } from './certificate';
import {
	DEFAULT_PARTNER,
	DEFAULT_PHYSICAL_CARDS,
	DEFAULT_RATE_LIMIT,
	type FaultKind,
	type RateLimitConfig,
	type RecordedRequest,
	type RunningSandbox,
	type SandboxConfigChange,
	type SandboxOptions,
	type SandboxPartner,
	type SandboxStats,
} from './config';
import { REGION_CURRENCIES, SIGNING_REGION, type RegionGroup } from './currencies';
import {
	AgcodEngine,
	completePartner,
	isOperation,
	MONEY_MOVING_OPERATIONS,
	OPERATIONS,
	REQUEST_ID_FIELD,
	type OperationOutcome,
} from './engine';
import {
	completeRateLimit,
	DEFAULT_HANG_MS,
	FaultInjector,
	RateLimiter,
	validateFaults,
	validateRule,
} from './faults';
import { verifySigV4, type SigV4FailureKind } from './sigv4';
import {
	detectFormat,
	HTML_500_BODY,
	parseRequestBody,
	renderOutcome,
	renderServiceError,
	SERVICE_NAMESPACE,
	THROTTLING_NAMESPACE,
	type WireFormat,
	type WireResponse,
} from './wire';

export const SIGNING_SERVICE = 'AGCODService';
export const TARGET_PREFIX = 'com.amazonaws.agcod.AGCODService.';
const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_REQUEST_LOG_LIMIT = 20000;

const SIGV4_EXCEPTION: Record<SigV4FailureKind, string> = {
	MissingAuthenticationToken: 'MissingAuthenticationTokenException',
	IncompleteSignature: 'IncompleteSignatureException',
	UnrecognizedClient: 'UnrecognizedClientException',
	InvalidSignature: 'InvalidSignatureException',
};

function rawHeaderPairs(rawHeaders: string[]): Array<[string, string]> {
	const pairs: Array<[string, string]> = [];
	for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i], rawHeaders[i + 1]]);
	return pairs;
}

function validatePartners(partners: Array<Required<SandboxPartner>>, region: RegionGroup): void {
	if (partners.length === 0) throw new Error('at least one partner is needed');
	const ids = new Set<string>();
	const keys = new Set<string>();
	for (const partner of partners) {
		if (!partner.partnerId || !partner.accessKeyId || !partner.secretAccessKey) {
			throw new Error('every partner needs partnerId, accessKeyId and secretAccessKey');
		}
		if (ids.has(partner.partnerId)) throw new Error(`duplicate partnerId ${partner.partnerId}`);
		if (keys.has(partner.accessKeyId))
			throw new Error(`duplicate accessKeyId ${partner.accessKeyId}`);
		ids.add(partner.partnerId);
		keys.add(partner.accessKeyId);
		if (!REGION_CURRENCIES[region].includes(partner.currencyCode)) {
			throw new Error(
				`partner ${partner.partnerId}: currency ${partner.currencyCode} is not one of region ` +
					`${region} (${REGION_CURRENCIES[region].join(', ')})`,
			);
		}
		if (!(partner.startingBalance >= 0)) {
			throw new Error(`partner ${partner.partnerId}: startingBalance must be >= 0`);
		}
	}
}

function urlHost(host: string): string {
	if (host === '0.0.0.0' || host === '') return '127.0.0.1';
	if (host === '::') return '[::1]';
	return host.includes(':') ? `[${host}]` : host;
}

/** Starts a sandbox and resolves once it listens. */
export async function startSandbox(options: SandboxOptions = {}): Promise<RunningSandbox> {
	const region: RegionGroup = options.region ?? 'na';
	if (!Object.hasOwn(SIGNING_REGION, region)) throw new Error(`unknown region group ${region}`);
	const signingRegion = SIGNING_REGION[region];
	// The default partner takes the region group's first currency (USD, EUR or JPY).
	const partners = (
		options.partners ?? [{ ...DEFAULT_PARTNER, currencyCode: REGION_CURRENCIES[region][0] }]
	).map((p) => completePartner(p, region));
	validatePartners(partners, region);
	const partnersByKey = new Map(partners.map((p) => [p.accessKeyId, p]));
	const host = options.host ?? '127.0.0.1';
	const quiet = options.quiet ?? true;
	const log = options.log ?? ((line: string) => console.log(line));
	const maxClockSkewMs = options.maxClockSkewMs ?? 5 * 60 * 1000;
	const requestLogLimit = options.requestLogLimit ?? DEFAULT_REQUEST_LOG_LIMIT;

	let clockOffset = 0;
	const baseNow = options.now ?? Date.now;
	const clock = {
		now: () => baseNow() + clockOffset,
		advance(ms: number) {
			if (!(ms >= 0)) throw new Error('clock.advance() needs a number of milliseconds >= 0');
			clockOffset += ms;
		},
	};
	const signatureNow = options.signatureNow ?? Date.now;

	let amazonLikeFunds = options.amazonLikeFunds ?? false;
	let echoLoadBalanceRequestId = options.echoLoadBalanceRequestId ?? true;
	let cancelWindowCheckedFirst = options.cancelWindowCheckedFirst ?? false;
	let rateLimit: Required<RateLimitConfig> | false =
		options.rateLimit === false
			? false
			: completeRateLimit(options.rateLimit ?? DEFAULT_RATE_LIMIT);
	let limiter = rateLimit ? new RateLimiter(rateLimit) : null;
	const injector = new FaultInjector(options.faults ?? {}, options.faultRules ?? []);
	const engine = new AgcodEngine({
		region,
		partners,
		physicalCards: options.physicalCards ?? DEFAULT_PHYSICAL_CARDS,
		cancelWindowMs: options.cancelWindowMs ?? 15 * 60 * 1000,
		now: clock.now,
		amazonLikeFunds: () => amazonLikeFunds,
		echoLoadBalanceRequestId: () => echoLoadBalanceRequestId,
		cancelWindowCheckedFirst: () => cancelWindowCheckedFirst,
	});

	const freshCounters = () => ({
		requests: 0,
		requestsByOperation: Object.fromEntries(OPERATIONS.map((op) => [op, 0])) as Record<
			string,
			number
		>,
		throttled: 0,
		signatureFailures: 0,
		faultsInjected: {
			resend: 0,
			hang: 0,
			reset: 0,
			html500: 0,
			truncated: 0,
			resetAfterCommit: 0,
			failure: 0,
			bare429: 0,
			throttleHeader: 0,
		} as Record<FaultKind, number>,
		distinctRequestIds: new Set<string>(),
		// Requests in flight per partner + request id, the most ever seen at once, and which ids overlapped.
		inFlight: new Map<string, number>(),
		maxInFlightPerRequestId: 0,
		requestIdsInFlightTogether: new Set<string>(),
	});
	let counters = freshCounters();
	let requestLog: RecordedRequest[] = [];
	let seq = 0;

	const sockets = new Set<Socket>();
	const timers = new Set<NodeJS.Timeout>();
	let stopping = false;

	const schedule = (ms: number, action: () => void) => {
		const timer = setTimeout(() => {
			timers.delete(timer);
			action();
		}, ms);
		timers.add(timer);
	};

	const record = (entry: RecordedRequest) => {
		requestLog.push(entry);
		// Drop the oldest in batches: bounded memory without an O(n) shift per request.
		if (requestLog.length > requestLogLimit + 1000) requestLog = requestLog.slice(-requestLogLimit);
	};

	const logLine = (entry: RecordedRequest) => {
		if (quiet) return;
		const parts = [
			`#${entry.seq}`,
			entry.operation ?? '-',
			entry.partnerId ?? '-',
			entry.requestId ?? '-',
			'->',
			entry.httpStatus === null ? 'no response' : String(entry.httpStatus),
			entry.status ?? '',
			entry.errorCode ? `${entry.errorCode}/${entry.errorType}` : '',
			entry.fault ? `[fault: ${entry.fault}]` : '',
			entry.throttled ? '[throttled]' : '',
		];
		log(parts.filter(Boolean).join(' '));
	};

	const write = (res: ServerResponse, response: WireResponse, delayMs: number) => {
		const send = () => {
			if (res.destroyed || res.writableEnded) return;
			res.writeHead(response.httpStatus, {
				...response.headers,
				'content-type': response.contentType,
				'content-length': Buffer.byteLength(response.body),
				'x-amzn-requestid': randomUUID(),
			});
			res.end(response.body);
		};
		if (delayMs > 0) schedule(delayMs, send);
		else send();
	};

	const writeJson = (res: ServerResponse, httpStatus: number, value: unknown) =>
		write(res, { httpStatus, contentType: 'application/json', body: JSON.stringify(value) }, 0);

	const stats = (): SandboxStats => {
		const ledger = engine.stats();
		return {
			requests: counters.requests,
			requestsByOperation: { ...counters.requestsByOperation },
			throttled: counters.throttled,
			signatureFailures: counters.signatureFailures,
			faultsInjected: { ...counters.faultsInjected },
			cardsIssued: ledger.cardsIssued,
			cardsCancelled: ledger.cardsCancelled,
			activations: ledger.activations,
			deactivations: ledger.deactivations,
			balanceLoads: ledger.balanceLoads,
			balanceVoids: ledger.balanceVoids,
			distinctRequestIds: counters.distinctRequestIds.size,
			debits: ledger.debits,
			totalDebited: ledger.totalDebited,
			totalRefunded: ledger.totalRefunded,
			balances: ledger.balances,
			doubleDebits: ledger.doubleDebits,
			maxInFlightPerRequestId: counters.maxInFlightPerRequestId,
			requestIdsInFlightTogether: [...counters.requestIdsInFlightTogether].slice(0, 100),
		};
	};

	/** Counts the request as in flight until its answer is written or its connection closes. */
	const trackInFlight = (res: ServerResponse, partnerId: string, requestId: string) => {
		const tracked = counters;
		const key = `${partnerId}\u0000${requestId}`;
		const now = (tracked.inFlight.get(key) ?? 0) + 1;
		tracked.inFlight.set(key, now);
		if (now > tracked.maxInFlightPerRequestId) tracked.maxInFlightPerRequestId = now;
		if (now > 1) tracked.requestIdsInFlightTogether.add(requestId);
		res.once('close', () => {
			const left = (tracked.inFlight.get(key) ?? 1) - 1;
			if (left <= 0) tracked.inFlight.delete(key);
			else tracked.inFlight.set(key, left);
		});
	};

	const reset = () => {
		engine.reset();
		counters = freshCounters();
		requestLog = [];
		seq = 0;
		clockOffset = 0;
		injector.reset();
		limiter = rateLimit ? new RateLimiter(rateLimit) : null;
	};

	const configure = (change: SandboxConfigChange) => {
		// Validate everything before changing anything.
		const nextRateLimit =
			change.rateLimit === undefined
				? rateLimit
				: change.rateLimit === false
					? false
					: completeRateLimit(change.rateLimit);
		if (change.faults !== undefined) validateFaults(change.faults);
		for (const rule of change.faultRules ?? []) validateRule(rule);
		if (change.faults !== undefined) injector.setFaults(change.faults);
		if (change.faultRules !== undefined) injector.setRules(change.faultRules);
		if (change.amazonLikeFunds !== undefined) amazonLikeFunds = Boolean(change.amazonLikeFunds);
		if (change.echoLoadBalanceRequestId !== undefined)
			echoLoadBalanceRequestId = Boolean(change.echoLoadBalanceRequestId);
		if (change.cancelWindowCheckedFirst !== undefined)
			cancelWindowCheckedFirst = Boolean(change.cancelWindowCheckedFirst);
		if (change.rateLimit !== undefined) {
			rateLimit = nextRateLimit;
			limiter = rateLimit ? new RateLimiter(rateLimit) : null;
		}
	};

	const currentConfig = () => ({
		region,
		signingRegion,
		amazonLikeFunds,
		echoLoadBalanceRequestId,
		cancelWindowCheckedFirst,
		rateLimit,
		...injector.config(),
	});

	const handleOperation = (
		req: IncomingMessage,
		res: ServerResponse,
		pathname: string,
		body: Buffer,
	) => {
		const format: WireFormat = detectFormat(req.headers['content-type'], body);
		const entry: RecordedRequest = {
			seq: ++seq,
			receivedAt: clock.now(),
			operation: null,
			partnerId: null,
			requestId: null,
			format,
			httpStatus: null,
			status: null,
			throttled: false,
		};
		record(entry);
		counters.requests += 1;
		const respond = (response: WireResponse, delayMs = 0) => {
			entry.httpStatus = response.httpStatus;
			write(res, response, delayMs);
			logLine(entry);
		};

		const operation = pathname.slice(1);
		if (req.method !== 'POST' || !isOperation(operation)) {
			respond(
				renderServiceError(
					404,
					'UnknownOperationException',
					SERVICE_NAMESPACE,
					`No operation ${req.method} ${pathname}; AGCOD operations are POST /<Operation>`,
					format,
				),
			);
			return;
		}
		entry.operation = operation;
		counters.requestsByOperation[operation] += 1;

		const auth = verifySigV4(
			{
				method: req.method,
				path: req.url ?? pathname,
				headers: rawHeaderPairs(req.rawHeaders),
				body,
			},
			{
				service: SIGNING_SERVICE,
				region: signingRegion,
				secretFor: (accessKeyId) => partnersByKey.get(accessKeyId)?.secretAccessKey,
				now: signatureNow(),
				maxClockSkewMs,
			},
		);
		if (!auth.ok) {
			counters.signatureFailures += 1;
			respond(
				renderServiceError(
					403,
					SIGV4_EXCEPTION[auth.kind],
					SERVICE_NAMESPACE,
					auth.message,
					format,
				),
			);
			return;
		}
		const partner = partnersByKey.get(auth.accessKeyId)!;
		entry.partnerId = partner.partnerId;

		const target = req.headers['x-amz-target'];
		// `AGCODService./Operation` is what the published amazon-incentives-api client sends; it works against
		// Amazon, so Amazon evidently routes by path and tolerates the slash. Any other operation name is refused.
		if (target !== `${TARGET_PREFIX}${operation}` && target !== `${TARGET_PREFIX}/${operation}`) {
			respond(
				renderServiceError(
					400,
					'UnknownOperationException',
					SERVICE_NAMESPACE,
					`x-amz-target must be ${TARGET_PREFIX}${operation} for POST /${operation}, got ` +
						`'${typeof target === 'string' ? target : ''}'`,
					format,
				),
			);
			return;
		}

		const parsed = parseRequestBody(operation, format, body);
		const idField = REQUEST_ID_FIELD[operation];
		const rawId = parsed.ok && idField ? parsed.body[idField] : undefined;
		const requestId =
			typeof rawId === 'string' ? rawId : typeof rawId === 'number' ? String(rawId) : null;
		entry.requestId = requestId;
		if (requestId !== null) trackInFlight(res, partner.partnerId, requestId);

		if (
			limiter &&
			!limiter.admit(partner.partnerId, operation === 'GetAvailableFunds', clock.now())
		) {
			counters.throttled += 1;
			entry.throttled = true;
			respond(
				renderServiceError(
					400,
					'ThrottlingException',
					THROTTLING_NAMESPACE,
					'Rate exceeded',
					format,
				),
			);
			return;
		}

		if (!parsed.ok) {
			const outcome: OperationOutcome = {
				status: 'FAILURE',
				error: { errorCode: 'F200', errorType: 'InvalidRequestInput', message: parsed.error },
			};
			entry.status = outcome.status;
			entry.errorCode = outcome.error!.errorCode;
			entry.errorType = outcome.error!.errorType;
			respond(renderOutcome(operation, outcome, format));
			return;
		}
		const requestBody = parsed.body;
		if (requestId !== null && MONEY_MOVING_OPERATIONS.has(operation)) {
			counters.distinctRequestIds.add(`${partner.partnerId}\u0000${requestId}`);
		}

		const faults = injector.faultsFor(requestId, operation);
		const injected = (kind: FaultKind) => {
			entry.fault = kind;
			counters.faultsInjected[kind] += 1;
		};
		if (injector.roll(faults.connectionResetRate)) {
			injected('reset');
			logLine(entry);
			const socket = req.socket;
			try {
				// A real TCP RST where possible; TLS sockets can only be destroyed.
				if (socket instanceof TLSSocket) socket.destroy();
				else socket.resetAndDestroy();
			} catch {
				socket.destroy();
			}
			return;
		}
		const delayMs = injector.latencyMs(faults);
		if (injector.roll(faults.html500Rate)) {
			injected('html500');
			respond({ httpStatus: 500, contentType: 'text/html', body: HTML_500_BODY }, delayMs);
			return;
		}
		if (injector.roll(faults.bare429Rate)) {
			injected('bare429');
			entry.throttled = true;
			respond({ httpStatus: 429, contentType: 'application/json', body: '' }, delayMs);
			return;
		}
		if (injector.roll(faults.throttleHeaderRate)) {
			injected('throttleHeader');
			entry.throttled = true;
			respond(
				{
					httpStatus: 400,
					contentType: 'application/json',
					body: '{}',
					headers: {
						'x-amzn-errortype': `ThrottlingException:http://internal.amazon.com/coral/${THROTTLING_NAMESPACE}/`,
					},
				},
				delayMs,
			);
			return;
		}
		if (injector.roll(faults.failureRate)) {
			injected('failure');
			const outcome: OperationOutcome = {
				status: 'FAILURE',
				error: faults.failure ?? {
					errorCode: 'F100',
					errorType: 'GeneralError',
					message: 'General Error',
				},
			};
			entry.status = 'FAILURE';
			entry.errorCode = outcome.error!.errorCode;
			entry.errorType = outcome.error!.errorType;
			respond(renderOutcome(operation, outcome, format), delayMs);
			return;
		}
		if (
			requestId !== null &&
			faults.resendFirstAttemptRate &&
			injector.firstAttempt(`${partner.partnerId}\u0000${operation}\u0000${requestId}`) &&
			injector.roll(faults.resendFirstAttemptRate)
		) {
			injected('resend');
			const outcome: OperationOutcome = {
				status: 'RESEND',
				error: {
					errorCode: 'F400',
					errorType: 'SystemTemporarilyUnavailable',
					message: 'System Temporarily Unavailable',
				},
			};
			entry.status = 'RESEND';
			entry.errorCode = 'F400';
			entry.errorType = 'SystemTemporarilyUnavailable';
			respond(renderOutcome(operation, outcome, format), delayMs);
			return;
		}

		// Committed here, synchronously, before anything can interleave.
		const outcome = engine.handle(operation, partner.partnerId, requestBody);
		entry.status = outcome.status;
		if (outcome.error) {
			entry.errorCode = outcome.error.errorCode;
			entry.errorType = outcome.error.errorType;
		}
		const response = renderOutcome(operation, outcome, format);

		if (injector.roll(faults.hangAfterCommitRate)) {
			injected('hang');
			logLine(entry);
			const socket = req.socket;
			schedule(faults.hangMs ?? DEFAULT_HANG_MS, () => socket.destroy());
			return;
		}
		if (injector.roll(faults.resetAfterCommitRate)) {
			injected('resetAfterCommit');
			logLine(entry);
			req.socket.destroy();
			return;
		}
		if (injector.roll(faults.truncatedJsonRate)) {
			injected('truncated');
			response.body = response.body.slice(0, Math.floor(response.body.length / 2));
		}
		respond(response, delayMs);
	};

	const handleIntrospection = (
		req: IncomingMessage,
		res: ServerResponse,
		pathname: string,
		query: URLSearchParams,
		body: Buffer,
	) => {
		const route = `${req.method} ${pathname}`;
		const jsonBody = (): Record<string, unknown> => {
			const text = body.toString('utf8').trim();
			if (text === '') return {};
			const parsed: unknown = JSON.parse(text);
			if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
				throw new Error('the body must be a JSON object');
			}
			return parsed as Record<string, unknown>;
		};
		try {
			switch (route) {
				case 'GET /__sandbox/health':
					return writeJson(res, 200, {
						status: 'ok',
						region,
						signingRegion,
						partnerIds: partners.map((p) => p.partnerId),
					});
				case 'GET /__sandbox/stats':
					return writeJson(res, 200, stats());
				case 'GET /__sandbox/ledger':
					return writeJson(res, 200, engine.ledger());
				case 'GET /__sandbox/requests': {
					const since = Number(query.get('since') ?? 0);
					return writeJson(
						res,
						200,
						requestLog.filter((entry) => entry.seq > since),
					);
				}
				case 'POST /__sandbox/reset':
					reset();
					return writeJson(res, 200, { ok: true });
				case 'GET /__sandbox/config':
					return writeJson(res, 200, currentConfig());
				case 'POST /__sandbox/config':
					configure(jsonBody() as SandboxConfigChange);
					return writeJson(res, 200, currentConfig());
				case 'POST /__sandbox/clock': {
					const advanceMs = Number(jsonBody().advanceMs ?? 0);
					clock.advance(advanceMs);
					return writeJson(res, 200, { now: clock.now(), offsetMs: clockOffset });
				}
				default:
					return writeJson(res, 404, { message: `No sandbox endpoint ${route}` });
			}
		} catch (error) {
			return writeJson(res, 400, { message: (error as Error).message });
		}
	};

	const onRequest = (req: IncomingMessage, res: ServerResponse) => {
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size <= MAX_BODY_BYTES) chunks.push(chunk);
		});
		req.on('error', () => undefined);
		req.on('end', () => {
			if (stopping) return;
			const url = req.url ?? '/';
			const queryAt = url.indexOf('?');
			const pathname = queryAt === -1 ? url : url.slice(0, queryAt);
			if (size > MAX_BODY_BYTES) {
				writeJson(res, 413, { message: `Request bodies are limited to ${MAX_BODY_BYTES} bytes` });
				return;
			}
			const body = Buffer.concat(chunks);
			if (pathname.startsWith('/__sandbox/')) {
				handleIntrospection(
					req,
					res,
					pathname,
					new URLSearchParams(url.slice(pathname.length)),
					body,
				);
			} else {
				handleOperation(req, res, pathname, body);
			}
		});
	};

	let caCertPem: string | undefined;
	let server: Server;
	if (options.https) {
		const names = ['127.0.0.1', 'localhost', '::1'];
		if (host !== '0.0.0.0' && host !== '::' && host !== '') names.push(host);
		const certificate = createSelfSignedCertificate(names);
		caCertPem = certificate.certPem;
		server = createHttpsServer({ cert: certificate.certPem, key: certificate.keyPem }, onRequest);
	} else {
		server = createHttpServer(onRequest);
	}
	server.on('connection', (socket: Socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	// A client's broken TLS handshake or a reset socket must not take the sandbox down.
	server.on('tlsClientError', () => undefined);
	server.on('clientError', (_error: Error, socket: Socket) => socket.destroy());

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 0, host, () => {
			server.off('error', reject);
			resolve();
		});
	});
	const address = server.address();
	const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
	const url = `${options.https ? 'https' : 'http'}://${urlHost(host)}:${port}`;

	let stopped: Promise<void> | null = null;
	const stop = () => {
		if (stopped) return stopped;
		stopping = true;
		stopped = new Promise<void>((resolve) => {
			for (const timer of timers) clearTimeout(timer);
			timers.clear();
			server.close(() => resolve());
			for (const socket of sockets) socket.destroy();
			sockets.clear();
		});
		return stopped;
	};

	return {
		url,
		port,
		region,
		signingRegion,
		partner: { ...partners[0] },
		caCertPem,
		stats,
		requests: () => requestLog.slice(),
		ledger: () => engine.ledger(),
		reset,
		configure,
		clock: { now: clock.now, advance: clock.advance },
		stop,
	};
}
