import { ensureN8n, N8N_LINES, parseLine } from './cache';

/**
 * Installs the project's n8n line (its Node and n8n) into the cache once, before any suite of that
 * jest project starts an instance.
 */
export default async function globalSetup(
	_globalConfig: unknown,
	projectConfig: { globals?: Record<string, unknown> },
): Promise<void> {
	const startedAt = Date.now();
	const configured = projectConfig.globals?.AGCOD_E2E_N8N_LINE;
	const line = parseLine(
		typeof configured === 'string' ? configured : process.env.AGCOD_E2E_N8N_LINE,
	);
	const n8nBin = await ensureN8n(line);
	process.stderr.write(
		`\n[n8n-e2e] n8n ${N8N_LINES[line].n8nVersion} ready (${((Date.now() - startedAt) / 1000).toFixed(1)} s): ${n8nBin}\n`,
	);
}
