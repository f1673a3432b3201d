import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

// Self-hosted community package: aws4 and fast-xml-parser ship as runtime dependencies on purpose,
// so only that one rule is turned off; every other community-node rule stays on.
export default [
	...configWithoutCloudSupport,
	{
		ignores: ['test/**', 'node_modules/**', 'dist/**', 'gulpfile.js', 'index.js', 'jest.config.js'],
	},
	{
		rules: {
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
		},
	},
];
