import type {
	ICredentialDataDecryptedObject,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

import { signRequestForCredential } from '../nodes/AmazonIncentives/transport/signRequest';

export class AmazonIncentivesApi implements ICredentialType {
	name = 'amazonIncentivesApi';

	displayName = 'Amazon Incentives API';

	icon: Icon = {
		light: 'file:../nodes/AmazonIncentives/amazonIncentives.svg',
		dark: 'file:../nodes/AmazonIncentives/amazonIncentives.dark.svg',
	};

	documentationUrl =
		'https://github.com/n8n-nodes-amazon-incentives/n8n-nodes-amazon-incentives#credential';

	properties: INodeProperties[] = [
		{
			displayName: 'Partner ID',
			name: 'partnerId',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. Awssb',
			description:
				'The 5-character partner ID Amazon issued (case-sensitive). Every request ID starts with it.',
		},
		{
			displayName: 'Access Key ID',
			name: 'accessKeyId',
			type: 'string',
			default: '',
			required: true,
			description:
				'From the AGCOD credentials page of the Incentives API portal; sandbox and production have different keys',
		},
		{
			displayName: 'Secret Access Key',
			name: 'secretAccessKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
		},
		{
			displayName: 'Region',
			name: 'region',
			type: 'options',
			options: [
				{ name: 'North America (US, CA, MX)', value: 'na' },
				{
					name: 'Europe and Middle East (UK, DE, FR, IT, ES, NL, BE, PL, SE, TR, AE, SA, EG, ZA)',
					value: 'eu',
				},
				{ name: 'Far East (JP, AU, SG)', value: 'fe' },
			],
			default: 'na',
			description: 'The region group of your account; it picks the endpoint and the signing region',
		},
		{
			displayName: 'Environment',
			name: 'environment',
			type: 'options',
			options: [
				{ name: 'Sandbox', value: 'sandbox', description: "Amazon's test endpoint: no real money" },
				{ name: 'Production', value: 'production', description: 'Real gift cards, real money' },
				{
					name: 'Custom Endpoint',
					value: 'custom',
					description:
						'Another AGCOD-compatible endpoint, such as the local sandbox of this package',
				},
			],
			default: 'sandbox',
		},
		{
			displayName: 'Endpoint',
			name: 'endpoint',
			type: 'string',
			default: '',
			placeholder: 'e.g. http://127.0.0.1:8089',
			required: true,
			displayOptions: { show: { environment: ['custom'] } },
			description: 'Base URL of the endpoint. The Region above still sets the signing region.',
		},
		{
			displayName: 'Ignore SSL Issues (Insecure)',
			name: 'ignoreSslIssues',
			type: 'boolean',
			default: false,
			displayOptions: { show: { environment: ['custom'] } },
			description: 'Whether to accept a self-signed certificate from the custom endpoint',
		},
	];

	/**
	 * Signs a request with aws4 for this credential's region and endpoint, so n8n's HTTP Request node
	 * ("Predefined Credential Type → Amazon Incentives API") can call any AGCOD operation: POST to
	 * `<endpoint>/<Operation>` with a JSON or XML body.
	 */
	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		return signRequestForCredential(credentials, requestOptions);
	}
}
