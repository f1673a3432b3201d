import aws4 from 'aws4';

import { type AgcodOperation, type BodyFormat, contentTypeFor } from './codec';

const SERVICE = 'AGCODService';
const TARGET_PREFIX = 'com.amazonaws.agcod.AGCODService.';

interface SigningKeys {
	accessKeyId: string;
	secretAccessKey: string;
}

/** One AGCOD POST before signing. */
interface UnsignedRequest {
	/** host[:port] as it is sent. */
	host: string;
	path: string;
	/** The SigV4 region (us-east-1, eu-west-1 or us-west-2), not the region group. */
	region: string;
	body: string;
	/** accept, content-type and x-amz-target; they are signed with the rest. */
	headers: Record<string, string>;
}

/** The headers AGCOD reads to dispatch a call: the body's content type and the operation as x-amz-target. */
export function agcodHeaders(
	operation: AgcodOperation,
	format: BodyFormat,
): Record<string, string> {
	const contentType = contentTypeFor(format);
	return {
		accept: contentType,
		'content-type': contentType,
		'x-amz-target': TARGET_PREFIX + operation,
	};
}

/**
 * Signs one POST with aws4 (SigV4, service AGCODService) and returns every header to send: the given ones
 * plus host, x-amz-date and Authorization. Sign again for every attempt: each signature carries its own time.
 */
export function signAgcodRequest(
	request: UnsignedRequest,
	keys: SigningKeys,
): Record<string, string> {
	const signed = aws4.sign(
		{
			host: request.host,
			path: request.path,
			method: 'POST',
			service: SERVICE,
			region: request.region,
			body: request.body,
			headers: { ...request.headers },
		},
		{ accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey },
	);
	return signed.headers as Record<string, string>;
}
