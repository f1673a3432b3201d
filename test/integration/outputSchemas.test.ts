/**
 * The output schemas n8n serves to the editor (`/schemas/<node>/<version>/<resource>/<operation>.json`, read
 * from `__schema__/` next to the node) describe what the node really outputs: every operation is run against
 * the local sandbox, in JSON and XML, and each output item must satisfy its schema, with no field the schema
 * does not declare. The real-n8n suite (outputSchemas.e2e.test.ts) fetches the same files over HTTP.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import Ajv from 'ajv';
import { resolveOutputSchemaPath } from 'n8n-core';
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { RESOURCES } from '../../nodes/AmazonIncentives/resources';
import {
	activateParameters,
	cancelParameters,
	createParameters,
	deactivateParameters,
	fundsParameters,
	jsonOf,
	loadParameters,
	runAgainst,
	statusParameters,
	uniqueKey,
	useSandbox,
	voidParameters,
} from './helpers';

const NODE_DIR = path.join(__dirname, '..', '..', 'nodes', 'AmazonIncentives');

interface JsonSchema {
	type: string | string[];
	properties?: Record<string, JsonSchema>;
	items?: JsonSchema;
	required?: string[];
}

/** The schema n8n's own resolver finds for an operation, as the editor asks for it (version 1 → v1.0.0). */
function schemaFor(resource: string, operation: string): JsonSchema {
	const file = resolveOutputSchemaPath({ nodeDir: NODE_DIR, version: 1, resource, operation });
	if (!file || !fs.existsSync(file))
		throw new Error(`no output schema for ${resource}/${operation}`);
	return JSON.parse(fs.readFileSync(file, 'utf8')) as JsonSchema;
}

/** Paths in the value that the schema does not declare (JSON Schema alone would let them pass). */
function undeclared(value: unknown, schema: JsonSchema, at = '$'): string[] {
	if (value === null || typeof value !== 'object') return [];
	if (Array.isArray(value))
		return schema.items
			? value.flatMap((entry, i) => undeclared(entry, schema.items!, `${at}[${i}]`))
			: [];
	return Object.entries(value).flatMap(([key, child]) => {
		const childSchema = schema.properties?.[key];
		return childSchema ? undeclared(child, childSchema, `${at}.${key}`) : [`${at}.${key}`];
	});
}

const ajv = new Ajv({ allErrors: true });

function expectMatchesSchema(resource: string, operation: string, outputs: IDataObject[]): void {
	expect(outputs.length).toBeGreaterThan(0);
	const schema = schemaFor(resource, operation);
	const validate = ajv.compile(schema);
	for (const output of outputs) {
		const valid = validate(output);
		expect({ resource, operation, errors: valid ? [] : validate.errors }).toEqual({
			resource,
			operation,
			errors: [],
		});
		expect({ resource, operation, undeclared: undeclared(output, schema) }).toEqual({
			resource,
			operation,
			undeclared: [],
		});
	}
}

describe('output schemas', () => {
	const sandbox = useSandbox();

	it('exist for every operation, where n8n looks for them', () => {
		for (const [resource, { operations }] of Object.entries(RESOURCES))
			for (const operation of Object.keys(operations))
				expect(schemaFor(resource, operation)).toMatchObject({ type: 'object' });
	});

	describe.each(['json', 'xml'])('match the real output (%s on the wire)', (format) => {
		const options = { format, requestsPerSecond: 100 };
		const run = async (parameters: INodeParameters, items: IDataObject[]) => {
			const result = await runAgainst(
				sandbox(),
				{ ...parameters, options: { ...options, ...(parameters.options as IDataObject) } },
				items,
			);
			expect({ status: result.status, error: result.error?.message }).toEqual({
				status: 'success',
				error: undefined,
			});
			return jsonOf(result);
		};

		it('gift card: create (claim code included, masked, omitted) and cancel', async () => {
			const created: IDataObject[] = [];
			for (const claimCodeOutput of ['include', 'mask', 'omit'])
				created.push(
					...(await run(createParameters({ options: { claimCodeOutput } }), [
						{ amount: 12.5, key: uniqueKey('schema') },
					])),
				);
			expectMatchesSchema('giftCard', 'create', created);
			expectMatchesSchema('giftCard', 'cancel', await run(cancelParameters(), created));
		});

		it('account: get available funds', async () => {
			expectMatchesSchema('account', 'getAvailableFunds', await run(fundsParameters(), [{}]));
		});

		it('physical card: activate, get status (activated and awaiting activation), deactivate', async () => {
			const activated = await run(activateParameters(), [
				{ cardNumber: '1400000005567585358', amount: 25, key: uniqueKey('schema') },
			]);
			expectMatchesSchema('physicalCard', 'activate', activated);
			const status = await run(statusParameters(), activated);
			const deactivated = await run(deactivateParameters(), activated);
			expectMatchesSchema('physicalCard', 'deactivate', deactivated);
			// Once deactivated the card awaits activation again, and Amazon reports no value for it.
			const awaiting = await run(statusParameters(), activated);
			expect(awaiting[0].cardInfo).toMatchObject({ cardStatus: 'AwaitingActivation', value: null });
			expectMatchesSchema('physicalCard', 'getStatus', [...status, ...awaiting]);
		});

		it('Amazon balance: load and void', async () => {
			const loaded = await run(loadParameters(), [
				{ customer: 'amzn1.account.SCHEMATEST', amount: 15, key: uniqueKey('schema') },
			]);
			expectMatchesSchema('amazonBalance', 'load', loaded);
			const voided = await run(
				voidParameters(),
				loaded.map((load) => ({ ...load, customer: 'amzn1.account.SCHEMATEST' })),
			);
			expectMatchesSchema('amazonBalance', 'void', voided);
		});
	});
});
