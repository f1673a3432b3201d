/**
 * A tiny SMTP server that accepts every message and keeps it in memory, so the example workflows'
 * "Send e-mail" steps (n8n's Send Email node with an SMTP credential) really deliver somewhere in the
 * end-to-end tests and the demo. Plain SMTP without TLS or authentication, on 127.0.0.1 by default.
 */
import * as net from 'node:net';

export interface ReceivedMail {
	/** Envelope sender (MAIL FROM). */
	from: string;
	/** Envelope recipients (RCPT TO). */
	to: string[];
	subject: string;
	/** The text/plain body, transfer encoding removed. */
	text: string;
	/** The message as received (headers and body, dot-unstuffed). */
	raw: string;
	receivedAt: number;
}

export interface SmtpSink {
	host: string;
	port: number;
	/** Every message received so far, oldest first. */
	messages(): ReceivedMail[];
	/** Resolves once at least `count` messages have arrived in total. */
	waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
	/** Forgets the messages received so far. */
	clear(): void;
	stop(): Promise<void>;
}

interface SmtpSinkOptions {
	host?: string;
	/** 0 (default) = a free port. */
	port?: number;
	/** Called for every message as it arrives (the demo prints them). */
	onMessage?: (mail: ReceivedMail) => void;
}

function decodeQuotedPrintable(text: string): string {
	const bytes: number[] = [];
	const softBreaksRemoved = text.replace(/=\r?\n/g, '');
	for (let index = 0; index < softBreaksRemoved.length; index++) {
		const character = softBreaksRemoved[index];
		const hex = softBreaksRemoved.slice(index + 1, index + 3);
		if (character === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
			bytes.push(parseInt(hex, 16));
			index += 2;
		} else {
			bytes.push(...Buffer.from(character, 'utf8'));
		}
	}
	return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words, as mailers write non-ASCII subjects. */
function decodeHeaderWords(value: string): string {
	return value.replace(
		/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g,
		(_match, _charset: string, encoding: string, encoded: string) =>
			encoding.toUpperCase() === 'B'
				? Buffer.from(encoded, 'base64').toString('utf8')
				: decodeQuotedPrintable(encoded.replace(/_/g, ' ')),
	);
}

interface ParsedPart {
	headers: Map<string, string>;
	body: string;
}

function parsePart(raw: string): ParsedPart {
	const separator = raw.search(/\r?\n\r?\n/);
	const headerText = separator === -1 ? raw : raw.slice(0, separator);
	const body = separator === -1 ? '' : raw.slice(separator).replace(/^\r?\n\r?\n/, '');
	const headers = new Map<string, string>();
	// Folded header lines continue with whitespace.
	for (const line of headerText.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
		const colon = line.indexOf(':');
		if (colon > 0)
			headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
	}
	return { headers, body };
}

function decodeBody(part: ParsedPart): string {
	const encoding = (part.headers.get('content-transfer-encoding') ?? '').toLowerCase();
	if (encoding === 'quoted-printable') return decodeQuotedPrintable(part.body);
	if (encoding === 'base64')
		return Buffer.from(part.body.replace(/\s+/g, ''), 'base64').toString('utf8');
	return part.body;
}

/** The text/plain content of a message, looking inside multipart bodies. */
function textOf(part: ParsedPart): string {
	const contentType = part.headers.get('content-type') ?? 'text/plain';
	const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
	if (/^multipart\//i.test(contentType) && boundary) {
		const sections = part.body.split(`--${boundary}`).slice(1);
		for (const section of sections) {
			if (section.startsWith('--')) break;
			const text = textOf(parsePart(section.replace(/^\r?\n/, '')));
			if (text) return text;
		}
		return '';
	}
	if (!/^text\/plain/i.test(contentType)) return '';
	return decodeBody(part).replace(/\r\n/g, '\n').trimEnd();
}

function parseMessage(raw: string, from: string, to: string[]): ReceivedMail {
	const message = parsePart(raw);
	return {
		from,
		to,
		subject: decodeHeaderWords(message.headers.get('subject') ?? ''),
		text: textOf(message),
		raw,
		receivedAt: Date.now(),
	};
}

function addressOf(argument: string): string {
	const bracketed = /<([^>]*)>/.exec(argument);
	return (bracketed ? bracketed[1] : argument.split(/\s+/)[0]).trim();
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
	const received: ReceivedMail[] = [];
	const waiters: Array<() => void> = [];
	const sockets = new Set<net.Socket>();

	const server = net.createServer((socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => socket.destroy());
		socket.setEncoding('utf8');
		const reply = (line: string) => {
			if (!socket.destroyed) socket.write(`${line}\r\n`);
		};
		let from = '';
		let recipients: string[] = [];
		let inData = false;
		let dataLines: string[] = [];
		let pending = '';

		const handleLine = (line: string) => {
			if (inData) {
				if (line === '.') {
					inData = false;
					const mail = parseMessage(dataLines.join('\r\n'), from, recipients);
					received.push(mail);
					options.onMessage?.(mail);
					for (const wake of waiters.splice(0)) wake();
					from = '';
					recipients = [];
					dataLines = [];
					reply('250 2.0.0 Ok: queued');
				} else {
					// Dot-stuffing: a leading '.' was doubled by the client.
					dataLines.push(line.startsWith('..') ? line.slice(1) : line);
				}
				return;
			}
			const [verb, ...rest] = line.split(' ');
			const argument = rest.join(' ');
			switch (verb.toUpperCase()) {
				case 'EHLO':
					reply('250-smtp-sink');
					reply('250 8BITMIME');
					return;
				case 'HELO':
					reply('250 smtp-sink');
					return;
				case 'MAIL':
					from = addressOf(argument.replace(/^FROM:/i, ''));
					recipients = [];
					reply('250 2.1.0 Ok');
					return;
				case 'RCPT':
					recipients.push(addressOf(argument.replace(/^TO:/i, '')));
					reply('250 2.1.5 Ok');
					return;
				case 'DATA':
					if (recipients.length === 0) {
						reply('503 5.5.1 RCPT first');
						return;
					}
					inData = true;
					dataLines = [];
					reply('354 End data with <CR><LF>.<CR><LF>');
					return;
				case 'RSET':
					from = '';
					recipients = [];
					reply('250 2.0.0 Ok');
					return;
				case 'NOOP':
					reply('250 2.0.0 Ok');
					return;
				case 'QUIT':
					reply('221 2.0.0 Bye');
					socket.end();
					return;
				default:
					reply('502 5.5.2 Command not implemented');
			}
		};

		socket.on('data', (chunk: string) => {
			pending += chunk;
			let newline = pending.indexOf('\n');
			while (newline !== -1) {
				handleLine(pending.slice(0, newline).replace(/\r$/, ''));
				pending = pending.slice(newline + 1);
				newline = pending.indexOf('\n');
			}
		});
		reply('220 smtp-sink ESMTP ready');
	});

	const host = options.host ?? '127.0.0.1';
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 0, host, () => {
			server.off('error', reject);
			resolve();
		});
	});
	const { port } = server.address() as net.AddressInfo;

	return {
		host,
		port,
		messages: () => [...received],
		async waitForMessages(count, timeoutMs = 30_000) {
			const deadline = Date.now() + timeoutMs;
			while (received.length < count) {
				const remaining = deadline - Date.now();
				if (remaining <= 0) {
					throw new Error(
						`expected ${count} e-mail(s) within ${timeoutMs} ms, received ${received.length}`,
					);
				}
				await new Promise<void>((resolve) => {
					const timer = setTimeout(resolve, remaining);
					waiters.push(() => {
						clearTimeout(timer);
						resolve();
					});
				});
			}
			return [...received];
		},
		clear: () => {
			received.length = 0;
		},
		stop: async () => {
			for (const socket of sockets) socket.destroy();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
