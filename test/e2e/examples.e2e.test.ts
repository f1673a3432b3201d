/**
 * The four example workflows in examples/, imported unchanged into a real n8n of each supported
 * line (the package installed from its npm pack tarball), with their credentials resolved by name,
 * and run for real:
 * headless (`n8n execute`) from their manual triggers, and as published workflows behind
 * `n8n start` through their webhooks. E-mails go to an SMTP sink this test runs; gift cards to the
 * local AGCOD sandbox. Before n8n runs a workflow it checks every node downstream of the start
 * node for parameter issues and refuses to run if there are any, so each of these runs also proves
 * its branch of the example is complete.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { DEFAULT_PARTNER, type RunningSandbox, startSandbox } from '../sandbox';
import { clientFor } from '../sandbox/aws4Client';
import { lineLabel } from './cache';
import { lineUnderTest, N8nInstance, type N8nRun, type N8nServer } from './n8nInstance';
import { type SmtpSink, startSmtpSink } from './smtpSink';
import {
	EXAMPLE_FILES,
	EXAMPLE_WEBHOOK_PATHS,
	exampleCredentials,
	examplesDir,
	exampleWorkflowFiles,
	posToken,
	readWorkflowFile,
	WEBHOOK_SECRET_HEADER,
} from './workflows';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from n8n's REST API and run data, read freely by the checks
type Json = Record<string, any>;

const WEBHOOK_SECRET = `e2e-${randomBytes(12).toString('hex')}`;
const POS_SIGNING_KEY = `e2e-pos-${randomBytes(24).toString('hex')}`;
const DERIVED_REQUEST_ID = /^Awssb[A-Za-z0-9]{35}$/;
const CLAIM_CODE = /[A-Z0-9]{4}-[A-Z0-9]{6}-[A-Z0-9]{4}/g;

/**
 * n8n creates an execution row (with the trigger's input) when a webhook run starts; with "save no
 * data" it deletes the row when the run ends, which can be just after the webhook has answered, and
 * prunes it for good later. Waits for the deletion, then checks that none of the given values (claim
 * codes, keys) ever reached the database files, not even in freed pages or the write-ahead log.
 */
async function expectNothingStored(n8n: N8nInstance, workflowId: string, values: string[]) {
	const deadline = Date.now() + 20_000;
	while ((await n8n.readStoredExecution(workflowId)) !== undefined) {
		if (Date.now() > deadline) {
			throw new Error(`an execution of workflow ${workflowId} is still stored after 20 s`);
		}
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
	const databaseDir = path.join(n8n.userFolder, '.n8n');
	const databaseFiles = fs
		.readdirSync(databaseDir)
		.filter((name) => name.startsWith('database.sqlite'));
	expect(databaseFiles).toContain('database.sqlite');
	expect(values.length).toBeGreaterThan(0);
	for (const file of databaseFiles) {
		const bytes = fs.readFileSync(path.join(databaseDir, file)).toString('latin1');
		for (const value of values) {
			expect({ file, value, stored: bytes.includes(value) }).toEqual({
				file,
				value,
				stored: false,
			});
		}
	}
}

function expectSuccess(run: N8nRun): void {
	expect({ status: run.status, error: run.error }).toEqual({ status: 'success', error: undefined });
}

/** A small CSV reader for n8n's Convert to File output (BOM, quoted fields). */
function parseCsv(text: string): Array<Record<string, string>> {
	const rows: string[][] = [];
	let field = '';
	let row: string[] = [];
	let quoted = false;
	const input = text.replace(/^\uFEFF/, '');
	for (let index = 0; index < input.length; index++) {
		const character = input[index];
		if (quoted) {
			if (character === '"' && input[index + 1] === '"') {
				field += '"';
				index++;
			} else if (character === '"') quoted = false;
			else field += character;
		} else if (character === '"') quoted = true;
		else if (character === ',') {
			row.push(field);
			field = '';
		} else if (character === '\n' || character === '\r') {
			if (character === '\r' && input[index + 1] === '\n') index++;
			row.push(field);
			rows.push(row);
			row = [];
			field = '';
		} else field += character;
	}
	if (field !== '' || row.length > 0) rows.push([...row, field]);
	const [header, ...body] = rows;
	return body.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ''])));
}

