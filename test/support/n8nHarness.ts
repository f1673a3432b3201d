/**
 * Runs a node's execute() the way n8n runs it: through n8n-core's WorkflowExecute on a real Workflow
 * (a manual trigger with pinned output connected to the node under test), with a credentials helper,
 * lifecycle hooks and a Logger registered in n8n-core's DI container. Error outputs, Continue On Fail,
 * Retry On Fail, paired items, expressions and getCredentials therefore behave as in n8n itself.
 *
 *   const result = await runNode({
 *     node: new AmazonIncentives(),
 *     parameters: {
 *       resource: 'giftCard',
 *       operation: 'create',
 *       amount: '={{ $json.amount }}',
 *       currencyCode: 'USD',
 *       idempotencyKey: '={{ $json.orderId }}',
 *     },
 *     items: [{ amount: 5, orderId: 'order-1' }],
 *     credentials: { type: new AmazonIncentivesApi(), data: endpointCredential(sandbox) },
 *     settings: { onError: 'continueErrorOutput' },
 *   });
 *   // result.status, result.main, result.errorOutput, result.error, result.runs, result.logs, result.hints, result.raw
 *
 * (endpointCredential is in ./credentials.ts; test/integration/helpers.ts wraps all this as runAgainst.)
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
	CredentialTestContext,
	Credentials,
	Cipher,
	EncryptionKeyProxy,
	ExecutionLifecycleHooks,
	ExternalSecretsProxy,
	InstanceSettings,
	WorkflowExecute,
	getAdditionalKeys,
} from 'n8n-core';
import {
	ICredentialsHelper,
	LoggerProxy,
	NodeHelpers,
	UnexpectedError,
	Workflow,
	createRunExecutionData,
	deepCopy,
} from 'n8n-workflow';
import type { KeyInfo } from 'n8n-core';
import type {
	ICredentialDataDecryptedObject,
	ICredentialType,
	ICredentialTestFunction,
	ICredentialsDecrypted,
	ICredentialsExpressionResolveValues,
	IDataObject,
	IExecuteData,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INode,
	INodeCredentialTestResult,
	INodeCredentialsDetails,
	INodeExecutionData,
	INodeParameters,
	INodeProperties,
	INodeType,
	INodeTypes,
	IRequestOptionsSimplified,
	IRun,
	ITriggerFunctions,
	ITriggerResponse,
	IVersionedNodeType,
	IWorkflowBase,
	IWorkflowExecuteAdditionalData,
	IWorkflowSettings,
	Logger as N8nLogger,
	NodeExecutionHint,
	LogMetadata,
	WorkflowExecuteMode,
} from 'n8n-workflow';

// n8n-core ships its own copies of @n8n/di and @n8n/backend-common (newer than the hoisted ones), and
// it resolves Logger and InstanceSettings from *its* Container, so take both from n8n-core's folder.
const n8nCoreDir = path.dirname(require.resolve('n8n-core/package.json'));
function requireFromN8nCore<T>(id: string): T {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	return require(require.resolve(id, { paths: [n8nCoreDir] })) as T;
}
const { Container } = requireFromN8nCore<typeof import('@n8n/di')>('@n8n/di');
const { Logger: N8nCoreLogger } =
	requireFromN8nCore<typeof import('@n8n/backend-common')>('@n8n/backend-common');

interface CapturedLog {
	level: 'error' | 'warn' | 'info' | 'debug';
	message: string;
	meta?: unknown;
}

export interface RunNodeOptions {
	/** An instance, e.g. new AmazonIncentives(). */
	node: INodeType | IVersionedNodeType;
	/** Default 'CUSTOM.<description.name>' (what n8n names nodes loaded from custom extensions). */
	nodeTypeName?: string;
	/** May contain n8n expressions like '={{ $json.amount }}'. */
	parameters: INodeParameters;
	/**
	 * The trigger's output, fed to the node. Plain objects become { json }; objects shaped like
	 * INodeExecutionData (a json object and only INodeExecutionData keys) are used as they are.
	 * With no items n8n does not run the node at all (runs 0, status 'success').
	 */
	items: Array<IDataObject | INodeExecutionData>;
	credentials?: { type: ICredentialType; data: ICredentialDataDecryptedObject };
	settings?: {
		onError?: 'stopWorkflow' | 'continueRegularOutput' | 'continueErrorOutput';
		retryOnFail?: boolean;
		maxTries?: number;
		/** n8n treats 0 (and unset) as 1000 ms; pass e.g. 1 to keep tests fast. */
		waitBetweenTries?: number;
		alwaysOutputData?: boolean;
	};
	/** Default: the node's latest version. */
	typeVersion?: number;
	/**
	 * The workflow's id. Default 'harness-workflow', the same for every run, like re-running one saved
	 * workflow; '' stands for a workflow without an id.
	 */
	workflowId?: string;
	/** Merged over { executionOrder: 'v1' }, e.g. saveDataSuccessExecution, saveManualExecutions. */
	workflowSettings?: IWorkflowSettings;
	/** Default 'manual' (a run from the editor); e.g. 'trigger' or 'webhook' for a production run. */
	mode?: WorkflowExecuteMode;
	/**
	 * Default: a new id per run. Give several runs the same id to play runs of the node in one workflow
	 * execution (a loop, an AI agent calling the node as a tool again and again).
	 */
	executionId?: string;
}

