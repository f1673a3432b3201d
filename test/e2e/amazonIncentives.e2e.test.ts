/**
 * The node in a real n8n (each supported line: see jest.config.js), installed from the `npm pack` tarball the way n8n's community
 * package installer does (runtime dependencies only), running the workflows in test/workflows
 * headless (`n8n execute`) against the local AGCOD sandbox in this process. Every scenario checks
 * what n8n output and what the sandbox saw (cards issued, money moved, request formats).
 *
 * AGCOD_E2E_PACKAGE_LOADING=customExtension runs the same scenarios with the package loaded from
 * dist/ as a custom extension instead.
 */
import { type RecordedRequest, type RunningSandbox, startSandbox } from '../sandbox';
import { clientFor } from '../sandbox/aws4Client';
import { lineLabel } from './cache';
import { PACKAGE_NAME } from './communityPackage';
import { lineUnderTest, N8nInstance, type N8nRun, type PackageLoading } from './n8nInstance';
import { SCENARIO_CREDENTIAL_NAME, sandboxCredential, scenarioWorkflow } from './workflows';
import { type Json, outputOf } from './runOutput';

const packageLoading = (process.env.AGCOD_E2E_PACKAGE_LOADING ??
	'communityPackage') as PackageLoading;

const SCENARIOS = {
	referral: 'referral-reward.json',
	cancel: 'cancel-in-window.json',
	funds: 'funds-check.json',
	physicalCard: 'physical-card.json',
	balance: 'balance-load-void.json',
	errorOutput: 'error-output.json',
	xml: 'xml-format.json',
} as const;

const DERIVED_REQUEST_ID = /^Awssb[A-Za-z0-9]{35}$/;
const CLAIM_CODE = /^[A-Z0-9]{4}-[A-Z0-9]{6}-[A-Z0-9]{4}$/;

function expectSuccess(run: N8nRun): void {
	expect({ status: run.status, error: run.error }).toEqual({ status: 'success', error: undefined });
}

function requestsFor(sandbox: RunningSandbox, operation: string): RecordedRequest[] {
	return sandbox.requests().filter((request) => request.operation === operation);
}

