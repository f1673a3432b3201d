/**
 * Malformed answers: HTML, truncated JSON, foreign XML, SUCCESS without the fields that make it one, a
 * SUCCESS for another request id, oversized bodies. Each must give the item a clear error: never a crash,
 * never a false success.
 */
import { type IDataObject, NodeApiError } from 'n8n-workflow';

import { deriveRequestId } from '../../nodes/AmazonIncentives/requestId';
import {
	HARNESS_SCOPE,
	createParameters,
	itemError,
	jsonOf,
	runAgainst,
	useSandbox,
} from '../integration/helpers';
import {
	type BrokenAnswer,
	type BrokenServer,
	type ReceivedRequest,
	startBrokenServer,
} from './brokenServer';

const OPTIONS = { maxRetries: 1, timeout: 2000, retryBudget: 10, requestsPerSecond: 100 };
const ERROR_OUTPUT = { settings: { onError: 'continueErrorOutput' as const } };
let keyCounter = 0;
const freshKey = () => `malformed-${process.pid}-${++keyCounter}`;

const json = (body: unknown, httpStatus = 200): BrokenAnswer => ({
	httpStatus,
	contentType: 'application/json',
	body: JSON.stringify(body),
});
const xml = (body: string, httpStatus = 200): BrokenAnswer => ({
	httpStatus,
	contentType: 'application/xml',
	body,
});
/** A well-formed success for the request, minus or plus what the case changes. */
function successFor(request: ReceivedRequest, change: IDataObject = {}): IDataObject {
	const body: IDataObject = {
		cardInfo: {
			cardNumber: null,
			cardStatus: 'Fulfilled',
			expirationDate: null,
			value: { amount: 10, currencyCode: 'USD' },
		},
		creationRequestId: request.json?.creationRequestId as string | undefined,
		gcClaimCode: 'ABCD-EFGHIJ-KLMN',
		gcExpirationDate: null,
		gcId: 'A1B2C3D4E5F6',
		status: 'SUCCESS',
		...change,
	};
	for (const [key, value] of Object.entries(change)) if (value === undefined) delete body[key];
	return body;
}

interface Case {
	what: string;
	answer: (request: ReceivedRequest) => BrokenAnswer;
	message: RegExp;
	/** Re-sent with the identical request (true) or final at once (false). */
	retryable: boolean;
}

