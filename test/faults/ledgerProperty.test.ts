/**
 * The ledger property (issue 9): a seeded, randomised campaign of at least 1,000 operations — create, cancel,
 * activate, deactivate, status, load, void and funds, in batches, with and without Continue On Fail — run
 * through n8n-core against the sandbox while it injects faults on every operation, the settling calls
 * included (status checks after lost activations, re-sent cancels). After every run each output item is
 * classified as proven success, proven refusal (or cancelled / conflict) or unknown, and compared with the
 * sandbox's ledger:
 *
 * - no item reported done whose money did not move, none reported refused whose money did;
 * - every money movement of a run belongs to an item of that run reported done or unknown (no card goes
 *   unreported, with Continue On Fail or without it: then the thrown error names them);
 * - no request id is debited twice, and every debited id is one the campaign's keys derive;
 * - every unknown outcome is settled by re-running it with the same keys (as the node's errors say), at the
 *   latest once the faults stop.
 *
 * `npm test` runs it with a fixed seed. Any other seed: AGCOD_LEDGER_SEED=<n> npx jest test/faults/ledgerProperty
 * (AGCOD_LEDGER_OPERATIONS=<n> changes the campaign's length). The seed fixes every decision of the campaign
 * and the sandbox's fault dice; the order in which concurrent requests reach the sandbox can still vary.
 */
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { deriveRequestId, type RequestIdKind } from '../../nodes/AmazonIncentives/requestId';
import {
	DEFAULT_PARTNER,
	type FaultConfig,
	type LedgerSnapshot,
	type RunningSandbox,
	startSandbox,
} from '../sandbox';
import { seededRandom } from '../sandbox/faults';
import {
	HARNESS_SCOPE,
	activateParameters,
	cancelParameters,
	createParameters,
	deactivateParameters,
	fundsParameters,
	loadParameters,
	runAgainst,
	statusParameters,
	voidParameters,
} from '../integration/helpers';

const SEED = Number(process.env.AGCOD_LEDGER_SEED ?? 20_260_917);
const OPERATIONS = Number(process.env.AGCOD_LEDGER_OPERATIONS ?? 1000);
const PARTNER = DEFAULT_PARTNER.partnerId;

/** Node options: short timeouts and few retries, so faults often outlast a call and leave it unknown. */
const NODE_OPTIONS = {
	timeout: 250,
	maxRetries: 2,
	retryBudget: 20,
	requestsPerSecond: 100,
	maxConcurrentRequests: 8,
};

const BASE_FAULTS: FaultConfig = {
	connectionResetRate: 0.03,
	html500Rate: 0.03,
	resendFirstAttemptRate: 0.04,
	hangAfterCommitRate: 0.02,
	hangMs: 1000,
	truncatedJsonRate: 0.03,
	resetAfterCommitRate: 0.04,
	failureRate: 0.02,
	bare429Rate: 0.005,
	throttleHeaderRate: 0.005,
};

/** The variable USD cards of the sandbox's default inventory: 1400000005567585 … 634, with a suffix. */
const PHYSICAL_CARDS = Array.from(
	{ length: 50 },
	(_, index) => `${1400000005567585 + index}${String((358 + index * 37) % 1000).padStart(3, '0')}`,
);

type Op = 'create' | 'cancel' | 'activate' | 'deactivate' | 'status' | 'load' | 'void' | 'funds';

interface Transaction {
	kind: RequestIdKind;
	key: string;
	requestId: string;
	amount: number;
	cardNumber?: string;
	customer?: string;
	gcId?: string;
}

interface PlannedItem {
	op: Op;
	json: IDataObject;
	/** The transaction the item is about (none for funds). */
	tx?: Transaction;
	/** Planned as a same-key item with different input data: must come back as a conflict. */
	conflict?: boolean;
}

type Verdict = 'success' | 'refused' | 'unknown' | 'cancelled' | 'conflict';

const PARAMETERS: Record<Op, (extra: INodeParameters) => INodeParameters> = {
	create: createParameters,
	cancel: cancelParameters,
	activate: activateParameters,
	deactivate: deactivateParameters,
	status: statusParameters,
	load: loadParameters,
	void: voidParameters,
	funds: fundsParameters,
};

/** Which ledger movement each operation's success stands for. */
const MOVEMENT: Partial<Record<Op, { operation: string; kind: 'debit' | 'refund' }>> = {
	create: { operation: 'CreateGiftCard', kind: 'debit' },
	activate: { operation: 'ActivateGiftCard', kind: 'debit' },
	load: { operation: 'LoadAmazonBalance', kind: 'debit' },
	cancel: { operation: 'CancelGiftCard', kind: 'refund' },
	deactivate: { operation: 'DeactivateGiftCard', kind: 'refund' },
	void: { operation: 'VoidAmazonBalanceLoad', kind: 'refund' },
};

