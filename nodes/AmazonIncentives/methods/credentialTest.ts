import type {
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	INodeCredentialTestResult,
} from 'n8n-workflow';

import { CREDENTIAL_TEST_CALL } from '../defaults';
import { TLS_HINT } from '../helpers/utils';
import { AgcodCallError, callAgcod } from '../transport/call';
import type { JsonObject } from '../transport/codec';
import { readConnection } from '../transport/connection';
import { authHint, hintFor } from '../transport/errors';

/**
 * n8n's credential "Test" (the credential's `testedBy` names this function): one GetAvailableFunds call,
 * Amazon's suggested echo call. Each way it can fail gets a message that names the field to fix.
 */
export async function amazonIncentivesApiTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const read = readConnection(credential.data ?? {});
	if ('problem' in read) return { status: 'Error', message: read.problem.message };
	const { connection } = read;
	const where = `${connection.baseUrl.origin} (${connection.environment}, region ${connection.region})`;
	try {
		const { data } = await callAgcod(
			connection,
			'GetAvailableFunds',
			{ partnerId: connection.partnerId },
			undefined,
			CREDENTIAL_TEST_CALL,
		);
		const funds = data.availableFunds as JsonObject;
		return {
			status: 'OK',
			message: `Connected to ${where} as partner ${connection.partnerId}: available funds ${funds.amount} ${funds.currencyCode}`,
		};
	} catch (error) {
		if (!(error instanceof AgcodCallError))
			return { status: 'Error', message: `The test could not run: ${(error as Error).message}` };
		const { outcome } = error;
		switch (outcome.kind) {
			case 'auth':
				return {
					status: 'Error',
					message: `${authHint(outcome.message)} (Amazon: ${outcome.message})`,
				};
			case 'failure':
				return {
					status: 'Error',
					message: `The keys work, but Amazon refused partner ${connection.partnerId}: ${outcome.message} (${outcome.errorCode ?? ''} ${outcome.errorType ?? ''}). Check the Partner ID matches these keys. ${hintFor(outcome.errorCode, outcome.errorType)}`,
				};
			case 'timeout':
			case 'connection':
				return {
					status: 'Error',
					message: `Could not reach ${where}: ${outcome.message}. Check the environment, region and endpoint, and that this machine can reach it.`,
				};
			case 'tls':
				return { status: 'Error', message: `${outcome.message} at ${where}. ${TLS_HINT}` };
			case 'throttled':
				return {
					status: 'Error',
					message:
						'Amazon is throttling this account right now (Rate exceeded); test again in a few seconds.',
				};
			default:
				return {
					status: 'Error',
					message: `Unexpected answer from ${where}: ${outcome.message}. Is the endpoint an AGCOD endpoint?`,
				};
		}
	}
}
