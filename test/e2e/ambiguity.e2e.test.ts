/**
 * Issue 9 in a real n8n (2.40.7; see jest.config.js) with the package installed from its `npm pack`
 * tarball, headless against the local sandbox of this process: re-creating a cancelled card, an activation
 * whose answer is lost while the status check fails, and the same key in two workflows. Each case checks
 * n8n's output against the sandbox's ledger.
 */
import { type RunningSandbox, startSandbox } from '../sandbox';
import { lineLabel } from './cache';
import { lineUnderTest, N8nInstance, type PackageLoading } from './n8nInstance';
import { SCENARIO_CREDENTIAL_NAME, sandboxCredential, scenarioWorkflow } from './workflows';
import { type Json, outputOf } from './runOutput';

const packageLoading = (process.env.AGCOD_E2E_PACKAGE_LOADING ??
	'communityPackage') as PackageLoading;

const CLAIM_CODE = /[A-Z0-9]{4}-[A-Z0-9]{6}-[A-Z0-9]{4}/;

/** An error item's fields: `{ error: { message, description, outcome, … } }`. */
function fieldsOf(json: Json): Json {
	expect(json.error).toEqual(expect.objectContaining({ message: expect.any(String) }));
	return json.error;
}

describe(`issue 9 in ${lineLabel(lineUnderTest())} (${packageLoading}): outcomes Amazon's answers do not prove`, () => {
	let sandbox: RunningSandbox;
	let n8n: N8nInstance;
	const ids: Record<'replay' | 'activation' | 'workflowA' | 'workflowB', string> = {
		replay: '',
		activation: '',
		workflowA: '',
		workflowB: '',
	};

	beforeAll(async () => {
		sandbox = await startSandbox({ quiet: true });
		n8n = await N8nInstance.create({ packageLoading });
		await n8n.importCredentials([sandboxCredential(SCENARIO_CREDENTIAL_NAME, sandbox)]);
		const type = n8n.nodeType('amazonIncentives');
		const sameKey = (name: string) => ({
			...scenarioWorkflow('same-key-two-workflows.json', type),
			name,
		});
		[ids.replay, ids.activation, ids.workflowA, ids.workflowB] = await n8n.importWorkflows([
			scenarioWorkflow('cancelled-replay.json', type),
			scenarioWorkflow('ambiguous-activation.json', type),
			sameKey('e2e: referral campaign (same key)'),
			sameKey('e2e: survey (same key)'),
		]);
	});

	beforeEach(() => {
		sandbox.reset();
		sandbox.configure({ faults: {}, faultRules: [] });
	});

	afterAll(async () => {
		await n8n?.dispose();
		await sandbox?.stop();
	});

	it('re-creating a cancelled card: an error naming the cause, and no claim code', async () => {
		const run = await n8n.execute(ids.replay);
		const [card] = outputOf(run, 'Create');
		expect(card).toMatchObject({ status: 'SUCCESS', cardInfo: { cardStatus: 'Fulfilled' } });
		expect(outputOf(run, 'Cancel')[0]).toMatchObject({ status: 'SUCCESS' });
		const [again] = outputOf(run, 'Create again');
		expect(fieldsOf(again).message).toMatch(/no card for this item: .*RefundedToPurchaser/);
		expect(fieldsOf(again)).toMatchObject({
			outcome: 'cancelled',
			cardStatus: 'RefundedToPurchaser',
			gcId: card.gcId,
			requestId: card.requestId,
		});
		expect(JSON.stringify(again)).not.toContain(card.gcClaimCode);
		expect(JSON.stringify(again)).not.toMatch(CLAIM_CODE);
		expect(sandbox.ledger().giftCards).toEqual([
			expect.objectContaining({
				creationRequestId: card.requestId,
				cardStatus: 'RefundedToPurchaser',
			}),
		]);
		expect(sandbox.stats()).toMatchObject({ cardsIssued: 1, cardsCancelled: 1, debits: 1 });
	});

	it('an activation whose answer is lost while the status check fails: re-sent with the same id, activated once', async () => {
		sandbox.configure({
			faultRules: [
				{ operations: ['ActivateGiftCard'], times: 1, faults: { resetAfterCommitRate: 1 } },
				{ operations: ['ActivationStatusCheck'], faults: { failureRate: 1 } },
			],
		});
		const [activation] = outputOf(await n8n.execute(ids.activation), 'Activate');
		expect(activation).toMatchObject({
			status: 'SUCCESS',
			cardInfo: { cardStatus: 'Activated' },
			attempts: 2,
			recoveredWithStatusCheck: true,
		});
		expect(sandbox.stats()).toMatchObject({ activations: 1, debits: 1, doubleDebits: [] });
	});

	it('an activation still unknown after the re-sends: retryable unknown, never "refused"; the re-run settles it', async () => {
		sandbox.configure({
			faultRules: [
				{ operations: ['ActivateGiftCard'], faults: { resetAfterCommitRate: 1 } },
				{ operations: ['ActivationStatusCheck'], faults: { failureRate: 1 } },
			],
		});
		const [unknown] = outputOf(await n8n.execute(ids.activation), 'Activate');
		expect(fieldsOf(unknown).message).toMatch(/outcome unknown/);
		expect(fieldsOf(unknown).message).not.toMatch(/refused/);
		expect(fieldsOf(unknown)).toMatchObject({ outcome: 'unknown', retryable: true, attempts: 3 });
		const requestId = fieldsOf(unknown).requestId as string;
		expect(requestId).toMatch(/^Awssb\w{35}$/);
		// The ledger: the card is active and paid for.
		expect(sandbox.ledger().physicalCards).toEqual([
			expect.objectContaining({ state: 'Activated', activationRequestId: requestId }),
		]);

		sandbox.configure({ faults: {}, faultRules: [] });
		const [settled] = outputOf(await n8n.execute(ids.activation), 'Activate');
		expect(settled).toMatchObject({ status: 'SUCCESS', requestId, attempts: 1 });
		expect(sandbox.stats()).toMatchObject({ activations: 1, debits: 1, doubleDebits: [] });
	});

	it('the same key in two workflows is two transactions; a re-run of one returns its own card', async () => {
		const [referral] = outputOf(await n8n.execute(ids.workflowA), 'Amazon Incentives');
		const [survey] = outputOf(await n8n.execute(ids.workflowB), 'Amazon Incentives');
		expect(referral).toMatchObject({ status: 'SUCCESS' });
		expect(survey).toMatchObject({ status: 'SUCCESS' });
		expect(survey.requestId).not.toBe(referral.requestId);
		expect(survey.gcId).not.toBe(referral.gcId);
		expect(survey.gcClaimCode).not.toBe(referral.gcClaimCode);
		const [again] = outputOf(await n8n.execute(ids.workflowA), 'Amazon Incentives');
		expect(again).toMatchObject({ requestId: referral.requestId, gcId: referral.gcId });
		expect(sandbox.stats()).toMatchObject({ cardsIssued: 2, debits: 2, doubleDebits: [] });
	});
});