export interface RunNodeResult {
	/** The workflow run's outcome ('error' also covers a run n8n refused to start). */
	status: 'success' | 'error';
	/** The node's output 0 of its last run. */
	main: INodeExecutionData[];
	/** Output 1 when onError = continueErrorOutput, else []. */
	errorOutput: INodeExecutionData[];
	/**
	 * The node's error (the instance it threw when that can be told, e.g. a NodeApiError /
	 * NodeOperationError). Set whenever the node's task ended with an error, which includes
	 * continueRegularOutput / continueErrorOutput runs of a node that threw instead of returning
	 * error items.
	 */
	error?: Error;
	/** How many times the node's execute() ran in this execution (1 + retries). */
	runs: number;
	/** Everything logged through n8n's Logger during the run (this.logger included). */
	logs: CapturedLog[];
	/** The execution hints the node added (this.addExecutionHints), as n8n stores them with the run. */
	hints: NodeExecutionHint[];
	/** The IRun for anything else (undefined when n8n refused to start the run). */
	raw: unknown;
}

const TRIGGER_NODE_TYPE = 'harness.manualTrigger';
const TRIGGER_NODE_NAME = 'When clicking ‘Execute workflow’';
const CREDENTIAL_ID = 'harness-credential-1';
const BASE_URL = 'http://localhost:5678/';

/** The same shape as n8n's Manual Trigger; its output is always pinned by runNode. */
class HarnessManualTrigger implements INodeType {
	description: INodeType['description'] = {
		displayName: 'Manual Trigger',
		name: TRIGGER_NODE_TYPE,
		group: ['trigger'],
		version: 1,
		description: 'Runs the flow on clicking a button in n8n',
		defaults: { name: TRIGGER_NODE_NAME },
		inputs: [],
		outputs: ['main'],
		properties: [],
	};

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		const manualTriggerFunction = async () => {
			this.emit([this.helpers.returnJsonArray([{}])]);
		};
		return { manualTriggerFunction };
	}
}

// ---------------------------------------------------------------------------------------------
// Logging: one Logger in the Container; each run collects what is logged in its own async context.
// ---------------------------------------------------------------------------------------------

const currentLogSink = new AsyncLocalStorage<CapturedLog[]>();

class CapturingLogger implements N8nLogger {
	error(message: string, meta?: LogMetadata) {
		this.record('error', message, meta);
	}

	warn(message: string, meta?: LogMetadata) {
		this.record('warn', message, meta);
	}

	info(message: string, meta?: LogMetadata) {
		this.record('info', message, meta);
	}

	debug(message: string, meta?: LogMetadata) {
		this.record('debug', message, meta);
	}

	/** n8n services ask for scoped loggers; scopes only filter output, so the same sink serves. */
	scoped() {
		return this;
	}

