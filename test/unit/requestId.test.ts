import fc from 'fast-check';

import {
	MAX_REQUEST_ID_LENGTH,
	deriveRequestId,
	requestIdProblem,
} from '../../nodes/AmazonIncentives/requestId';

const PARTNER = 'Awssb';
const kinds = ['create', 'activate', 'load'] as const;

describe('deriveRequestId', () => {
	it('is the partner id plus a fixed-length base62 digest, at most 40 characters', () => {
		fc.assert(
			fc.property(
				fc.constantFrom(...kinds),
				fc.string({ unit: 'binary', maxLength: 300 }),
				fc.string({ maxLength: 50 }),
				fc.stringMatching(/^[A-Z][A-Za-z0-9]{4}$/),
				(kind, key, namespace, partnerId) => {
					const id = deriveRequestId(partnerId, kind, key, namespace);
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
			fc.property(fc.constantFrom(...kinds), fc.string(), fc.string(), (kind, key, namespace) => {
				expect(deriveRequestId(PARTNER, kind, key, namespace)).toBe(
					deriveRequestId(PARTNER, kind, key, namespace),
				);
			}),
		);
	});

	it('is stable across versions and machines (pinned values)', () => {
		// If these change, every re-run after an upgrade would issue new cards: never change them.
		expect(deriveRequestId(PARTNER, 'create', 'referral-1')).toBe(
			'AwssbcULyvUsz7aLYP9yUmTCY2VRIkttRt1N9EjX',
		);
		expect(deriveRequestId('Amzn1', 'load', '42', 'spring')).toBe(
			deriveRequestId('Amzn1', 'load', '42', 'spring'),
		);
	});

	it('separates operation kinds, namespaces and ambiguous concatenations', () => {
		const ids = new Set([
			deriveRequestId(PARTNER, 'create', 'order-1'),
			deriveRequestId(PARTNER, 'activate', 'order-1'),
			deriveRequestId(PARTNER, 'load', 'order-1'),
			deriveRequestId(PARTNER, 'create', 'order-1', 'campaign-a'),
			deriveRequestId(PARTNER, 'create', 'order-1', 'campaign-b'),
			deriveRequestId(PARTNER, 'create', '1', 'order-'),
			deriveRequestId(PARTNER, 'create', 'order-', '1'),
		]);
		expect(ids.size).toBe(7);
	});

	it('has no collisions over 10^6 distinct keys', () => {
		const seen = new Set<string>();
		for (let index = 0; index < 1_000_000; index++) {
			seen.add(deriveRequestId(PARTNER, 'create', `customer-${index}`));
		}
		expect(seen.size).toBe(1_000_000);
	});

	it('different keys give different ids (random keys)', () => {
		fc.assert(
			fc.property(fc.string(), fc.string(), (a, b) => {
				fc.pre(a !== b);
				expect(deriveRequestId(PARTNER, 'create', a)).not.toBe(
					deriveRequestId(PARTNER, 'create', b),
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
