import type { IDataObject } from 'n8n-workflow';

/** An AGCOD endpoint a test talks to (the local sandbox, or a test server) and the partner it knows. */
export interface TestEndpoint {
	url: string;
	region: string;
	partner: { partnerId: string; accessKeyId: string; secretAccessKey: string };
}

/**
 * The data of an amazonIncentivesApi credential for a test endpoint: the Custom Endpoint environment with
 * the endpoint's partner and keys. `overrides` replaces fields, e.g. `{ ignoreSslIssues: true }`.
 */
export function endpointCredential(endpoint: TestEndpoint, overrides: IDataObject = {}) {
	return {
		partnerId: endpoint.partner.partnerId,
		accessKeyId: endpoint.partner.accessKeyId,
		secretAccessKey: endpoint.partner.secretAccessKey,
		region: endpoint.region,
		environment: 'custom',
		endpoint: endpoint.url,
		...overrides,
	};
}