/** An item's fields: the answer's for a success, the error's (`{ error: { message, outcome, … } }`) else. */
function fieldsOf(json: IDataObject): IDataObject {
	return json.error !== null && typeof json.error === 'object' ? (json.error as IDataObject) : json;
}

function verdictOf(json: IDataObject): Verdict {
	if (json.error === undefined) return 'success';
	const outcome = fieldsOf(json).outcome;
	if (
		outcome === 'refused' ||
		outcome === 'unknown' ||
		outcome === 'cancelled' ||
		outcome === 'conflict'
	)
		return outcome;
	throw new Error(`error item without an outcome: ${JSON.stringify(json).slice(0, 300)}`);
}

class Campaign {
	readonly random = seededRandom(SEED);
	readonly giftCards: Transaction[] = [];
	readonly activations: Transaction[] = [];
	readonly loads: Transaction[] = [];
	readonly knownIds = new Set<string>();
	readonly unknown: PlannedItem[] = [];
	readonly contradictions: string[] = [];
	readonly tally: Record<Verdict | 'items' | 'runs' | 'stoppedRuns', number> = {
		items: 0,
		runs: 0,
		stoppedRuns: 0,
		success: 0,
		refused: 0,
		unknown: 0,
		cancelled: 0,
		conflict: 0,
	};
	private keyCounter = 0;

	/** Items whose outcome was checked one by one (those of runs with Continue On Fail). */
	classified(): number {
		const { success, refused, unknown, cancelled, conflict } = this.tally;
		return success + refused + unknown + cancelled + conflict;
	}

	constructor(private readonly sandbox: RunningSandbox) {}

	pick<T>(list: readonly T[]): T {
		return list[Math.floor(this.random() * list.length)];
	}

	private newTransaction(kind: RequestIdKind, extra: Partial<Transaction>): Transaction {
		const key = `ledger-${SEED}-${kind}-${++this.keyCounter}`;
		const requestId = deriveRequestId(PARTNER, kind, key, HARNESS_SCOPE);
		this.knownIds.add(requestId);
		return { kind, key, requestId, amount: 5 + Math.floor(this.random() * 46), ...extra };
	}

	/** A new transaction most of the time, else a re-run of an earlier one (the same key and data). */
	private transactionFor(op: 'create' | 'activate' | 'load'): Transaction {
		const pool =
			op === 'create' ? this.giftCards : op === 'activate' ? this.activations : this.loads;
		if (pool.length > 0 && this.random() < 0.2) return this.pick(pool);
		const tx =
			op === 'create'
				? this.newTransaction('create', {})
				: op === 'activate'
					? this.newTransaction('activate', { cardNumber: this.pick(PHYSICAL_CARDS) })
					: this.newTransaction('load', {
							customer: `amzn1.account.C${Math.floor(this.random() * 20)}`,
						});
		pool.push(tx);
		return tx;
	}

	itemFor(op: Op, tx: Transaction): IDataObject {
		switch (op) {
			case 'create':
				return { key: tx.key, amount: tx.amount };
			case 'cancel':
				return { creationRequestId: tx.requestId, gcId: tx.gcId ?? '' };
			case 'activate':
				return { key: tx.key, cardNumber: tx.cardNumber, amount: tx.amount };
			case 'deactivate':
			case 'status':
				return { activationRequestId: tx.requestId, cardNumber: tx.cardNumber };
			case 'load':
				return { key: tx.key, customer: tx.customer, amount: tx.amount };
			case 'void':
				return { loadBalanceRequestId: tx.requestId, customer: tx.customer, amount: tx.amount };
			case 'funds':
				return {};
		}
	}

