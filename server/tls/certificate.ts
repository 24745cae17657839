// The server's TLS identity: a self-signed certificate created on first start
// and kept in the data directory, so its fingerprint (what clients pin on
// first use) stays the same across restarts.

import {X509Certificate, createPrivateKey} from 'node:crypto';
import {chmod, mkdir, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {generate} from 'selfsigned';
import {fingerprintOf} from '../../source/protocol/fingerprint.js';
import {writeFileAtomically} from '../../source/util/atomic-write.js';

export const CERTIFICATE_FILE = 'tls-cert.pem';
export const KEY_FILE = 'tls-key.pem';
const VALIDITY_YEARS = 10;

export interface ServerCertificate {
	cert: string;
	key: string;
	fingerprint: string;
	/** True when this call generated the pair. */
	created: boolean;
}

async function readIfExists(path: string): Promise<string | undefined> {
	try {
		return await readFile(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
}

async function createCertificate(): Promise<{cert: string; key: string}> {
	const notBeforeDate = new Date(Date.now() - 60_000); // tolerate a little client clock skew
	const notAfterDate = new Date(notBeforeDate);
	notAfterDate.setFullYear(notAfterDate.getFullYear() + VALIDITY_YEARS);
	const pems = await generate([{name: 'commonName', value: 'parley'}], {
		keyType: 'ec',
		curve: 'P-256',
		algorithm: 'sha256',
		notBeforeDate,
		notAfterDate,
		extensions: [
			{name: 'basicConstraints', cA: false},
			{name: 'keyUsage', digitalSignature: true, critical: true},
			{name: 'extKeyUsage', serverAuth: true},
			{
				name: 'subjectAltName',
				altNames: [
					{type: 2, value: 'localhost'},
					{type: 7, ip: '127.0.0.1'},
					{type: 7, ip: '::1'},
				],
			},
		],
	});
	return {cert: pems.cert, key: pems.private};
}

export async function loadOrCreateCertificate(dataDir: string): Promise<ServerCertificate> {
	await mkdir(dataDir, {recursive: true, mode: 0o700});
	const certPath = join(dataDir, CERTIFICATE_FILE);
	const keyPath = join(dataDir, KEY_FILE);
	const [cert, key] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);

	if (cert !== undefined && key !== undefined) {
		const x509 = new X509Certificate(cert);
		if (!x509.checkPrivateKey(createPrivateKey(key)))
			throw new Error(`${keyPath} does not belong to ${certPath}`);
		await chmod(keyPath, 0o600); // repair permissions loosened by a copy or backup restore
		return {cert, key, fingerprint: fingerprintOf(x509), created: false};
	}
	// A certificate without its key means the identity was damaged: replacing it
	// silently would make every client see a changed fingerprint with no explanation.
	if (cert !== undefined)
		throw new Error(
			`${certPath} exists but ${keyPath} is missing; restore the key or delete both to make a new identity`,
		);

	// Key first: a crash in between leaves a key with no certificate, which is safe to replace.
	const created = await createCertificate();
	await writeFileAtomically(keyPath, created.key, {mode: 0o600, forceMode: true});
	await writeFileAtomically(certPath, created.cert, {mode: 0o600, forceMode: true});
	return {...created, fingerprint: fingerprintOf(created.cert), created: true};
}