	private record(level: CapturedLog['level'], message: string, meta?: LogMetadata) {
		const sink = currentLogSink.getStore();
		if (!sink) return;
		sink.push(meta === undefined ? { level, message } : { level, message, meta });
	}
}

let environmentReady = false;

/**
 * Registers the capturing Logger and creates InstanceSettings (encryption key, instance id) under a
 * temporary N8N_USER_FOLDER, so nothing is written to the real home. Runs once per module instance.
 */
function ensureN8nEnvironment() {
	if (environmentReady) return;
	const logger = new CapturingLogger();
	Container.set(N8nCoreLogger, logger as unknown as InstanceType<typeof N8nCoreLogger>);
	LoggerProxy.init(logger);

	const userFolder = mkdtempSync(path.join(tmpdir(), 'n8n-harness-'));
	const previousUserFolder = process.env.N8N_USER_FOLDER;
	process.env.N8N_USER_FOLDER = userFolder;
	let instanceSettings: InstanceSettings;
	try {
		instanceSettings = Container.get(InstanceSettings);
	} finally {
		if (previousUserFolder === undefined) delete process.env.N8N_USER_FOLDER;
		else process.env.N8N_USER_FOLDER = previousUserFolder;
		// InstanceSettings reads and writes its settings file only while being created; nothing
		// else in a node run touches the folder, so it goes now rather than on an exit hook.
		rmSync(userFolder, { recursive: true, force: true });
	}

	// n8n's database-backed key provider is not here; serve the instance key as the legacy
	// ("no-prefix") data key so Credentials really encrypt and decrypt, as they do in n8n.
	const legacyKey: KeyInfo = {
		id: 'harness-legacy',
		value: Container.get(Cipher).encryptDEKWithInstanceKey(instanceSettings.encryptionKey),
		algorithm: 'aes-256-cbc',
		format: 'no-prefix',
	};
	Container.get(EncryptionKeyProxy).setProvider({
		getActiveKey: async () => legacyKey,
		getKeyById: async (id) => (id === legacyKey.id ? legacyKey : null),
		getLegacyKey: async () => legacyKey,
	});
	environmentReady = true;
}

// ---------------------------------------------------------------------------------------------
// Node types
// ---------------------------------------------------------------------------------------------

function isVersionedNodeType(node: INodeType | IVersionedNodeType): node is IVersionedNodeType {
	return 'nodeVersions' in node;
}

function latestVersion(node: INodeType | IVersionedNodeType): number {
	if (isVersionedNodeType(node)) return node.currentVersion;
	const { version } = node.description;
	return Array.isArray(version) ? Math.max(...version) : version;
}

/** Every concrete INodeType behind a node (all versions of a versioned node). */
function allVersionsOf(node: INodeType | IVersionedNodeType): INodeType[] {
	return isVersionedNodeType(node) ? Object.values(node.nodeVersions) : [node];
}

/** Wraps a node type so each execute() call is counted and the error it throws is kept. */
interface ExecutionTracker {
	calls: number;
	lastThrown?: unknown;
}

function trackExecutions(nodeType: INodeType, tracker: ExecutionTracker): INodeType {
	const { execute } = nodeType;
	if (typeof execute !== 'function') return nodeType;
	// Keep `this` as n8n passes it: the ExecuteContext for plain nodes, the node for class nodes.
	const trackedExecute = async function (this: unknown, ...args: unknown[]) {
		tracker.calls++;
		try {
			return await (execute as (...a: unknown[]) => unknown).apply(this, args);
		} catch (error) {
			tracker.lastThrown = error;
			throw error;
		}
	};
	return new Proxy(nodeType, {
		get(target, property, receiver) {
			if (property === 'execute') return trackedExecute;
			return Reflect.get(target, property, receiver) as unknown;
		},
	});
}

class HarnessNodeTypes implements INodeTypes {
	private readonly tracked = new Map<INodeType, INodeType>();

	constructor(
		private readonly types: Record<string, INodeType | IVersionedNodeType>,
		private readonly trackedTypeName: string | undefined,
		private readonly tracker: ExecutionTracker,
	) {}

