/**
 * The local AGCOD sandbox in a child process (its CLI, `test/sandbox/cli.ts --json`), so the benchmark
 * process's own `process.cpuUsage()` counts only the client. State is read and changed through the
 * sandbox's unsigned introspection endpoints (/__sandbox/stats, /requests, /reset, /config).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

import type { RecordedRequest, SandboxConfigChange, SandboxStats } from '../sandbox';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** Node flags that run a TypeScript file in the same process (no tsx CLI in between to relay signals). */
const TSX = ['--import', 'tsx'];

interface SandboxChildOptions {
	https?: boolean;
	/** Requests per second per account; undefined = no rate limit. */
	rate?: number;
	latencyMs?: number;
}

/** The connection details `cli.ts --json` prints. */
export interface SandboxDetails {
	url: string;
	region: string;
	signingRegion: string;
	partnerId: string;
	accessKeyId: string;
	secretAccessKey: string;
	/** PEM file of the self-signed certificate (https only). */
	caCertPath?: string;
}

export interface SandboxChild extends SandboxDetails {
	stats(): Promise<SandboxStats>;
	requests(): Promise<RecordedRequest[]>;
	reset(): Promise<void>;
	configure(change: SandboxConfigChange): Promise<void>;
	stop(): Promise<void>;
}

/** Starts `tsx test/sandbox/cli.ts --json` and resolves with its connection details. */
export async function startSandboxChild(options: SandboxChildOptions): Promise<SandboxChild> {
	const args = [...TSX, path.join(REPO_ROOT, 'test', 'sandbox', 'cli.ts'), '--json', '--quiet'];
	args.push('--port', '0');
	if (options.rate === undefined) args.push('--no-rate-limit');
	else args.push('--rate', String(options.rate));
	if (options.latencyMs) args.push('--latency', String(options.latencyMs));
	if (options.https) {
		const directory = mkdtempSync(path.join(tmpdir(), 'agcod-bench-'));
		args.push('--https', '--ca-cert-out', path.join(directory, 'sandbox-ca.pem'));
	}
	// The balance must cover the largest run (10,000 cards of up to 14 USD).
	args.push('--balance', '100000000');
	const child = spawn(process.execPath, args, {
		cwd: REPO_ROOT,
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	const details = await firstJsonLine(child);
	return sandboxHandle(child, details);
}

function firstJsonLine(child: ChildProcess): Promise<SandboxDetails> {
	return new Promise((resolve, reject) => {
		const lines = createInterface({ input: child.stdout! });
		const onExit = (code: number | null) =>
			reject(new Error(`the sandbox child exited (code ${code}) before printing its URL`));
		child.once('exit', onExit);
		lines.once('line', (line) => {
			child.off('exit', onExit);
			try {
				resolve(JSON.parse(line) as SandboxDetails);
			} catch {
				reject(new Error(`unexpected first line from the sandbox child: ${line.slice(0, 200)}`));
			}
		});
	});
}

function sandboxHandle(child: ChildProcess, details: SandboxDetails): SandboxChild {
	// An https sandbox is trusted through its own certificate, never by turning verification off.
	const ca = details.caCertPath ? readFileSync(details.caCertPath, 'utf8') : undefined;
	const request = details.url.startsWith('https:') ? https.request : http.request;
	const call = <T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> => {
		const payload = body === undefined ? undefined : JSON.stringify(body);
		return new Promise<T>((resolve, reject) => {
			const req = request(
				`${details.url}/__sandbox/${route}`,
				{
					method,
					headers: payload ? { 'content-type': 'application/json' } : {},
					...(ca ? { ca } : {}),
				},
				(res) => {
					const chunks: Buffer[] = [];
					res.on('data', (chunk: Buffer) => chunks.push(chunk));
					res.on('end', () => {
						const text = Buffer.concat(chunks).toString('utf8');
						if ((res.statusCode ?? 0) >= 300)
							reject(new Error(`sandbox ${route}: HTTP ${res.statusCode} ${text.slice(0, 200)}`));
						else resolve(JSON.parse(text) as T);
					});
					res.on('error', reject);
				},
			);
			req.on('error', reject);
			req.end(payload);
		});
	};
	return {
		url: details.url,
		partnerId: details.partnerId,
		accessKeyId: details.accessKeyId,
		secretAccessKey: details.secretAccessKey,
		region: details.region,
		signingRegion: details.signingRegion,
		caCertPath: details.caCertPath,
		stats: () => call<SandboxStats>('GET', 'stats'),
		requests: () => call<RecordedRequest[]>('GET', 'requests'),
		reset: async () => {
			await call('POST', 'reset');
		},
		configure: async (change) => {
			await call('POST', 'config', change);
		},
		stop: async () => {
			if (child.exitCode === null)
				await new Promise<void>((resolve) => {
					child.once('exit', () => resolve());
					child.kill('SIGTERM');
				});
			if (details.caCertPath)
				rmSync(path.dirname(details.caCertPath), { recursive: true, force: true });
		},
	};
}

/** Runs a TypeScript script in a child process and resolves with the JSON it prints last. */
export function runScriptChild<T>(
	script: string,
	args: string[],
	options: { env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {},
): Promise<T> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...TSX, script, ...args], {
			cwd: REPO_ROOT,
			stdio: ['ignore', 'pipe', 'inherit'],
			env: { ...process.env, ...options.env },
		});
		let output = '';
		child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
		child.on('error', reject);
		child.on('exit', (code) => {
			const last = output.trim().split('\n').at(-1) ?? '';
			if (code !== 0) return reject(new Error(`${path.basename(script)} exited with code ${code}`));
			try {
				resolve(JSON.parse(last) as T);
			} catch {
				reject(new Error(`${path.basename(script)} printed no JSON result: ${last.slice(0, 200)}`));
			}
		});
	});
}
