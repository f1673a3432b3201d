import { DEFAULT_PARTNER } from '../sandbox';
import {
	apiErrorOf,
	jsonOf,
	loadParameters,
	operationErrorOf,
	runAgainst,
	startRecordingProxy,
	uniqueKey,
	useSandbox,
	voidParameters,
} from './helpers';

const CUSTOMER = 'amzn1.account.AF2EXAMPLECUSTOMER';

describe('Amazon balance (Login & Receive) against the local sandbox, through n8n-core', () => {
	const sandbox = useSandbox();

	it('loads a balance, with the derived request id and Amazon transaction id in the output', async () => {
		const result = await runAgainst(sandbox(), loadParameters(), [
			{ key: uniqueKey('reward'), customer: CUSTOMER, amount: 12.5 },
		]);
		expect(result.status).toBe('success');
		const load = jsonOf(result)[0];
		expect(load).toMatchObject({
			status: 'SUCCESS',
			amount: { currencyCode: 'USD', value: 12.5 },
			replay: false,
			attempts: 1,
		});
		expect(load.loadBalanceRequestId).toMatch(/^Awssb[A-Za-z0-9]{35}$/);
		expect(load.requestId).toBe(load.loadBalanceRequestId);
		expect(load.amazonTransactionId).toEqual(expect.any(String));
		expect(sandbox().stats()).toMatchObject({ balanceLoads: 1, totalDebited: { USD: 12.5 } });
	});

	it('the same key loads once, across items and executions', async () => {
		const item = { key: uniqueKey('reward'), customer: CUSTOMER, amount: 3 };
		const [a, b] = jsonOf(await runAgainst(sandbox(), loadParameters(), [item, item]));
		const [c] = jsonOf(await runAgainst(sandbox(), loadParameters(), [item]));
		expect(
			new Set([a.loadBalanceRequestId, b.loadBalanceRequestId, c.loadBalanceRequestId]).size,
		).toBe(1);
		expect(b.amazonTransactionId).toBe(a.amazonTransactionId);
		expect(c.amazonTransactionId).toBe(a.amazonTransactionId);
		expect([a.replay, b.replay, c.replay]).toEqual([false, true, true]);
		expect(sandbox().stats()).toMatchObject({
			balanceLoads: 1,
			debits: 1,
			totalDebited: { USD: 3 },
		});
	});

	it('voids a load with its request id, amount and account, refunding it once', async () => {
		const load = jsonOf(
			await runAgainst(sandbox(), loadParameters(), [
				{ key: uniqueKey('reward'), customer: CUSTOMER, amount: 20 },
			]),
		)[0];
		const voidItem = { ...load, customer: CUSTOMER };
		const voided = jsonOf(await runAgainst(sandbox(), voidParameters(), [voidItem]))[0];
		expect(voided).toMatchObject({
			status: 'SUCCESS',
			loadBalanceRequestId: load.loadBalanceRequestId,
			requestId: load.loadBalanceRequestId,
			amount: { currencyCode: 'USD', value: 20 },
		});
		const again = jsonOf(await runAgainst(sandbox(), voidParameters(), [voidItem]))[0];
		expect(again.amazonTransactionId).toBe(voided.amazonTransactionId);
		expect(sandbox().stats()).toMatchObject({
			balanceLoads: 1,
			balanceVoids: 1,
			totalDebited: { USD: 20 },
			totalRefunded: { USD: 20 },
		});
	});

	it('a void with another amount than the load is refused and refunds nothing', async () => {
		const load = jsonOf(
			await runAgainst(sandbox(), loadParameters(), [
				{ key: uniqueKey('reward'), customer: CUSTOMER, amount: 20 },
			]),
		)[0];
		const result = await runAgainst(sandbox(), voidParameters(), [
			{ loadBalanceRequestId: load.loadBalanceRequestId, customer: CUSTOMER, amount: 19 },
		]);
		const error = apiErrorOf(result);
		expect(error.message).toContain('VoidDoesNotMatchLoad');
		expect(error.message).toMatch(/^Item 0: Amazon refused VoidAmazonBalanceLoad/);
		expect(sandbox().stats()).toMatchObject({ balanceVoids: 0, totalRefunded: {} });
	});

	it('a void of a load that never happened is refused', async () => {
		const result = await runAgainst(sandbox(), voidParameters(), [
			{ loadBalanceRequestId: 'AwssbNoSuchLoad', customer: CUSTOMER, amount: 5 },
		]);
		expect(apiErrorOf(result).message).toContain('InvalidLoadBalanceRequestId');
	});

	it('puts the optional Login & Receive fields and extra body fields on the wire', async () => {
		const proxy = await startRecordingProxy(sandbox());
		try {
			const result = await runAgainst(
				sandbox(),
				loadParameters({
					additionalFields: {
						accountType: '3',
						externalReference: 'campaign-9',
						notificationMessage: 'Thanks for your referral!',
						sendEmailNotification: true,
						transactionSourceId: 'web',
						extraBodyFields: '{"marketplaceId":"ATVPDKIKX0DER"}',
					},
				}),
				[{ key: uniqueKey('reward'), customer: CUSTOMER, amount: 7 }],
				{ credential: { endpoint: proxy.url } },
			);
			expect(jsonOf(result)[0]).toMatchObject({ status: 'SUCCESS' });
			expect(proxy.captured).toHaveLength(1);
			expect(proxy.captured[0].path).toBe('/LoadAmazonBalance');
			expect(JSON.parse(proxy.captured[0].body)).toEqual({
				marketplaceId: 'ATVPDKIKX0DER',
				loadBalanceRequestId: jsonOf(result)[0].loadBalanceRequestId,
				partnerId: 'Awssb',
				amount: { currencyCode: 'USD', value: 7 },
				account: { id: CUSTOMER, type: '3' },
				transactionSource: { sourceId: 'web' },
				externalReference: 'campaign-9',
				sendEmailNotification: true,
				notificationDetails: { notificationMessage: 'Thanks for your referral!' },
			});
		} finally {
			await proxy.stop();
		}
	});

	it('the account type defaults to "2" (a Login with Amazon id)', async () => {
		const proxy = await startRecordingProxy(sandbox());
		try {
			await runAgainst(
				sandbox(),
				loadParameters(),
				[{ key: uniqueKey('r'), customer: CUSTOMER, amount: 1 }],
				{
					credential: { endpoint: proxy.url },
				},
			);
			expect(JSON.parse(proxy.captured[0].body).account).toEqual({ id: CUSTOMER, type: '2' });
		} finally {
			await proxy.stop();
		}
	});

	it('extra body fields may not override the fields the node owns; nothing is sent', async () => {
		const result = await runAgainst(
			sandbox(),
			loadParameters({ additionalFields: { extraBodyFields: '{"amount":{"value":1000}}' } }),
			[{ key: uniqueKey('r'), customer: CUSTOMER, amount: 1 }],
		);
		expect(operationErrorOf(result).message).toMatch(
			/^Item 0: invalid extraBodyFields: .*"amount"/,
		);
		expect(sandbox().stats().requests).toBe(0);
	});

	it('a customer id with spaces is refused before sending', async () => {
		const result = await runAgainst(sandbox(), loadParameters(), [
			{ key: uniqueKey('r'), customer: 'not an id', amount: 1 },
		]);
		expect(operationErrorOf(result).message).toMatch(/^Item 0: invalid amazonCustomerId/);
		expect(sandbox().stats().requests).toBe(0);
	});
});

describe('Amazon balance with an almost empty account', () => {
	const sandbox = useSandbox({ partners: [{ ...DEFAULT_PARTNER, startingBalance: 10 }] });

	it('a load beyond the funds fails with InsufficientFunds and the funds hint; nothing moves', async () => {
		const result = await runAgainst(sandbox(), loadParameters(), [
			{ key: uniqueKey('big'), customer: CUSTOMER, amount: 11 },
		]);
		const error = apiErrorOf(result);
		expect(error.message).toContain('InsufficientFunds');
		expect(error.description).toMatch(/^Fund your Amazon Incentives account/);
		expect(sandbox().stats()).toMatchObject({ balanceLoads: 0, debits: 0 });
	});
});
