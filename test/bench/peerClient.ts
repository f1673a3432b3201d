/**
 * Peer baseline, run as a child process: the npm package `amazon-incentives-api` (the most-used existing
 * AGCOD client) issuing the benchmark's items, sequentially or all at once with Promise.all. It has no
 * retries and no rate limiting; throttles and failures are counted, not hidden.
 *
 * The package hard-codes `https://<host>`, so the parent starts the sandbox in HTTPS mode and runs this
 * script with NODE_EXTRA_CA_CERTS=<the sandbox's certificate>; TLS verification stays on. The package is
 * used exactly as published (it sends `x-amz-target: …AGCODService./CreateGiftCard`, which the sandbox
 * accepts, since the package evidently works against Amazon).
 *
 * Usage: tsx test/bench/peerClient.ts '<json PeerRunRequest>'  → prints one JSON PeerRunResult line.
 */
import { IncentivesAPI } from 'amazon-incentives-api';

import { deriveRequestId } from '../../nodes/AmazonIncentives/requestId';
import { CURRENCY, benchItems } from './items';

export interface PeerRunRequest {
	url: string;
	partnerId: string;
	accessKeyId: string;
	secretAccessKey: string;
	signingRegion: string;
	mode: 'sequential' | 'promiseAll';
	count: number;
}

export interface PeerRunResult {
	mode: PeerRunRequest['mode'];
	items: number;
	succeeded: number;
	throttled: number;
	otherFailures: number;
	/** First few distinct failure messages (never bodies with claim codes). */
	failureSamples: string[];
	wallMs: number;
	cpuMicros: number;
}

type Outcome = { kind: 'success' } | { kind: 'throttled' } | { kind: 'failure'; message: string };

function classify(error: unknown): Outcome {
	const response = (error as { response?: { status?: number; data?: unknown } }).response;
	const data = response?.data as
		{ __type?: string; message?: string; errorType?: string } | undefined;
	const text = JSON.stringify(data ?? '');
	if (/ThrottlingException|Rate exceeded/.test(text)) return { kind: 'throttled' };
	const reason = data?.errorType ?? data?.message ?? (error as Error).message;
	return {
		kind: 'failure',
		message: `HTTP ${response?.status ?? '-'}: ${String(reason).slice(0, 160)}`,
	};
}

async function main(): Promise<void> {
	const request = JSON.parse(process.argv[2]) as PeerRunRequest;
	const url = new URL(request.url);
	const client = new IncentivesAPI({
		partnerId: request.partnerId,
		accessKeyId: request.accessKeyId,
		secretAccessKey: request.secretAccessKey,
		endpoint: new IncentivesAPI.Endpoint(url.host, request.signingRegion),
	});
	const items = benchItems(request.count);
	const issue = async (index: number): Promise<Outcome> => {
		const { key, amount } = items[index];
		try {
			const card = await client.createGiftCard({
				creationRequestId: deriveRequestId(request.partnerId, 'create', key, {
					type: 'named',
					name: 'bench-peer',
				}),
				currencyCode: CURRENCY,
				amount,
			});
			return card.status === 'SUCCESS'
				? { kind: 'success' }
				: { kind: 'failure', message: `status ${card.status}` };
		} catch (error) {
			return classify(error);
		}
	};

	const cpuBefore = process.cpuUsage();
	const startedAt = performance.now();
	let outcomes: Outcome[];
	if (request.mode === 'sequential') {
		outcomes = [];
		for (let index = 0; index < items.length; index++) outcomes.push(await issue(index));
	} else {
		outcomes = await Promise.all(items.map((_, index) => issue(index)));
	}
	const wallMs = performance.now() - startedAt;
	const cpu = process.cpuUsage(cpuBefore);

	const failures = outcomes.filter((outcome) => outcome.kind === 'failure');
	const result: PeerRunResult = {
		mode: request.mode,
		items: items.length,
		succeeded: outcomes.filter((outcome) => outcome.kind === 'success').length,
		throttled: outcomes.filter((outcome) => outcome.kind === 'throttled').length,
		otherFailures: failures.length,
		failureSamples: [...new Set(failures.map((failure) => failure.message))].slice(0, 3),
		wallMs,
		cpuMicros: cpu.user + cpu.system,
	};
	process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: Error) => {
	process.stderr.write(`peer client: ${error.message}\n`);
	process.exit(1);
});