	/** One batch of one operation, as a workflow would send it. */
	plan(): PlannedItem[] {
		const roll = this.random();
		let op: Op;
		if (roll < 0.24) op = 'create';
		else if (roll < 0.36) op = 'cancel';
		else if (roll < 0.5) op = 'activate';
		else if (roll < 0.58) op = 'deactivate';
		else if (roll < 0.67) op = 'status';
		else if (roll < 0.83) op = 'load';
		else if (roll < 0.97) op = 'void';
		else op = 'funds';

		if (op === 'funds') return [{ op, json: {} }];
		const size = 1 + Math.floor(this.random() * 10);
		const items: PlannedItem[] = [];
		for (let index = 0; index < size; index++) {
			let tx: Transaction | undefined;
			if (op === 'create' || op === 'activate' || op === 'load') tx = this.transactionFor(op);
			else {
				const pool =
					op === 'cancel' ? this.giftCards : op === 'void' ? this.loads : this.activations;
				if (pool.length === 0) continue;
				tx = this.pick(pool);
			}
			items.push({ op, tx, json: this.itemFor(op, tx) });
			// Now and then the same key twice in one batch: an exact duplicate (a replay) or another record.
			if ((op === 'create' || op === 'load') && this.random() < 0.08) {
				const other = this.random() < 0.5;
				items.push({
					op,
					tx,
					json: other ? { ...this.itemFor(op, tx), note: 'another record' } : this.itemFor(op, tx),
					conflict: other,
				});
			}
		}
		return items;
	}

	/** Some unknown items of one operation, to re-run with the same keys. */
	takeUnknownBatch(): PlannedItem[] {
		const batch: PlannedItem[] = [];
		const op = this.unknown[0]?.op;
		for (let index = 0; index < this.unknown.length && batch.length < 8;) {
			if (this.unknown[index].op === op) batch.push(...this.unknown.splice(index, 1));
			else index++;
		}
		return batch.map((item) => ({ op: item.op, tx: item.tx, json: item.json }));
	}

	/** Runs one batch and checks it; returns each item's verdict and fields (Continue On Fail runs only). */
	async run(
		items: PlannedItem[],
		stopOnFail: boolean,
	): Promise<Array<{ item: PlannedItem; verdict: Verdict; fields: IDataObject }>> {
		if (items.length === 0) return [];
		const op = items[0].op;
		const before = this.sandbox.ledger().movements.length;
		const result = await runAgainst(
			this.sandbox,
			PARAMETERS[op]({ options: NODE_OPTIONS }),
			items.map((item) => item.json),
			stopOnFail ? {} : { settings: { onError: 'continueRegularOutput' } },
		);
		// Requests whose client gave up may still be read by the sandbox: let it catch up.
		await new Promise((resolve) => setTimeout(resolve, 30));
		const ledger = this.sandbox.ledger();
		const moved = ledger.movements.slice(before);
		this.tally.runs += 1;
		this.tally.items += items.length;

		if (result.status === 'success') {
			expect(result.main).toHaveLength(items.length);
			const reported = new Map<string, Verdict[]>();
			const verdicts = result.main.map((output, index) => {
				const verdict = verdictOf(output.json);
				this.check(items[index], output.json, verdict, ledger);
				const id = items[index].tx?.requestId;
				if (id) reported.set(id, [...(reported.get(id) ?? []), verdict]);
				return { item: items[index], verdict, fields: fieldsOf(output.json) };
			});
			for (const movement of moved) {
				const said = reported.get(movement.requestId) ?? [];
				if (!said.some((verdict) => verdict === 'success' || verdict === 'unknown'))
					this.contradictions.push(
						`${movement.operation} ${movement.kind} of ${movement.requestId} in a run that reported it ${said.join('/') || 'not at all'}`,
					);
			}
			return verdicts;
		}

		// Without Continue On Fail: the error names every item that succeeded and the unknown ones.
		this.tally.stoppedRuns += 1;
		const error = result.error as Error & {
			description?: string;
			context?: IDataObject;
			errorResponse?: IDataObject;
		};
		const failingIndex = error.context?.itemIndex as number | undefined;
		const outcome = (error.errorResponse?.outcome ?? error.context?.outcome) as Verdict | undefined;
		const failing = failingIndex === undefined ? undefined : items[failingIndex];
		const text = `${error.message} ${error.description ?? ''}`;
		if (!outcome || !failing)
			this.contradictions.push(`a stopped run's error has no item or outcome: ${error.message}`);
		else if (outcome === 'unknown') this.unknown.push(failing);
		for (const movement of moved) {
			const ownId = failing?.tx?.requestId === movement.requestId;
			if (ownId && outcome !== 'unknown')
				this.contradictions.push(
					`${movement.operation} ${movement.kind} of ${movement.requestId}, reported ${outcome} by the error that stopped the run`,
				);
			if (!ownId && !text.includes(movement.requestId))
				this.contradictions.push(
					`${movement.operation} ${movement.kind} of ${movement.requestId} not named by the error that stopped the run`,
				);
		}
		for (const { requestId } of (error.context?.succeededInThisRun ?? []) as Array<{
			requestId: string;
		}>) {
			const item = items.find((planned) => planned.tx?.requestId === requestId);
			if (item && MOVEMENT[item.op] && !this.moneyMoved(item, ledger))
				this.contradictions.push(`${item.op} ${requestId} named as succeeded, but no money moved`);
		}
		// Items named as unknown are settled later like the others.
		for (const item of items)
			if (
				item !== failing &&
				item.tx &&
				new RegExp(`Outcome unknown[^.]*${item.tx.requestId}`).test(text)
			)
				this.unknown.push(item);
		return [];
	}

