import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';
import tseslint from 'typescript-eslint';

// n8n's community-node rules are for the package's own code: node-cli applies its blocks to every .ts file,
// so they are narrowed here to nodes/ and credentials/.
const PACKAGE_CODE = ['nodes/**/*.ts', 'credentials/**/*.ts'];
const communityNodeConfig = configWithoutCloudSupport.map((block) =>
	block.files?.length === 1 && block.files[0] === '**/*.ts'
		? { ...block, files: PACKAGE_CODE }
		: block,
);

export default [
	{
		ignores: ['node_modules/**', 'dist/**', 'gulpfile.js', 'index.js', 'jest.config.js'],
	},
	...communityNodeConfig,
	// Self-hosted community package: aws4, fast-xml-parser and the proxy libraries n8n itself uses ship as
	// runtime dependencies on purpose, so only that one rule is turned off; every other rule stays on.
	{
		files: [...PACKAGE_CODE, 'package.json'],
		rules: {
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
		},
	},
	// Tests, the sandbox, the bench and the demo: TypeScript's recommended rules.
	...tseslint.config({
		files: ['test/**/*.ts'],
		extends: [tseslint.configs.recommended],
		rules: {
			// `const { field: _omitted, ...rest } = value` is how the tests drop a field.
			'@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
		},
	}),
];