	getByName(nodeType: string): INodeType | IVersionedNodeType {
		const type = this.types[nodeType];
		if (!type) {
			throw new UnexpectedError(`Unknown node type "${nodeType}" in the test harness`);
		}
		return type;
	}

	getByNameAndVersion(nodeType: string, version?: number): INodeType {
		const type = NodeHelpers.getVersionedNodeType(this.getByName(nodeType), version);
		if (nodeType !== this.trackedTypeName) return type;
		let tracked = this.tracked.get(type);
		if (!tracked) {
			tracked = trackExecutions(type, this.tracker);
			this.tracked.set(type, tracked);
		}
		return tracked;
	}

	getKnownTypes(): IDataObject {
		return {};
	}
}

// ---------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------

/** Node used to resolve expressions in credentials outside a run (as n8n's CredentialsHelper does). */
const credentialResolutionNode: INode = {
	id: 'credential-resolution',
	name: '',
	type: 'harness.credentialResolution',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

const credentialResolutionNodeTypes: INodeTypes = {
	getByName: () => ({ description: { properties: [] } }) as unknown as INodeType,
	getByNameAndVersion: () => ({ description: { properties: [] } }) as unknown as INodeType,
	getKnownTypes: () => ({}),
};

/**
 * Holds the given credentials encrypted (n8n-core's Credentials + Cipher), and on getDecrypted applies
 * the credential type's defaults and resolves expressions, mirroring n8n's own CredentialsHelper.
 */
class HarnessCredentialsHelper extends ICredentialsHelper {
	private readonly types = new Map<string, ICredentialType>();

	private readonly stored = new Map<string, Credentials>();

	/** credential type name → node type names (full and short) that declare it */
	private readonly declaringNodes = new Map<string, Set<string>>();

	constructor(
		credentialTypes: ICredentialType[],
		nodeTypes: Record<string, INodeType | IVersionedNodeType>,
	) {
		super();
		for (const type of credentialTypes) this.types.set(type.name, type);
		for (const [typeName, node] of Object.entries(nodeTypes)) {
			for (const version of allVersionsOf(node)) {
				for (const { name } of version.description.credentials ?? []) {
					const names = this.declaringNodes.get(name) ?? new Set<string>();
					names.add(typeName).add(typeName.split('.').pop() ?? typeName);
					this.declaringNodes.set(name, names);
				}
			}
		}
	}

	async store(
		type: string,
		data: ICredentialDataDecryptedObject,
		details: INodeCredentialsDetails,
	) {
		const credentials = new Credentials(details, type);
		await credentials.setData(deepCopy(data));
		this.stored.set(type, credentials);
	}

	private getType(name: string): ICredentialType {
		const type = this.types.get(name);
		if (!type) throw new UnexpectedError(`Unknown credential type "${name}" in the test harness`);
		return type;
	}

	getParentTypes(name: string): string[] {
		const parents: string[] = [];
		for (const parent of this.types.get(name)?.extends ?? []) {
			parents.push(parent, ...this.getParentTypes(parent));
		}
		return parents;
	}

	isCredentialUsableByNode(credentialType: string, nodeType: string): boolean {
		const type = this.types.get(credentialType);
		if (!type?.restrictToSupportedNodes) return true;
		const shortName = nodeType.split('.').pop() ?? nodeType;
		return (
			(type.supportedNodes ?? []).includes(shortName) ||
			(this.declaringNodes.get(credentialType)?.has(nodeType) ?? false)
		);
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		requestOptions: IHttpRequestOptions | IRequestOptionsSimplified,
		workflow?: Workflow,
		node?: INode,
	): Promise<IHttpRequestOptions> {
		const { authenticate } = this.getType(typeName);
		const options = requestOptions as IHttpRequestOptions;
		if (!authenticate) return options;
		if (typeof authenticate === 'function') return await authenticate(credentials, options);
		// Generic: copy headers / qs / body / auth entries, resolving '={{ $credentials.x }}' values.
		const resolve = (value: unknown): unknown => {
			if (typeof value !== 'string' || !value.startsWith('=') || !workflow || !node) return value;
			const resolved = workflow.expression.getSimpleParameterValue(
				node,
				value,
				'internal',
				{ $credentials: credentials },
				undefined,
				'',
			);
			return resolved ? String(resolved) : '';
		};
		options.headers ??= {};
		const target = options as unknown as Record<string, Record<string, unknown>>;
		for (const [section, entries] of Object.entries(authenticate.properties)) {
			target[section] ??= {};
			for (const [key, value] of Object.entries(entries as Record<string, unknown>)) {
				target[section][String(resolve(key))] = resolve(value);
			}
		}
		return options;
	}

	async preAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		node: INode,
		credentialsExpired: boolean,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const type = this.getType(typeName);
		const expirable = type.properties.find(
			(property) => property.type === 'hidden' && property.typeOptions?.expirable === true,
		);
		if (!expirable || typeof type.preAuthentication !== 'function') return undefined;
		if (credentials[expirable.name] !== '' && !credentialsExpired) return undefined;
		const output = await type.preAuthentication.call(helpers, credentials);
		if (output[expirable.name] === undefined) return undefined;
		const updated = Object.assign(credentials, output);
		const details = node.credentials?.[typeName];
		if (details) await this.updateCredentials(details, typeName, updated);
		return updated;
	}

	async runPreAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const type = this.getType(typeName);
		if (typeof type.preAuthentication !== 'function') return undefined;
		return Object.assign(credentials, await type.preAuthentication.call(helpers, credentials));
	}

	async getCredentials(
		nodeCredentials: INodeCredentialsDetails,
		type: string,
	): Promise<Credentials> {
		const credentials = this.stored.get(type);
		if (!credentials || credentials.id !== nodeCredentials.id) {
			throw new UnexpectedError(
				`Credential with ID "${String(nodeCredentials.id)}" does not exist for type "${type}".`,
			);
		}
		return credentials;
	}

	async getDecrypted(
		additionalData: IWorkflowExecuteAdditionalData,
		nodeCredentials: INodeCredentialsDetails,
		type: string,
		mode: WorkflowExecuteMode,
		executeData?: IExecuteData,
		raw?: boolean,
		expressionResolveValues?: ICredentialsExpressionResolveValues,
	): Promise<ICredentialDataDecryptedObject> {
		const credentials = await this.getCredentials(nodeCredentials, type);
		const data = await credentials.getData();
		if (raw === true) return data;
		return this.applyDefaultsAndResolve(
			additionalData,
			data,
			type,
			mode,
			executeData,
			expressionResolveValues,
		);
	}

	applyDefaultsAndResolve(
		additionalData: IWorkflowExecuteAdditionalData,
		original: ICredentialDataDecryptedObject,
		type: string,
		mode: WorkflowExecuteMode,
		executeData?: IExecuteData,
		expressionResolveValues?: ICredentialsExpressionResolveValues,
	): ICredentialDataDecryptedObject {
		let data = NodeHelpers.getNodeParameters(
			this.getCredentialsProperties(type),
			original as INodeParameters,
			true,
			false,
			null,
			null,
		) as ICredentialDataDecryptedObject;
		if (original.oauthTokenData !== undefined) data.oauthTokenData = original.oauthTokenData;

		const additionalKeys = getAdditionalKeys(additionalData, mode, null, { isCredential: true });
		if (expressionResolveValues) {
			try {
				data = expressionResolveValues.workflow.expression.getParameterValue(
					data as INodeParameters,
					expressionResolveValues.runExecutionData,
					expressionResolveValues.runIndex,
					expressionResolveValues.itemIndex,
					expressionResolveValues.node.name,
					expressionResolveValues.connectionInputData,
					mode,
					additionalKeys,
					executeData,
					false,
					data,
				) as ICredentialDataDecryptedObject;
			} catch (error) {
				(error as Error).message += ' [Error resolving credentials]';
				throw error;
			}
		} else {
			const workflow = new Workflow({
				nodes: [credentialResolutionNode],
				connections: {},
				active: false,
				nodeTypes: credentialResolutionNodeTypes,
			});
			data = workflow.expression.getComplexParameterValue(
				credentialResolutionNode,
				data as INodeParameters,
				mode,
				additionalKeys,
				undefined,
				undefined,
				data,
			) as ICredentialDataDecryptedObject;
		}
		return data;
	}

	async updateCredentials(
		nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		const credentials = await this.getCredentials(nodeCredentials, type);
		await credentials.setData(data);
	}

	async updateCredentialsOauthTokenData(
		nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		const credentials = await this.getCredentials(nodeCredentials, type);
		await credentials.updateData({ oauthTokenData: data.oauthTokenData });
	}

	getCredentialsProperties(type: string): INodeProperties[] {
		const credentialType = this.getType(type);
		if (!credentialType.extends) return credentialType.properties;
		const combined: INodeProperties[] = [];
		for (const parent of credentialType.extends) {
			if (this.types.has(parent)) {
				NodeHelpers.mergeNodeProperties(combined, this.getCredentialsProperties(parent));
			}
		}
		NodeHelpers.mergeNodeProperties(combined, credentialType.properties);
		return combined;
	}
}

