/**
 * The local AGCOD sandbox: a real HTTP(S) server speaking the Amazon Incentives API (SigV4-checked,
 * stateful per partner, rate-limited, with fault injection and introspection) for the node's tests,
 * the benchmarks, the fault suites, the end-to-end tests, the demo and users. See ./README.md.
 */
export * from './config';
export { startSandbox, SIGNING_SERVICE, TARGET_PREFIX } from './server';
export { OPERATIONS, MOCK_IDS, type Operation } from './engine';
export { SIGNING_REGION, REGION_CURRENCIES, AMOUNT_RANGES } from './currencies';
