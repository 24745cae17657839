// The TCP room without TLS: only behind an explicit flag on both ends, loudly
// announced, and refused by a client that was not told to expect it. The wire
// check here is the counterpart of tcp-room.test.ts's: there the proxy sees
// nothing readable; here it must see the chat, or that test proves nothing.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import type {AccountStore} from '../../server/store/account-store.js';
import {RoomError} from '../../source/client/types.js';
import {sqliteBackend, type Backend} from '../store/backends.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {startTcpProxy} from '../helpers/tcp-proxy.js';
import {ServeProcess, freePort} from '../helpers/tcp-serve-process.js';

describe('TCP room in plaintext mode', () => {
	let source: Backend;
	let store: AccountStore;
	let room: TcpFixture;
	const log: string[] = [];

	before(async () => {
		source = await sqliteBackend();
		store = await source.open();
		room = await tcpFixture(store, {tls: undefined, log: (line) => log.push(line)});
		await room.addUser('erin', 'erin password');
	});
	after(async () => {
		await room.close();
		await store.close();
		await source.cleanup();
	});

	it('says so when it starts', () => {
		assert.match(log.join('\n'), /listening on 127\.0\.0\.1:\d+ \(PLAINTEXT — insecure\)/);
	});

	it('is what `parley serve --insecure-plaintext` runs, with a warning; without the flag it is TLS', async (t) => {
		const dataDir = `${room.dir}/serve`;
		const plain = await ServeProcess.start({
			tcpPort: await freePort(),
			dataDir,
			extraArgs: ['--insecure-plaintext'],
		});
		t.after(() => plain.stop());
		assert.match(plain.log, /WARNING: the TCP room runs WITHOUT TLS/);
		assert.match(plain.log, /PLAINTEXT — insecure/);
		await plain.stop();
		const secure = await ServeProcess.start({tcpPort: await freePort(), dataDir});
		t.after(() => secure.stop());
		assert.match(secure.log, /\(TLS 1\.3\)/);
		assert.doesNotMatch(secure.log, /WARNING|PLAINTEXT/);
	});

	it('is refused, with a clear reason, by a client expecting TLS', async () => {
		const tlsClient = room.client({insecurePlaintext: false});
		const error = await tlsClient.client.connect('erin', 'erin password').catch((e: unknown) => e);
		assert.ok(error instanceof RoomError, `expected a RoomError, got ${String(error)}`);
		assert.equal(error.code, 'network');
		assert.match(error.message, /does not speak TLS/);
		assert.doesNotMatch(error.message, /SSL routines/);
		assert.equal(tlsClient.client.state, 'closed');
	});

	it('lets an explicitly plaintext client log in and chat, readable on the wire but for the password', async (t) => {
		const proxy = await startTcpProxy(room.server.port);
		t.after(() => proxy.close());
		const erin = room.client({port: proxy.port, insecurePlaintext: true});
		await erin.client.connect('erin', 'erin password');
		assert.match(
			erin.events
				.of('notice')
				.map((n) => n.text)
				.join('\n'),
			/WARNING: .*without TLS/,
		);
		erin.client.say('the eagle lands at midnight');
		await erin.events.waitFor('message', (m) => m.text === 'the eagle lands at midnight');
		await erin.client.close();
		const wire = proxy.bytes().toString('latin1');
		assert.ok(wire.includes('the eagle lands at midnight'), 'the proxy reads the chat');
		assert.ok(wire.includes('"SCRAM-SHA-256"'), 'the login is SCRAM without channel binding');
		assert.ok(!wire.includes('erin password'), 'SCRAM still keeps the password off the wire');
	});
});