// ---------------------------------------------------------------------------------------------
// Additional data
// ---------------------------------------------------------------------------------------------

let executionCounter = 0;

function unavailable(feature: string) {
	return async () => {
		throw new UnexpectedError(`${feature} is not available in the test harness`);
	};
}

function buildAdditionalData(
	credentialsHelper: HarnessCredentialsHelper,
	hooks: ExecutionLifecycleHooks | undefined,
	executionId: string,
	workflowId: string,
): IWorkflowExecuteAdditionalData {
	return {
		credentialsHelper,
		hooks,
		executionId,
		workflowId,
		userId: 'harness-user',
		currentNodeExecutionIndex: 0,
		restApiUrl: `${BASE_URL}rest`,
		instanceBaseUrl: BASE_URL,
		formBaseUrl: `${BASE_URL}form`,
		formWaitingBaseUrl: `${BASE_URL}form-waiting`,
		formTestBaseUrl: `${BASE_URL}form-test`,
		webhookBaseUrl: `${BASE_URL}webhook`,
		webhookWaitingBaseUrl: `${BASE_URL}webhook-waiting`,
		webhookTestBaseUrl: `${BASE_URL}webhook-test`,
		mcpBaseUrl: `${BASE_URL}mcp`,
		mcpTestBaseUrl: `${BASE_URL}mcp-test`,
		variables: {},
		// No secrets provider is configured: '$secrets.x' fails as in an n8n without external secrets.
		externalSecretsProxy: new ExternalSecretsProxy(),
		executeWorkflow: unavailable('Executing a sub-workflow'),
		startRunnerTask: unavailable('The task runner (Code node)'),
		// No other executions exist in the harness.
		getRunExecutionData: async () => undefined,
		getRuntimeCredential: async () => undefined,
		// AI telemetry events: nothing to record for a non-AI node.
		logAiEvent: () => {},
	};
}

