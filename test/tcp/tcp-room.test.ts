// The TCP authenticated room over real TLS sockets, against node:sqlite and
// the real MariaDB: login, chat, throttling, certificate pinning, the wire.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import {LoginThrottle} from '../../server/auth/login-throttle.js';
import type {AccountStore} from '../../server/store/account-store.js';
import {RoomError} from '../../source/client/types.js';
import {FrameDecoder, encodeFrame} from '../../source/protocol/framing.js';
import {mysqlBackend, reportUnreachable, sqliteBackend, uniqueName, type Backend} from '../store/backends.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {startTcpProxy} from '../helpers/tcp-proxy.js';
import {waitFor} from '../helpers/wait.js';

const rejectsWith = (code: string) => (error: unknown) => error instanceof RoomError && error.code === code;

function roomSuite(label: string, backend: () => Promise<Backend>) {
	describe(`TCP room on ${label}`, () => {
		let source: Backend;
		let store: AccountStore;
		let room: TcpFixture;
		const alice = uniqueName('alice');
		const bob = uniqueName('bob');
		const carol = uniqueName('carol');

		before(async () => {
			source = await backend();
			store = await source.open();
			room = await tcpFixture(store, {roomName: uniqueName('room'), allowRegister: true});
			await room.addUser(alice, 'alice password');
			await room.addUser(bob, 'bob password');
			await room.addUser(carol, 'carol password');
		});
		after(async () => {
			await room.close();
			await store.close();
			await source.cleanup();
		});

		it('logs in over TLS and chats between several clients', async () => {
			const a = await room.login(alice, 'alice password');
			const b = await room.login(bob, 'bob password');
			const c = await room.login(carol, 'carol password');
			await a.client.say('hello from alice'); // acknowledged first: two clients' sends have no order of their own
			b.client.say('hi from bob');
			c.client.direct(alice, 'psst');
			for (const r of [a.events, b.events, c.events])
				await waitFor(() => r.texts().length >= 2 || undefined, {what: 'both messages'});
			assert.deepEqual(b.events.texts(), ['hello from alice', 'hi from bob']);
			assert.deepEqual(c.events.texts(), b.events.texts());
			const dm = await a.events.waitFor('direct');
			assert.equal(dm.from, carol);
			assert.equal(b.events.of('direct').length, 0);
			assert.deepEqual([...a.client.members].sort(), [alice, bob, carol].sort());
			assert.match(
				a.events
					.of('notice')
					.map((n) => n.text)
					.join('\n'),
				/TLS 1\.3, server certificate SHA256:/,
			);
			await Promise.all([a.client.close(), b.client.close(), c.client.close()]);
		});

		it('refuses a wrong password and an unknown user with the same message', async () => {
			const wrong = room.client();
			const unknown = room.client();
			const e1 = await wrong.client.connect(alice, 'not the password').catch((e: RoomError) => e);
			const e2 = await unknown.client
				.connect(uniqueName('ghost'), 'whatever password')
				.catch((e: RoomError) => e);
			assert.ok(e1 instanceof RoomError && e2 instanceof RoomError);
			assert.equal(e1.code, 'auth-failed');
			assert.equal(e2.code, 'auth-failed');
			assert.equal(e1.message, e2.message);
		});

		it('shows the last messages on join and stores them with sequence numbers', async () => {
			const a = await room.login(alice, 'alice password');
			a.client.say('remember me');
			await a.events.waitFor('message', (m) => m.text === 'remember me');
			// The database is written behind the local journal.
			await waitFor(() => room.server.journal.pendingWrites === 0 || undefined, {what: 'the message stored'});
			const latest = await store.latestSeq(room.server.room.name);
			const b = await room.login(bob, 'bob password');
			const history = await b.events.waitFor('message', (m) => m.history && m.text === 'remember me');
			assert.equal(history.seq, latest);
			await Promise.all([a.client.close(), b.client.close()]);
		});

		it('registers new accounts only when allowed, and never twice', async () => {
			const name = uniqueName('newbie');
			const first = room.client();
			await first.client.connect(name, 'a fine password', {register: true});
			assert.equal(first.client.state, 'connected');
			await first.client.close();
			const again = room.client();
			await assert.rejects(
				again.client.connect(name, 'another password', {register: true}),
				rejectsWith('nick-taken'),
			);
			assert.ok(await store.getVerifier(name));
		});
	});
}

roomSuite('node:sqlite', sqliteBackend);
const mysql = await mysqlBackend();
if ('unreachable' in mysql) reportUnreachable('TCP room on MySQL', mysql);
else roomSuite('MySQL', async () => mysql);

