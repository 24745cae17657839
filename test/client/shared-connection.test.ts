// Many rooms over one TCP connection, without sockets (a scripted server):
// one login for every room of an account, each room's frames stamped with its
// room and routed back to it, leaving one room keeps the socket for the
// others, the last one closes it, and a dropped connection comes back for
// every room over one new login.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomSession} from '../../source/client/room-session.js';
import {RoomError} from '../../source/client/types.js';
import {Recorder} from '../helpers/room-recorder.js';
import {ScriptedServer} from '../helpers/scripted-tcp.js';
import {waitFor} from '../helpers/wait.js';

const quick = {reconnectMinMs: 10, reconnectMaxMs: 50};

function rooms(server: ScriptedServer) {
	const lobby = createRoomClient('tcp://chat.example:7668', {pool: server.pool, ...quick}) as RoomSession;
	const dev = createRoomClient('tcp://chat.example:7668/#dev', {pool: server.pool, ...quick}) as RoomSession;
	return {lobby, dev, lobbyEvents: new Recorder(lobby), devEvents: new Recorder(dev)};
}

const hellos = (server: ScriptedServer) => server.sent.filter((m) => m.t === 'hello');

describe('rooms sharing one TCP connection', () => {
	it('logs in once for two rooms, stamps each room on its frames and routes frames back by room', async () => {
		const server = new ScriptedServer();
		const {lobby, dev, lobbyEvents, devEvents} = rooms(server);
		await lobby.connect('alice', 'secret');
		await dev.connect('alice'); // no password: the connection is logged in
		assert.equal(server.logins, 1);
		assert.equal(server.connections.length, 1);
		assert.deepEqual(
			hellos(server).map((h) => h.room),
			[undefined, '#dev'],
			'the default room is joined without a name, #dev with its name',
		);
		assert.equal(lobby.roomName, '#lobby');
		assert.equal(dev.roomName, '#dev');

		void lobby.say('hello lobby');
		void dev.say('hello dev');
		const says = server.sent.filter((m) => m.t === 'say');
		assert.deepEqual(
			says.map((m) => [m.room, m.text]),
			[
				['#lobby', 'hello lobby'], // the default room's name, learned from its welcome
				['#dev', 'hello dev'],
			],
		);

		const connection = server.connections[0]!;
		connection.push({t: 'msg', room: '#Dev', seq: 1, ts: 1, from: 'bob', text: 'in dev'});
		connection.push({t: 'msg', room: '#lobby', seq: 1, ts: 1, from: 'bob', text: 'in lobby'});
		connection.push({t: 'msg', seq: 2, ts: 1, from: 'bob', text: 'unscoped'});
		assert.deepEqual(devEvents.texts(), ['in dev']);
		assert.deepEqual(lobbyEvents.texts(), ['in lobby', 'unscoped'], 'frames without room: the first room');

		// Session-level frames go to one tab, the one that asked for a list.
		assert.equal(dev.request({t: 'list'}), true);
		assert.deepEqual(
			server.sent.find((m) => m.t === 'list'),
			{t: 'list'},
			'list names no room (a strict server would refuse it)',
		);
		connection.push({t: 'rooms', rooms: [{name: '#dev', members: 2, topic: 'ship it'}]});
		assert.deepEqual(devEvents.of('rooms')[0]?.rooms, [{name: '#dev', members: 2, topic: 'ship it'}]);
		assert.equal(lobbyEvents.of('rooms').length, 0);
		connection.push({t: 'session', rooms: ['#lobby', '#dev', '#ops']});
		connection.push({t: 'invited', room: '#secret', by: 'bob'});
		assert.deepEqual(lobbyEvents.of('session-rooms')[0]?.rooms, ['#lobby', '#dev', '#ops']);
		assert.deepEqual(lobbyEvents.of('invited')[0], {type: 'invited', room: '#secret', by: 'bob'});
		assert.equal(devEvents.of('session-rooms').length + devEvents.of('invited').length, 0);
		await lobby.close();
		await dev.close();
	});

	it('closing one room leaves it and keeps the socket; closing the last closes the socket', async () => {
		const server = new ScriptedServer();
		const {lobby, dev} = rooms(server);
		await lobby.connect('alice', 'secret');
		await dev.connect('alice');
		const connection = server.connections[0]!;
		await dev.close();
		assert.deepEqual(
			server.sent.filter((m) => m.t === 'leave'),
			[{t: 'leave', room: '#dev'}],
		);
		assert.equal(connection.isOpen, true, 'the lobby still uses the socket');
		assert.equal(lobby.state, 'connected');
		await lobby.close();
		assert.equal(connection.isOpen, false);
		assert.equal(connection.closes, 1);
		assert.equal(server.sent.filter((m) => m.t === 'leave').length, 2, 'one leave per room, no more');
	});

	it('after a drop every room reconnects over one new login', async () => {
		const server = new ScriptedServer();
		server.loginDelayMs = 60; // the rooms' reconnects overlap the login
		const {lobby, dev, lobbyEvents, devEvents} = rooms(server);
		await lobby.connect('alice', 'secret');
		await dev.connect('alice');
		const third = lobby.sibling('#ops');
		await third.connect('alice');
		assert.equal(server.logins, 1);
		const connection = server.connections[0]!;
		connection.push({t: 'msg', room: '#dev', seq: 1, ts: 1, from: 'bob', text: 'before'});
		connection.drop();
		for (const recorder of [lobbyEvents, devEvents])
			await recorder.waitFor('state', (e) => e.state === 'reconnecting');
		await waitFor(() => [lobby, dev, third].every((c) => c.state === 'connected'), {what: 'every room back'});
		assert.equal(server.logins, 2, 'one new login for three rooms');
		const again = hellos(server).slice(3);
		assert.deepEqual(again.map((h) => h.room).sort(), ['#dev', '#lobby', '#ops']);
		assert.equal(again.find((h) => h.room === '#dev')?.since, 1, 'each room resumes after what it saw');
		await Promise.all([lobby.close(), dev.close(), third.close()]);
		assert.equal(connection.isOpen, false);
	});

	it('a room that hears nothing for too long leaves and rejoins over the same socket', async () => {
		const server = new ScriptedServer();
		const lobby = createRoomClient('tcp://chat.example:7668', {pool: server.pool, ...quick});
		const dev = createRoomClient('tcp://chat.example:7668/#dev', {
			pool: server.pool,
			...quick,
			deadAfterMs: 300,
		});
		const devEvents = new Recorder(dev);
		await lobby.connect('alice', 'secret');
		await dev.connect('alice');
		// The scripted server never answers #dev's pings: its session gives up on the room, not the socket.
		await devEvents.waitFor('state', (e) => e.state === 'reconnecting');
		await waitFor(() => dev.state === 'connected' && hellos(server).length === 3, {what: '#dev rejoined'});
		assert.deepEqual(
			server.sent.filter((m) => m.t === 'leave'),
			[{t: 'leave', room: '#dev'}],
			'the server is told #dev is left before it is joined again',
		);
		assert.equal(server.logins, 1);
		assert.equal(server.connections[0]!.isOpen, true);
		await Promise.all([lobby.close(), dev.close()]);
	});

	it('a room the server closes (kicked) ends alone; the connection and the other rooms stay', async () => {
		const server = new ScriptedServer();
		const {lobby, dev, devEvents} = rooms(server);
		await lobby.connect('alice', 'secret');
		await dev.connect('alice');
		const connection = server.connections[0]!;
		connection.push({t: 'bye', room: '#dev', reason: 'kicked by bob (spam)', retry: false});
		assert.equal(dev.state, 'closed');
		assert.equal(devEvents.of('state').at(-1)?.detail, 'kicked by bob (spam)');
		assert.equal(lobby.state, 'connected');
		assert.equal(connection.isOpen, true);
		assert.equal(
			server.sent.filter((m) => m.t === 'leave').length,
			0,
			'no leave for a room we were put out of',
		);
		// A goodbye to the whole connection reaches every room.
		connection.push({t: 'bye', reason: 'logged in from elsewhere'});
		assert.equal(lobby.state, 'closed');
		await lobby.close();
	});

	it('part() leaves for good with part: true and closes only that room', async () => {
		const server = new ScriptedServer();
		const {lobby, dev} = rooms(server);
		await lobby.connect('alice', 'secret');
		await dev.connect('alice');
		await dev.part('bye all');
		assert.deepEqual(
			server.sent.filter((m) => m.t === 'leave'),
			[{t: 'leave', part: true, room: '#dev'}],
		);
		assert.equal(dev.state, 'closed');
		assert.equal(lobby.state, 'connected');
		assert.equal(server.connections[0]!.isOpen, true);
		await lobby.close();
	});

	it('refuses a second tab of the same room on one connection, and a second room on a one-room server', async () => {
		const server = new ScriptedServer();
		const {lobby} = rooms(server);
		await lobby.connect('alice', 'secret');
		const twin = createRoomClient('tcp://chat.example:7668/#Lobby', {pool: server.pool});
		await assert.rejects(twin.connect('alice'), /#Lobby is already open/);
		await lobby.close();

		const old = new ScriptedServer();
		old.caps = [];
		old.version = 1;
		const first = createRoomClient('tcp://chat.example:7668', {pool: old.pool}) as RoomSession;
		await first.connect('alice', 'secret');
		assert.equal(first.info, undefined, 'version 1: no room info');
		assert.equal(first.request({t: 'kick', nick: 'bob'}), false);
		assert.equal(first.loadOlder(10), false);
		const other = first.sibling('#dev');
		await assert.rejects(
			other.connect('alice'),
			(error: unknown) =>
				error instanceof RoomError &&
				error.code === 'no-such-room' &&
				/this server has one room only \(#lobby\)/.test(error.message),
		);
		assert.equal(old.logins, 1);
		assert.equal(first.state, 'connected');
		await first.close();

		// Alone on a one-room server, a named room is checked against the room the server has.
		const named = createRoomClient('tcp://chat.example:7668/#dev', {pool: old.pool});
		await assert.rejects(
			named.connect('alice'),
			/this server has one room only \(#lobby\); #dev is not there/,
		);
		assert.equal(named.state, 'closed');
		assert.equal(old.open.length, 0, 'the refused room did not keep the socket open');
		assert.equal(
			old.sent.filter((m) => m.t === 'hello' && 'room' in m).length,
			0,
			'a one-room server is never sent a room name',
		);
		const lobbyByName = createRoomClient('tcp://chat.example:7668/#lobby', {pool: old.pool});
		await lobbyByName.connect('alice');
		assert.equal(lobbyByName.state, 'connected', 'its own room by name is fine');
		await lobbyByName.close();
	});

	it('a sibling needs no password; without a logged-in connection or saved keys a room asks for one', async () => {
		const server = new ScriptedServer();
		const lonely = createRoomClient('tcp://chat.example:7668/#dev', {pool: server.pool});
		await assert.rejects(lonely.connect('alice'), /a password is needed/);
		assert.throws(
			() => (lonely as RoomSession).sibling('#no way'),
			(error: unknown) => error instanceof RoomError && error.code === 'bad-request',
		);
	});
});
