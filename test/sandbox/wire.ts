/**
 * How the sandbox reads requests and writes responses, in JSON and in XML, as Amazon documents them:
 * https://developer.amazon.com/docs/incentives-api/digital-gift-cards.html and
 * https://developer.amazon.com/docs/incentives-api/gift-codes-errors.html.
 */
import { XMLParser } from 'fast-xml-parser';
import { RESPONSE_FIELDS, type OperationOutcome, type Operation } from './engine';

export type WireFormat = 'json' | 'xml';

export interface WireResponse {
	httpStatus: number;
	contentType: string;
	body: string;
	/** Extra response headers. */
	headers?: Record<string, string>;
}

/**
 * XML when the content-type mentions xml, or when the body starts with `<`: Amazon's own sample
 * code sends XML with the odd content-type `charset=UTF-8`.
 */
export function detectFormat(contentType: string | undefined, body: Buffer): WireFormat {
	if (contentType && contentType.toLowerCase().includes('xml')) return 'xml';
	for (const byte of body) {
		if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d || byte === 0xef) continue;
		return byte === 0x3c ? 'xml' : 'json';
	}
	return 'json';
}

const xmlParser = new XMLParser({
	ignoreAttributes: true,
	ignoreDeclaration: true,
	ignorePiTags: true,
	parseTagValue: false,
	trimValues: true,
});

/** The request body as an object; XML must have the root `<Op>Request` (or `<Op>`). */
export function parseRequestBody(
	operation: Operation,
	format: WireFormat,
	body: Buffer,
): { ok: true; body: Record<string, unknown> } | { ok: false; error: string } {
	const text = body.toString('utf8').replace(/^\uFEFF/, '');
	if (format === 'json') {
		if (text.trim() === '') return { ok: false, error: 'The request body is empty' };
		try {
			const parsed: unknown = JSON.parse(text);
			if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
				return { ok: false, error: 'The request body must be a JSON object' };
			}
			return { ok: true, body: parsed as Record<string, unknown> };
		} catch {
			return { ok: false, error: 'The request body is not valid JSON' };
		}
	}
	let document: Record<string, unknown>;
	try {
		document = xmlParser.parse(text, true) as Record<string, unknown>;
	} catch {
		return { ok: false, error: 'The request body is not valid XML' };
	}
	const roots = Object.keys(document);
	const root = roots.find((name) => name === `${operation}Request` || name === operation);
	if (!root || roots.length !== 1) {
		return { ok: false, error: `The XML root element must be <${operation}Request>` };
	}
	const content = document[root];
	return {
		ok: true,
		body:
			content !== null && typeof content === 'object' ? (content as Record<string, unknown>) : {},
	};
}

function httpStatusForErrorCode(errorCode: string): number {
	if (errorCode.startsWith('F4')) return 503;
	if (errorCode.startsWith('F1') || errorCode.startsWith('F5')) return 500;
	return 400;
}

function escapeXml(text: string): string {
	return text.replace(/[<>&'"]/g, (c) =>
		c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : c === "'" ? '&apos;' : '&quot;',
	);
}

/** Children named like the JSON fields; null fields omitted; amounts with two decimals (none for JPY). */
function toXml(name: string, value: unknown, currencyCode?: string): string {
	if (value === null || value === undefined) return '';
	if (typeof value === 'object' && !Array.isArray(value)) {
		const record = value as Record<string, unknown>;
		const currency = typeof record.currencyCode === 'string' ? record.currencyCode : currencyCode;
		const children = Object.entries(record)
			.map(([key, child]) => toXml(key, child, currency))
			.join('');
		return `<${name}>${children}</${name}>`;
	}
	let text = String(value);
	if (typeof value === 'number' && (name === 'amount' || name === 'value')) {
		text = currencyCode === 'JPY' ? String(value) : value.toFixed(2);
	}
	return `<${name}>${escapeXml(text)}</${name}>`;
}

/** The HTTP response of an operation's outcome, in the request's format. */
export function renderOutcome(
	operation: Operation,
	outcome: OperationOutcome,
	format: WireFormat,
): WireResponse {
	if (outcome.status === 'SUCCESS') {
		// Top-level fields in alphabetical order, as Amazon's serializer writes them.
		const withStatus: Record<string, unknown> = { ...outcome.response, status: 'SUCCESS' };
		const response = Object.fromEntries(
			Object.keys(withStatus)
				.sort()
				.map((key) => [key, withStatus[key]]),
		);
		return format === 'json'
			? { httpStatus: 200, contentType: 'application/json', body: JSON.stringify(response) }
			: {
					httpStatus: 200,
					contentType: 'application/xml',
					body: toXml(`${operation}Response`, response),
				};
	}
	const error = outcome.error!;
	const httpStatus = httpStatusForErrorCode(error.errorCode);
	if (format === 'xml') {
		return {
			httpStatus,
			contentType: 'application/xml',
			body:
				`<ErrorResponse><agcodResponse><status>${outcome.status}</status></agcodResponse>` +
				`<errorCode>${escapeXml(error.errorCode)}</errorCode>` +
				`<errorType>${escapeXml(error.errorType)}</errorType>` +
				`<Message>${escapeXml(error.message)}</Message></ErrorResponse>`,
		};
	}
	const agcodResponse: Record<string, unknown> = {
		__type: `${operation}Response:http://internal.amazon.com/coral/com.amazonaws.agcod/`,
	};
	for (const field of RESPONSE_FIELDS[operation]) agcodResponse[field] = null;
	agcodResponse.status = outcome.status;
	return {
		httpStatus,
		contentType: 'application/json',
		body: JSON.stringify({
			agcodResponse,
			errorCode: error.errorCode,
			errorType: error.errorType,
			message: error.message,
		}),
	};
}

/**
 * A non-AGCOD error of the AWS front end (signature, throttling, routing):
 * JSON `{"__type":"<namespace>#<Type>","message":…}`, XML `<Type><Message>…</Message></Type>`.
 */
export function renderServiceError(
	httpStatus: number,
	type: string,
	namespace: string,
	message: string,
	format: WireFormat,
): WireResponse {
	return format === 'xml'
		? {
				httpStatus,
				contentType: 'application/xml',
				body: `<${type}><Message>${escapeXml(message)}</Message></${type}>`,
			}
		: {
				httpStatus,
				contentType: 'application/json',
				body: JSON.stringify({ __type: `${namespace}#${type}`, message }),
			};
}

export const THROTTLING_NAMESPACE = 'com.amazon.coral.availability';
export const SERVICE_NAMESPACE = 'com.amazon.coral.service';

export const HTML_500_BODY =
	'<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1>' +
	'<p>The server encountered an internal error and was unable to complete your request.</p></body></html>';
