// After a TLS login the client keeps SCRAM's derived keys, not the password:
// nothing reachable from the session or its transport holds the password (as
// a string or as bytes), yet a dropped connection still logs in again by
// itself. A password changed on the server makes the kept keys useless: the
// reconnect fails for good with a clear reason instead of retrying forever.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type {AccountStore} from '../../server/store/account-store.js';
import {deriveVerifier} from '../../source/protocol/scram.js';
import {tcpFixture, type TcpFixture, type TcpTestClient} from '../helpers/tcp-fixture.js';
import {startTcpProxy} from '../helpers/tcp-proxy.js';
import {waitFor} from '../helpers/wait.js';
import {sqliteBackend, type Backend} from '../store/backends.js';

/**
 * Every path from `root` to a string containing `secret` or a byte buffer
 * containing its UTF-8 form, through own properties (enumerable or not),
 * Map and Set entries. Sockets are not entered: they carry the TLS stream,
 * where SCRAM never puts the password.
 */
function findSecret(root: unknown, secret: string): string[] {
	const bytes = Buffer.from(secret, 'utf8');
	const found: string[] = [];
	const seen = new Set<unknown>();
	const visit = (value: unknown, where: string, depth: number): void => {
		if (typeof value === 'string') {
			if (value.includes(secret)) found.push(where);
			return;
		}
		if (typeof value !== 'object' || value === null || seen.has(value) || depth > 12) return;
		seen.add(value);
		if (value instanceof net.Socket) return;
		if (value instanceof Uint8Array) {
			if (Buffer.from(value.buffer, value.byteOffset, value.byteLength).includes(bytes)) found.push(where);
			return;
		}
		if (value instanceof Map)
			for (const [key, entry] of value) {
				visit(key, `${where}.key`, depth + 1);
				visit(entry, `${where}[${String(key)}]`, depth + 1);
			}
		if (value instanceof Set) for (const entry of value) visit(entry, `${where}{}`, depth + 1);
		for (const key of Reflect.ownKeys(value)) {
			const descriptor = Reflect.getOwnPropertyDescriptor(value, key);
			if (descriptor && 'value' in descriptor) visit(descriptor.value, `${where}.${String(key)}`, depth + 1);
		}
	};
	visit(root, 'client', 0);
	return found;
}

describe('re-authentication with derived keys', () => {
	let source: Backend;
	let store: AccountStore;
	let room: TcpFixture;
	const password = 'correct horse battery staple 7331';

	before(async () => {
		source = await sqliteBackend();
		store = await source.open();
		room = await tcpFixture(store);
		await room.addUser('dora', password);
		await room.addUser('eve', 'eve password');
	});
	after(async () => {
		await room.close();
		await store.close();
		await source.cleanup();
	});

	const reconnects = (c: TcpTestClient) =>
		c.events
			.of('state')
			.map((e) => e.state)
			.filter((state, i, all) => state !== 'connecting' && state !== all[i - 1]);

	it('holds no password after login, and a dropped connection still logs in again', async (t) => {
		const relay = await startTcpProxy(room.server.port);
		t.after(() => relay.close());
		const dora = room.client({port: relay.port, session: {reconnectMinMs: 50, reconnectMaxMs: 200}});
		const eve = await room.login('eve', 'eve password');
		// The check itself must be able to see a password where one is kept.
		assert.ok(findSecret({login: {password}}, password).length > 0, 'the search finds a kept password');

		await dora.client.connect('dora', password);
		assert.deepEqual(findSecret({session: dora.client, transport: dora.transport}, password), []);

		const loginsBefore = room.server.stats.logins;
		relay.cut();
		relay.restore();
		await waitFor(() => reconnects(dora).join() === 'connected,reconnecting,connected' || undefined, {
			timeout: 10_000,
			what: 'a reconnect',
		});
		assert.ok(room.server.stats.logins > loginsBefore, 'it logged in again (SCRAM, channel-bound)');
		assert.deepEqual(findSecret({session: dora.client, transport: dora.transport}, password), []);
		const ack = await dora.client.say('back without my password');
		await eve.events.waitFor('message', (m) => m.seq === ack.seq && m.from === 'dora');
	});

	it('a password changed meanwhile ends the session with a reason instead of retrying', async (t) => {
		const relay = await startTcpProxy(room.server.port);
		t.after(() => relay.close());
		await room.addUser('finn', 'finn password one');
		const finn = room.client({port: relay.port, session: {reconnectMinMs: 50, reconnectMaxMs: 200}});
		await finn.client.connect('finn', 'finn password one');
		await store.setVerifier('finn', await deriveVerifier('finn password two'));
		relay.cut();
		relay.restore();
		const closed = await finn.events.waitFor('state', (e) => e.state === 'closed', 10_000);
		assert.match(closed.detail ?? '', /no longer accepts the saved login/);
		assert.equal(finn.client.state, 'closed');
	});
});