describe(`Amazon Incentives in ${lineLabel(lineUnderTest())} (${packageLoading}) against the local AGCOD sandbox`, () => {
	let sandbox: RunningSandbox;
	let n8n: N8nInstance;
	const workflowIds = {} as Record<keyof typeof SCENARIOS, string>;

	beforeAll(async () => {
		// The account's real limits: 10 requests/s, GetAvailableFunds 1/s.
		sandbox = await startSandbox({ quiet: true });
		n8n = await N8nInstance.create({ packageLoading });
		await n8n.importCredentials([sandboxCredential(SCENARIO_CREDENTIAL_NAME, sandbox)]);
		const names = Object.keys(SCENARIOS) as Array<keyof typeof SCENARIOS>;
		const ids = await n8n.importWorkflows(
			names.map((name) => scenarioWorkflow(SCENARIOS[name], n8n.nodeType('amazonIncentives'))),
		);
		names.forEach((name, index) => (workflowIds[name] = ids[index]));
	});

	beforeEach(() => sandbox.reset());

	afterAll(async () => {
		await n8n?.dispose();
		await sandbox?.stop();
	});

	it('loads the node from the package n8n would install', () => {
		if (packageLoading === 'communityPackage') {
			expect(n8n.nodeType('amazonIncentives')).toBe(`${PACKAGE_NAME}.amazonIncentives`);
			expect(n8n.installedPackage?.name).toBe(PACKAGE_NAME);
		} else {
			expect(n8n.nodeType('amazonIncentives')).toBe('CUSTOM.amazonIncentives');
		}
	});

	it('referral reward: 25 referrals → 25 cards → 25 e-mails; running it again issues no new card', async () => {
		const first = await n8n.execute(workflowIds.referral);
		expectSuccess(first);

		const cards = outputOf(first, 'Amazon Incentives');
		const emails = outputOf(first, 'Compose e-mail');
		expect(cards).toHaveLength(25);
		expect(emails).toHaveLength(25);
		const expectedAmounts = cards.map((_, index) => 5 + (index % 4) * 5);
		cards.forEach((card, index) => {
			expect(card).toMatchObject({
				status: 'SUCCESS',
				cardInfo: {
					cardStatus: 'Fulfilled',
					value: { amount: expectedAmounts[index], currencyCode: 'USD' },
				},
				replay: false,
			});
			expect(card.requestId).toMatch(DERIVED_REQUEST_ID);
			expect(card.creationRequestId).toBe(card.requestId);
			expect(card.gcClaimCode).toMatch(CLAIM_CODE);
			expect(card.attempts).toBeGreaterThanOrEqual(1);
			// The e-mail step got the card of its own referral (n8n's paired items).
			expect(emails[index]).toEqual({
				to: `friend${index + 1}@example.com`,
				subject: `Your ${expectedAmounts[index]} USD Amazon gift card`,
				text: `Hi Friend ${index + 1}, thanks for the referral! Claim code: ${card.gcClaimCode}`,
			});
		});
		expect(first.nodes['Amazon Incentives'].items[0].map((item) => item.pairedItem)).toEqual(
			cards.map((_, index) => ({ item: index })),
		);
		expect(new Set(cards.map((card) => card.gcId)).size).toBe(25);
		expect(new Set(cards.map((card) => card.requestId)).size).toBe(25);

		const total = expectedAmounts.reduce((sum, amount) => sum + amount, 0);
		expect(total).toBe(305);
		expect(sandbox.stats()).toMatchObject({
			cardsIssued: 25,
			distinctRequestIds: 25,
			debits: 25,
			totalDebited: { USD: 305 },
			doubleDebits: [],
		});

		// A second execution (a new n8n process) derives the same request ids: Amazon returns the
		// original cards and no money moves.
		const second = await n8n.execute(workflowIds.referral);
		expectSuccess(second);
		const again = outputOf(second, 'Amazon Incentives');
		expect(again.map((card) => [card.requestId, card.gcId, card.gcClaimCode])).toEqual(
			cards.map((card) => [card.requestId, card.gcId, card.gcClaimCode]),
		);
		expect(outputOf(second, 'Compose e-mail')).toEqual(emails);
		const stats = sandbox.stats();
		expect(stats).toMatchObject({
			cardsIssued: 25,
			distinctRequestIds: 25,
			debits: 25,
			totalDebited: { USD: 305 },
			doubleDebits: [],
		});
		const successfulCreates = requestsFor(sandbox, 'CreateGiftCard').filter(
			(request) => request.status === 'SUCCESS',
		);
		expect(successfulCreates).toHaveLength(50);

		// Secrets never reach n8n's output or logs.
		for (const run of [first, second]) {
			expect(run.commandOutput).toBeDefined();
			expect(run.commandOutput).not.toContain(sandbox.partner.secretAccessKey);
			expect(run.commandOutput).not.toMatch(/Signature=[0-9a-f]{16}/);
		}
	});

	it('cancels cards inside the 15-minute window and refunds them', async () => {
		const run = await n8n.execute(workflowIds.cancel);
		expectSuccess(run);

		const created = outputOf(run, 'Create');
		const cancelled = outputOf(run, 'Cancel');
		expect(created.map((card) => card.cardInfo.value.amount)).toEqual([100, 20.5]);
		expect(cancelled).toHaveLength(2);
		cancelled.forEach((answer, index) => {
			expect(answer).toMatchObject({
				status: 'SUCCESS',
				creationRequestId: created[index].creationRequestId,
				requestId: created[index].creationRequestId,
			});
		});
		expect(sandbox.stats()).toMatchObject({
			cardsIssued: 2,
			cardsCancelled: 2,
			totalDebited: { USD: 120.5 },
			totalRefunded: { USD: 120.5 },
			balances: { Awssb: { amount: 1_000_000, currencyCode: 'USD' } },
			doubleDebits: [],
		});
		expect(requestsFor(sandbox, 'CancelGiftCard').map((request) => request.status)).toEqual([
			'SUCCESS',
			'SUCCESS',
		]);
	});

	it('reads the available funds from the account ledger', async () => {
		// Spend some money outside n8n first, so the balance is not the starting one.
		const call = clientFor(sandbox);
		const spent = await call('CreateGiftCard', {
			creationRequestId: 'AwssbFundsCheckSpend1',
			partnerId: 'Awssb',
			value: { currencyCode: 'USD', amount: 123.45 },
		});
		expect(spent.httpStatus).toBe(200);

		const run = await n8n.execute(workflowIds.funds);
		expectSuccess(run);

		const [funds] = outputOf(run, 'Get Available Funds');
		expect(funds).toEqual({
			availableFunds: { amount: 999_876.55, currencyCode: 'USD' },
			status: 'SUCCESS',
			timestamp: expect.stringMatching(/^\d{8}T\d{6}Z$/),
			attempts: 1,
		});
		expect(sandbox.stats().balances.Awssb.amount).toBe(999_876.55);
		expect(requestsFor(sandbox, 'GetAvailableFunds')).toHaveLength(1);
	});

	it('physical card: activate → status → deactivate → status', async () => {
		const run = await n8n.execute(workflowIds.physicalCard);
		expectSuccess(run);

		const [activated] = outputOf(run, 'Activate');
		expect(activated).toMatchObject({
			status: 'SUCCESS',
			cardInfo: {
				cardNumber: '1400000005567585358',
				cardStatus: 'Activated',
				value: { amount: 40, currencyCode: 'USD' },
			},
		});
		expect(activated.activationRequestId).toMatch(DERIVED_REQUEST_ID);
		expect(activated.requestId).toBe(activated.activationRequestId);

		const [status] = outputOf(run, 'Status');
		expect(status).toMatchObject({
			status: 'SUCCESS',
			cardInfo: { cardStatus: 'Activated' },
			requestId: activated.activationRequestId,
		});
		const [deactivated] = outputOf(run, 'Deactivate');
		expect(deactivated).toMatchObject({
			status: 'SUCCESS',
			activationRequestId: activated.activationRequestId,
			cardInfo: { cardStatus: 'AwaitingActivation' },
		});
		const [statusAfter] = outputOf(run, 'Status After');
		expect(statusAfter).toMatchObject({
			status: 'SUCCESS',
			cardInfo: { cardStatus: 'AwaitingActivation' },
		});

		expect(sandbox.stats()).toMatchObject({
			activations: 1,
			deactivations: 1,
			totalDebited: { USD: 40 },
			totalRefunded: { USD: 40 },
			doubleDebits: [],
		});
		expect(
			sandbox.requests().map((request) => [request.operation, request.requestId, request.status]),
		).toEqual([
			['ActivateGiftCard', activated.activationRequestId, 'SUCCESS'],
			['ActivationStatusCheck', activated.activationRequestId, 'SUCCESS'],
			['DeactivateGiftCard', activated.activationRequestId, 'SUCCESS'],
			['ActivationStatusCheck', activated.activationRequestId, 'SUCCESS'],
		]);
	});

	it('Amazon balance: load → void', async () => {
		const run = await n8n.execute(workflowIds.balance);
		expectSuccess(run);

		const loads = outputOf(run, 'Load');
		const voids = outputOf(run, 'Void');
		expect(loads.map((load) => load.amount)).toEqual([
			{ currencyCode: 'USD', value: 15 },
			{ currencyCode: 'USD', value: 7.25 },
		]);
		loads.forEach((load, index) => {
			expect(load).toMatchObject({ status: 'SUCCESS', requestId: load.loadBalanceRequestId });
			expect(load.loadBalanceRequestId).toMatch(DERIVED_REQUEST_ID);
			expect(load.amazonTransactionId).toEqual(expect.any(String));
			expect(voids[index]).toMatchObject({
				status: 'SUCCESS',
				loadBalanceRequestId: load.loadBalanceRequestId,
				amount: load.amount,
			});
		});
		expect(sandbox.stats()).toMatchObject({
			balanceLoads: 2,
			balanceVoids: 2,
			totalDebited: { USD: 22.25 },
			totalRefunded: { USD: 22.25 },
			doubleDebits: [],
		});
	});

	it('Continue (using error output): the F3003 item goes to the error output with its fields reachable in expressions; the others are issued', async () => {
		const run = await n8n.execute(workflowIds.errorOutput);
		expectSuccess(run);

		const node = run.nodes['Amazon Incentives'];
		const [issued, failed] = node.outputs as Json[][];
		expect(issued.map((card) => [card.requestId, card.status])).toEqual([
			['AwssbE2eErrorOutput1', 'SUCCESS'],
			['AwssbE2eErrorOutput3', 'SUCCESS'],
		]);
		expect(failed).toHaveLength(1);
		// n8n puts the item's input fields beside the node's error on the error output.
		expect(failed[0]).toEqual({
			requestId: 'F3003',
			amount: 10,
			error: {
				message: expect.stringMatching(
					/^Item 1: Amazon refused CreateGiftCard: Insufficient Funds \(F300 InsufficientFunds\)$/,
				),
				description: expect.stringMatching(/^Fund your Amazon Incentives account/),
				httpCode: '400',
				requestId: 'F3003',
				errorCode: 'F300',
				errorType: 'InsufficientFunds',
				outcome: 'refused',
				retryable: false,
				attempts: 1,
			},
		});
		expect(node.items[0].map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 2 }]);
		expect(node.items[1].map((item) => item.pairedItem)).toEqual([{ item: 1 }]);
		// Each output reaches its own branch, and the error branch reads every field with expressions.
		expect(outputOf(run, 'Delivered')).toHaveLength(2);
		const { error } = failed[0];
		expect(outputOf(run, 'Failed')).toEqual([
			{
				message: error.message,
				description: error.description,
				errorCode: 'F300',
				errorType: 'InsufficientFunds',
				requestId: 'F3003',
				retryable: false,
				attempts: 1,
				httpCode: '400',
				inputRequestId: 'F3003',
			},
		]);

		expect(sandbox.stats()).toMatchObject({ cardsIssued: 2, totalDebited: { USD: 22 } });
		const mock = sandbox.requests().filter((request) => request.requestId === 'F3003');
		expect(mock).toEqual([
			expect.objectContaining({
				status: 'FAILURE',
				errorCode: 'F300',
				errorType: 'InsufficientFunds',
			}),
		]);
	});

	it('speaks XML on the wire with the same output shape', async () => {
		const run = await n8n.execute(workflowIds.xml);
		expectSuccess(run);

		const created = outputOf(run, 'Create (XML)');
		expect(created).toHaveLength(2);
		created.forEach((card, index) => {
			expect(card).toMatchObject({
				status: 'SUCCESS',
				cardInfo: {
					cardStatus: 'Fulfilled',
					value: { amount: [30, 45.75][index], currencyCode: 'USD' },
				},
			});
			expect(card.gcClaimCode).toMatch(CLAIM_CODE);
			expect(card.creationRequestId).toMatch(DERIVED_REQUEST_ID);
		});
		expect(outputOf(run, 'Cancel (XML)').map((answer) => answer.status)).toEqual([
			'SUCCESS',
			'SUCCESS',
		]);
		// Execute Once: one funds call for the two items.
		expect(outputOf(run, 'Funds (XML)')).toEqual([
			expect.objectContaining({ availableFunds: { amount: 1_000_000, currencyCode: 'USD' } }),
		]);

		const requests = sandbox.requests();
		expect(requests.map((request) => [request.operation, request.format, request.status])).toEqual([
			['CreateGiftCard', 'xml', 'SUCCESS'],
			['CreateGiftCard', 'xml', 'SUCCESS'],
			['CancelGiftCard', 'xml', 'SUCCESS'],
			['CancelGiftCard', 'xml', 'SUCCESS'],
			['GetAvailableFunds', 'xml', 'SUCCESS'],
		]);
		expect(sandbox.stats()).toMatchObject({ cardsIssued: 2, cardsCancelled: 2 });
	});
});
