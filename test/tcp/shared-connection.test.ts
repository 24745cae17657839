// Rooms of one account on one TLS connection, over real sockets: the pool
// logs in once, a second room of the same server reuses the connection
// without a password, and a dropped connection comes back with one login.
// Against a server with one room (no `multi-room`), a second room is refused
// clearly and costs neither a connection nor a login. The many-rooms part
// runs once the server announces `multi-room` (the issue #11 server).
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import type {AccountStore} from '../../server/store/account-store.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomSession} from '../../source/client/room-session.js';
import {TcpConnectionPool} from '../../source/client/tcp-connection-pool.js';
import type {RoomClient} from '../../source/client/types.js';
import {CAPABILITY} from '../../source/protocol/versions.js';
import {Recorder} from '../helpers/room-recorder.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {startTcpProxy} from '../helpers/tcp-proxy.js';
import {waitFor} from '../helpers/wait.js';
import {sqliteBackend, type Backend} from '../store/backends.js';

const quick = {reconnectMinMs: 50, reconnectMaxMs: 200};

describe('rooms sharing one TLS connection', () => {
	let source: Backend;
	let store: AccountStore;
	let room: TcpFixture;
	const opened: RoomClient[] = [];

	before(async () => {
		source = await sqliteBackend();
		store = await source.open();
		room = await tcpFixture(store);
		await room.addUser('alice', 'alice password');
		await room.addUser('bob', 'bob password');
	});
	after(async () => {
		await Promise.all(opened.map((c) => c.close()));
		await room.close();
		await store.close();
		await source.cleanup();
	});

	/** A room client through `pool` that trusts the test server. */
	function client(pool: TcpConnectionPool, path = '', port = room.server.port): RoomSession {
		const made = createRoomClient(`tcp://127.0.0.1:${port}${path}`, {
			pool,
			tcp: {knownHosts: room.knownHosts, confirmNewHost: async () => true},
			...quick,
		}) as RoomSession;
		opened.push(made);
		return made;
	}

	// A one-room (version 1) server's refusal of a second room is scripted in test/client/shared-connection.test.ts.
	it('a second tab of a room already open on the connection is refused clearly; the socket closes with the last room', async () => {
		const pool = new TcpConnectionPool();
		const connections = room.server.stats.connections;
		const logins = room.server.stats.logins;
		const lobby = client(pool);
		await lobby.connect('alice', 'alice password');
		assert.ok(lobby.capabilities.includes(CAPABILITY.multiRoom));
		const twin = client(pool, '/#lobby');
		await assert.rejects(twin.connect('alice'), /already open on this connection/);
		assert.equal(room.server.stats.connections - connections, 1, 'one connection for all of it');
		assert.equal(room.server.stats.logins - logins, 1, 'one login');
		const ack = await lobby.say('still here');
		assert.ok(ack.seq > 0);
		await lobby.close();
		await waitFor(() => pool.openConnections === 0, {
			what: 'the socket closed with the last room',
		});
	});

	it('rooms reopen over one new login after the connection drops, without a password', async (t) => {
		const relay = await startTcpProxy(room.server.port);
		t.after(() => relay.close());
		const pool = new TcpConnectionPool();
		const lobby = client(pool, '', relay.port);
		const events = new Recorder(lobby);
		await lobby.connect('alice', 'alice password');
		const logins = room.server.stats.logins;
		const connections = room.server.stats.connections;
		relay.cut();
		relay.restore();
		await events.waitFor('state', (e) => e.state === 'reconnecting');
		await waitFor(() => lobby.state === 'connected', {what: 'the reconnect'});
		assert.equal(room.server.stats.logins - logins, 1);
		assert.equal(room.server.stats.connections - connections, 1);
		await lobby.close();

		// Closed, then opened again from the same pool: its saved keys log in, no password asked.
		const again = client(pool, '', relay.port);
		await again.connect('alice');
		assert.equal(again.state, 'connected');
		await again.close();
	});

	it('three rooms on one connection, each hearing only its own', async (t) => {
		const relay = await startTcpProxy(room.server.port);
		t.after(() => relay.close());
		const pool = new TcpConnectionPool();
		const lobby = client(pool, '', relay.port);
		await lobby.connect('alice', 'alice password');
		assert.ok(lobby.capabilities.includes(CAPABILITY.multiRoom));
		const connections = room.server.stats.connections;
		const logins = room.server.stats.logins;
		const dev = lobby.sibling('#dev');
		const ops = client(pool, '/%23ops', relay.port);
		const devEvents = new Recorder(dev);
		const lobbyEvents = new Recorder(lobby);
		await dev.connect('alice');
		await ops.connect('alice');
		assert.equal(room.server.stats.connections, connections, 'no new connection');
		assert.equal(room.server.stats.logins, logins, 'no new login');
		assert.equal(dev.roomName?.toLowerCase(), '#dev');

		const bobPool = new TcpConnectionPool();
		const bobDev = client(bobPool, '/#dev');
		await bobDev.connect('bob', 'bob password');
		const ack = await bobDev.say('only in dev');
		await devEvents.waitFor('message', (m) => m.seq === ack.seq && m.text === 'only in dev');
		const ping = await lobby.say('lobby marker');
		await lobbyEvents.waitFor('message', (m) => m.seq === ping.seq);
		assert.equal(lobbyEvents.texts().includes('only in dev'), false, 'the lobby never hears #dev');

		await ops.close();
		assert.equal(lobby.state, 'connected');
		assert.equal(dev.state, 'connected');

		const before = room.server.stats.logins;
		relay.cut();
		relay.restore();
		await waitFor(() => lobby.state === 'reconnecting' || lobby.state === 'connecting', {what: 'the drop'});
		await waitFor(() => lobby.state === 'connected' && dev.state === 'connected', {what: 'both rooms back'});
		assert.equal(room.server.stats.logins - before, 1, 'one login brought both rooms back');
		const after = await bobDev.say('after the drop');
		await devEvents.waitFor('message', (m) => m.seq === after.seq);
		await dev.part();
		assert.equal(lobby.state, 'connected', 'parting #dev leaves the lobby alone');
	});
});
