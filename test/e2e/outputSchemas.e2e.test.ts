/**
 * The editor asks n8n for a node's output schema at `/schemas/<node type>/<version>/<resource>/<operation>.json`
 * (to show the output's shape before the first run, and so AI tools know it). n8n answers from the
 * `__schema__/v<x.y.z>/` folder next to the node's compiled file, for community packages as for its own
 * nodes. With the package installed from its tarball, every operation's URL answers 200 with the schema
 * the package ships, for the node and for its AI-tool variant. n8n 2.x only: n8n 1.123.81 answers these
 * URLs with 404 for every node, its own included.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { RESOURCES } from '../../nodes/AmazonIncentives/resources';
import { repositoryRoot } from './communityPackage';
import { N8nInstance, type N8nServer } from './n8nInstance';

const OPERATIONS = Object.entries(RESOURCES).flatMap(([resource, { operations }]) =>
	Object.keys(operations).map((operation) => [resource, operation] as const),
);

function shippedSchema(resource: string, operation: string): unknown {
	const file = path.join(
		repositoryRoot(),
		'nodes',
		'AmazonIncentives',
		'__schema__',
		'v1.0.0',
		resource,
		`${operation}.json`,
	);
	return JSON.parse(fs.readFileSync(file, 'utf8'));
}

describe('output schemas served by n8n', () => {
	let n8n: N8nInstance;
	let server: N8nServer;

	beforeAll(async () => {
		n8n = await N8nInstance.create({ packageLoading: 'communityPackage' });
		server = await n8n.start();
	});

	afterAll(async () => {
		await n8n?.dispose();
	});

	// The editor pads the node's version (1 → 1.0.0) and leaves out n8n's own "@n8n/" scope.
	const url = (type: string, resource: string, operation: string) =>
		`${server.url}/schemas/${n8n.nodeType(type)}/1.0.0/${resource}/${operation}.json`;

	it.each(OPERATIONS)(
		'%s/%s: the URL the editor asks for answers with the schema',
		async (resource, operation) => {
			for (const type of ['amazonIncentives', 'amazonIncentivesTool']) {
				const response = await fetch(url(type, resource, operation));
				expect({ type, status: response.status }).toEqual({ type, status: 200 });
				expect(await response.json()).toEqual(shippedSchema(resource, operation));
			}
		},
	);

	it('answers 404 for an operation the node does not have', async () => {
		expect((await fetch(url('amazonIncentives', 'giftCard', 'refund'))).status).toBe(404);
	});
});
