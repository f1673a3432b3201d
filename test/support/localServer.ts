import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';

export interface LocalServer {
	/** http://127.0.0.1:<port> */
	url: string;
	/** Closes the server, kept-alive connections included. */
	stop(): Promise<void>;
}

/** Starts `server` on a free port of 127.0.0.1. */
export async function listenLocally(server: http.Server): Promise<LocalServer> {
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		stop: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

/** A port of 127.0.0.1 that was free a moment ago (the OS picked it, then it was released). */
export async function findFreePort(): Promise<number> {
	return await new Promise<number>((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

/** A local port with nothing listening (connections are refused). */
export async function closedPortUrl(): Promise<string> {
	return `http://127.0.0.1:${await findFreePort()}`;
}
