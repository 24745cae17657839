import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {once} from 'node:events';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {connect, createServer, type TLSSocket} from 'node:tls';
import {test} from 'node:test';
import {
	deriveVerifier,
	ScramClient,
	ScramServer,
	tlsExporterChannelBinding,
} from '../../source/protocol/scram.js';
import {loadOrCreateCertificate} from '../../server/tls/certificate.js';
import {fingerprintOf} from '../../source/protocol/fingerprint.js';

test('SCRAM-SHA-256-PLUS binds to a real TLS 1.3 connection made with the generated certificate', async () => {
	const dir = await mkdtemp(join(tmpdir(), 'parley-tls-'));
	const {cert, key, fingerprint} = await loadOrCreateCertificate(dir);
	const server = createServer({cert, key, minVersion: 'TLSv1.3'});
	const accepted = once(server, 'secureConnection') as Promise<[TLSSocket]>;
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const address = server.address();
	assert.ok(address !== null && typeof address === 'object');
	// Trust on first use: no CA check here, the fingerprint is what gets pinned.
	const client = connect({
		host: '127.0.0.1',
		port: address.port,
		rejectUnauthorized: false,
		minVersion: 'TLSv1.3',
	});
	try {
		await once(client, 'secureConnect');
		const [serverSide] = await accepted;
		const peer = client.getPeerX509Certificate();
		assert.ok(peer !== undefined);
		assert.equal(fingerprintOf(peer), fingerprint);

		const clientBinding = tlsExporterChannelBinding(client);
		const serverBinding = tlsExporterChannelBinding(serverSide);
		assert.deepEqual(clientBinding, serverBinding);
		assert.equal(clientBinding.length, 32);

		const scramClient = new ScramClient({username: 'alice', password: 'pw', channelBinding: clientBinding});
		const credential = await deriveVerifier('pw');
		const scramServer = new ScramServer({
			lookup: async (name) => (name === 'alice' ? credential : undefined),
			serverSecret: Buffer.alloc(32, 7),
			channelBinding: serverBinding,
			requireChannelBinding: true,
		});
		const outcome = await scramServer.final(
			await scramClient.final(await scramServer.first(scramClient.first())),
		);
		assert.equal(outcome.ok, true);
		scramClient.verifyServer(outcome.serverFinal);
		serverSide.destroy();
	} finally {
		client.destroy();
		server.close();
		await rm(dir, {recursive: true, force: true});
	}
});
