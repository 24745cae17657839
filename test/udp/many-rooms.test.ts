// Many rooms on one UDP port over real sockets: one client socket in two
// rooms (each its own session id), frames routed by `room` or by session id,
// rooms made when joined and gone when empty, and `list` answered only to a
// proven member.
import assert from 'node:assert/strict';
import {afterEach, beforeEach, describe, it} from 'node:test';
import {startUdpRoomServer, type UdpRoomServer} from '../../server/udp/udp-room-server.js';
import {UdpBot} from '../helpers/udp-bot.js';
import {waitFor} from '../helpers/wait.js';

describe('many rooms on one UDP port', () => {
	let server: UdpRoomServer;
	const bots: UdpBot[] = [];
	const bot = async (address?: string) => {
		const made = await UdpBot.open(server.port, address);
		bots.push(made);
		return made;
	};

	beforeEach(async () => {
		server = await startUdpRoomServer({roomName: 'lobby', maxMembersPerAddress: 3});
	});
	afterEach(async () => {
		await Promise.all(bots.splice(0).map((b) => b.close()));
		await server.close();
	});

	it('holds one socket in two rooms, each with its own session', async () => {
		const alice = await bot();
		const dev = await alice.join('alice', {room: '#dev'});
		assert.equal(dev.t, 'welcome');
		assert.equal(dev.room, '#dev');
		assert.ok((dev.caps as string[]).includes('multi-room'));
		const ops = await alice.join('alice', {room: '#ops'});
		assert.equal(ops.room, '#ops');
		assert.notEqual(dev.sid, ops.sid, 'one session per room');
		const bob = await bot();
		await bob.join('bob', {room: '#dev'});

		alice.send({t: 'say', ref: 'a1', text: 'to dev', room: '#dev', k: dev.sid});
		const heard = await bob.waitFor((m) => m.t === 'msg' && m.text === 'to dev', 'the dev message');
		assert.equal(heard.room, '#dev');
		// Without `room`, the session id says which room.
		alice.send({t: 'say', ref: 'a2', text: 'to ops', k: ops.sid});
		const echo = await alice.waitFor((m) => m.t === 'msg' && m.text === 'to ops', 'the ops echo');
		assert.equal(echo.room, '#ops');
		alice.send({t: 'say', ref: 'a3', text: 'dev again', k: dev.sid});
		await bob.waitFor((m) => m.t === 'msg' && m.text === 'dev again', 'the second dev message');
		assert.deepEqual(
			bob.received.filter((m) => m.t === 'msg').map((m) => m.text),
			['to dev', 'dev again'],
			'bob, in #dev only, never saw #ops',
		);
		// Another room's session id does not pass for this one.
		const before = server.stats.dropped.spoofed ?? 0;
		alice.send({t: 'say', ref: 'a4', text: 'forged', room: '#dev', k: ops.sid});
		await waitFor(() => (server.stats.dropped.spoofed ?? 0) > before, {what: 'the forged send dropped'});
	});

	it('lists the rooms, and an emptied room vanishes from the list', async () => {
		const alice = await bot();
		const lobby = await alice.join('alice');
		const bob = await bot();
		const temp = await bob.join('bob', {room: '#temp'});
		let start = alice.received.length;
		alice.send({t: 'list', k: lobby.sid});
		let rooms = await waitFor(() => alice.received.slice(start).find((m) => m.t === 'rooms'), {
			what: 'rooms',
		});
		assert.deepEqual(rooms.rooms, [
			{name: '#lobby', members: 1},
			{name: '#temp', members: 1},
		]);
		bob.send({t: 'leave', k: temp.sid});
		await waitFor(() => server.hub.find('#temp') === undefined || undefined, {what: 'the room to vanish'});
		start = alice.received.length;
		alice.send({t: 'list', k: lobby.sid});
		rooms = await waitFor(() => alice.received.slice(start).find((m) => m.t === 'rooms'), {what: 'rooms'});
		assert.deepEqual(rooms.rooms, [{name: '#lobby', members: 1}]);
	});

	it('answers list only to a proven member, never with more than was sent', async () => {
		const stranger = await bot();
		const before = server.stats.dropped['not-joined'] ?? 0;
		stranger.sendRaw(Buffer.concat([Buffer.of(0x01), Buffer.from(JSON.stringify({t: 'list'}))]));
		await waitFor(() => (server.stats.dropped['not-joined'] ?? 0) > before, {what: 'the list dropped'});
		// Even the short "join first" is longer than `{"t":"list"}`: nothing goes back.
		const member = await bot();
		const lobby = await member.join('member');
		member.send({t: 'list', k: lobby.sid});
		await member.waitFor((m) => m.t === 'rooms', 'the rooms for a member');
		assert.equal(stranger.bytesIn, 0, `${stranger.bytesIn} bytes in for ${stranger.bytesOut} out`);
	});

	it('counts the members of one address across rooms', async () => {
		const one = await bot('127.0.0.3');
		await one.join('a1', {room: '#a'});
		await one.join('a2', {room: '#b'});
		const two = await bot('127.0.0.3');
		await two.join('a3', {room: '#c'});
		const refused = await two.join('a4', {room: '#d'});
		assert.equal(refused.t, 'error');
		assert.equal(refused.code, 'room-full');
		assert.equal(refused.room, '#d');
		assert.equal(server.hub.find('#d'), undefined, 'no room left behind by a refused join');
	});
});