describe('TCP room security', () => {
	let source: Backend;
	let store: AccountStore;
	let room: TcpFixture;
	let now = 1_000_000;

	before(async () => {
		source = await sqliteBackend();
		store = await source.open();
		room = await tcpFixture(store, {throttle: new LoginThrottle({now: () => now}), allowRegister: false});
		await room.addUser('dora', 'dora password');
	});
	after(async () => {
		await room.close();
		await store.close();
		await source.cleanup();
	});

	it('throttles an account after repeated failures, with a clear message', async () => {
		for (let i = 0; i < 5; i++) {
			await assert.rejects(
				room.client().client.connect('dora', 'wrong password'),
				rejectsWith('auth-failed'),
			);
		}
		const blocked = await room
			.client()
			.client.connect('dora', 'dora password')
			.catch((e: RoomError) => e);
		assert.ok(blocked instanceof RoomError);
		assert.equal(blocked.code, 'throttled');
		assert.match(blocked.message, /too many failed logins; try again in \d+ s/);
		now += 61_000; // a minute later the account works again
		const ok = room.client();
		await ok.client.connect('dora', 'dora password');
		await ok.client.close();
	});

	it('refuses registration when the server does not allow it', async () => {
		await assert.rejects(
			room.client().client.connect('eve', 'eve password', {register: true}),
			rejectsWith('not-allowed'),
		);
	});

	it('refuses a server whose certificate changed, and a new one nobody trusted', async () => {
		const hostPort = `127.0.0.1:${room.server.port}`;
		const {KnownHosts} = await import('../../source/client/known-hosts.js');
		// Its own file, so the forged entry does not follow the tests after this one.
		const pinnedElsewhere = new KnownHosts(`${room.dir}/forged_known_hosts`);
		await pinnedElsewhere.remember(hostPort, 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
		const changed = await room
			.client({knownHosts: pinnedElsewhere})
			.client.connect('dora', 'dora password')
			.catch((e: RoomError) => e);
		assert.ok(changed instanceof RoomError);
		assert.equal(changed.code, 'host-changed');
		assert.match(changed.message, /CHANGED/);
		const fresh = room.client({
			knownHosts: new KnownHosts(`${room.dir}/other_known_hosts`),
			confirmNewHost: async () => false,
		});
		await assert.rejects(fresh.client.connect('dora', 'dora password'), rejectsWith('host-rejected'));
	});

	it('puts neither the password nor the chat text on the wire', async () => {
		const proxy = await startTcpProxy(room.server.port);
		const a = room.client({port: proxy.port});
		await a.client.connect('dora', 'dora password');
		a.client.say('the eagle lands at midnight');
		await a.events.waitFor('message', (m) => m.text === 'the eagle lands at midnight');
		await a.client.close();
		const wire = proxy.bytes();
		assert.ok(wire.length > 1000, 'the proxy saw the TLS session');
		assert.equal(wire.indexOf('dora password'), -1);
		assert.equal(wire.indexOf('eagle lands'), -1);
		await proxy.close();
	});

	it('disconnects a client that sends an oversized or malformed frame, and nobody else', async () => {
		const a = await room.login('dora', 'dora password');
		const raw = tls.connect({host: '127.0.0.1', port: room.server.port, rejectUnauthorized: false});
		await new Promise((resolve) => raw.once('secureConnect', resolve));
		const frames: unknown[] = [];
		const decoder = new FrameDecoder();
		raw.on('data', (chunk) => {
			for (const frame of decoder.push(chunk)) frames.push(JSON.parse(frame.toString()));
		});
		const header = Buffer.alloc(4);
		header.writeUInt32BE(10 * 1024 * 1024);
		raw.write(header); // a 10 MiB frame announced
		await new Promise((resolve) => raw.once('close', resolve));
		assert.ok(
			frames.some(
				(f) => (f as {t: string}).t === 'error' && /exceeds/.test((f as {message: string}).message),
			),
		);

		const bad = tls.connect({host: '127.0.0.1', port: room.server.port, rejectUnauthorized: false});
		await new Promise((resolve) => bad.once('secureConnect', resolve));
		let badReply = '';
		bad.on('data', (chunk) => (badReply += chunk.toString()));
		bad.write(encodeFrame(Buffer.from([0xff, 0xfe, 0x7b])));
		await new Promise((resolve) => bad.once('close', resolve));
		assert.match(badReply, /bad-request/);
		assert.match(badReply, /UTF-8/i);

		a.client.say('still fine');
		await a.events.waitFor('message', (m) => m.text === 'still fine');
		await a.client.close();
	});

	it('limits concurrent connections per address', async () => {
		const limited = await tcpFixture(store, {maxConnectionsPerAddress: 2});
		const sockets = [];
		for (let i = 0; i < 2; i++) {
			const socket = net.connect(limited.server.port, '127.0.0.1');
			await new Promise((resolve) => socket.once('connect', resolve));
			sockets.push(socket);
		}
		const third = tls.connect({host: '127.0.0.1', port: limited.server.port, rejectUnauthorized: false});
		const outcome = await new Promise<string>((resolve) => {
			let text = '';
			third.on('data', (chunk) => (text += chunk.toString('latin1')));
			third.on('error', () => resolve(`error ${text}`));
			third.on('close', () => resolve(text));
		});
		// Dropped at accept, before any TLS work: no handshake, no frame, and counted at once.
		assert.doesNotMatch(outcome, /auth-mechs/);
		assert.equal(limited.server.stats.refused, 1);
		assert.equal(limited.server.socketsFrom('127.0.0.1'), 2);
		for (const socket of sockets) socket.destroy();
		await limited.close();
	});
});