// ---------------------------------------------------------------------------------------------
// runNode
// ---------------------------------------------------------------------------------------------

const EXECUTION_DATA_KEYS = new Set([
	'json',
	'binary',
	'error',
	'pairedItem',
	'metadata',
	'evaluationData',
	'redaction',
	'sendMessage',
	'index',
]);

function isExecutionData(item: IDataObject | INodeExecutionData): item is INodeExecutionData {
	const { json } = item;
	return (
		typeof json === 'object' &&
		json !== null &&
		!Array.isArray(json) &&
		Object.keys(item).every((key) => EXECUTION_DATA_KEYS.has(key))
	);
}

function toExecutionData(items: Array<IDataObject | INodeExecutionData>): INodeExecutionData[] {
	return items.map((item) => deepCopy(isExecutionData(item) ? item : { json: item }));
}

/** n8n stores errors in run data as plain copies; give callers an Error, the thrown one if known. */
function toError(recorded: unknown, lastThrown: unknown): Error | undefined {
	if (recorded === undefined || recorded === null) return undefined;
	const plain = recorded as { message?: string; name?: string; stack?: string };
	if (lastThrown instanceof Error && lastThrown.message === plain.message) return lastThrown;
	if (recorded instanceof Error) return recorded;
	const error = new Error(plain.message ?? 'Unknown error');
	Object.assign(error, plain);
	return error;
}

