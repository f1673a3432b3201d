/**
 * Command line for the n8n cache, for bash (`.ci/run`) and humans:
 *   npx tsx test/e2e/cacheCli.ts node <major>   installs Node <major> if needed, prints its binary path
 *   npx tsx test/e2e/cacheCli.ts n8n [line]     installs that line's Node and n8n if needed (default
 *                                               2.x; 1.x for n8n 1.123), prints the n8n CLI path
 *   npx tsx test/e2e/cacheCli.ts lines          prints the lines, their n8n versions and Node majors
 *   npx tsx test/e2e/cacheCli.ts dir            prints the cache directory
 *   npx tsx test/e2e/cacheCli.ts info           prints what is installed and how big it is
 * Progress goes to stderr, so `$(…)` captures only the path.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

import {
	cacheDir,
	ensureN8n,
	ensureNode,
	N8N_LINES,
	n8nInstallDir,
	nodeDir,
	parseLine,
	readMarker,
} from './cache';

function diskUsage(directory: string): string {
	if (!fs.existsSync(directory)) return 'absent';
	const result = spawnSync('du', ['-sh', directory], { encoding: 'utf8' });
	return result.status === 0 ? result.stdout.split('\t')[0] : 'unknown size';
}

function installed(directory: string): string {
	return JSON.stringify(readMarker(directory) ?? 'not installed');
}

async function main(command: string | undefined, argument: string | undefined): Promise<void> {
	switch (command) {
		case 'node': {
			const major = Number(argument);
			if (!Number.isInteger(major) || major < 18)
				throw new Error('usage: cacheCli.ts node <major>, e.g. node 24');
			process.stdout.write(`${await ensureNode(major)}\n`);
			return;
		}
		case 'node24':
			process.stdout.write(`${await ensureNode(24)}\n`);
			return;
		case 'n8n':
			process.stdout.write(`${await ensureN8n(parseLine(argument))}\n`);
			return;
		case 'lines':
			for (const spec of Object.values(N8N_LINES))
				process.stdout.write(`${spec.line} ${spec.n8nVersion} node${spec.nodeMajor}\n`);
			return;
		case 'dir':
			process.stdout.write(`${cacheDir()}\n`);
			return;
		case 'info': {
			const majors = [...new Set(Object.values(N8N_LINES).map((spec) => spec.nodeMajor))];
			const lines = [`cache: ${cacheDir()}`];
			for (const major of majors)
				lines.push(`node${major}: ${diskUsage(nodeDir(major))} ${installed(nodeDir(major))}`);
			for (const spec of Object.values(N8N_LINES)) {
				const directory = n8nInstallDir(spec.line);
				lines.push(
					`n8n ${spec.n8nVersion} (${spec.line}): ${diskUsage(directory)} ${installed(directory)}`,
				);
			}
			process.stdout.write(lines.join('\n') + '\n');
			return;
		}
		default:
			process.stderr.write(
				'usage: tsx test/e2e/cacheCli.ts node <major>|n8n [line]|lines|dir|info\n',
			);
			process.exitCode = 2;
	}
}

main(process.argv[2], process.argv[3]).catch((error: unknown) => {
	process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
	process.exitCode = 1;
});