	private moneyMoved(item: PlannedItem, ledger: LedgerSnapshot): boolean {
		const movement = MOVEMENT[item.op];
		if (!movement || !item.tx) return false;
		return ledger.movements.some(
			(entry) =>
				entry.requestId === item.tx!.requestId &&
				entry.operation === movement.operation &&
				entry.kind === movement.kind,
		);
	}

	/** One output item against the ledger. */
	private check(item: PlannedItem, json: IDataObject, verdict: Verdict, ledger: LedgerSnapshot) {
		this.tally[verdict] += 1;
		const tx = item.tx;
		const fields = fieldsOf(json);
		const contradiction = (what: string) =>
			this.contradictions.push(
				`${item.op} ${tx?.requestId ?? ''}: ${what} (${String(fields.message ?? 'success').slice(0, 160)})`,
			);
		if (tx && fields.requestId !== undefined && fields.requestId !== tx.requestId)
			contradiction(`reported request id ${String(fields.requestId)}`);
		if (item.conflict && verdict !== 'conflict')
			contradiction(`planned conflict reported ${verdict}`);
		if (verdict === 'unknown') {
			this.unknown.push(item);
			return;
		}
		if (verdict === 'conflict') {
			if (!item.conflict) contradiction('conflict without a same-key item of other data');
			return;
		}
		if (item.op === 'funds') {
			const balance = this.sandbox.stats().balances[PARTNER].amount;
			if (verdict === 'success' && (json.availableFunds as IDataObject).amount !== balance)
				contradiction(`funds ${String((json.availableFunds as IDataObject).amount)} ≠ ${balance}`);
			return;
		}
		if (item.op === 'status') {
			if (verdict !== 'success') return;
			const card = ledger.physicalCards.find((entry) => entry.cardNumber === tx!.cardNumber);
			const state = card?.state ?? 'AwaitingActivation';
			const reported = (json.cardInfo as IDataObject).cardStatus;
			if (reported !== state) contradiction(`status ${String(reported)}, ledger ${state}`);
			return;
		}
		const moved = this.moneyMoved(item, ledger);
		if (verdict === 'success') {
			if (!moved) contradiction('reported done, but its money did not move');
			if (item.op === 'create') {
				const card = ledger.giftCards.find((entry) => entry.creationRequestId === tx!.requestId);
				if (card?.cardStatus !== 'Fulfilled' || card.gcId !== json.gcId)
					contradiction(`reported a live card, ledger says ${card?.cardStatus ?? 'no card'}`);
				if (typeof json.gcClaimCode !== 'string') contradiction('success without its claim code');
				tx!.gcId = json.gcId as string;
			}
		} else if (verdict === 'refused') {
			if (moved) contradiction('reported refused, but its money moved');
		} else if (verdict === 'cancelled') {
			const card = ledger.giftCards.find((entry) => entry.creationRequestId === tx!.requestId);
			if (item.op !== 'create' || card?.cardStatus !== 'RefundedToPurchaser')
				contradiction(`reported cancelled, ledger says ${card?.cardStatus ?? 'no card'}`);
			if (JSON.stringify(json).match(/[A-Z0-9]{4}-[A-Z0-9]{6}-[A-Z0-9]{4}/))
				contradiction('a cancelled card came with a claim code');
		}
	}

	/**
	 * Settles unknown items the way the node's errors say: re-run them with the same keys. A cancel that comes
	 * back unknown with CancelRequestArrivedAfterTimeLimit is settled by re-running the card's Create (that
	 * answer means the card exists, so the Create is a replay), whose answer is checked against the ledger.
	 */
	async settle(pending: PlannedItem[], stopOnFail: boolean): Promise<void> {
		for (const op of new Set(pending.map((item) => item.op))) {
			const batch = pending.filter((item) => item.op === op);
			const results = await this.run(
				batch.map((item) => ({ op, tx: item.tx, json: item.json })),
				stopOnFail,
			);
			if (op !== 'cancel') continue;
			const late = results.filter(
				({ verdict, fields }) =>
					verdict === 'unknown' && fields.errorType === 'CancelRequestArrivedAfterTimeLimit',
			);
			if (late.length === 0) continue;
			for (const { item } of late) this.unknown.splice(this.unknown.lastIndexOf(item), 1);
			await this.run(
				late.map(({ item }) => ({
					op: 'create' as const,
					tx: item.tx,
					json: this.itemFor('create', item.tx!),
				})),
				false,
			);
		}
	}