describe(`the example workflows, imported unchanged into ${lineLabel(lineUnderTest())}`, () => {
	let sandbox: RunningSandbox;
	let smtp: SmtpSink;
	let n8n: N8nInstance;
	const workflowIds = new Map<string, string>();
	const idOf = (file: string) => workflowIds.get(file) as string;

	beforeAll(async () => {
		// A small account, so the low-balance alert can be brought below its 500 USD threshold.
		sandbox = await startSandbox({
			quiet: true,
			partners: [{ ...DEFAULT_PARTNER, startingBalance: 1000 }],
		});
		smtp = await startSmtpSink();
		n8n = await N8nInstance.create({ packageLoading: 'communityPackage' });
		await n8n.importCredentials(exampleCredentials(sandbox, smtp, WEBHOOK_SECRET, POS_SIGNING_KEY));
		const files = exampleWorkflowFiles();
		const ids = await n8n.importWorkflows(files);
		files.forEach((file, index) =>
			workflowIds.set(file.slice(examplesDir().length + 1), ids[index]),
		);
	});

	afterAll(async () => {
		await n8n?.dispose();
		await smtp?.stop();
		await sandbox?.stop();
	});

	beforeEach(() => smtp.clear());

	it('ships the four examples, using the community node type and credentials by name only', () => {
		expect([...workflowIds.keys()].sort()).toEqual(Object.values(EXAMPLE_FILES).sort());
		for (const file of workflowIds.keys()) {
			const workflow = readWorkflowFile(`${examplesDir()}/${file}`);
			const agcodNodes = workflow.nodes.filter((node) => node.type.endsWith('.amazonIncentives'));
			expect(agcodNodes.length).toBeGreaterThan(0);
			for (const node of workflow.nodes) {
				expect(node.type.startsWith('CUSTOM.')).toBe(false);
				for (const reference of Object.values((node.credentials ?? {}) as Json)) {
					// No instance-specific ids: n8n resolves the credential by name on import.
					expect(reference).toEqual({ id: null, name: expect.any(String) });
				}
			}
			for (const node of agcodNodes) {
				expect(node.type).toBe('n8n-nodes-amazon-incentives.amazonIncentives');
			}
		}
	});

	it('daily low-balance alert: quiet above the threshold, e-mails finance below it', async () => {
		const workflowId = idOf(EXAMPLE_FILES.lowBalanceAlert);
		const balance = () => sandbox.stats().balances.Awssb.amount;
		expect(balance()).toBeGreaterThanOrEqual(500);

		const quiet = await n8n.execute(workflowId);
		expectSuccess(quiet);
		expect(quiet.nodes['Balance OK'].outputs[0]).toEqual([
			expect.objectContaining({ availableFunds: { amount: balance(), currencyCode: 'USD' } }),
		]);
		expect(quiet.nodes['Send alert']).toBeUndefined();
		expect(smtp.messages()).toEqual([]);

		// Spend outside n8n until the balance is below the threshold.
		const spend = Math.round((balance() - 321.5) * 100) / 100;
		const spent = await clientFor(sandbox)('CreateGiftCard', {
			creationRequestId: 'AwssbLowBalanceSpend1',
			partnerId: 'Awssb',
			value: { currencyCode: 'USD', amount: spend },
		});
		expect(spent.httpStatus).toBe(200);
		expect(balance()).toBe(321.5);

		const alert = await n8n.execute(workflowId);
		expectSuccess(alert);
		expect(alert.nodes['Balance OK']).toBeUndefined();
		const [mail] = await smtp.waitForMessages(1);
		expect(mail.to).toEqual(['finance@example.com']);
		expect(mail.subject).toBe('Amazon Incentives balance low: 321.5 USD');
		expect(mail.text).toContain('is 321.5 USD');
		expect(mail.text).toContain('below the threshold of 500');
	});

	it('referral reward, headless: the sample referrals get one card and one e-mail each', async () => {
		const before = sandbox.stats().cardsIssued;
		const run = await n8n.execute(idOf(EXAMPLE_FILES.referralReward));
		expectSuccess(run);

		const [issued, failed] = run.nodes['Issue gift card'].outputs as Json[][];
		expect(failed ?? []).toEqual([]);
		expect(issued).toHaveLength(3);
		const mails = await smtp.waitForMessages(3);
		expect(mails.map((mail) => mail.to[0]).sort()).toEqual([
			'ada@example.com',
			'alan@example.com',
			'grace@example.com',
		]);
		for (const card of issued) {
			expect(card.requestId).toMatch(DERIVED_REQUEST_ID);
			expect(mails.filter((mail) => mail.text.includes(card.gcClaimCode as string))).toHaveLength(
				1,
			);
		}
		expect(sandbox.stats().cardsIssued).toBe(before + 3);
	});

	describe('published behind n8n start, called through their webhooks', () => {
		let server: N8nServer;

		beforeAll(async () => {
			for (const file of [
				EXAMPLE_FILES.referralReward,
				EXAMPLE_FILES.bulkIssuance,
				EXAMPLE_FILES.posActivation,
			]) {
				await n8n.publishWorkflow(idOf(file));
			}
			server = await n8n.start();
			await n8n.waitForWebhooks(Object.values(EXAMPLE_WEBHOOK_PATHS));
		});

		afterAll(async () => {
			await n8n.stop();
		});

		async function postJson(
			webhookPath: string,
			body: unknown,
			secret = WEBHOOK_SECRET,
		): Promise<{ status: number; text: string; json?: Json }> {
			const response = await fetch(`${server.url}/webhook/${webhookPath}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', [WEBHOOK_SECRET_HEADER]: secret },
				body: JSON.stringify(body),
			});
			const text = await response.text();
			let json: Json | undefined;
			try {
				json = JSON.parse(text) as Json;
			} catch {
				json = undefined;
			}
			return { status: response.status, text, json };
		}

		it('referral reward: one card per referralId, e-mailed, never in the answer or the database', async () => {
			const stats = () => sandbox.stats();
			const requestsBefore = stats().requests;

			const forbidden = await postJson(
				EXAMPLE_WEBHOOK_PATHS.referralReward,
				{ referralId: 'ref-42', email: 'sam@example.com', name: 'Sam' },
				'not-the-secret',
			);
			expect(forbidden.status).toBe(403);
			expect(stats().requests).toBe(requestsBefore);

			const cardsBefore = stats().cardsIssued;
			const first = await postJson(EXAMPLE_WEBHOOK_PATHS.referralReward, {
				referralId: 'ref-42',
				email: 'sam@example.com',
				name: 'Sam',
			});
			expect(first.status).toBe(200);
			expect(first.json).toEqual({
				status: 'sent',
				referralId: 'ref-42',
				gcId: expect.any(String),
				requestId: expect.stringMatching(DERIVED_REQUEST_ID),
			});
			expect(first.text).not.toMatch(CLAIM_CODE);
			const [mail] = await smtp.waitForMessages(1);
			expect(mail.to).toEqual(['sam@example.com']);
			expect(mail.subject).toBe('Your 10 USD Amazon gift card');
			const [claimCode] = mail.text.match(CLAIM_CODE) ?? [];
			expect(mail.text).toContain(`Hi Sam,`);
			expect(claimCode).toBeDefined();
			expect(stats().cardsIssued).toBe(cardsBefore + 1);

			// The referral system retries: same card, e-mailed again, no second payment.
			const retried = await postJson(EXAMPLE_WEBHOOK_PATHS.referralReward, {
				referralId: 'ref-42',
				email: 'sam@example.com',
				name: 'Sam',
			});
			expect(retried.json).toEqual(first.json);
			const mails = await smtp.waitForMessages(2);
			expect(mails[1].text).toContain(`Claim code: ${claimCode}`);
			expect(stats()).toMatchObject({ cardsIssued: cardsBefore + 1, doubleDebits: [] });

			// Bad requests: answered 400 in plain words before anything is sent to Amazon.
			const requestsBeforeBadCalls = stats().requests;
			const cardsBeforeBadCalls = stats().cardsIssued;
			for (const [body, error] of [
				[{ email: 'x@example.com' }, 'referralId is missing'],
				[{ referralId: 'ref-43', name: 'Kim' }, 'email is missing'],
				[{ referralId: 'ref-44', email: 'not-an-address' }, 'email is not an e-mail address'],
				[{}, 'referralId is missing; email is missing'],
			] as const) {
				const bad = await postJson(EXAMPLE_WEBHOOK_PATHS.referralReward, body);
				expect({ status: bad.status, json: bad.json }).toEqual({
					status: 400,
					json: {
						status: 'invalid-request',
						referralId: 'referralId' in body ? body.referralId : null,
						error,
					},
				});
			}
			expect(stats().requests).toBe(requestsBeforeBadCalls);
			expect(stats().cardsIssued).toBe(cardsBeforeBadCalls);
			expect(smtp.messages()).toHaveLength(2);

			// The workflow saves no execution data, so n8n never stores a claim code.
			await expectNothingStored(n8n, idOf(EXAMPLE_FILES.referralReward), [claimCode as string]);
		});

		it('bulk issuance: a bad file is refused whole; a good one gets a results CSV in file order, request ids and gcIds only; re-upload pays nothing twice', async () => {
			const upload = async (csv: string | undefined) => {
				const form = new FormData();
				if (csv === undefined) form.append('note', 'no file attached');
				else form.append('file', new Blob([csv], { type: 'text/csv' }), 'rewards.csv');
				const response = await fetch(
					`${server.url}/webhook/${EXAMPLE_WEBHOOK_PATHS.bulkIssuance}`,
					{
						method: 'POST',
						headers: { [WEBHOOK_SECRET_HEADER]: WEBHOOK_SECRET },
						body: form,
					},
				);
				return {
					status: response.status,
					type: response.headers.get('content-type'),
					text: await response.text(),
				};
			};
			const header = 'rewardId,email,name,amount';
			const requestsBefore = sandbox.stats().requests;
			const cardsBefore = sandbox.stats().cardsIssued;

			// One bad row refuses the whole file: nothing is sent, every row is reported in order.
			const refused = await upload(
				[
					header,
					'b-1,ana@example.com,Ana,25',
					'b-2,,Bo,10',
					'b-3,cy@example.com,Cy,5000',
					'b-1,di@example.com,Di,7',
					',ed@example.com,Ed,abc',
				].join('\n'),
			);
			expect(refused.status).toBe(400);
			expect(refused.type).toMatch(/^text\/csv/);
			expect(
				parseCsv(refused.text).map((row) => [row.row, row.rewardId, row.status, row.error]),
			).toEqual([
				['1', 'b-1', 'not sent', expect.stringMatching(/other rows are invalid/)],
				['2', 'b-2', 'invalid', 'email is missing'],
				['3', 'b-3', 'invalid', 'amount must be 0.01 to 2000 USD with at most 2 decimals'],
				['4', 'b-1', 'invalid', 'rewardId b-1 appears more than once'],
				[
					'5',
					'',
					'invalid',
					'rewardId is missing; amount must be 0.01 to 2000 USD with at most 2 decimals',
				],
			]);
			const noFile = await upload(undefined);
			expect(noFile.status).toBe(400);
			expect(parseCsv(noFile.text)[0].error).toBe(
				'no file: upload the spreadsheet as a CSV file in the form field "file"',
			);
			const empty = await upload(`${header}\n`);
			expect(empty.status).toBe(400);
			expect(parseCsv(empty.text)[0].error).toMatch(/the file has no rows/);
			expect(sandbox.stats().requests).toBe(requestsBefore);
			expect(smtp.messages()).toEqual([]);

			// A valid file: the row Amazon refuses (more than the account holds) stays in its place.
			const balance = sandbox.stats().balances.Awssb.amount;
			expect(balance).toBeLessThan(1999);
			const tooMuch = String(Math.floor(balance) + 1);
			const good = [
				'b-1,ana@example.com,Ana,25',
				'b-3,cy@example.com,Cy,12.5',
				'b-4,di@example.com,Di,7',
			];
			const rowsIn = [good[0], `b-2,bo@example.com,Bo,${tooMuch}`, ...good.slice(1)];
			const first = await upload(`${[header, ...rowsIn].join('\n')}\n`);
			expect(first.status).toBe(200);
			expect(first.type).toMatch(/^text\/csv/);
			const rows = parseCsv(first.text);
			expect(rows.map((row) => [row.row, row.rewardId])).toEqual([
				['1', 'b-1'],
				['2', 'b-2'],
				['3', 'b-3'],
				['4', 'b-4'],
			]);
			const byId = new Map(rows.map((row) => [row.rewardId, row]));
			for (const [rewardId, amount] of [
				['b-1', '25'],
				['b-3', '12.5'],
				['b-4', '7'],
			]) {
				expect(byId.get(rewardId)).toMatchObject({
					amount,
					currencyCode: 'USD',
					status: 'issued and e-mailed',
					requestId: expect.stringMatching(DERIVED_REQUEST_ID),
					gcId: expect.stringMatching(/^[A-Z0-9]{10,}$/),
					error: '',
				});
			}
			expect(byId.get('b-2')).toMatchObject({ status: 'not issued', gcId: '', amount: tooMuch });
			expect(byId.get('b-2')?.error).toMatch(/InsufficientFunds/);
			expect(Object.keys(rows[0])).not.toContain('gcClaimCode');

			const mails = await smtp.waitForMessages(3);
			expect(mails.map((mail) => mail.to[0]).sort()).toEqual([
				'ana@example.com',
				'cy@example.com',
				'di@example.com',
			]);
			const claimCodes = mails.flatMap((mail) => mail.text.match(CLAIM_CODE) ?? []);
			expect(claimCodes).toHaveLength(3);
			for (const code of claimCodes) expect(first.text).not.toContain(code);
			expect(sandbox.stats().cardsIssued).toBe(cardsBefore + 3);

			// The operator uploads the good rows again (say, after a timeout): the same cards come back.
			const second = await upload([header, ...good].join('\n'));
			expect(second.status).toBe(200);
			expect(
				parseCsv(second.text).map((row) => [row.rewardId, row.requestId, row.gcId, row.status]),
			).toEqual(
				['b-1', 'b-3', 'b-4'].map((id) => {
					const row = byId.get(id) as Record<string, string>;
					return [id, row.requestId, row.gcId, 'issued and e-mailed'];
				}),
			);
			expect(sandbox.stats()).toMatchObject({ cardsIssued: cardsBefore + 3, doubleDebits: [] });
			await expectNothingStored(n8n, idOf(EXAMPLE_FILES.bulkIssuance), claimCodes);
		});

		it('point of sale: signed calls only, checked first; activates once per sale, refuses an invalidated card, deactivates on refund; the signing key is never stored', async () => {
			const signed = (claims: Record<string, unknown>, lifetimeSeconds?: number) => ({
				authorization: `Bearer ${posToken(POS_SIGNING_KEY, claims, lifetimeSeconds)}`,
			});
			const post = async (webhookPath: string, body: unknown, headers: Record<string, string>) => {
				const response = await fetch(`${server.url}/webhook/${webhookPath}`, {
					method: 'POST',
					headers: { 'content-type': 'application/json', ...headers },
					body: JSON.stringify(body),
				});
				const text = await response.text();
				let json: Json | undefined;
				try {
					json = JSON.parse(text) as Json;
				} catch {
					json = undefined;
				}
				return { status: response.status, json };
			};
			const activate = (
				body: Json,
				headers: Record<string, string> = signed({ saleId: body.saleId }),
			) => post(EXAMPLE_WEBHOOK_PATHS.posActivate, body, headers);
			const deactivate = (
				body: Json,
				headers: Record<string, string> = signed({ activationRequestId: body.activationRequestId }),
			) => post(EXAMPLE_WEBHOOK_PATHS.posDeactivate, body, headers);
			const sale = {
				saleId: 'S-1001',
				cardNumber: '1400000005567586395',
				amount: 50,
				storeId: 'STORE042',
			};
			const requestsBefore = sandbox.stats().requests;

			// Unsigned, wrongly signed, expired or another sale's token: nothing reaches Amazon.
			expect((await activate(sale, {})).status).toBe(401);
			expect((await activate(sale, { [WEBHOOK_SECRET_HEADER]: WEBHOOK_SECRET })).status).toBe(401);
			const forged = `Bearer ${posToken('not-the-key', { saleId: sale.saleId })}`;
			expect((await activate(sale, { authorization: forged })).status).toBe(403);
			expect((await activate(sale, signed({ saleId: sale.saleId }, -60))).status).toBe(403);
			for (const [body, headers, error] of [
				[sale, signed({ saleId: 'S-9999' }), 'the signed token is for another sale (saleId)'],
				[
					sale,
					signed({ saleId: sale.saleId }, 2 * 3600),
					'the signed token must expire (exp) within an hour',
				],
				[
					{ ...sale, cardNumber: 1400000005567586395 },
					undefined,
					'cardNumber must be text (in quotes): as a JSON number it loses digits',
				],
				[
					{ ...sale, cardNumber: '1400-0000' },
					undefined,
					'cardNumber must be the 16 or 19 digits printed on the card',
				],
				[
					{ ...sale, amount: -5 },
					undefined,
					'amount must be a positive amount in USD with at most 2 decimals, e.g. 50 or 25.50',
				],
				[{ ...sale, storeId: '' }, undefined, 'storeId is missing'],
			] as Array<[Json, Record<string, string> | undefined, string]>) {
				const refused = await activate(body, headers);
				expect({ status: refused.status, json: refused.json }).toEqual({
					status: 400,
					json: { activated: false, saleId: body.saleId, error },
				});
			}
			expect(sandbox.stats().requests).toBe(requestsBefore);

			const activated = await activate(sale);
			expect(activated.status).toBe(200);
			expect(activated.json).toEqual({
				activated: true,
				saleId: 'S-1001',
				cardStatus: 'Activated',
				amount: 50,
				currencyCode: 'USD',
				activationRequestId: expect.stringMatching(DERIVED_REQUEST_ID),
			});
			// The till retries after a timeout: the same activation, not a second one.
			const retried = await activate(sale);
			expect(retried.json).toEqual(activated.json);
			expect(sandbox.stats().activations).toBe(1);

			const invalidated = await activate({
				...sale,
				saleId: 'S-1002',
				cardNumber: '1400000009999990001',
			});
			expect(invalidated.status).toBe(422);
			expect(invalidated.json).toMatchObject({
				activated: false,
				saleId: 'S-1002',
				retryable: false,
			});
			expect(invalidated.json?.error).toMatch(/Amazon refused ActivateGiftCard/);

			const activationRequestId = activated.json?.activationRequestId as string;
			const otherActivation = await deactivate(
				{ cardNumber: sale.cardNumber, activationRequestId },
				signed({ activationRequestId: 'AwssbSomeOtherActivation' }),
			);
			expect(otherActivation).toEqual({
				status: 400,
				json: {
					deactivated: false,
					error: 'the signed token is for another activation (activationRequestId)',
				},
			});
			const refunded = await deactivate({ cardNumber: sale.cardNumber, activationRequestId });
			expect(refunded.status).toBe(200);
			expect(refunded.json).toEqual({
				deactivated: true,
				cardStatus: 'AwaitingActivation',
				activationRequestId,
			});
			const wrongId = await deactivate({
				cardNumber: sale.cardNumber,
				activationRequestId: 'AwssbNotTheActivation1',
			});
			expect(wrongId.status).toBe(422);
			expect(wrongId.json).toMatchObject({ deactivated: false });
			expect(sandbox.stats()).toMatchObject({
				activations: 1,
				deactivations: 1,
				doubleDebits: [],
			});
			// n8n wrote each call, headers included, into its database when the run started: it holds
			// tokens for single sales, never the key that signs them; and it keeps no execution.
			await expectNothingStored(n8n, idOf(EXAMPLE_FILES.posActivation), [POS_SIGNING_KEY]);
		});
	});
});
