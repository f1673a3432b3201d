import type {
	IExecuteFunctions,
	INodeExecutionData,
	IWorkflowSettings,
	NodeExecutionHint,
} from 'n8n-workflow';

import type { PreparedCall } from '../operations';

/** Whether n8n will keep this execution's data, and the settings that decide it, in the editor's words. */
interface SaveDecision {
	saved: boolean;
	because: string;
	/** What to change so it is not saved. */
	fix: string;
}

/**
 * Mirrors how n8n 1.123.x and 2.40.x decide (their toSaveSettings): a workflow setting 'all' / 'none' (true /
 * false) decides; a workflow without the setting uses the instance's EXECUTIONS_DATA_* variable; and the
 * setting 'DEFAULT' saves successful runs whatever EXECUTIONS_DATA_SAVE_ON_SUCCESS says, because those
 * versions read the variable's text ('none') as a yes. Manual runs follow "Save manual executions" only.
 */
function saveDecision(
	settings: IWorkflowSettings,
	manual: boolean,
	env: NodeJS.ProcessEnv,
): SaveDecision {
	if (manual) {
		const setting = settings.saveManualExecutions;
		const variable = env.EXECUTIONS_DATA_SAVE_MANUAL_EXECUTIONS;
		if (typeof setting === 'boolean')
			return {
				saved: setting,
				because: `the workflow setting "Save manual executions" is ${setting ? 'Save' : 'Do not save'}`,
				fix: 'set the workflow setting "Save manual executions" to Do not save',
			};
		const saved = variable === undefined ? true : !/^(false|0)$/i.test(variable.trim());
		return {
			saved,
			because: `the workflow setting "Save manual executions" is Default and the instance's EXECUTIONS_DATA_SAVE_MANUAL_EXECUTIONS is ${variable === undefined ? 'unset (n8n saves them)' : `"${variable}"`}`,
			fix: 'set the workflow setting "Save manual executions" to Do not save',
		};
	}
	const setting = settings.saveDataSuccessExecution;
	const variable = env.EXECUTIONS_DATA_SAVE_ON_SUCCESS;
	const fix = 'set the workflow setting "Save successful production executions" to Do not save';
	if (setting === 'all' || setting === 'none')
		return {
			saved: setting === 'all',
			because: `the workflow setting "Save successful production executions" is ${setting === 'all' ? 'Save' : 'Do not save'}`,
			fix,
		};
	if (setting === 'DEFAULT')
		return {
			saved: true,
			because:
				'the workflow setting "Save successful production executions" is Default, which n8n 1.123 and 2.40 save even when EXECUTIONS_DATA_SAVE_ON_SUCCESS is none',
			fix,
		};
	return {
		saved: variable === undefined || variable.trim().toLowerCase() !== 'none',
		because: `the workflow has no "Save successful production executions" setting and the instance's EXECUTIONS_DATA_SAVE_ON_SUCCESS is ${variable === undefined ? 'unset (n8n saves them)' : `"${variable}"`}`,
		fix,
	};
}

/**
 * Amazon's data-storage guidelines: a claim code kept for delivery must be disposed of once delivered. No
 * supported n8n redacts `sensitiveOutputFields`, so a saved execution keeps every claim code this node output
 * in clear. When that is about to happen, the editor shows this hint.
 */
export function claimCodesAtRestHint(
	context: IExecuteFunctions,
	calls: Array<PreparedCall | undefined>,
	output: INodeExecutionData[],
	env: NodeJS.ProcessEnv = process.env,
): NodeExecutionHint | undefined {
	const codesInClear = calls.some(
		(call, itemIndex) =>
			call?.operation === 'CreateGiftCard' &&
			call.claimCodeOutput === 'include' &&
			typeof output[itemIndex]?.json.gcClaimCode === 'string',
	);
	if (!codesInClear) return undefined;
	const manual = context.getMode?.() === 'manual';
	const decision = saveDecision(context.getWorkflowSettings(), manual, env);
	const failedRuns =
		'If a later node fails, the run is saved as a failed execution ("Save failed production executions") with the codes in it too.';
	if (!decision.saved) return undefined;
	return {
		type: 'warning',
		location: 'outputPane',
		message:
			`Claim codes are in this output in clear, and n8n will store them in its database with this ${manual ? 'manual ' : ''}execution: ${decision.because}. Amazon's guidelines say claim codes must not be kept once delivered. To keep them out of the database, ${decision.fix}, or deliver the codes in a sub-workflow that saves no executions, and set Claim Code Output to Mask or Omit wherever codes are only recorded. ${manual ? '' : failedRuns}`.trim(),
	};
}
