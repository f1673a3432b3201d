import type { INodeParameters } from 'n8n-workflow';

import { deriveRequestId } from '../../nodes/AmazonIncentives/requestId';
import { DEFAULT_PARTNER } from '../sandbox';
import {
	HARNESS_SCOPE,
	activateParameters,
	cancelParameters,
	createParameters,
	explicitCreateParameters,
	jsonOf,
	loadParameters,
	operationErrorOf,
	requestsWithId,
	runAgainst,
	uniqueKey,
	useSandbox,
} from './helpers';

const SECOND_PARTNER = {
	partnerId: 'Bpart',
	accessKeyId: 'AKIABPARTSANDBOX0002',
	secretAccessKey: 'second-partner/NOT-A-REAL-SECRET',
};

describe('request ids', () => {
	const sandbox = useSandbox({ partners: [DEFAULT_PARTNER, SECOND_PARTNER] });

	describe('derived from the idempotency key', () => {
		it('the same key gives the same id in every execution: the id deriveRequestId gives, sent as is', async () => {
			const key = uniqueKey('order');
			const expected = deriveRequestId('Awssb', 'create', key, HARNESS_SCOPE);
			const first = jsonOf(
				await runAgainst(sandbox(), createParameters(), [{ key, amount: 5 }]),
			)[0];
			const second = jsonOf(
				await runAgainst(sandbox(), createParameters(), [{ key, amount: 5 }]),
			)[0];
			expect([first.requestId, second.requestId]).toEqual([expected, expected]);
			expect(first.creationRequestId).toBe(expected);
			expect(requestsWithId(sandbox(), expected)).toHaveLength(2);
			expect(sandbox().stats()).toMatchObject({ cardsIssued: 1, distinctRequestIds: 1 });
		});

		it('a key given as a number and as text is the same transaction; surrounding spaces do not count', async () => {
			const number = Date.now();
			const ids = await Promise.all(
				[number, String(number), ` ${number} `].map(
					async (key) =>
						jsonOf(await runAgainst(sandbox(), createParameters(), [{ key, amount: 5 }]))[0]
							.requestId,
				),
			);
			expect(new Set(ids).size).toBe(1);
			expect(sandbox().stats().cardsIssued).toBe(1);
		});

		it('the scope changes the id: this workflow (default), a named scope, or the whole account', async () => {
			const key = uniqueKey('shared');
			const run = async (extra: INodeParameters, workflowId?: string) =>
				jsonOf(
					await runAgainst(sandbox(), createParameters(extra), [{ key, amount: 5 }], {
						workflowId,
					}),
				)[0];
			const workflow = await run({});
			const spring = await run({
				idempotencyScope: 'named',
				idempotencyScopeName: 'spring-campaign',
			});
			const autumn = await run({
				idempotencyScope: 'named',
				idempotencyScopeName: 'autumn-campaign',
			});
			const account = await run({ idempotencyScope: 'account' });
			const springElsewhere = await run(
				{ idempotencyScope: 'named', idempotencyScopeName: 'spring-campaign' },
				'another-workflow',
			);
			expect(workflow.requestId).toBe(deriveRequestId('Awssb', 'create', key, HARNESS_SCOPE));
			expect(spring.requestId).toBe(
				deriveRequestId('Awssb', 'create', key, { type: 'named', name: 'spring-campaign' }),
			);
			expect(autumn.requestId).toBe(
				deriveRequestId('Awssb', 'create', key, { type: 'named', name: 'autumn-campaign' }),
			);
			expect(account.requestId).toBe(deriveRequestId('Awssb', 'create', key, { type: 'account' }));
			expect(
				new Set([workflow.requestId, spring.requestId, autumn.requestId, account.requestId]).size,
			).toBe(4);
			// Another workflow in the same named scope shares the id: the original card, no money.
			expect(springElsewhere).toMatchObject({
				requestId: spring.requestId,
				gcId: spring.gcId,
				replay: true,
			});
			expect(sandbox().stats()).toMatchObject({ cardsIssued: 4, totalDebited: { USD: 20 } });
		});

		it('the same key for different operations gives different ids', async () => {
			const key = uniqueKey('everything');
			const card = jsonOf(await runAgainst(sandbox(), createParameters(), [{ key, amount: 5 }]))[0];
			const activation = jsonOf(
				await runAgainst(sandbox(), activateParameters(), [
					{ key, cardNumber: '1400000005567585358', amount: 5 },
				]),
			)[0];
			const load = jsonOf(
				await runAgainst(sandbox(), loadParameters(), [
					{ key, customer: 'amzn1.account.X', amount: 5 },
				]),
			)[0];
			expect(card.requestId).toBe(deriveRequestId('Awssb', 'create', key, HARNESS_SCOPE));
			expect(activation.requestId).toBe(deriveRequestId('Awssb', 'activate', key, HARNESS_SCOPE));
			expect(load.requestId).toBe(deriveRequestId('Awssb', 'load', key, HARNESS_SCOPE));
			expect(new Set([card.requestId, activation.requestId, load.requestId]).size).toBe(3);
		});

		it('ids start with the credential’s partner id: two partners with the same key get one card each', async () => {
			const key = uniqueKey('partner');
			const first = jsonOf(
				await runAgainst(sandbox(), createParameters(), [{ key, amount: 5 }]),
			)[0];
			const second = jsonOf(
				await runAgainst(sandbox(), createParameters(), [{ key, amount: 5 }], {
					credential: SECOND_PARTNER,
				}),
			)[0];
			expect(first.requestId).toMatch(/^Awssb[A-Za-z0-9]{35}$/);
			expect(second.requestId).toMatch(/^Bpart[A-Za-z0-9]{35}$/);
			expect(second.replay).toBe(false);
			expect(second.gcId).not.toBe(first.gcId);
			const { balances } = sandbox().stats();
			expect(balances.Awssb.amount).toBe(999995);
			expect(balances.Bpart.amount).toBe(999995);
		});

		it('the same key with another amount in a later execution is refused by Amazon; nothing more is debited', async () => {
			const key = uniqueKey('changed');
			await runAgainst(sandbox(), createParameters(), [{ key, amount: 5 }]);
			const result = await runAgainst(sandbox(), createParameters(), [{ key, amount: 6 }]);
			expect(result.status).toBe('error');
			expect(result.error?.message).toMatch(
				/^Item 0: Amazon refused CreateGiftCard: .*RequestIdReusedWithDifferentInput/,
			);
			expect(sandbox().stats()).toMatchObject({ cardsIssued: 1, totalDebited: { USD: 5 } });
		});

		it('a missing key fails the item before anything is sent', async () => {
			const result = await runAgainst(sandbox(), createParameters(), [{ amount: 5 }]);
			expect(operationErrorOf(result).message).toMatch(/^Item 0: invalid idempotencyKey: /);
			expect(sandbox().stats().requests).toBe(0);
		});
	});

	describe('explicit', () => {
		it('a valid id is sent exactly as given', async () => {
			const requestId = `Awssb${Date.now()}Explicit`;
			const card = jsonOf(
				await runAgainst(sandbox(), explicitCreateParameters(), [{ requestId, amount: 5 }]),
			)[0];
			expect(card).toMatchObject({ requestId, creationRequestId: requestId, status: 'SUCCESS' });
			expect(requestsWithId(sandbox(), requestId)).toHaveLength(1);
		});

		it.each([
			['Awssb-order-1', /may only contain letters and digits/],
			[`Awssb${'x'.repeat(36)}`, /is 41 characters long; Amazon allows at most 40/],
			['Zwssb12345', /must start with the partner id "Awssb"/],
			['awssb12345', /must start with the partner id "Awssb"/],
			['F99999', /must start with the partner id "Awssb"/],
			['', /must be text/],
		])('%j is refused before anything is sent', async (requestId, problem) => {
			const result = await runAgainst(sandbox(), explicitCreateParameters(), [
				{ requestId, amount: 5 },
			]);
			const error = operationErrorOf(result);
			expect(error.message).toMatch(/^Item 0: invalid requestId: /);
			expect(error.message).toMatch(problem);
			expect(sandbox().stats().requests).toBe(0);
		});

		it('ids given to cancel are validated the same way', async () => {
			const result = await runAgainst(sandbox(), cancelParameters(), [
				{ creationRequestId: 'Awssb order 1' },
			]);
			expect(operationErrorOf(result).message).toMatch(
				/^Item 0: invalid creationRequestId: .*may only contain letters and digits/,
			);
			expect(sandbox().stats().requests).toBe(0);
		});
	});
});
