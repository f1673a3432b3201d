import { ensureN8n, ensureNode24 } from './cache';

/** Installs Node 24 and n8n into the cache once, before any suite starts an instance. */
export default async function globalSetup(): Promise<void> {
	const startedAt = Date.now();
	await ensureNode24();
	const n8nBin = await ensureN8n();
	process.stderr.write(
		`\n[n8n-e2e] n8n ready (${((Date.now() - startedAt) / 1000).toFixed(1)} s): ${n8nBin}\n`,
	);
}
