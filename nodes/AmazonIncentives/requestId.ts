import { createHash } from 'node:crypto';

/** AGCOD request ids: alphanumeric, at most 40 characters, starting with the partner id. */
export const MAX_REQUEST_ID_LENGTH = 40;

/** The operations whose request id creates a new transaction, and so must be derived from the item. */
export type RequestIdKind = 'create' | 'activate' | 'load';

/** Sandbox mock ids (F0000 … F5000) simulate an answer; Amazon accepts them unprefixed in the sandbox only. */
export const MOCK_REQUEST_ID = /^F\d{4}$/;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// Bumping this changes every derived id, so it must never change for a released version.
const DERIVATION_VERSION = 'agcod-request-id/v1';

/**
 * Derives the request id for one transaction: the partner id followed by a fixed-length base62 digest of
 * (kind, namespace, key). The same inputs give the same id on every machine and in every execution, so
 * re-running a workflow re-sends the same id and Amazon returns the original card instead of a new one.
 */
export function deriveRequestId(
	partnerId: string,
	kind: RequestIdKind,
	idempotencyKey: string,
	namespace = '',
): string {
	// JSON array encoding keeps the parts unambiguous ("a","bc" never equals "ab","c").
	const digest = createHash('sha256')
		.update(JSON.stringify([DERIVATION_VERSION, kind, namespace, idempotencyKey]))
		.digest();
	return partnerId + toBase62(digest, MAX_REQUEST_ID_LENGTH - partnerId.length);
}

/** Encodes the digest as exactly `length` base62 characters (left-padded), keeping its low-order digits. */
function toBase62(digest: Buffer, length: number): string {
	let value = BigInt('0x' + digest.toString('hex'));
	const chars: string[] = new Array(length);
	for (let position = length - 1; position >= 0; position--) {
		chars[position] = BASE62[Number(value % 62n)];
		value /= 62n;
	}
	return chars.join('');
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
	if (!/^[A-Za-z0-9]+$/.test(requestId)) return 'may only contain letters and digits (A-Z, a-z, 0-9)';
	if (requestId.length > MAX_REQUEST_ID_LENGTH)
		return `is ${requestId.length} characters long; Amazon allows at most ${MAX_REQUEST_ID_LENGTH}`;
	if (!requestId.startsWith(partnerId)) return `must start with the partner id "${partnerId}"`;
	return undefined;
}