const ENTITY_BOMB = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<CreateGiftCardResponse><status>&lol9;</status></CreateGiftCardResponse>`;

const CASES: Case[] = [
	{
		what: 'an HTML page with HTTP 200',
		answer: () => ({
			httpStatus: 200,
			contentType: 'text/html',
			body: '<html><body>Welcome</body></html>',
		}),
		message: /HTTP 200 with a body that is neither AGCOD JSON nor XML \(incomplete answer\)/,
		retryable: true,
	},
	{
		what: 'an empty body with HTTP 200',
		answer: () => ({ httpStatus: 200, body: '' }),
		message: /HTTP 200 with an empty body/,
		retryable: true,
	},
	{
		what: 'a JSON array',
		answer: () => json([{ status: 'SUCCESS' }]),
		message: /neither AGCOD JSON nor XML/,
		retryable: true,
	},
	{
		what: 'JSON null',
		answer: () => json(null),
		message: /neither AGCOD JSON nor XML/,
		retryable: true,
	},
	{
		what: 'JSON cut off mid-object',
		answer: (request) => ({
			httpStatus: 200,
			body: JSON.stringify(successFor(request)).slice(0, 60),
		}),
		message: /neither AGCOD JSON nor XML \(incomplete answer\)/,
		retryable: true,
	},
	{
		what: 'XML of some other service',
		answer: () => xml('<?xml version="1.0"?><Envelope><Body><ok>1</ok></Body></Envelope>'),
		message: /HTTP 200 answer without a status field/,
		retryable: true,
	},
	{
		what: 'an XML SUCCESS without gcId and claim code',
		answer: (request) =>
			xml(
				`<CreateGiftCardResponse><status>SUCCESS</status><creationRequestId>${String(request.json?.creationRequestId ?? '')}</creationRequestId></CreateGiftCardResponse>`,
			),
		message:
			/SUCCESS answer without gcId, gcClaimCode, cardInfo\.cardStatus; not trusted as a success/,
		retryable: true,
	},
	{
		what: 'a JSON SUCCESS without a claim code',
		answer: (request) => json(successFor(request, { gcClaimCode: undefined })),
		message: /SUCCESS answer without gcClaimCode; not trusted as a success/,
		retryable: true,
	},
	{
		what: 'a JSON SUCCESS with an empty claim code',
		answer: (request) => json(successFor(request, { gcClaimCode: '   ' })),
		message: /SUCCESS answer without gcClaimCode/,
		retryable: true,
	},
	{
		what: 'a JSON SUCCESS without the request id',
		answer: (request) => json(successFor(request, { creationRequestId: undefined })),
		message: /SUCCESS answer without creationRequestId/,
		retryable: true,
	},
	{
		what: 'a SUCCESS for another request id',
		answer: (request) => json(successFor(request, { creationRequestId: 'AwssbSomebodyElse0001' })),
		message:
			/SUCCESS answer for a different request id \(AwssbSomebodyElse0001\); not trusted as a success/,
		retryable: true,
	},
	{
		what: 'a status nobody defined',
		answer: (request) => json(successFor(request, { status: 'MAYBE' })),
		message: /HTTP 200 answer with an unknown status "MAYBE"/,
		retryable: true,
	},
	{
		what: 'an answer over 1 MB',
		answer: (request) => json(successFor(request, { padding: 'x'.repeat(1024 * 1024 + 10) })),
		message: /answer larger than 1 MB, discarded/,
		retryable: true,
	},
	{
		what: 'an XML entity bomb',
		// The parser leaves DOCTYPE entities unexpanded: no bomb, just a status nobody defined.
		answer: () => xml(ENTITY_BOMB),
		message: /HTTP 200 answer with an unknown status "&lol9;"/,
		retryable: true,
	},
	{
		what: 'an HTML 404',
		answer: () => ({ httpStatus: 404, contentType: 'text/html', body: '<html>Not Found</html>' }),
		message:
			/could not process CreateGiftCard: HTTP 404 with a body that is neither AGCOD JSON nor XML/,
		retryable: false,
	},
];

describe('malformed answers from a deliberately broken endpoint', () => {
	const sandbox = useSandbox();
	let broken: BrokenServer;
	beforeAll(async () => {
		broken = await startBrokenServer();
	});
	afterAll(() => broken.stop());

	it.each(CASES.map((entry) => [entry.what, entry] as const))('%s', async (_what, entry) => {
		broken.answerWith(entry.answer);
		const key = freshKey();
		const requestId = deriveRequestId('Awssb', 'create', key, HARNESS_SCOPE);
		const parameters = createParameters({ options: OPTIONS });
		const credential = { endpoint: broken.url };

		const receivedBefore = broken.received.length;
		const startedAt = Date.now();
		const result = await runAgainst(sandbox(), parameters, [{ key, amount: 10 }], {
			...ERROR_OUTPUT,
			credential,
		});
		expect(Date.now() - startedAt).toBeLessThan(8000);
		expect(result.status).toBe('success');
		expect(result.main).toEqual([]);
		expect(result.errorOutput).toHaveLength(1);
		const [item] = result.errorOutput;
		expect(itemError(item.json).message).toMatch(/^Item 0: /);
		expect(itemError(item.json).message).toMatch(entry.message);
		expect(item.json).not.toHaveProperty('gcClaimCode');
		expect(itemError(item.json)).toMatchObject({ requestId, retryable: entry.retryable });

		// The same request, byte for byte, on every attempt.
		const attempts = broken.received.slice(receivedBefore);
		expect(attempts).toHaveLength(entry.retryable ? OPTIONS.maxRetries + 1 : 1);
		expect(new Set(attempts.map((attempt) => attempt.body)).size).toBe(1);

		// Without Continue On Fail it is the same clear NodeApiError, thrown.
		const stopped = await runAgainst(sandbox(), parameters, [{ key, amount: 10 }], { credential });
		expect(stopped.status).toBe('error');
		expect(stopped.error).toBeInstanceOf(NodeApiError);
		expect(stopped.error?.message).toMatch(entry.message);
	});
});

describe('malformed answers from the sandbox (fault injection)', () => {
	const sandbox = useSandbox();

	it('an HTML 500 is retried and ends as a retryable error; nothing was committed', async () => {
		sandbox().configure({ faults: { html500Rate: 1 } });
		const result = await runAgainst(
			sandbox(),
			createParameters({ options: OPTIONS }),
			[{ key: freshKey(), amount: 10 }],
			ERROR_OUTPUT,
		);
		expect(result.main).toEqual([]);
		expect(itemError(result.errorOutput[0].json).message).toMatch(
			/^Item 0: outcome unknown: Amazon's answers to CreateGiftCard do not prove whether it was carried out \(after 2 attempt\(s\); last: HTTP 500 with a body that is neither AGCOD JSON nor XML\)\. Safe to retry with the same ID\.$/,
		);
		expect(sandbox().stats()).toMatchObject({
			faultsInjected: { html500: 2 },
			cardsIssued: 0,
			debits: 0,
		});
	});

	it('truncated JSON is never taken as a success; the committed card comes back on the re-run, once', async () => {
		const key = freshKey();
		sandbox().configure({ faults: { truncatedJsonRate: 1 } });
		const parameters = createParameters({ options: OPTIONS });
		const first = await runAgainst(sandbox(), parameters, [{ key, amount: 10 }], ERROR_OUTPUT);
		expect(first.main).toEqual([]);
		expect(itemError(first.errorOutput[0].json).message).toMatch(
			/HTTP 200 with a body that is neither AGCOD JSON nor XML \(incomplete answer\)\)\. Safe to retry with the same ID\.$/,
		);
		// The sandbox committed the card on the first attempt and replayed it on the second.
		expect(sandbox().stats()).toMatchObject({
			cardsIssued: 1,
			debits: 1,
			faultsInjected: { truncated: 2 },
		});

		sandbox().configure({ faults: {} });
		const second = await runAgainst(sandbox(), parameters, [{ key, amount: 10 }], ERROR_OUTPUT);
		expect(jsonOf(second)[0]).toMatchObject({
			status: 'SUCCESS',
			creationRequestId: deriveRequestId('Awssb', 'create', key, HARNESS_SCOPE),
		});
		expect(sandbox().stats()).toMatchObject({ cardsIssued: 1, debits: 1, doubleDebits: [] });
	});
});