export async function runNode(options: RunNodeOptions): Promise<RunNodeResult> {
	ensureN8nEnvironment();
	const { node, parameters, credentials, settings = {} } = options;
	const nodeTypeName = options.nodeTypeName ?? `CUSTOM.${node.description.name}`;
	const typeVersion = options.typeVersion ?? latestVersion(node);
	const versionDescription = NodeHelpers.getVersionedNodeType(node, typeVersion).description;
	const nodeName = versionDescription.defaults.name ?? versionDescription.displayName;

	const executionId = options.executionId ?? `harness-${++executionCounter}`;
	const workflowId = options.workflowId ?? 'harness-workflow';
	const mode: WorkflowExecuteMode = options.mode ?? 'manual';
	const nodeTypesByName: Record<string, INodeType | IVersionedNodeType> = {
		[TRIGGER_NODE_TYPE]: new HarnessManualTrigger(),
		[nodeTypeName]: node,
	};
	const tracker: ExecutionTracker = { calls: 0 };
	const nodeTypes = new HarnessNodeTypes(nodeTypesByName, nodeTypeName, tracker);

	const credentialsHelper = new HarnessCredentialsHelper(
		credentials ? [credentials.type] : [],
		nodeTypesByName,
	);
	let nodeCredentials: INode['credentials'];
	if (credentials) {
		const details = { id: CREDENTIAL_ID, name: `${credentials.type.displayName} account` };
		await credentialsHelper.store(credentials.type.name, credentials.data, details);
		nodeCredentials = { [credentials.type.name]: details };
	}

	const triggerNode: INode = {
		id: 'harness-trigger',
		name: TRIGGER_NODE_NAME,
		type: TRIGGER_NODE_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
	const nodeUnderTest: INode = {
		id: 'harness-node-under-test',
		name: nodeName,
		type: nodeTypeName,
		typeVersion,
		position: [220, 0],
		parameters: deepCopy(parameters),
		...(nodeCredentials && { credentials: nodeCredentials }),
		...(settings.onError !== undefined && { onError: settings.onError }),
		...(settings.retryOnFail !== undefined && { retryOnFail: settings.retryOnFail }),
		...(settings.maxTries !== undefined && { maxTries: settings.maxTries }),
		...(settings.waitBetweenTries !== undefined && { waitBetweenTries: settings.waitBetweenTries }),
		...(settings.alwaysOutputData !== undefined && { alwaysOutputData: settings.alwaysOutputData }),
	};
	const connections = {
		[TRIGGER_NODE_NAME]: { main: [[{ node: nodeName, type: 'main' as const, index: 0 }]] },
	};
	const pinData = { [TRIGGER_NODE_NAME]: toExecutionData(options.items) };
	const workflowSettings: IWorkflowSettings = {
		executionOrder: 'v1' as const,
		...options.workflowSettings,
	};

	const workflow = new Workflow({
		id: workflowId,
		name: 'Harness workflow',
		nodes: [triggerNode, nodeUnderTest],
		connections,
		active: false,
		nodeTypes,
		staticData: {},
		settings: workflowSettings,
		pinData,
	});

	const now = new Date();
	const workflowData: IWorkflowBase = {
		id: workflowId,
		name: 'Harness workflow',
		active: false,
		isArchived: false,
		createdAt: now,
		updatedAt: now,
		nodes: [triggerNode, nodeUnderTest],
		connections,
		settings: workflowSettings,
		pinData,
		activeVersionId: null,
	};
	const hooks = new ExecutionLifecycleHooks(mode, executionId, workflowData);
	let finishedRun: IRun | undefined;
	hooks.addHandler('workflowExecuteAfter', (fullRunData) => {
		finishedRun = fullRunData;
	});
	const additionalData = buildAdditionalData(credentialsHelper, hooks, executionId, workflowId);

	// The manual-run shape: the trigger starts the stack and its output comes from pin data.
	const runExecutionData = createRunExecutionData({
		startData: {},
		resultData: { runData: {}, pinData },
		executionData: {
			nodeExecutionStack: [{ node: triggerNode, data: { main: [[{ json: {} }]] }, source: null }],
		},
	});

	const logs: CapturedLog[] = [];
	let run: IRun;
	try {
		run = await currentLogSink.run(logs, async () => {
			const workflowExecute = new WorkflowExecute(additionalData, mode, runExecutionData);
			return await workflowExecute.processRunExecutionData(workflow);
		});
	} catch (error) {
		// n8n refuses to start a workflow with issues (e.g. a required parameter left empty).
		return {
			status: 'error',
			main: [],
			errorOutput: [],
			error: error instanceof Error ? error : new Error(String(error)),
			runs: tracker.calls,
			logs,
			hints: [],
			raw: undefined,
		};
	}
	if (!finishedRun) {
		throw new UnexpectedError('The workflowExecuteAfter hook did not run');
	}

	const taskRuns = run.data.resultData.runData[nodeName] ?? [];
	const lastTask = taskRuns.at(-1);
	const outputs = lastTask?.data?.main ?? [];
	const recordedError = lastTask?.error ?? run.data.resultData.error;
	return {
		status: run.status === 'success' ? 'success' : 'error',
		main: outputs[0] ?? [],
		errorOutput: settings.onError === 'continueErrorOutput' ? (outputs[1] ?? []) : [],
		error: toError(recordedError, tracker.lastThrown),
		runs: tracker.calls,
		logs,
		hints: lastTask?.hints ?? [],
		raw: run,
	};
}

// ---------------------------------------------------------------------------------------------
// testCredential
// ---------------------------------------------------------------------------------------------

function findCredentialTest(
	node: INodeType | IVersionedNodeType,
	credentialTypeName: string,
): ICredentialTestFunction | undefined {
	// Latest version first, as n8n's CredentialsTester does.
	const versions = allVersionsOf(node).sort((a, b) => latestVersion(b) - latestVersion(a));
	for (const version of versions) {
		const entry = version.description.credentials?.find(({ name }) => name === credentialTypeName);
		if (!entry?.testedBy) continue;
		if (typeof entry.testedBy !== 'string') {
			throw new UnexpectedError(
				`Credential "${credentialTypeName}" is tested by a request definition; the harness only runs methods.credentialTest functions`,
			);
		}
		const test = version.methods?.credentialTest?.[entry.testedBy];
		if (test) return test;
	}
	return undefined;
}

/** Runs the node's own credential test (methods.credentialTest[testedBy]) the way n8n's credential "Test" does. */
export async function testCredential(
	node: INodeType | IVersionedNodeType,
	credentialType: ICredentialType,
	data: ICredentialDataDecryptedObject,
): Promise<INodeCredentialTestResult> {
	ensureN8nEnvironment();
	const test = findCredentialTest(node, credentialType.name);
	if (!test) {
		return { status: 'Error', message: 'No testing function found for this credential.' };
	}

	const credentialsHelper = new HarnessCredentialsHelper([credentialType], {
		[`CUSTOM.${node.description.name}`]: node,
	});
	const additionalData = buildAdditionalData(
		credentialsHelper,
		undefined,
		`harness-credential-test-${++executionCounter}`,
		'harness-credential-test',
	);
	const credentialsDecrypted: ICredentialsDecrypted = {
		id: CREDENTIAL_ID,
		name: `${credentialType.displayName} account`,
		type: credentialType.name,
	};
	try {
		credentialsDecrypted.data = credentialsHelper.applyDefaultsAndResolve(
			additionalData,
			deepCopy(data),
			credentialType.name,
			'internal',
		);
	} catch (error) {
		return { status: 'Error', message: String((error as Error).message) };
	}
	const context = new CredentialTestContext(additionalData);
	return await currentLogSink.run([], async () => await test.call(context, credentialsDecrypted));
}
