import { type IDataObject, type IExecuteFunctions, NodeOperationError } from 'n8n-workflow';

import { NUMBER_OPTIONS, type NumberOptionRange } from './defaults';
import {
	type RequestIdKind,
	type RequestIdScope,
	deriveRequestId,
	requestIdProblem,
} from './requestId';
import type { OperationKey } from './resources';
import type { AgcodOperation, BodyFormat, JsonObject } from './transport/codec';
import type { AgcodConnection } from './transport/connection';
import {
	InputError,
	readAmount,
	readBoolean,
	readCardNumber,
	readCurrencyCode,
	readIdempotencyKey,
	readJsonObject,
	readOptionalText,
	readText,
} from './validation';

type ClaimCodeOutput = 'include' | 'mask' | 'omit';

/** One item turned into a validated AGCOD call; nothing has been sent yet. */
export interface PreparedCall {
	operation: AgcodOperation;
	body: JsonObject;
	/** The request id this call is about (created, cancelled, checked …); absent for GetAvailableFunds. */
	requestId?: string;
	format: BodyFormat;
	timeoutMs: number;
	maxRetries: number;
	retryBudgetMs: number;
	claimCodeOutput: ClaimCodeOutput;
	/** Create, Activate or Load: the request id starts a new transaction (it is not one copied from an output). */
	newTransaction: boolean;
	/** Option: items with the same request id but different input data are replays, not conflicts. */
	sameIdItemsAreReplays: boolean;
	/** What the call moves, for Create, Activate and Load: checked against the spending limits. */
	spend?: { currencyCode: string; amount: number };
}

interface OperationDefinition {
	agcod: AgcodOperation;
	/** Its request id starts a new transaction: Create, Activate and Load. */
	newTransaction?: true;
	prepare(
		read: ItemReader,
		connection: AgcodConnection,
	): { body: JsonObject; requestId?: string; spend?: PreparedCall['spend'] };
}

/** Reads one item's parameters; a parameter n8n cannot resolve fails the item, naming the field. */
export class ItemReader {
	constructor(
		private readonly context: IExecuteFunctions,
		readonly itemIndex: number,
	) {}

	param(name: string, fallback?: unknown): unknown {
		try {
			return this.context.getNodeParameter(name, this.itemIndex, fallback);
		} catch (error) {
			throw new NodeOperationError(
				this.context.getNode(),
				`Item ${this.itemIndex}: invalid ${name}: ${name} could not be read: ${(error as Error).message}`,
				{ itemIndex: this.itemIndex, description: 'Nothing was sent to Amazon for this item.' },
			);
		}
	}

	/** The id n8n gave the workflow; undefined or empty for a workflow that has none. */
	workflowId(): string | undefined {
		return this.context.getWorkflow().id;
	}

	/** A field of a collection parameter (additionalFields, options); undefined when not set. */
	field(collection: string, name: string): unknown {
		const value = this.param(collection, {});
		if (value === null || typeof value !== 'object' || Array.isArray(value))
			throw new InputError(collection, `${collection} must be an object`);
		return (value as IDataObject)[name];
	}
}

const TEXT_100 = { maxLength: 100 };
const ALPHANUMERIC_40 = {
	maxLength: 40,
	pattern: /^[A-Za-z0-9]+$/,
	patternHint: 'may only contain letters and digits',
};

function newTransactionId(
	read: ItemReader,
	connection: AgcodConnection,
	kind: RequestIdKind,
): string {
	if (read.param('requestIdMode', 'derive') === 'explicit')
		return existingRequestId(read, connection, 'requestId');
	const key = readIdempotencyKey(read.param('idempotencyKey'));
	return deriveRequestId(connection.partnerId, kind, key, requestIdScope(read));
}

