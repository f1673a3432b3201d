/**
 * Packs this repository and installs the tarball the way n8n's community-package installer does
 * (CommunityPackagesService.downloadPackage in n8n/dist/modules/community-packages; the same steps
 * and npm flags in 2.40.7 and 1.123.81):
 *   1. `npm pack <name>@<version>` into `<N8N_USER_FOLDER>/.n8n/nodes` (here: `npm pack` of the repo),
 *   2. `tar -xzf <tarball> -C nodes/node_modules/<name> --strip-components=1`,
 *   3. drop devDependencies, peerDependencies and optionalDependencies from its package.json,
 *   4. `npm install --audit=false --fund=false --bin-links=false --install-strategy=shallow
 *      --ignore-scripts=true --package-lock=false` inside the package directory,
 *   5. record `dependencies[name] = version` in `nodes/package.json`.
 * At startup n8n loads every `n8n-nodes-*` directory under `nodes/node_modules`
 * (CommunityPackagesModule.nodeLoaders → scanDirectoryForPackages); no database record is needed
 * for the node types to load.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { captureOutput, childProcessEnv } from './cache';

export const PACKAGE_NAME = 'n8n-nodes-amazon-incentives';

/** Flags n8n (2.40.7, 1.123.81) passes to `npm install` inside the unpacked package directory. */
const N8N_INSTALLER_NPM_INSTALL_FLAGS = [
	'--audit=false',
	'--fund=false',
	'--bin-links=false',
	'--install-strategy=shallow',
	'--ignore-scripts=true',
	'--package-lock=false',
];

export function repositoryRoot(): string {
	return path.resolve(__dirname, '..', '..');
}

interface RepositoryPackageJson {
	name: string;
	version: string;
	n8n?: { nodes?: string[]; credentials?: string[] };
	[key: string]: unknown;
}

export function readRepositoryPackageJson(): RepositoryPackageJson {
	return JSON.parse(
		fs.readFileSync(path.join(repositoryRoot(), 'package.json'), 'utf8'),
	) as RepositoryPackageJson;
}

/** Throws a clear message when `npm run build` has not produced the files package.json lists. */
export function assertPackageBuilt(): void {
	const { n8n } = readRepositoryPackageJson();
	const listed = [...(n8n?.nodes ?? []), ...(n8n?.credentials ?? [])];
	const missing = listed.filter((file) => !fs.existsSync(path.join(repositoryRoot(), file)));
	if (listed.length === 0 || missing.length > 0) {
		throw new Error(
			`The package is not built (missing: ${missing.join(', ') || 'n8n section'}). Run \`npm run build\` first.`,
		);
	}
}

/** `npm pack` of the repository into `destinationDir`; returns the tarball path. */
export async function packRepository(destinationDir: string): Promise<string> {
	assertPackageBuilt();
	fs.mkdirSync(destinationDir, { recursive: true });
	const output = await captureOutput(
		'npm',
		['pack', '--json', '--pack-destination', destinationDir],
		{ cwd: repositoryRoot() },
	);
	// npm prints notices before the JSON array on some versions; the array starts at the first '['.
	const packed = JSON.parse(output.slice(output.indexOf('['))) as Array<{ filename: string }>;
	const tarball = path.join(destinationDir, packed[0].filename);
	if (!fs.existsSync(tarball))
		throw new Error(`npm pack reported ${tarball}, which does not exist`);
	return tarball;
}

async function run(command: string, args: string[], cwd: string): Promise<void> {
	await new Promise<void>((resolve, reject) => {
		const child = spawn(command, args, {
			cwd,
			env: childProcessEnv(),
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let output = '';
		child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
		child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
		child.on('error', reject);
		child.on('close', (code) => {
			if (code === 0) resolve();
			else {
				const tail = output.trim().split('\n').slice(-20).join('\n');
				reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${code}:\n${tail}`));
			}
		});
	});
}

export interface InstalledCommunityPackage {
	name: string;
	version: string;
	/** `<nodes dir>/node_modules/<name>` */
	directory: string;
}

/**
 * Installs `tarball` into n8n's community-package folder `nodesDir` (`<N8N_USER_FOLDER>/.n8n/nodes`)
 * exactly like n8n's installer does after it has downloaded the tarball.
 */
export async function installTarballLikeN8n(
	nodesDir: string,
	tarball: string,
): Promise<InstalledCommunityPackage> {
	const ledgerPath = path.join(nodesDir, 'package.json');
	fs.mkdirSync(nodesDir, { recursive: true });
	if (!fs.existsSync(ledgerPath)) {
		// What CommunityPackagesService.ensurePackageJson writes on a fresh instance.
		fs.writeFileSync(
			ledgerPath,
			JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2),
		);
	}

	const stagingDir = fs.mkdtempSync(path.join(nodesDir, '.unpack-'));
	try {
		await run('tar', ['-xzf', tarball, '-C', stagingDir, '--strip-components=1'], nodesDir);
		const stagedManifest = JSON.parse(
			fs.readFileSync(path.join(stagingDir, 'package.json'), 'utf8'),
		) as RepositoryPackageJson;
		const directory = path.join(nodesDir, 'node_modules', stagedManifest.name);
		fs.rmSync(directory, { recursive: true, force: true });
		fs.mkdirSync(path.dirname(directory), { recursive: true });
		fs.renameSync(stagingDir, directory);

		const manifest = { ...stagedManifest };
		for (const key of ['devDependencies', 'peerDependencies', 'optionalDependencies']) {
			delete manifest[key];
		}
		fs.writeFileSync(
			path.join(directory, 'package.json'),
			JSON.stringify(manifest, null, 2),
			'utf8',
		);

		const registry = process.env.N8N_COMMUNITY_PACKAGES_REGISTRY;
		// n8n adds --registry=<N8N_COMMUNITY_PACKAGES_REGISTRY> (default registry.npmjs.org); without an
		// explicit setting the machine's npm registry is kept, which is the same registry by default.
		const registryArgs = registry ? [`--registry=${registry.replace(/\/+$/, '')}`] : [];
		await run('npm', ['install', ...N8N_INSTALLER_NPM_INSTALL_FLAGS, ...registryArgs], directory);

		const ledger = JSON.parse(fs.readFileSync(ledgerPath, 'utf8')) as {
			dependencies?: Record<string, string>;
		};
		ledger.dependencies = { ...ledger.dependencies, [manifest.name]: manifest.version };
		fs.writeFileSync(ledgerPath, JSON.stringify(ledger, null, 2), 'utf8');

		return { name: manifest.name, version: manifest.version, directory };
	} finally {
		fs.rmSync(stagingDir, { recursive: true, force: true });
	}
}