	/** The campaign's end: faults off, every unknown settled. */
	async settleEverything(): Promise<void> {
		for (let round = 0; round < 5 && this.unknown.length > 0; round++)
			await this.settle(this.unknown.splice(0), false);
	}
}

describe('the ledger property: what the node reports never contradicts what the money did', () => {
	let sandbox: RunningSandbox;

	beforeAll(async () => {
		sandbox = await startSandbox({
			quiet: true,
			rateLimit: false,
			// Funds run out along the way, so refusals are part of the campaign too.
			partners: [{ ...DEFAULT_PARTNER, startingBalance: 4000 }],
			// The harder of the two possible orders: a late re-sent cancel answers the time-limit error.
			cancelWindowCheckedFirst: true,
		});
	});
	afterAll(() => sandbox.stop());

	it(`${OPERATIONS} operations with faults on every operation (seed ${SEED})`, async () => {
		const faultRule = (operations: string[], faults: FaultConfig) => ({
			operations,
			faults: { ...BASE_FAULTS, ...faults },
		});
		sandbox.configure({
			faults: { ...BASE_FAULTS, seed: SEED },
			faultRules: [
				// The settling calls fail often: a status check proves nothing then.
				faultRule(['ActivationStatusCheck'], { failureRate: 0.25 }),
				// Answers lost after commit, where they hurt most.
				faultRule(
					['CancelGiftCard', 'ActivateGiftCard', 'DeactivateGiftCard', 'VoidAmazonBalanceLoad'],
					{
						resetAfterCommitRate: 0.1,
						hangAfterCommitRate: 0.04,
					},
				),
			],
		});
		const campaign = new Campaign(sandbox);
		while (campaign.classified() < OPERATIONS) {
			const stopOnFail = campaign.random() < 0.25;
			if (campaign.unknown.length > 0 && campaign.random() < 0.08)
				await campaign.settle(campaign.takeUnknownBatch(), stopOnFail);
			else await campaign.run(campaign.plan(), stopOnFail);
			// Time passes: older cards leave the 15-minute cancel window.
			sandbox.clock.advance(Math.floor(campaign.random() * 4 * 60 * 1000));
		}
		const duringFaults = { ...campaign.tally };

		sandbox.configure({ faults: {}, faultRules: [] });
		await campaign.settleEverything();

		expect(campaign.contradictions).toEqual([]);
		expect(campaign.unknown).toEqual([]);
		const stats = sandbox.stats();
		expect(stats.doubleDebits).toEqual([]);
		const ledger = sandbox.ledger();
		const debited = ledger.movements.filter((movement) => movement.kind === 'debit');
		expect(new Set(debited.map((movement) => movement.requestId)).size).toBe(debited.length);
		expect(debited.filter((movement) => !campaign.knownIds.has(movement.requestId))).toEqual([]);

		// The campaign did what it claims: many operations, every kind of outcome, every fault.
		const { success, refused, unknown, cancelled, conflict } = duringFaults;
		expect(success + refused + unknown + cancelled + conflict).toBeGreaterThanOrEqual(OPERATIONS);
		expect(duringFaults.success).toBeGreaterThan(OPERATIONS / 4);
		expect(duringFaults.refused).toBeGreaterThan(OPERATIONS / 100);
		expect(duringFaults.unknown).toBeGreaterThan(OPERATIONS / 100);
		expect(duringFaults.conflict).toBeGreaterThan(0);
		expect(duringFaults.stoppedRuns).toBeGreaterThan(OPERATIONS / 200);
		for (const [kind, count] of Object.entries(stats.faultsInjected))
			expect({ kind, injected: count > 0 }).toEqual({ kind, injected: true });
		expect(stats.requestsByOperation.ActivationStatusCheck).toBeGreaterThan(0);
		expect(stats.cardsCancelled).toBeGreaterThan(0);
		expect(stats.deactivations).toBeGreaterThan(0);
		expect(stats.balanceVoids).toBeGreaterThan(0);
		console.log(
			`ledger property, seed ${SEED}: ${JSON.stringify(duringFaults)}; faults ${JSON.stringify(stats.faultsInjected)}; ` +
				`${stats.requests} requests, ${debited.length} debits`,
		);
	}, 600_000);
});
