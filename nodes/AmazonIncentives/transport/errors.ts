import {
	type AgcodOperation,
	type JsonObject,
	OPERATION_SPECS,
	isObject,
	normalizeResponse,
	parseBody,
	valueAtPath,
} from './codec';

/**
 * What one attempt produced. Only `success` ends the call well; `retryable` outcomes are re-sent with the
 * identical request id; everything else fails the item at once (FAILURE answers are never retried unchanged).
 */
export type AttemptOutcome =
	| { kind: 'success'; data: JsonObject }
	| {
			kind: 'failure' | 'resend';
			httpStatus: number;
			errorCode: string | null;
			errorType: string | null;
			message: string;
	  }
	| { kind: 'throttled'; httpStatus: number; message: string }
	| { kind: 'auth'; httpStatus: number; message: string }
	| {
			kind: 'server' | 'malformed' | 'client';
			httpStatus: number;
			message: string;
			/** The body was neither JSON nor XML (HTML, cut, empty): what the server meant is not known. */
			unreadable?: true;
	  }
	| { kind: 'timeout' | 'connection' | 'tls'; message: string; code?: string }
	/** Nothing was sent: another execution held this request id for the whole retry budget. */
	| { kind: 'busy'; message: string }
	/** A SUCCESS answer to CreateGiftCard whose card cannot be handed out (cancelled, another value …). */
	| {
			kind: 'unusable';
			httpStatus: number;
			errorCode: null;
			errorType: 'CardRefundedToPurchaser' | 'CardNotFulfilled' | 'CardValueMismatch';
			message: string;
			gcId: string | null;
			cardStatus: string | null;
	  };

type OutcomeKind = AttemptOutcome['kind'];

const RETRYABLE: ReadonlySet<OutcomeKind> = new Set<OutcomeKind>([
	'resend',
	'throttled',
	'server',
	'malformed',
	'timeout',
	'connection',
	'busy',
]);

export function isRetryable(kind: OutcomeKind): boolean {
	return RETRYABLE.has(kind);
}

// Connection errors raised before a request can have reached the server.
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
	'ECONNREFUSED',
	'ENOTFOUND',
	'EAI_AGAIN',
	'EHOSTUNREACH',
	'ENETUNREACH',
]);

/**
 * Outcomes after which Amazon may have carried out the request without us seeing its answer: no answer
 * (timeout, a connection lost after sending), an unreadable or cut answer, a 5xx (a gateway may answer it after
 * the service committed), and RESEND (Amazon's own advice for a lasting F400 is to cancel or void the original
 * request id, so it may have been applied). For an activation this is the case Amazon says to settle with
 * ActivationStatusCheck before sending it again.
 */
export function mayHaveBeenApplied(outcome: AttemptOutcome): boolean {
	switch (outcome.kind) {
		case 'timeout':
		case 'malformed':
		case 'server':
		case 'resend':
			return true;
		case 'connection':
			return !(outcome.code !== undefined && NOT_SENT_CODES.has(outcome.code));
		default:
			return false;
	}
}

/** A throttle however it is signalled: status 429 (body or not), the x-amzn-ErrorType header, type or message. */
function isThrottle(
	httpStatus: number,
	errorTypeHeader: string | undefined,
	awsType: string,
	errorType: string | null,
	message: string,
): boolean {
	return (
		httpStatus === 429 ||
		/^\s*Throttling(Exception)?\b/i.test(errorTypeHeader ?? '') ||
		/Throttling/i.test(awsType) ||
		/Throttling/i.test(errorType ?? '') ||
		/^(rate exceeded|too many requests)\b/i.test(message)
	);
}

