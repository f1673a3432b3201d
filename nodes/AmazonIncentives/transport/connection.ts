import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import { partnerIdProblem, REGION_GROUPS, type RegionGroup } from '../validation';
import type { AgcodOperation } from './codec';

type Environment = 'sandbox' | 'production' | 'custom';

/** Amazon's hosts per region group: https://developer.amazon.com/docs/incentives-api/incentives-api.html */
export const ENDPOINTS: Readonly<
	Record<RegionGroup, { sandbox: string; production: string; signingRegion: string }>
> = {
	na: {
		sandbox: 'https://agcod-v2-gamma.amazon.com',
		production: 'https://agcod-v2.amazon.com',
		signingRegion: 'us-east-1',
	},
	eu: {
		sandbox: 'https://agcod-v2-eu-gamma.amazon.com',
		production: 'https://agcod-v2-eu.amazon.com',
		signingRegion: 'eu-west-1',
	},
	// The Far East endpoint signs with us-west-2, not an AP region.
	fe: {
		sandbox: 'https://agcod-v2-fe-gamma.amazon.com',
		production: 'https://agcod-v2-fe.amazon.com',
		signingRegion: 'us-west-2',
	},
};

/** Where and as whom the node calls AGCOD: the credential, checked and resolved to one endpoint. */
export interface AgcodConnection {
	partnerId: string;
	accessKeyId: string;
	secretAccessKey: string;
	region: RegionGroup;
	signingRegion: string;
	environment: Environment;
	baseUrl: URL;
	allowUnauthorizedCerts: boolean;
}

/** Why the credential cannot be used as configured, naming the field to fix. */
interface ConfigProblem {
	field: string;
	message: string;
}

function problem(field: string, message: string): { problem: ConfigProblem } {
	return { problem: { field, message } };
}

export function readConnection(
	data: ICredentialDataDecryptedObject,
): { connection: AgcodConnection } | { problem: ConfigProblem } {
	const partnerId = typeof data.partnerId === 'string' ? data.partnerId.trim() : data.partnerId;
	const partnerProblem = partnerIdProblem(partnerId);
	if (partnerProblem) return problem('partnerId', partnerProblem);
	const accessKeyId = typeof data.accessKeyId === 'string' ? data.accessKeyId.trim() : '';
	if (!accessKeyId) return problem('accessKeyId', 'The Access Key ID is missing');
	const secretAccessKey =
		typeof data.secretAccessKey === 'string' ? data.secretAccessKey.trim() : '';
	if (!secretAccessKey) return problem('secretAccessKey', 'The Secret Access Key is missing');
	const region = data.region as RegionGroup;
	if (!REGION_GROUPS.includes(region))
		return problem('region', `The Region must be one of ${REGION_GROUPS.join(', ')}`);
	const environment = (data.environment ?? 'sandbox') as Environment;

	let baseUrl: URL;
	if (environment === 'sandbox' || environment === 'production') {
		// Amazon's hosts are fixed here: a custom endpoint can never receive production traffic.
		baseUrl = new URL(ENDPOINTS[region][environment]);
	} else if (environment === 'custom') {
		const endpoint = String(data.endpoint ?? '').trim();
		if (!URL.canParse(endpoint))
			return problem(
				'endpoint',
				'The custom Endpoint must be a full URL such as http://127.0.0.1:8089',
			);
		baseUrl = new URL(endpoint);
		if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:')
			return problem('endpoint', 'The custom Endpoint must start with http:// or https://');
		// By host name alone: any port, and the fully qualified spelling with a trailing dot, is still Amazon.
		const hostname = baseUrl.hostname.replace(/\.+$/, '');
		if (Object.values(ENDPOINTS).some((urls) => new URL(urls.production).hostname === hostname))
			return problem(
				'endpoint',
				'The custom Endpoint points at an Amazon production host; choose the Production environment instead',
			);
	} else {
		return problem('environment', 'The Environment must be sandbox, production or custom');
	}
	return {
		connection: {
			partnerId: partnerId as string,
			accessKeyId,
			secretAccessKey,
			region,
			signingRegion: ENDPOINTS[region].signingRegion,
			environment,
			baseUrl,
			allowUnauthorizedCerts: environment === 'custom' && data.ignoreSslIssues === true,
		},
	};
}

/** The URL path of one operation: every AGCOD call is a POST to /<Operation> under the base URL. */
export function operationPath(connection: AgcodConnection, operation: AgcodOperation): string {
	return `${connection.baseUrl.pathname.replace(/\/+$/, '')}/${operation}`;
}
