import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IHttpRequestOptions,
} from 'n8n-workflow';

import { type AgcodOperation, type BodyFormat, OPERATION_SPECS } from './codec';
import { readConnection } from './connection';
import { signAgcodCall } from './signing';

/** n8n's legacy request options (HTTP Request node) name the URL `uri`; the newer ones `url`. */
type RequestOptions = IHttpRequestOptions & { uri?: string; rejectUnauthorized?: boolean };

/** Headers the signature sets; the caller's own values would break or contradict it. */
const REPLACED_HEADERS = new Set(['accept', 'content-type', 'host', 'authorization', 'x-amz-date']);

function headerValue(headers: IDataObject | undefined, name: string): string | undefined {
	const key = Object.keys(headers ?? {}).find((header) => header.toLowerCase() === name);
	const value = key === undefined ? undefined : headers?.[key];
	return typeof value === 'string' ? value : undefined;
}

function requestUrl(options: RequestOptions): URL {
	const raw = options.uri ?? options.url;
	if (!raw) throw new Error('Amazon Incentives API credential: the request has no URL');
	return options.baseURL ? new URL(raw, options.baseURL) : new URL(raw);
}

/**
 * The credential's `authenticate()`: signs one AGCOD call with the same aws4 signing as the node
 * (SigV4, service AGCODService, the credential's region), so n8n's HTTP Request node can call any
 * AGCOD operation with this credential. The operation comes from the URL's last path segment
 * (`…/CreateGiftCard`, one of the eight AGCOD operations), the format from the Content-Type (XML when it
 * says xml, or when there is none and the body is XML text; JSON otherwise). It only signs for the
 * credential's own endpoint: a signed request for another host or environment would be refused there
 * anyway, and must not leave n8n.
 */
export function signRequestForCredential(
	data: ICredentialDataDecryptedObject,
	options: IHttpRequestOptions,
): IHttpRequestOptions {
	const request = options as RequestOptions;
	const read = readConnection(data);
	if ('problem' in read)
		throw new Error(`Amazon Incentives API credential: ${read.problem.message}`);
	const { connection } = read;

	const url = requestUrl(request);
	const name = url.pathname.split('/').pop() ?? '';
	const base = `${connection.baseUrl.origin}${connection.baseUrl.pathname.replace(/\/+$/, '')}`;
	if (`${url.origin}${url.pathname}` !== `${base}/${name}`)
		throw new Error(
			`This Amazon Incentives API credential signs only calls to ${base}/<Operation> (${connection.environment}, region ${connection.region}); the request goes to ${url.origin}${url.pathname}`,
		);
	// A typo in the operation fails here, before anything is sent.
	if (!Object.hasOwn(OPERATION_SPECS, name))
		throw new Error(
			`"${name.slice(0, 64)}" is not an AGCOD operation; the URL must end with one of ${Object.keys(OPERATION_SPECS).join(', ')}`,
		);
	const operation = name as AgcodOperation;
	if (url.search)
		throw new Error('AGCOD operations take no query string; send the fields in the body');
	if ((request.method ?? 'GET').toUpperCase() !== 'POST')
		throw new Error(`AGCOD operations are called with POST, not ${request.method ?? 'GET'}`);

	const body =
		request.body === undefined || request.body === null
			? ''
			: typeof request.body === 'string'
				? request.body
				: JSON.stringify(request.body);
	const declaredType = headerValue(request.headers, 'content-type') ?? '';
	const format: BodyFormat =
		/xml/i.test(declaredType) || (!declaredType && body.trimStart().startsWith('<'))
			? 'xml'
			: 'json';

	const headers: IDataObject = {};
	for (const [name, value] of Object.entries(request.headers ?? {})) {
		const lower = name.toLowerCase();
		if (!REPLACED_HEADERS.has(lower) && !lower.startsWith('x-amz-')) headers[name] = value;
	}
	Object.assign(headers, signAgcodCall(connection, operation, format, body).headers);

	const signed: RequestOptions = { ...request, headers, body };
	if (connection.allowUnauthorizedCerts) {
		signed.skipSslCertificateValidation = true;
		signed.rejectUnauthorized = false;
	}
	return signed;
}
