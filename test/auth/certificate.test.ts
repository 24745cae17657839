import assert from 'node:assert/strict';
import {X509Certificate} from 'node:crypto';
import {mkdtemp, rm, stat, unlink} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, test} from 'node:test';
import {CERTIFICATE_FILE, KEY_FILE, loadOrCreateCertificate} from '../../server/tls/certificate.js';
import {fingerprintOf} from '../../source/protocol/fingerprint.js';

describe('server certificate', () => {
	let dir: string;
	before(async () => {
		dir = await mkdtemp(join(tmpdir(), 'parley-cert-'));
	});
	after(async () => {
		await rm(dir, {recursive: true, force: true});
	});

	test('is created once with private files, then reused with a stable fingerprint', async () => {
		const data = join(dir, 'data');
		const first = await loadOrCreateCertificate(data);
		assert.equal(first.created, true);
		assert.match(first.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
		assert.equal((await stat(join(data, KEY_FILE))).mode & 0o777, 0o600);
		assert.equal((await stat(join(data, CERTIFICATE_FILE))).mode & 0o777, 0o600);

		const x509 = new X509Certificate(first.cert);
		assert.match(x509.subject, /CN=parley/);
		assert.match(x509.subjectAltName ?? '', /DNS:localhost/);
		assert.match(x509.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
		assert.match(x509.subjectAltName ?? '', /IP Address:0:0:0:0:0:0:0:1|IP Address:::1/);
		assert.equal(x509.publicKey.asymmetricKeyType, 'ec');

		const second = await loadOrCreateCertificate(data);
		assert.equal(second.created, false);
		assert.equal(second.cert, first.cert);
		assert.equal(second.fingerprint, first.fingerprint);
		assert.equal(fingerprintOf(first.cert), first.fingerprint);
		assert.equal(fingerprintOf(x509.raw), first.fingerprint);
	});

	test('a certificate whose key went missing is not silently replaced', async () => {
		const data = join(dir, 'broken');
		await loadOrCreateCertificate(data);
		await unlink(join(data, KEY_FILE));
		await assert.rejects(loadOrCreateCertificate(data), /missing/);
	});

	test('a key left without its certificate (crash mid-write) is replaced', async () => {
		const data = join(dir, 'half');
		const first = await loadOrCreateCertificate(data);
		await unlink(join(data, CERTIFICATE_FILE));
		const second = await loadOrCreateCertificate(data);
		assert.equal(second.created, true);
		assert.notEqual(second.fingerprint, first.fingerprint);
	});
});