/** Unique Within: this workflow (the default), a named scope, or the whole account. */
function requestIdScope(read: ItemReader): RequestIdScope {
	const scope = read.param('idempotencyScope', 'workflow');
	if (scope === 'workflow') {
		const workflowId = read.workflowId();
		if (typeof workflowId !== 'string' || workflowId.trim() === '')
			throw new InputError(
				'idempotencyScope',
				'idempotencyScope (Unique Within) is "This Workflow", but this workflow has no ID yet: save the workflow first, or choose a named scope',
			);
		return { type: 'workflow', workflowId };
	}
	if (scope === 'named')
		return {
			type: 'named',
			name: readText(read.param('idempotencyScopeName'), 'idempotencyScopeName', TEXT_100),
		};
	if (scope === 'account') return { type: 'account' };
	throw new InputError(
		'idempotencyScope',
		`idempotencyScope must be workflow, named or account, got ${JSON.stringify(scope)?.slice(0, 40)}`,
	);
}

/** A request id the user copies from an earlier output (or a sandbox mock id). */
function existingRequestId(read: ItemReader, connection: AgcodConnection, field: string): string {
	const requestId = readText(read.param(field), field, { maxLength: 200 });
	const problem = requestIdProblem(
		requestId,
		connection.partnerId,
		connection.environment !== 'production',
	);
	if (problem) throw new InputError(field, `${field} "${requestId.slice(0, 50)}" ${problem}`);
	return requestId;
}

function money(
	read: ItemReader,
	connection: AgcodConnection,
): { currencyCode: string; amount: number } {
	const currencyCode = readCurrencyCode(read.param('currencyCode'), connection.region);
	return { currencyCode, amount: readAmount(read.param('amount'), currencyCode) };
}

/** Drops unset optional fields so the body carries only what the user gave. */
function compact(body: Record<string, JsonObject[string] | undefined>): JsonObject {
	const result: JsonObject = {};
	for (const [key, value] of Object.entries(body)) if (value !== undefined) result[key] = value;
	return result;
}

function optionalText(read: ItemReader, collection: string, name: string, maxLength: number) {
	return readOptionalText(read.field(collection, name), name, { maxLength });
}

/** externalReference, programId and productType, as CreateGiftCard and ActivateGiftCard take them. */
function purchaseReferences(read: ItemReader): Record<string, string | undefined> {
	return {
		externalReference: optionalText(read, 'additionalFields', 'externalReference', 100),
		programId: optionalText(read, 'additionalFields', 'programId', 100),
		productType: optionalText(read, 'additionalFields', 'productType', 100),
	};
}

function transactionSource(read: ItemReader): JsonObject | undefined {
	const wrapper = read.field('additionalFields', 'transactionSource') as IDataObject | undefined;
	const source = wrapper?.source as IDataObject | undefined;
	if (!source) return undefined;
	const sourceDetails = readOptionalText(source.sourceDetails, 'sourceDetails', { maxLength: 200 });
	if (
		sourceDetails !== undefined &&
		!('institutionName' in readJsonObject(sourceDetails, 'sourceDetails'))
	)
		throw new InputError('sourceDetails', 'sourceDetails must be JSON with an institutionName key');
	return compact({
		sourceId: readText(source.sourceId, 'sourceId', { maxLength: 20 }),
		institutionId: readOptionalText(source.institutionId, 'institutionId', { maxLength: 20 }),
		sourceDetails,
	});
}

/** Login & Receive fields follow Amazon's documented names as understood; see the README. */
function balanceAccount(read: ItemReader): JsonObject {
	return {
		id: readText(read.param('amazonCustomerId'), 'amazonCustomerId', {
			maxLength: 200,
			pattern: /^\S+$/,
			patternHint: 'may not contain spaces',
		}),
		type:
			readOptionalText(read.field('additionalFields', 'accountType'), 'accountType', {
				maxLength: 20,
			}) ?? '2',
	};
}

const PROTECTED_BALANCE_FIELDS = ['partnerId', 'loadBalanceRequestId', 'amount', 'account'];