function text(value: unknown): string | null {
	return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/** Reads one HTTP answer. Branches on the body, not the HTTP code (AGCOD's codes per error class are unconfirmed). */
export function classifyResponse(
	operation: AgcodOperation,
	httpStatus: number,
	contentType: string | undefined,
	rawBody: string,
	sentRequestId: string | undefined,
	/** The `x-amzn-ErrorType` header, e.g. `ThrottlingException:http://internal.amazon.com/coral/…/`. */
	errorTypeHeader?: string,
): AttemptOutcome {
	// Amazon never asks for proxy credentials: this is a forward proxy refusing the call.
	if (httpStatus === 407)
		return {
			kind: 'client',
			httpStatus,
			message:
				'HTTP 407 Proxy Authentication Required: the proxy wants a user name and password (http://user:password@host:port in HTTPS_PROXY or HTTP_PROXY)',
		};
	const parsed = parseBody(rawBody, contentType);
	if (!parsed && isThrottle(httpStatus, errorTypeHeader, '', null, ''))
		return {
			kind: 'throttled',
			httpStatus,
			message: `HTTP ${httpStatus}: throttled (Rate exceeded)`,
		};
	if (!parsed) {
		const what =
			rawBody.trim() === '' ? 'an empty body' : 'a body that is neither AGCOD JSON nor XML';
		if (httpStatus >= 500)
			return { kind: 'server', httpStatus, message: `HTTP ${httpStatus} with ${what}` };
		if (httpStatus >= 200 && httpStatus < 300)
			return {
				kind: 'malformed',
				httpStatus,
				message: `HTTP ${httpStatus} with ${what} (incomplete answer)`,
			};
		return {
			kind: 'client',
			httpStatus,
			message: `HTTP ${httpStatus} with ${what}`,
			unreadable: true,
		};
	}

	const { body, root } = parsed;
	const agcodResponse = isObject(body.agcodResponse) ? body.agcodResponse : undefined;
	const status = text(body.status) ?? text(agcodResponse?.status);
	const errorCode = text(body.errorCode);
	const errorType = text(body.errorType);
	const message = text(body.message) ?? text(body.Message) ?? errorType ?? '';
	const awsType = text(body.__type) ?? root ?? '';

	if (isThrottle(httpStatus, errorTypeHeader, awsType, errorType, message))
		return { kind: 'throttled', httpStatus, message: message || 'Rate exceeded' };

	if (status === 'SUCCESS') return checkSuccess(operation, httpStatus, body, sentRequestId);
	if (status === 'RESEND' || errorCode?.startsWith('F4'))
		return { kind: 'resend', httpStatus, errorCode, errorType, message: message || 'Resend' };
	if (status === 'FAILURE' || errorCode)
		return { kind: 'failure', httpStatus, errorCode, errorType, message: message || 'Failure' };
	if (httpStatus === 401 || httpStatus === 403)
		return { kind: 'auth', httpStatus, message: message || `HTTP ${httpStatus}` };
	if (httpStatus >= 500)
		return {
			kind: 'server',
			httpStatus,
			message: `HTTP ${httpStatus}${message ? `: ${message}` : ''}`,
		};
	if (httpStatus >= 200 && httpStatus < 300)
		return {
			kind: 'malformed',
			httpStatus,
			message: status
				? `HTTP ${httpStatus} answer with an unknown status "${status.slice(0, 40)}"`
				: `HTTP ${httpStatus} answer without a status field`,
		};
	return {
		kind: 'client',
		httpStatus,
		message: `HTTP ${httpStatus}${message ? `: ${message}` : ''}`,
	};
}

function checkSuccess(
	operation: AgcodOperation,
	httpStatus: number,
	body: JsonObject,
	sentRequestId: string | undefined,
): AttemptOutcome {
	const data = normalizeResponse(operation, body);
	const spec = OPERATION_SPECS[operation];
	const missing = spec.requiredOnSuccess.filter((path) => {
		const value = valueAtPath(data, path);
		return value === null || value === undefined;
	});
	if (missing.length > 0)
		return {
			kind: 'malformed',
			httpStatus,
			message: `SUCCESS answer without ${missing.join(', ')}; not trusted as a success`,
		};
	const echoed = spec.requestIdField ? data[spec.requestIdField] : null;
	// Only an echo that is present and different is distrusted: Login & Receive answers may not echo at all.
	if (sentRequestId && typeof echoed === 'string' && echoed !== sentRequestId)
		return {
			kind: 'malformed',
			httpStatus,
			message: `SUCCESS answer for a different request id (${echoed.slice(0, 60)}); not trusted as a success`,
		};
	if (spec.requestIdField && sentRequestId && echoed === null)
		data[spec.requestIdField] = sentRequestId;
	return { kind: 'success', data };
}

/**
 * What a server (or a proxy in front of it) might echo from the request: the secret key, the SigV4
 * Authorization header, a signature. Removed from every message before it can reach an error or a log.
 */
export function redactSecrets(text: string, secretAccessKey: string): string {
	const withoutKey = secretAccessKey ? text.split(secretAccessKey).join('***') : text;
	return withoutKey
		.replace(
			/AWS4-HMAC-SHA256\s+Credential=[^\s,;"']*(?:,\s*SignedHeaders=[^\s,"']*)?(?:,\s*Signature=[0-9a-f]*)?/gi,
			'[Authorization header removed]',
		)
		.replace(/(Signature=)[0-9a-f]+/gi, '$1***');
}

/** One line telling the user what to do, keyed by Amazon's errorType (spelling variants included). */
const HINTS_BY_ERROR_TYPE: Readonly<Record<string, string>> = {
	InsufficientFunds:
		'Fund your Amazon Incentives account (or lower the amount); nothing was issued for this item.',
	ActiveContractNotFound:
		'The account has no active contract for this currency or marketplace; ask your Amazon account manager.',
	CancelRequestArrivedAfterTimeLimit:
		'Gift cards can only be cancelled within 15 minutes of creation; this request did not cancel the card. If an earlier cancel of this card ended with an unknown outcome in another run or on another n8n worker, re-run the Create of this card with the same unique ID: the node then reports it as cancelled (RefundedToPurchaser) or returns it live.',
	InvalidAmountInput: 'Send an amount for the card.',
	InvalidAmountValue:
		"Check the amount: it must be greater than 0 and within the currency's range.",
	MaxAmountExceeded: 'The amount is above the maximum allowed for this currency or account.',
	FractionalAmountNotAllowed: 'This currency only allows whole amounts (e.g. JPY).',
	InvalidCurrencyCodeInput: "Send the account's currency code (e.g. USD).",
	CurrencyCodeMismatch: "Use your account's marketplace currency; each account has exactly one.",
	RequestIdTooLong: 'Request ids must be at most 40 characters.',
	RequestIdMustStartWithPartnerName:
		"Request ids must start with the Partner ID; check the credential's Partner ID.",
	CardActivatedWithDifferentRequestId:
		"The card was activated with another activationRequestId; use the original id from that activation's output.",
	CardAlreadyActivatedWithDifferentRequestId:
		"The card was activated with another activationRequestId; use the original id from that activation's output.",
	CustomerSurpassedDailyVelocityLimit:
		"Amazon's daily velocity limit was reached; try again tomorrow or ask Amazon to raise it.",
	SystemTemporarilyUnavailable:
		'Amazon is temporarily unavailable; re-running sends the same request id, so nothing is issued twice.',
};

const HINTS_BY_ERROR_CLASS: Readonly<Record<string, string>> = {
	F100: 'Amazon internal error; it does not prove whether the request was carried out. Retrying later with the same request id cannot create a duplicate.',
	F200: 'Amazon rejected the request as invalid; fix the input named in the message.',
	F300: 'A problem with the Amazon Incentives account (funds, contract or limits); check it in the Incentives portal.',
	F400: 'Amazon is temporarily unavailable; re-running sends the same request id, so nothing is issued twice.',
	F500: 'Unknown error at Amazon; retry later with the same request id, or contact Amazon with the request id.',
};

export function hintFor(errorCode: string | null, errorType: string | null): string {
	return (
		(errorType && HINTS_BY_ERROR_TYPE[errorType]) ||
		(errorCode && HINTS_BY_ERROR_CLASS[errorCode.slice(0, 2) + '00']) ||
		'See the error code in Amazon’s Incentives API error table.'
	);
}

/** What a 401/403 means for this credential: each AWS message points at a different field. */
export function authHint(message: string): string {
	if (/security token/i.test(message))
		return 'Amazon does not know this Access Key ID in this environment: sandbox keys only work with the sandbox endpoint, production keys only with production.';
	if (/signature we calculated does not match/i.test(message))
		return 'The Secret Access Key does not belong to this Access Key ID; copy both again from the Incentives portal.';
	if (/scoped to a valid region/i.test(message))
		return "The credential's Region does not match this endpoint: na for US/CA/MX, eu for Europe and the Middle East, fe for JP/AU/SG.";
	if (/scoped to correct service/i.test(message))
		return 'The request was signed for the wrong service; this endpoint expects AGCODService.';
	if (/signature expired|request time/i.test(message))
		return "This machine's clock is more than 5 minutes off; fix its time (NTP).";
	if (/missing authentication/i.test(message))
		return 'The request carried no signature; check the Access Key ID and Secret Access Key.';
	return 'Check the Access Key ID, Secret Access Key, Region and environment of the credential.';
}
