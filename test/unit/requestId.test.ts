import fc from 'fast-check';

import {
	MAX_REQUEST_ID_LENGTH,
	type RequestIdScope,
	deriveRequestId,
	requestIdProblem,
} from '../../nodes/AmazonIncentives/requestId';

const PARTNER = 'Awssb';
const kinds = ['create', 'activate', 'load'] as const;
const WORKFLOW: RequestIdScope = { type: 'workflow', workflowId: 'wf-1' };

const scopes = fc.oneof(
	fc
		.string({ maxLength: 30 })
		.map((workflowId): RequestIdScope => ({ type: 'workflow', workflowId })),
	fc.string({ maxLength: 50 }).map((name): RequestIdScope => ({ type: 'named', name })),
	fc.constant<RequestIdScope>({ type: 'account' }),
);

describe('deriveRequestId', () => {
	it('is the partner id plus a fixed-length base62 digest, at most 40 characters', () => {
		fc.assert(
			fc.property(
				fc.constantFrom(...kinds),
				fc.string({ unit: 'binary', maxLength: 300 }),
				scopes,
				fc.stringMatching(/^[A-Z][A-Za-z0-9]{4}$/),
				(kind, key, scope, partnerId) => {
					const id = deriveRequestId(partnerId, kind, key, scope);
					expect(id).toHaveLength(MAX_REQUEST_ID_LENGTH);
					expect(id.startsWith(partnerId)).toBe(true);
					expect(id).toMatch(/^[A-Za-z0-9]+$/);
					expect(requestIdProblem(id, partnerId, false)).toBeUndefined();
				},
			),
			{ numRuns: 2000 },
		);
	});

	it('is deterministic: the same inputs always give the same id', () => {
		fc.assert(
			fc.property(fc.constantFrom(...kinds), fc.string(), scopes, (kind, key, scope) => {
				expect(deriveRequestId(PARTNER, kind, key, scope)).toBe(
					deriveRequestId(PARTNER, kind, key, { ...scope }),
				);
			}),
		);
	});

	it('is stable across versions and machines (pinned values)', () => {
		// If these change, every re-run after an upgrade would issue new cards: never change them once released.
		expect(deriveRequestId(PARTNER, 'create', 'referral-1', WORKFLOW)).toBe(
			'AwssbldCtlNQIlJuEFeD6dQREAlV69eNya45pmfz',
		);
		expect(
			deriveRequestId(PARTNER, 'create', 'referral-1', { type: 'named', name: 'spring' }),
		).toBe('AwssbZraWran2Cp1mlNGRkgz6yixeZlQDqBEvjgY');
		expect(deriveRequestId(PARTNER, 'create', 'referral-1', { type: 'account' })).toBe(
			'AwssbrsNiMFQt7Q12ZB4JY3BiyV5dOTRyZls0ZGL',
		);
	});

	it('separates operation kinds, scopes and ambiguous concatenations', () => {
		const ids = new Set([
			deriveRequestId(PARTNER, 'create', 'order-1', WORKFLOW),
			deriveRequestId(PARTNER, 'activate', 'order-1', WORKFLOW),
			deriveRequestId(PARTNER, 'load', 'order-1', WORKFLOW),
			deriveRequestId(PARTNER, 'create', 'order-1', { type: 'workflow', workflowId: 'wf-2' }),
			deriveRequestId(PARTNER, 'create', 'order-1', { type: 'named', name: 'campaign-a' }),
			deriveRequestId(PARTNER, 'create', 'order-1', { type: 'named', name: 'campaign-b' }),
			// A named scope never meets a workflow scope of the same text, nor the account scope.
			deriveRequestId(PARTNER, 'create', 'order-1', { type: 'named', name: 'wf-1' }),
			deriveRequestId(PARTNER, 'create', 'order-1', { type: 'named', name: '' }),
			deriveRequestId(PARTNER, 'create', 'order-1', { type: 'account' }),
			deriveRequestId(PARTNER, 'create', '1', { type: 'named', name: 'order-' }),
			deriveRequestId(PARTNER, 'create', 'order-', { type: 'named', name: '1' }),
		]);
		expect(ids.size).toBe(11);
	});

	it('treats keys and scope names that differ only in Unicode normalisation as the same (NFC)', () => {
		const composed = 'Jos\u00e9'; // é as one code point
		const decomposed = 'Jose\u0301'; // e + combining acute accent
		expect(composed).not.toBe(decomposed);
		expect(deriveRequestId(PARTNER, 'create', composed, WORKFLOW)).toBe(
			deriveRequestId(PARTNER, 'create', decomposed, WORKFLOW),
		);
		expect(deriveRequestId(PARTNER, 'create', 'k', { type: 'named', name: composed })).toBe(
			deriveRequestId(PARTNER, 'create', 'k', { type: 'named', name: decomposed }),
		);
		// Compatibility forms are not folded: NFC, not NFKC ("ﬁ" stays apart from "fi").
		expect(deriveRequestId(PARTNER, 'create', '\ufb01', WORKFLOW)).not.toBe(
			deriveRequestId(PARTNER, 'create', 'fi', WORKFLOW),
		);
	});

	it('has no collisions over 10^6 distinct keys', () => {
		const seen = new Set<string>();
		for (let index = 0; index < 1_000_000; index++) {
			seen.add(deriveRequestId(PARTNER, 'create', `customer-${index}`, WORKFLOW));
		}
		expect(seen.size).toBe(1_000_000);
	});

	it('different keys give different ids (random keys)', () => {
		fc.assert(
			fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
				fc.pre(a.normalize('NFC') !== b.normalize('NFC'));
				expect(deriveRequestId(PARTNER, 'create', a, WORKFLOW)).not.toBe(
					deriveRequestId(PARTNER, 'create', b, WORKFLOW),
				);
			}),
			{ numRuns: 5000 },
		);
	});
});

describe('requestIdProblem', () => {
	it.each([
		['Awssb123', undefined],
		['AwssbX'.padEnd(40, '0'), undefined],
		['AwssbX'.padEnd(41, '0'), 'is 41 characters long; Amazon allows at most 40'],
		['Other123', 'must start with the partner id "Awssb"'],
		['awssb123', 'must start with the partner id "Awssb"'],
		['Awssb-123', 'may only contain letters and digits (A-Z, a-z, 0-9)'],
		['Awssb 123', 'may only contain letters and digits (A-Z, a-z, 0-9)'],
		['Awssbé', 'may only contain letters and digits (A-Z, a-z, 0-9)'],
		['', 'is empty'],
	])('%j → %j', (id, expected) => {
		expect(requestIdProblem(id, PARTNER, true)).toBe(expected);
	});

	it('accepts sandbox mock ids only outside production', () => {
		expect(requestIdProblem('F3003', PARTNER, true)).toBeUndefined();
		expect(requestIdProblem('F3003', PARTNER, false)).toBe(
			'must start with the partner id "Awssb"',
		);
		expect(requestIdProblem('F30031', PARTNER, true)).toBe(
			'must start with the partner id "Awssb"',
		);
	});
});
