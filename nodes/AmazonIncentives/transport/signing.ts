import aws4 from 'aws4';

import { type AgcodOperation, type BodyFormat, contentTypeFor } from './codec';
import { type AgcodConnection, operationPath } from './connection';

const SERVICE = 'AGCODService';
const TARGET_PREFIX = 'com.amazonaws.agcod.AGCODService.';

/** The headers AGCOD reads to dispatch a call: the body's content type and the operation as x-amz-target. */
function agcodHeaders(operation: AgcodOperation, format: BodyFormat): Record<string, string> {
	const contentType = contentTypeFor(format);
	return {
		accept: contentType,
		'content-type': contentType,
		'x-amz-target': TARGET_PREFIX + operation,
	};
}

/**
 * Signs one AGCOD POST for this connection with aws4 (SigV4, service AGCODService, the connection's signing
 * region) and returns its path and every header to send: accept, content-type and x-amz-target for the
 * operation and format, plus host, x-amz-date and Authorization. Sign again for every attempt: each signature
 * carries its own time.
 */
export function signAgcodCall(
	connection: AgcodConnection,
	operation: AgcodOperation,
	format: BodyFormat,
	body: string,
): { path: string; headers: Record<string, string> } {
	const path = operationPath(connection, operation);
	const signed = aws4.sign(
		{
			host: connection.baseUrl.host,
			path,
			method: 'POST',
			service: SERVICE,
			region: connection.signingRegion,
			body,
			headers: agcodHeaders(operation, format),
		},
		{ accessKeyId: connection.accessKeyId, secretAccessKey: connection.secretAccessKey },
	);
	return { path, headers: signed.headers as Record<string, string> };
}
