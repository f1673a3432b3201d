/**
 * Real-n8n end-to-end suites (`npm run test:e2e`, run in band), one jest project per supported n8n
 * line (test/e2e/cache.ts N8N_LINES). Each project's globalSetup installs its Node and n8n into the
 * cache outside the repository once (a fresh machine pays a few minutes, a warm cache nothing);
 * every suite then runs its own isolated n8n instance of that line.
 *
 * One line only: `npm run test:e2e -- --selectProjects "n8n 1.x"` (or "n8n 2.x").
 */
const path = require('node:path');

const project = {
	// Absolute: jest resolves a project's relative rootDir against the process's working directory.
	rootDir: path.resolve(__dirname, '..', '..'),
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e'],
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/e2e/tsconfig.json' }],
	},
	globalSetup: '<rootDir>/test/e2e/globalSetup.ts',
};

/** Suites that prove the package on a line: the scenario workflows, the examples, the n8n-side features. */
// (Not outputSchemas: n8n 1.123.81 answers /schemas/… with 404 for every node, its own included.)
const perLineSuites = [
	'amazonIncentives.e2e.test.ts',
	'examples.e2e.test.ts',
	'n8nSide.e2e.test.ts',
	'spendingLimits.e2e.test.ts',
];

module.exports = {
	projects: [
		{
			...project,
			displayName: 'n8n 2.x',
			// The machinery (infrastructure, demo, output parsing) is tested once, on the default line.
			testMatch: ['**/*.e2e.test.ts'],
			globals: { AGCOD_E2E_N8N_LINE: '2.x' },
		},
		{
			...project,
			displayName: 'n8n 1.x',
			testMatch: perLineSuites.map((suite) => `**/${suite}`),
			globals: { AGCOD_E2E_N8N_LINE: '1.x' },
		},
	],
	// Each n8n CLI call starts a full n8n (3–6 s); a suite makes several.
	testTimeout: 5 * 60 * 1000,
	slowTestThreshold: 60,
};
