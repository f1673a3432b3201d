/**
 * Command line for the n8n cache, for bash (`.ci/run`) and humans:
 *   npx tsx test/e2e/cacheCli.ts node24   installs Node 24 if needed, prints the node binary path
 *   npx tsx test/e2e/cacheCli.ts n8n      installs Node 24 and n8n if needed, prints the n8n CLI path
 *   npx tsx test/e2e/cacheCli.ts dir      prints the cache directory
 *   npx tsx test/e2e/cacheCli.ts info     prints what is installed and how big it is
 * Progress goes to stderr, so `$(…)` captures only the path.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

import {
	cacheDir,
	ensureN8n,
	ensureNode24,
	n8nInstallDir,
	N8N_VERSION,
	node24Dir,
	readMarker,
} from './cache';

function diskUsage(directory: string): string {
	if (!fs.existsSync(directory)) return 'absent';
	const result = spawnSync('du', ['-sh', directory], { encoding: 'utf8' });
	return result.status === 0 ? result.stdout.split('\t')[0] : 'unknown size';
}

async function main(command: string | undefined): Promise<void> {
	switch (command) {
		case 'node24':
			process.stdout.write(`${await ensureNode24()}\n`);
			return;
		case 'n8n':
			process.stdout.write(`${await ensureN8n()}\n`);
			return;
		case 'dir':
			process.stdout.write(`${cacheDir()}\n`);
			return;
		case 'info':
			process.stdout.write(
				[
					`cache: ${cacheDir()}`,
					`node24: ${diskUsage(node24Dir())} ${JSON.stringify(readMarker(node24Dir()) ?? 'not installed')}`,
					`n8n ${N8N_VERSION}: ${diskUsage(n8nInstallDir())} ${JSON.stringify(readMarker(n8nInstallDir()) ?? 'not installed')}`,
				].join('\n') + '\n',
			);
			return;
		default:
			process.stderr.write('usage: tsx test/e2e/cacheCli.ts node24|n8n|dir|info\n');
			process.exitCode = 2;
	}
}

main(process.argv[2]).catch((error: unknown) => {
	process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
	process.exitCode = 1;
});
