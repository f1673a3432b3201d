/** Parsing of `n8n execute` output; needs no n8n, so it runs in milliseconds. */
import { extractCommandError, parseExecuteOutput } from './executeOutput';

const successfulRun = {
	data: {
		version: 1,
		startData: {},
		resultData: {
			runData: {
				Start: [{ executionStatus: 'success', data: { main: [[{ json: {} }]] } }],
				Route: [
					{
						executionStatus: 'success',
						data: { main: [[{ json: { kept: 1 } }, { json: { kept: 2 } }], null, []] },
					},
				],
			},
			lastNodeExecuted: 'Route',
		},
	},
	mode: 'cli',
	status: 'success',
	finished: true,
};

function successOutput(run: unknown): string {
	return [
		'n8n Task Broker ready on 127.0.0.1, port 5679',
		'{',
		'[license SDK] Skipping renewal on init: license cert is not initialized',
		'Registered runner "JS Task Runner" (abc)',
		'Execution was successful:',
		'====================================',
		JSON.stringify(run, null, 2),
		'',
	].join('\n');
}

describe('parseExecuteOutput', () => {
	it('finds the run after log lines, including a stray "{" line, and maps every output index', () => {
		const run = parseExecuteOutput(successOutput(successfulRun));

		expect(run).toBeDefined();
		expect(run?.status).toBe('success');
		expect(run?.finished).toBe(true);
		expect(run?.error).toBeUndefined();
		expect(run?.lastNodeExecuted).toBe('Route');
		expect(run?.nodes.Route.outputs).toEqual([[{ kept: 1 }, { kept: 2 }], [], []]);
		expect(run?.nodes.Route.runCount).toBe(1);
		expect(run?.nodes.Start.outputs).toEqual([[{}]]);
	});

	it('reads the run n8n prints on a failed execution, with the failing node and trailing logs', () => {
		const failedRun = {
			data: {
				resultData: {
					runData: {
						Start: [{ executionStatus: 'success', data: { main: [[{ json: {} }]] } }],
						Code: [
							{
								executionStatus: 'error',
								error: { message: 'boom {not json', description: 'why' },
							},
							{ executionStatus: 'error', error: { message: 'boom again' } },
						],
					},
					error: { message: 'boom again', node: { name: 'Code' } },
					lastNodeExecuted: 'Code',
				},
			},
			status: 'error',
			finished: false,
		};
		const output = [
			'Execution was NOT successful. See log message for details.',
			'Execution error:',
			'====================================',
			JSON.stringify(failedRun, null, 2),
			'Error executing workflow. See log messages for details.',
			'',
			'Execution error:',
			'====================================',
			'boom again',
			'    at ExecuteContext.execute (/x/Code.node.ts:1:1)',
		].join('\n');

		const run = parseExecuteOutput(output);

		expect(run?.status).toBe('error');
		expect(run?.error).toEqual({ message: 'boom again', description: undefined, node: 'Code' });
		expect(run?.nodes.Code.error).toBe('boom again');
		expect(run?.nodes.Code.runCount).toBe(2);
		expect(run?.nodes.Code.outputs).toEqual([]);
	});

	it('strips colour codes and returns undefined when there is no run at all', () => {
		const coloured = `\u001b[32m${successOutput(successfulRun)}\u001b[39m`;
		expect(parseExecuteOutput(coloured)?.nodes.Route.outputs[0]).toHaveLength(2);
		expect(
			parseExecuteOutput('Error executing workflow.\n{\n  "not": "a run"\n}\n'),
		).toBeUndefined();
		expect(parseExecuteOutput('')).toBeUndefined();
	});
});

describe('extractCommandError', () => {
	it('keeps the messages after the last separator and drops stack frames', () => {
		const output = [
			'Error executing workflow. See log messages for details.',
			'Execution error:',
			'====================================',
			'Unrecognized node type: CUSTOM.amazonIncentives',
			'Error: Unrecognized node type: CUSTOM.amazonIncentives',
			'    at LoadNodesAndCredentials.getNode (/n8n/load-nodes-and-credentials.ts:655:10)',
			'Unrecognized node type: CUSTOM.amazonIncentives',
		].join('\n');

		expect(extractCommandError(output)).toBe(
			'Unrecognized node type: CUSTOM.amazonIncentives\nError: Unrecognized node type: CUSTOM.amazonIncentives',
		);
	});
});
