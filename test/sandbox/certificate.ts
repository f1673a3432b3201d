/**
 * A self-signed X.509 certificate (ECDSA P-256, SHA-256) built with node:crypto alone: a few lines
 * of DER instead of a dependency or an `openssl` binary that a fresh CI machine may lack.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

interface SelfSignedCertificate {
	certPem: string;
	keyPem: string;
}

function length(n: number): Buffer {
	if (n < 0x80) return Buffer.from([n]);
	const bytes: number[] = [];
	for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
	return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
	return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const explicit = (tagNumber: number, content: Buffer) => tlv(0xa0 + tagNumber, content);
const octetString = (content: Buffer) => tlv(0x04, content);
const bitString = (content: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), content]));
const utf8String = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const booleanTrue = () => tlv(0x01, Buffer.from([0xff]));

function integer(value: Buffer | number): Buffer {
	let bytes = typeof value === 'number' ? Buffer.from([value]) : value;
	while (bytes.length > 1 && bytes[0] === 0 && (bytes[1] & 0x80) === 0) bytes = bytes.subarray(1);
	if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
	return tlv(0x02, bytes);
}

function objectIdentifier(dotted: string): Buffer {
	const arcs = dotted.split('.').map(Number);
	const out: number[] = [40 * arcs[0] + arcs[1]];
	for (const arc of arcs.slice(2)) {
		const chunk: number[] = [arc & 0x7f];
		for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) {
			chunk.unshift((rest & 0x7f) | 0x80);
		}
		out.push(...chunk);
	}
	return tlv(0x06, Buffer.from(out));
}

function time(date: Date): Buffer {
	const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
	// UTCTime until 2049, GeneralizedTime after (RFC 5280 §4.1.2.5).
	return date.getUTCFullYear() < 2050
		? tlv(0x17, Buffer.from(iso.slice(2)))
		: tlv(0x18, Buffer.from(iso));
}

function ipv4Bytes(ip: string): Buffer {
	return Buffer.from(ip.split('.').map(Number));
}

function ipv6Bytes(ip: string): Buffer {
	const [head, tail = ''] = ip.split('::');
	const headParts = head ? head.split(':') : [];
	const tailParts = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
	const missing = 8 - headParts.length - tailParts.length;
	const groups = [...headParts, ...Array<string>(Math.max(0, missing)).fill('0'), ...tailParts];
	const out = Buffer.alloc(16);
	groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16) || 0, i * 2));
	return out;
}

/** A certificate for `hostnames` (DNS names and IP addresses), valid from a day ago for `days` days. */
export function createSelfSignedCertificate(
	hostnames: string[],
	days = 30,
	commonName = 'AGCOD local sandbox',
): SelfSignedCertificate {
	const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
	const ecdsaWithSha256 = sequence(objectIdentifier('1.2.840.10045.4.3.2'));
	const name = sequence(set(sequence(objectIdentifier('2.5.4.3'), utf8String(commonName))));
	const now = Date.now();
	const validity = sequence(
		time(new Date(now - 24 * 3600 * 1000)),
		time(new Date(now + days * 24 * 3600 * 1000)),
	);
	const serial = randomBytes(16);
	serial[0] &= 0x7f;

	const altNames: Buffer[] = [];
	for (const host of new Set(hostnames)) {
		const family = isIP(host);
		if (family === 4) altNames.push(tlv(0x87, ipv4Bytes(host)));
		else if (family === 6) altNames.push(tlv(0x87, ipv6Bytes(host)));
		else altNames.push(tlv(0x82, Buffer.from(host, 'ascii')));
	}
	const extensions = explicit(
		3,
		sequence(
			// basicConstraints CA:TRUE, so the certificate can be its own trust anchor (`ca:` option).
			sequence(objectIdentifier('2.5.29.19'), booleanTrue(), octetString(sequence(booleanTrue()))),
			sequence(objectIdentifier('2.5.29.17'), octetString(sequence(...altNames))),
		),
	);
	const tbsCertificate = sequence(
		explicit(0, integer(2)),
		integer(serial),
		ecdsaWithSha256,
		name,
		validity,
		name,
		publicKey.export({ type: 'spki', format: 'der' }),
		extensions,
	);
	const signature = sign('sha256', tbsCertificate, privateKey);
	const certificate = sequence(tbsCertificate, ecdsaWithSha256, bitString(signature));
	const base64 = certificate.toString('base64').replace(/(.{64})/g, '$1\n');
	return {
		certPem: `-----BEGIN CERTIFICATE-----\n${base64.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
		keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
	};
}
