import { hash } from 'node:crypto';

/** AGCOD request ids: alphanumeric, at most 40 characters, starting with the partner id. */
export const MAX_REQUEST_ID_LENGTH = 40;

/** The operations whose request id creates a new transaction, and so must be derived from the item. */
export type RequestIdKind = 'create' | 'activate' | 'load';

/** Sandbox mock ids (F0000 … F5000) simulate an answer; Amazon accepts them unprefixed in the sandbox only. */
const MOCK_REQUEST_ID = /^F\d{4}$/;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// Bumping this changes every derived id, so it must never change for a released version. (v1 was never released.)
const DERIVATION_VERSION = 'agcod-request-id/v2';

/**
 * Where a unique ID (idempotency key) must be unique: within one workflow (the default: the same key in two
 * workflows is two transactions), within a named scope shared by the workflows that should share ids (e.g. an
 * error workflow that retries), or across the whole Amazon account.
 */
export type RequestIdScope =
	{ type: 'workflow'; workflowId: string } | { type: 'named'; name: string } | { type: 'account' };

function scopeValue(scope: RequestIdScope): string {
	if (scope.type === 'workflow') return scope.workflowId;
	if (scope.type === 'named') return scope.name.normalize('NFC');
	return '';
}

/**
 * Derives the request id for one transaction: the partner id followed by a fixed-length base62 digest of
 * (kind, scope, key). The same inputs give the same id on every machine and in every execution, so re-running
 * a workflow re-sends the same id and Amazon returns the original card instead of a new one. Keys and scope
 * names are compared in Unicode NFC, so "José" typed with a combining accent is the same key.
 */
export function deriveRequestId(
	partnerId: string,
	kind: RequestIdKind,
	idempotencyKey: string,
	scope: RequestIdScope,
): string {
	// JSON array encoding keeps the parts unambiguous ("a","bc" never equals "ab","c").
	const digest = hash(
		'sha256',
		JSON.stringify([
			DERIVATION_VERSION,
			kind,
			scope.type,
			scopeValue(scope),
			idempotencyKey.normalize('NFC'),
		]),
		'buffer',
	);
	return partnerId + toBase62(digest, MAX_REQUEST_ID_LENGTH - partnerId.length);
}

/**
 * Encodes the digest as exactly `length` base62 characters (left-padded), keeping its low-order digits.
 * Long division over 16-bit words keeps every step in 32-bit integer arithmetic: far faster than BigInt.
 */
function toBase62(digest: Buffer, length: number): string {
	const words = new Array<number>(digest.length / 2);
	for (let index = 0; index < words.length; index++) words[index] = digest.readUInt16BE(index * 2);
	let encoded = '';
	for (let position = 0; position < length; position++) {
		let remainder = 0;
		for (let index = 0; index < words.length; index++) {
			const dividend = remainder * 0x10000 + words[index];
			const quotient = (dividend / 62) | 0;
			words[index] = quotient;
			remainder = dividend - quotient * 62;
		}
		encoded = BASE62[remainder] + encoded;
	}
	return encoded;
}

/**
 * Why an explicit request id is unusable, or undefined when it is fine. Mock ids are only accepted when the
 * call does not go to production.
 */
export function requestIdProblem(
	requestId: string,
	partnerId: string,
	allowMockIds: boolean,
): string | undefined {
	if (allowMockIds && MOCK_REQUEST_ID.test(requestId)) return undefined;
	if (requestId.length === 0) return 'is empty';
	if (!/^[A-Za-z0-9]+$/.test(requestId))
		return 'may only contain letters and digits (A-Z, a-z, 0-9)';
	if (requestId.length > MAX_REQUEST_ID_LENGTH)
		return `is ${requestId.length} characters long; Amazon allows at most ${MAX_REQUEST_ID_LENGTH}`;
	if (!requestId.startsWith(partnerId)) return `must start with the partner id "${partnerId}"`;
	return undefined;
}
