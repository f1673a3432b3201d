/**
 * A deliberately broken AGCOD endpoint: a real HTTP server that answers every request with whatever body
 * the test chooses (HTML, foreign XML, SUCCESS without the fields that make it one…). It checks no
 * signature; it exists to feed the node answers Amazon's endpoint should never give.
 */
import * as http from 'node:http';

import { listenLocally } from '../support/localServer';

export interface BrokenAnswer {
	httpStatus: number;
	contentType?: string;
	body: string | Buffer;
}

export interface ReceivedRequest {
	path: string;
	body: string;
	/** The JSON body when it parses, else undefined. */
	json?: Record<string, unknown>;
}

export interface BrokenServer {
	url: string;
	received: ReceivedRequest[];
	/** Sets how the next requests are answered. */
	answerWith(answer: (request: ReceivedRequest) => BrokenAnswer): void;
	stop(): Promise<void>;
}

export async function startBrokenServer(): Promise<BrokenServer> {
	const received: ReceivedRequest[] = [];
	let answer: (request: ReceivedRequest) => BrokenAnswer = () => ({ httpStatus: 500, body: '' });
	const server = http.createServer((incoming, outgoing) => {
		const chunks: Buffer[] = [];
		incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
		incoming.on('end', () => {
			const body = Buffer.concat(chunks).toString('utf8');
			let json: Record<string, unknown> | undefined;
			try {
				json = JSON.parse(body) as Record<string, unknown>;
			} catch {
				json = undefined;
			}
			const request = { path: incoming.url ?? '', body, json };
			received.push(request);
			const { httpStatus, contentType, body: responseBody } = answer(request);
			outgoing.writeHead(httpStatus, {
				'content-type': contentType ?? 'application/json',
				'content-length': Buffer.byteLength(responseBody),
			});
			outgoing.end(responseBody);
		});
	});
	const { url, stop } = await listenLocally(server);
	return {
		url,
		received,
		answerWith(next) {
			answer = next;
		},
		stop,
	};
}
