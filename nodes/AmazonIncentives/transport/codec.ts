import { XMLBuilder, XMLParser } from 'fast-xml-parser';

export type AgcodOperation =
	| 'CreateGiftCard'
	| 'CancelGiftCard'
	| 'GetAvailableFunds'
	| 'ActivateGiftCard'
	| 'DeactivateGiftCard'
	| 'ActivationStatusCheck'
	| 'LoadAmazonBalance'
	| 'VoidAmazonBalanceLoad';

export type BodyFormat = 'json' | 'xml';

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Response shape: 's' text, 'n' number, or a nested shape. Missing fields become null, so JSON and XML agree. */
type Shape = { [field: string]: 's' | 'n' | Shape };

const MONEY: Shape = { amount: 'n', currencyCode: 's' };
const CARD_INFO: Shape = { cardNumber: 's', cardStatus: 's', expirationDate: 's', value: MONEY };
const BALANCE_AMOUNT: Shape = { currencyCode: 's', value: 'n' };

interface OperationSpec {
	/** The request-id field, echoed in the response. */
	requestIdField?: string;
	response: Shape;
	/** Paths a SUCCESS answer must carry; without them it is not trusted as a success. */
	requiredOnSuccess: string[];
}

/** Activate and Deactivate answer alike. */
const ACTIVATION_SPEC: OperationSpec = {
	requestIdField: 'activationRequestId',
	response: { activationRequestId: 's', cardInfo: CARD_INFO, status: 's' },
	requiredOnSuccess: ['activationRequestId', 'cardInfo.cardStatus'],
};

/** Load and Void answer alike. */
const BALANCE_LOAD_SPEC: OperationSpec = {
	requestIdField: 'loadBalanceRequestId',
	response: {
		loadBalanceRequestId: 's',
		amount: BALANCE_AMOUNT,
		amazonTransactionId: 's',
		status: 's',
	},
	// Amazon's Login & Receive answer shape is unconfirmed: a SUCCESS without the echo is accepted.
	requiredOnSuccess: [],
};

export const OPERATION_SPECS: Readonly<Record<AgcodOperation, OperationSpec>> = {
	CreateGiftCard: {
		requestIdField: 'creationRequestId',
		response: {
			creationRequestId: 's',
			gcId: 's',
			gcClaimCode: 's',
			gcExpirationDate: 's',
			cardInfo: CARD_INFO,
			status: 's',
		},
		requiredOnSuccess: ['creationRequestId', 'gcId', 'gcClaimCode', 'cardInfo.cardStatus'],
	},
	CancelGiftCard: {
		requestIdField: 'creationRequestId',
		response: { creationRequestId: 's', gcId: 's', status: 's' },
		requiredOnSuccess: ['creationRequestId'],
	},
	GetAvailableFunds: {
		response: { availableFunds: MONEY, status: 's', timestamp: 's' },
		requiredOnSuccess: ['availableFunds.amount', 'availableFunds.currencyCode'],
	},
	ActivateGiftCard: ACTIVATION_SPEC,
	DeactivateGiftCard: ACTIVATION_SPEC,
	ActivationStatusCheck: {
		requestIdField: 'statusCheckRequestId',
		response: { statusCheckRequestId: 's', cardInfo: CARD_INFO, status: 's' },
		requiredOnSuccess: ['cardInfo.cardStatus'],
	},
	LoadAmazonBalance: BALANCE_LOAD_SPEC,
	VoidAmazonBalanceLoad: BALANCE_LOAD_SPEC,
};

const JSON_CONTENT_TYPE = 'application/json';
const XML_CONTENT_TYPE = 'application/xml';

export function contentTypeFor(format: BodyFormat): string {
	return format === 'xml' ? XML_CONTENT_TYPE : JSON_CONTENT_TYPE;
}

const xmlBuilder = new XMLBuilder({ suppressEmptyNode: true });
const xmlParser = new XMLParser({
	ignoreAttributes: true,
	// Keep every value as text and convert by the response shape, so JSON and XML give identical output.
	parseTagValue: false,
	trimValues: true,
	ignoreDeclaration: true,
	processEntities: true,
});

/** Serialises a request body; XML uses `<OperationRequest>` as Amazon's XML examples do. */
export function encodeBody(
	operation: AgcodOperation,
	body: JsonObject,
	format: BodyFormat,
): string {
	if (format === 'json') return JSON.stringify(body);
	return xmlBuilder.build({ [`${operation}Request`]: body }) as string;
}

interface ParsedBody {
	/** The root element's name for XML (e.g. CreateGiftCardResponse, ThrottlingException); undefined for JSON. */
	root?: string;
	body: JsonObject;
}

/**
 * Reads an answer's body as a JSON object or a single-rooted XML document. Undefined when it is neither
 * (HTML, truncated, empty, a JSON array); the caller then judges the answer by its HTTP status alone.
 */
export function parseBody(text: string, contentType: string | undefined): ParsedBody | undefined {
	const trimmed = text.trim();
	if (trimmed === '') return undefined;
	const looksXml = trimmed.startsWith('<') || /xml/i.test(contentType ?? '');
	if (!looksXml) {
		try {
			const value = JSON.parse(trimmed) as JsonValue;
			return isObject(value) ? { body: value } : undefined;
		} catch {
			return undefined;
		}
	}
	if (/^<(!doctype\s+html|html[\s>])/i.test(trimmed)) return undefined;
	try {
		const document = xmlParser.parse(trimmed, true) as JsonObject;
		const roots = Object.keys(document);
		if (roots.length !== 1) return undefined;
		const content = document[roots[0]];
		return { root: roots[0], body: isObject(content) ? content : {} };
	} catch {
		return undefined;
	}
}

export function isObject(value: unknown): value is JsonObject {
	return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Brings a success body into the operation's shape: known fields typed, missing ones null, extras kept. */
export function normalizeResponse(operation: AgcodOperation, body: JsonObject): JsonObject {
	return applyShape(OPERATION_SPECS[operation].response, body);
}

function applyShape(shape: Shape, source: JsonObject): JsonObject {
	const result: JsonObject = {};
	for (const [field, kind] of Object.entries(shape)) {
		const value = source[field];
		if (typeof kind === 'object') result[field] = isObject(value) ? applyShape(kind, value) : null;
		else if (kind === 'n') result[field] = toNumber(value);
		else result[field] = toText(value);
	}
	for (const [field, value] of Object.entries(source)) {
		if (!(field in shape)) result[field] = value;
	}
	return result;
}

function toNumber(value: JsonValue | undefined): number | null {
	if (typeof value === 'number') return value;
	if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
		return Number(value);
	return null;
}

function toText(value: JsonValue | undefined): string | null {
	if (value === undefined || value === null) return null;
	if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
	if (typeof value === 'number' || typeof value === 'boolean') return String(value);
	return null;
}

export function valueAtPath(body: JsonObject, path: string): JsonValue | undefined {
	let current: JsonValue | undefined = body;
	for (const part of path.split('.')) {
		if (!isObject(current)) return undefined;
		current = current[part];
	}
	return current;
}