function extraBodyFields(read: ItemReader): JsonObject {
	const raw = read.field('additionalFields', 'extraBodyFields');
	if (raw === undefined) return {};
	const extra = readJsonObject(raw, 'extraBodyFields') as JsonObject;
	const clash = PROTECTED_BALANCE_FIELDS.find((field) => field in extra);
	if (clash)
		throw new InputError(
			'extraBodyFields',
			`extraBodyFields may not set "${clash}"; use the node's own field`,
		);
	return extra;
}

function balanceAmount(
	read: ItemReader,
	connection: AgcodConnection,
): { currencyCode: string; value: number } {
	const { currencyCode, amount } = money(read, connection);
	return { currencyCode, value: amount };
}

/** What each resource:operation of the editor sends. Its keys are exactly the OperationKeys of resources.ts. */
const OPERATIONS = {
	'giftCard:create': {
		agcod: 'CreateGiftCard',
		newTransaction: true,
		prepare(read, connection) {
			const requestId = newTransactionId(read, connection, 'create');
			const value = money(read, connection);
			const body = compact({
				creationRequestId: requestId,
				partnerId: connection.partnerId,
				value,
				...purchaseReferences(read),
			});
			return { body, requestId, spend: value };
		},
	},
	'giftCard:cancel': {
		agcod: 'CancelGiftCard',
		prepare(read, connection) {
			const requestId = existingRequestId(read, connection, 'creationRequestId');
			const gcId = readOptionalText(read.param('gcId', ''), 'gcId', ALPHANUMERIC_40);
			return {
				body: compact({ creationRequestId: requestId, partnerId: connection.partnerId, gcId }),
				requestId,
			};
		},
	},
	'account:getAvailableFunds': {
		agcod: 'GetAvailableFunds',
		prepare: (_read, connection) => ({ body: { partnerId: connection.partnerId } }),
	},
	'physicalCard:activate': {
		agcod: 'ActivateGiftCard',
		newTransaction: true,
		prepare(read, connection) {
			const cardNumber = readCardNumber(read.param('cardNumber'));
			const requestId = newTransactionId(read, connection, 'activate');
			const value = money(read, connection);
			const body = compact({
				activationRequestId: requestId,
				partnerId: connection.partnerId,
				cardNumber,
				value,
				...purchaseReferences(read),
				transactionSource: transactionSource(read),
			});
			return { body, requestId, spend: value };
		},
	},
	'physicalCard:deactivate': {
		agcod: 'DeactivateGiftCard',
		prepare(read, connection) {
			const cardNumber = readCardNumber(read.param('cardNumber'));
			const requestId = existingRequestId(read, connection, 'activationRequestId');
			const body = compact({
				activationRequestId: requestId,
				partnerId: connection.partnerId,
				cardNumber,
				externalReference: optionalText(read, 'additionalFields', 'externalReference', 100),
			});
			return { body, requestId };
		},
	},
	'physicalCard:getStatus': {
		agcod: 'ActivationStatusCheck',
		prepare(read, connection) {
			const cardNumber = readCardNumber(read.param('cardNumber'));
			// Amazon matches a status check to the activation it asks about by this id.
			const requestId = existingRequestId(read, connection, 'activationRequestId');
			return {
				body: { statusCheckRequestId: requestId, partnerId: connection.partnerId, cardNumber },
				requestId,
			};
		},
	},
	'amazonBalance:load': {
		agcod: 'LoadAmazonBalance',
		newTransaction: true,
		prepare(read, connection) {
			const account = balanceAccount(read);
			const requestId = newTransactionId(read, connection, 'load');
			const amount = balanceAmount(read, connection);
			const sendEmail = read.field('additionalFields', 'sendEmailNotification');
			const notificationMessage = optionalText(
				read,
				'additionalFields',
				'notificationMessage',
				1000,
			);
			const sourceId = optionalText(read, 'additionalFields', 'transactionSourceId', 20);
			// The user's extra fields apply unless the node's own field is set (compact drops the unset ones).
			const body = {
				...extraBodyFields(read),
				...compact({
					loadBalanceRequestId: requestId,
					partnerId: connection.partnerId,
					amount,
					account,
					transactionSource: sourceId === undefined ? undefined : { sourceId },
					externalReference: optionalText(read, 'additionalFields', 'externalReference', 100),
					sendEmailNotification:
						sendEmail === undefined ? undefined : readBoolean(sendEmail, 'sendEmailNotification'),
					notificationDetails:
						notificationMessage === undefined ? undefined : { notificationMessage },
				}),
			};
			return {
				body,
				requestId,
				spend: { currencyCode: amount.currencyCode, amount: amount.value },
			};
		},
	},
	'amazonBalance:void': {
		agcod: 'VoidAmazonBalanceLoad',
		prepare(read, connection) {
			const account = balanceAccount(read);
			const requestId = existingRequestId(read, connection, 'loadBalanceRequestId');
			const body = {
				...extraBodyFields(read),
				...compact({
					loadBalanceRequestId: requestId,
					partnerId: connection.partnerId,
					amount: balanceAmount(read, connection),
					account,
				}),
			};
			return { body, requestId };
		},
	},
} satisfies Record<OperationKey, OperationDefinition>;

