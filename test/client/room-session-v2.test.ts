// What a room client makes of version 2 frames, without sockets (a scripted
// server): room info from the welcome and its changes, moderation requests
// only where the server has them, pages, searches, bans, read markers (at
// most one a second, only forward) and sequenced presence without repeats.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomSession} from '../../source/client/room-session.js';
import type {ClientMessage} from '../../source/protocol/messages.js';
import {Recorder} from '../helpers/room-recorder.js';
import {ScriptedServer} from '../helpers/scripted-tcp.js';
import {waitFor} from '../helpers/wait.js';

async function joined(server: ScriptedServer, url = 'tcp://chat.example:7668/#dev', now?: () => number) {
	const client = createRoomClient(url, {pool: server.pool, ...(now ? {now} : {})}) as RoomSession;
	const events = new Recorder(client);
	await client.connect('alice', 'secret');
	return {client, events, connection: server.connections.at(-1)!};
}

const sentOf = <T extends ClientMessage['t']>(server: ScriptedServer, t: T) =>
	server.sent.filter((m): m is Extract<ClientMessage, {t: T}> => m.t === t);

describe('version 2 room client', () => {
	it('builds the room info from the welcome and follows topic, mode and role changes', async () => {
		const server = new ScriptedServer();
		server.welcomeExtra = {
			topic: 'release on Friday',
			modes: 'i',
			role: 'op',
			members: [{nick: 'alice', role: 'op'}, {nick: 'bob', role: 'owner'}, {nick: 'carol'}],
		};
		const {client, events, connection} = await joined(server);
		assert.equal(client.info?.name, '#dev');
		assert.equal(client.info?.topic, 'release on Friday');
		assert.equal(client.info?.modes, 'i');
		assert.equal(client.info?.role, 'op');
		assert.deepEqual(
			[...(client.info?.roles ?? [])],
			[
				['alice', 'op'],
				['bob', 'owner'],
			],
		);
		assert.equal(events.of('room').length, 1, 'the welcome tells the room once');

		const base = {t: 'presence', room: '#dev', ts: 5} as const;
		connection.push({...base, seq: 1, kind: 'topic', nick: 'bob', text: 'release on Monday'});
		connection.push({...base, seq: 2, kind: 'mode', nick: 'bob', mode: '+m'});
		connection.push({...base, seq: 3, kind: 'role', nick: 'carol', role: 'voice', by: 'bob'});
		connection.push({...base, seq: 4, kind: 'role', nick: 'alice', by: 'bob'}); // back to member
		connection.push({...base, seq: 5, kind: 'mode', nick: 'bob', mode: '-i'});
		connection.push({...base, seq: 6, kind: 'ban', nick: 'troll', by: 'bob', until: 99, reason: 'spam'});
		assert.equal(client.info?.topic, 'release on Monday');
		assert.equal(client.info?.modes, 'm');
		assert.equal(client.info?.role, undefined);
		assert.deepEqual(
			[...(client.info?.roles ?? [])],
			[
				['bob', 'owner'],
				['carol', 'voice'],
			],
		);
		assert.equal(events.of('room').length, 6, 'one room event per change');
		const presence = events.of('presence');
		assert.deepEqual(presence[2], {
			type: 'presence',
			seq: 3,
			ts: 5,
			kind: 'role',
			nick: 'carol',
			role: 'voice',
			by: 'bob',
		});
		assert.deepEqual(presence[5], {
			type: 'presence',
			seq: 6,
			ts: 5,
			kind: 'ban',
			nick: 'troll',
			by: 'bob',
			until: 99,
			reason: 'spam',
		});
		assert.deepEqual(
			client.members,
			['alice', 'bob', 'carol'],
			'topic, mode and role changes keep the members',
		);
		await client.close();
	});

	it('passes requests on when the server has the capability, and maps their answers', async () => {
		const server = new ScriptedServer();
		const {client, events, connection} = await joined(server);
		assert.equal(client.request({t: 'kick', nick: 'troll', reason: 'spam'}), true);
		assert.equal(client.request({t: 'ban', account: 'troll', duration_ms: 60_000}), true);
		assert.equal(client.request({t: 'bans'}), true);
		assert.deepEqual(sentOf(server, 'kick'), [{t: 'kick', nick: 'troll', reason: 'spam', room: '#dev'}]);
		assert.deepEqual(sentOf(server, 'ban'), [
			{t: 'ban', account: 'troll', duration_ms: 60_000, room: '#dev'},
		]);
		connection.push({t: 'bans', room: '#dev', bans: [{account: 'troll', by: 'alice', until: 123}]});
		assert.deepEqual(events.of('bans')[0]?.bans, [{account: 'troll', by: 'alice', until: 123}]);

		assert.equal(client.loadOlder(500, 50), true);
		assert.deepEqual(sentOf(server, 'history'), [{t: 'history', before: 500, limit: 50, room: '#dev'}]);
		connection.push({
			t: 'history',
			room: '#dev',
			before: 500,
			complete: true,
			messages: [
				{t: 'msg', seq: 7, ts: 1, from: 'bob', text: 'old\u202e news'},
				{t: 'presence', seq: 8, ts: 2, kind: 'join', nick: 'carol'},
			],
		});
		const page = events.of('page')[0];
		assert.equal(page?.before, 500);
		assert.equal(page?.complete, true);
		assert.deepEqual(
			page?.events.map((e) => e.seq),
			[7, 8],
		);
		assert.equal(events.of('message').length, 0, 'a page is not live chat');
		assert.ok(!JSON.stringify(page?.events).includes('\u202e'), 'page texts are sanitized like live ones');

		assert.equal(client.search('friday', 400), true);
		assert.deepEqual(sentOf(server, 'search'), [{t: 'search', text: 'friday', before: 400, room: '#dev'}]);
		connection.push({
			t: 'found',
			room: '#dev',
			text: 'friday',
			messages: [{t: 'msg', seq: 3, ts: 1, from: 'bob', text: 'on Friday'}],
		});
		assert.deepEqual(
			events.of('found')[0]?.messages.map((m) => m.text),
			['on Friday'],
		);
		await client.close();

		const plain = new ScriptedServer();
		plain.caps = [];
		const old = await joined(plain, 'tcp://chat.example:7668');
		assert.equal(old.client.request({t: 'topic', text: 'x'}), false);
		assert.equal(old.client.request({t: 'list'}), false);
		assert.equal(old.client.loadOlder(10), false);
		assert.equal(old.client.search('x'), false);
		old.client.markRead(5);
		assert.equal(
			plain.sent.filter((m) => ['topic', 'list', 'history', 'search', 'read'].includes(m.t)).length,
			0,
			'nothing the server cannot take is sent',
		);
		await old.client.close();
		assert.equal(old.client.request({t: 'kick', nick: 'x'}), false, 'not joined: nothing is sent');
	});

	it('sends at most one read marker a second, only forward, and takes markers from other sessions', async () => {
		let now = 1_000_000;
		const server = new ScriptedServer();
		server.welcomeExtra = {read: 3};
		const {client, events, connection} = await joined(server, undefined, () => now);
		assert.deepEqual(events.of('read'), [{type: 'read', seq: 3}], 'the welcome tells our marker');
		client.markRead(2); // behind the marker: nothing
		client.markRead(5);
		client.markRead(6);
		client.markRead(7);
		assert.deepEqual(
			sentOf(server, 'read').map((m) => [m.seq, m.room]),
			[[5, '#dev']],
			'the first goes at once, the rest wait',
		);
		now += 1000;
		await waitFor(() => sentOf(server, 'read').length === 2, {what: 'the held-back marker'});
		assert.deepEqual(
			sentOf(server, 'read').map((m) => m.seq),
			[5, 7],
			'only the newest of what waited',
		);
		connection.push({t: 'read', room: '#dev', seq: 20}); // another session of ours read further
		assert.deepEqual(events.of('read').at(-1), {type: 'read', seq: 20});
		assert.equal(client.readSeq, 20);
		now += 5000;
		client.markRead(15);
		assert.equal(sentOf(server, 'read').length, 2, 'never behind what another session read');
		client.markRead(21);
		assert.deepEqual(sentOf(server, 'read').at(-1)?.seq, 21);
		await client.close();
	});

	it('delivers sequenced presence once, in order with messages, replays included', async () => {
		const server = new ScriptedServer();
		const {client, events, connection} = await joined(server);
		connection.push({t: 'msg', room: '#dev', seq: 2, ts: 1, from: 'bob', text: 'last words'});
		connection.push({t: 'presence', room: '#dev', seq: 3, ts: 1, kind: 'leave', nick: 'bob'});
		connection.push({t: 'presence', room: '#dev', seq: 1, ts: 1, kind: 'join', nick: 'bob'});
		// A replay of what we have (a resend crossing the original).
		connection.push({t: 'presence', room: '#dev', seq: 1, ts: 1, kind: 'join', nick: 'bob'});
		connection.push({t: 'msg', room: '#dev', seq: 2, ts: 1, from: 'bob', text: 'last words'});
		connection.push({t: 'presence', room: '#dev', seq: 3, ts: 1, kind: 'leave', nick: 'bob'});
		const order = events.events
			.filter((e) => e.type === 'message' || e.type === 'presence')
			.map((e) => (e.type === 'message' ? e.text : `${e.nick} ${e.kind}`));
		assert.deepEqual(order, ['bob join', 'last words', 'bob leave']);
		await client.close();
	});
});
