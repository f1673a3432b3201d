/** Reading a node's output in an e2e test's run, asserting the node ran without an error. */
import type { N8nRun } from './executeOutput';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- run data from n8n, read freely by the checks
export type Json = Record<string, any>;

/** The `json` of a node's items on one output (0: main or success, 1: error output), asserting the node ran. */
export function outputOf(run: N8nRun, nodeName: string, outputIndex = 0): Json[] {
	const node = run.nodes[nodeName];
	expect({ node: nodeName, ran: node !== undefined, error: node?.error }).toEqual({
		node: nodeName,
		ran: true,
		error: undefined,
	});
	return (node.outputs[outputIndex] ?? []) as Json[];
}
