/**
 * Proves the real-n8n machinery itself: headless import and execution with built-in nodes,
 * credential import, the package installed the way n8n's community installer does, and n8n
 * recognising the node type in both loading modes.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

import { endpointCredential } from '../support/credentials';
import {
	installTarballLikeN8n,
	packRepository,
	PACKAGE_NAME,
	readRepositoryPackageJson,
} from './communityPackage';
import { N8nCommandError, N8nInstance, type PackageLoading } from './n8nInstance';

function manualTriggerWorkflow(
	name: string,
	nodes: Array<Record<string, unknown>>,
	credentials?: Record<string, unknown>,
): Record<string, unknown> {
	const chain: Array<Record<string, unknown>> = [
		{
			id: 'trigger',
			name: 'Start',
			type: 'n8n-nodes-base.manualTrigger',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		},
		...nodes.map((node, index) => ({
			id: `node-${index}`,
			position: [220 * (index + 1), 0],
			...node,
			...(credentials && index === nodes.length - 1 ? { credentials } : {}),
		})),
	];
	const connections: Record<string, unknown> = {};
	for (let index = 0; index < chain.length - 1; index++) {
		connections[chain[index].name as string] = {
			main: [[{ node: chain[index + 1].name, type: 'main', index: 0 }]],
		};
	}
	return { name, nodes: chain, connections };
}

interface CapturedRequest {
	method?: string;
	url?: string;
	headers: http.IncomingHttpHeaders;
	body: string;
}

/** A local HTTP server that records requests and answers with `respond(request)` as JSON. */
async function startRecordingServer(
	respond: (request: CapturedRequest, requestNumber: number) => unknown,
): Promise<{
	url: string;
	requests: CapturedRequest[];
	close: () => Promise<void>;
}> {
	const requests: CapturedRequest[] = [];
	const server = http.createServer((request, response) => {
		let body = '';
		request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
		request.on('end', () => {
			const captured = { method: request.method, url: request.url, headers: request.headers, body };
			requests.push(captured);
			response.writeHead(200, { 'content-type': 'application/json' });
			response.end(JSON.stringify(respond(captured, requests.length)));
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as { port: number };
	return {
		url: `http://127.0.0.1:${port}`,
		requests,
		close: async () => await new Promise<void>((resolve) => server.close(() => resolve())),
	};
}

describe('n8n runs workflows headless with built-in nodes', () => {
	let n8n: N8nInstance;

	beforeAll(async () => {
		n8n = await N8nInstance.create();
	});

	afterAll(async () => {
		await n8n?.dispose();
	});

	it('executes Manual Trigger → Code → Set (expression) and returns every node output', async () => {
		const workflowId = await n8n.importWorkflow(
			manualTriggerWorkflow('builtin chain', [
				{
					name: 'Code',
					type: 'n8n-nodes-base.code',
					typeVersion: 2,
					parameters: {
						jsCode:
							"return [{ json: { amount: 2, label: 'first' } }, { json: { amount: 5, label: 'second' } }];",
					},
				},
				{
					name: 'Set',
					type: 'n8n-nodes-base.set',
					typeVersion: 3.4,
					parameters: {
						assignments: {
							assignments: [
								{ id: 'double', name: 'doubled', value: '={{ $json.amount * 2 }}', type: 'number' },
							],
						},
						includeOtherFields: true,
						options: {},
					},
				},
			]),
		);

		const run = await n8n.execute(workflowId);

		expect(run.status).toBe('success');
		expect(run.finished).toBe(true);
		expect(run.error).toBeUndefined();
		expect(Object.keys(run.nodes).sort()).toEqual(['Code', 'Set', 'Start']);
		expect(run.nodes.Code.outputs).toEqual([
			[
				{ amount: 2, label: 'first' },
				{ amount: 5, label: 'second' },
			],
		]);
		expect(run.nodes.Set.outputs).toEqual([
			[
				{ amount: 2, label: 'first', doubled: 4 },
				{ amount: 5, label: 'second', doubled: 10 },
			],
		]);
		expect(run.lastNodeExecuted).toBe('Set');
	});

	it('returns a failed run with the failing node and its message', async () => {
		const workflowId = await n8n.importWorkflow(
			manualTriggerWorkflow('failing code', [
				{
					name: 'Failing Code',
					type: 'n8n-nodes-base.code',
					typeVersion: 2,
					parameters: { jsCode: "throw new Error('deliberate e2e failure');" },
				},
			]),
		);

		const run = await n8n.execute(workflowId);

		expect(run.status).toBe('error');
		expect(run.error?.message).toContain('deliberate e2e failure');
		expect(run.nodes['Failing Code'].error).toContain('deliberate e2e failure');
		expect(run.nodes.Start.outputs).toEqual([[{}]]);
	});

	it('imports a credential that a node decrypts and uses against a local server', async () => {
		const echo = await startRecordingServer((request, requestNumber) => ({
			echoedPath: request.url,
			requestNumber,
		}));
		try {
			const [credentialId] = await n8n.importCredentials([
				{
					name: 'Echo basic auth',
					type: 'httpBasicAuth',
					data: { user: 'e2e-user', password: 'e2e-pass' },
				},
			]);
			const workflowId = await n8n.importWorkflow(
				manualTriggerWorkflow(
					'credential use',
					[
						{
							name: 'Call Echo',
							type: 'n8n-nodes-base.httpRequest',
							typeVersion: 4.2,
							parameters: {
								url: `${echo.url}/credential-check`,
								authentication: 'genericCredentialType',
								genericAuthType: 'httpBasicAuth',
								options: {},
							},
						},
					],
					{ httpBasicAuth: { id: credentialId, name: 'Echo basic auth' } },
				),
			);

			const run = await n8n.execute(workflowId);

			expect(run.status).toBe('success');
			expect(run.nodes['Call Echo'].outputs).toEqual([
				[{ echoedPath: '/credential-check', requestNumber: 1 }],
			]);
			expect(echo.requests).toHaveLength(1);
			expect(echo.requests[0].headers.authorization).toBe(
				`Basic ${Buffer.from('e2e-user:e2e-pass').toString('base64')}`,
			);
		} finally {
			await echo.close();
		}
	});

	it('returns the stored run when n8n refuses a workflow before its first node', async () => {
		const workflowId = await n8n.importWorkflow(
			manualTriggerWorkflow('parameter issues', [
				{
					name: 'No URL',
					type: 'n8n-nodes-base.httpRequest',
					typeVersion: 4.2,
					parameters: { url: '', options: {} },
				},
			]),
		);

		const run = await n8n.execute(workflowId);

		expect(run.status).toBe('error');
		expect(run.error?.message).toMatch(/'No URL' node has issues/);
		expect(run.nodes).toEqual({});
	});

	it('starts as a server that answers /healthz and the REST API, and stops completely', async () => {
		const server = await n8n.start();
		const settings = await fetch(`${server.url}/rest/settings`);
		expect(settings.status).toBe(200);
		// A fresh user folder: n8n asks for owner setup, so this is the instance's own database.
		const body = (await settings.json()) as {
			data?: { userManagement?: { showSetupOnFirstLoad?: boolean } };
		};
		expect(body.data?.userManagement?.showSetupOnFirstLoad).toBe(true);

		await n8n.stop();

		await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
		expect(() => process.kill(server.pid, 0)).toThrow();
	});

	it('reports a workflow n8n cannot run as an N8nCommandError', async () => {
		await expect(n8n.execute('doesNotExist0001')).rejects.toThrow(N8nCommandError);
	});
});

describe('the packed package installs like n8n installs community packages', () => {
	let workDir: string;
	let tarball: string;

	beforeAll(async () => {
		workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agcod-pack-'));
		tarball = await packRepository(workDir);
	});

	afterAll(() => {
		if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
	});

	it('brings its runtime dependencies and nothing from devDependencies or peerDependencies', async () => {
		const nodesDir = path.join(workDir, 'nodes');
		const installed = await installTarballLikeN8n(nodesDir, tarball);
		const repositoryManifest = readRepositoryPackageJson();

		expect(installed.name).toBe(PACKAGE_NAME);
		expect(installed.version).toBe(repositoryManifest.version);
		expect(installed.directory).toBe(path.join(nodesDir, 'node_modules', PACKAGE_NAME));

		const installedManifest = JSON.parse(
			fs.readFileSync(path.join(installed.directory, 'package.json'), 'utf8'),
		) as Record<string, unknown>;
		expect(installedManifest.devDependencies).toBeUndefined();
		expect(installedManifest.peerDependencies).toBeUndefined();
		expect(installedManifest.dependencies).toEqual(repositoryManifest.dependencies);

		const dependencyDir = (name: string) => path.join(installed.directory, 'node_modules', name);
		for (const runtimeDependency of ['aws4', 'fast-xml-parser']) {
			expect(fs.existsSync(path.join(dependencyDir(runtimeDependency), 'package.json'))).toBe(true);
		}
		for (const absent of [
			'jest',
			'ts-jest',
			'typescript',
			'n8n-core',
			'n8n-workflow',
			'gulp',
			'@n8n/node-cli',
			'amazon-incentives-api',
		]) {
			expect({ dependency: absent, installed: fs.existsSync(dependencyDir(absent)) }).toEqual({
				dependency: absent,
				installed: false,
			});
		}

		// Only what package.json "files" ships: the built code, no sources or tests.
		const shipped = fs.readdirSync(installed.directory).sort();
		expect(shipped).toEqual(expect.arrayContaining(['dist', 'package.json']));
		expect(shipped).not.toContain('test');
		expect(shipped).not.toContain('nodes');
		for (const file of [
			...(repositoryManifest.n8n?.nodes ?? []),
			...(repositoryManifest.n8n?.credentials ?? []),
		]) {
			expect(fs.existsSync(path.join(installed.directory, file))).toBe(true);
		}

		const ledger = JSON.parse(fs.readFileSync(path.join(nodesDir, 'package.json'), 'utf8')) as {
			dependencies: Record<string, string>;
		};
		expect(ledger.dependencies).toEqual({ [PACKAGE_NAME]: repositoryManifest.version });
	});
});

describe.each<[PackageLoading, string]>([
	['customExtension', 'CUSTOM'],
	['communityPackage', PACKAGE_NAME],
])('n8n recognises the node type when the package is loaded as %s', (packageLoading, prefix) => {
	let n8n: N8nInstance;

	beforeAll(async () => {
		n8n = await N8nInstance.create({ packageLoading });
	});

	afterAll(async () => {
		await n8n?.dispose();
	});

	it(`runs ${prefix}.amazonIncentives: Get Available Funds, signed, against a local endpoint`, async () => {
		expect(n8n.nodeType('amazonIncentives')).toBe(`${prefix}.amazonIncentives`);
		const agcod = await startRecordingServer(() => ({
			availableFunds: { amount: 0.0, currencyCode: 'USD' },
			status: 'SUCCESS',
			timestamp: '20220610T085450Z',
		}));
		try {
			const [credentialId] = await n8n.importCredentials([
				{
					name: 'AGCOD e2e',
					type: 'amazonIncentivesApi',
					data: endpointCredential({
						url: agcod.url,
						region: 'na',
						partner: {
							partnerId: 'Awssb',
							accessKeyId: 'AKIDEXAMPLE',
							secretAccessKey: 'e2e-secret-never-logged',
						},
					}),
				},
			]);
			const workflowId = await n8n.importWorkflow(
				manualTriggerWorkflow(
					`node type via ${packageLoading}`,
					[
						{
							name: 'Amazon Incentives',
							type: n8n.nodeType('amazonIncentives'),
							typeVersion: 1,
							parameters: { resource: 'account', operation: 'getAvailableFunds' },
						},
					],
					{ amazonIncentivesApi: { id: credentialId, name: 'AGCOD e2e' } },
				),
			);

			const run = await n8n.execute(workflowId);

			expect({ status: run.status, error: run.error?.message }).toEqual({
				status: 'success',
				error: undefined,
			});
			expect(run.nodes['Amazon Incentives'].outputs[0]).toHaveLength(1);
			expect(agcod.requests).toHaveLength(1);
			const [request] = agcod.requests;
			expect(request.method).toBe('POST');
			expect(request.url).toBe('/GetAvailableFunds');
			expect(request.headers['x-amz-target']).toBe(
				'com.amazonaws.agcod.AGCODService.GetAvailableFunds',
			);
			expect(request.headers.authorization).toMatch(
				/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/AGCODService\/aws4_request, /,
			);
			expect(JSON.parse(request.body)).toMatchObject({ partnerId: 'Awssb' });
			expect(JSON.stringify(run.raw)).not.toContain('e2e-secret-never-logged');
		} finally {
			await agcod.close();
		}
	});
});