/** An operation key saved in a workflow may be anything; only the table's own keys are operations. */
export function isOperationKey(key: string): key is OperationKey {
	return Object.hasOwn(OPERATIONS, key);
}

function numberOption(read: ItemReader, name: keyof typeof NUMBER_OPTIONS): number {
	const { default: fallback, min, max }: NumberOptionRange = NUMBER_OPTIONS[name];
	const value = read.field('options', name);
	if (value === undefined || value === '') return fallback;
	if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
		throw new InputError(name, `${name} must be a number from ${min} to ${max}`);
	return value;
}

function choiceOption<T extends string>(read: ItemReader, name: string, allowed: readonly T[]): T {
	const value = read.field('options', name);
	if (value === undefined || value === '') return allowed[0];
	if (!allowed.includes(value as T))
		throw new InputError(name, `${name} must be one of ${allowed.join(', ')}`);
	return value as T;
}

/** Per-run settings that must be the same for all items (they configure shared machinery). */
export interface RunSettings {
	requestsPerSecond: number;
	maxConcurrentRequests: number;
}

export function readRunSettings(read: ItemReader): RunSettings {
	return {
		requestsPerSecond: numberOption(read, 'requestsPerSecond'),
		maxConcurrentRequests: Math.floor(numberOption(read, 'maxConcurrentRequests')),
	};
}

export function prepareCall(
	context: IExecuteFunctions,
	itemIndex: number,
	operationKey: OperationKey,
	connection: AgcodConnection,
): PreparedCall {
	const definition: OperationDefinition = OPERATIONS[operationKey];
	const read = new ItemReader(context, itemIndex);
	const { body, requestId, spend } = definition.prepare(read, connection);
	return {
		operation: definition.agcod,
		body,
		requestId,
		spend,
		format: choiceOption(read, 'format', ['json', 'xml'] as const),
		timeoutMs: numberOption(read, 'timeout'),
		maxRetries: Math.floor(numberOption(read, 'maxRetries')),
		retryBudgetMs: numberOption(read, 'retryBudget') * 1000,
		claimCodeOutput: choiceOption(read, 'claimCodeOutput', ['include', 'mask', 'omit'] as const),
		newTransaction: definition.newTransaction === true,
		sameIdItemsAreReplays: booleanOption(read, 'sameIdItemsAreReplays'),
	};
}

function booleanOption(read: ItemReader, name: string): boolean {
	const value = read.field('options', name);
	return value === undefined || value === '' ? false : readBoolean(value, name);
}
