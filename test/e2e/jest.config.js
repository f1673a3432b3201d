/**
 * Real-n8n end-to-end suites (`npm run test:e2e`, run in band). globalSetup installs Node 24 and
 * n8n into the cache outside the repository once (a fresh machine pays a few minutes, a warm cache
 * nothing); every suite then runs its own isolated n8n instance.
 */
module.exports = {
	rootDir: '../..',
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e'],
	testMatch: ['**/*.e2e.test.ts'],
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/e2e/tsconfig.json' }],
	},
	globalSetup: '<rootDir>/test/e2e/globalSetup.ts',
	// Each n8n CLI call starts a full n8n (3–6 s); a suite makes several.
	testTimeout: 5 * 60 * 1000,
	slowTestThreshold: 60,
};
