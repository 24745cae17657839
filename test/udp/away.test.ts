// /away over the wire: a real UDP room server and real clients. The away text
// reaches the others as a presence of kind away and in the member list,
// bounded and without control characters; a member
// whose client never said `away` (an old client) is not sent away presences.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {Room, type Member, type RoomOutput} from '../../server/room/room.js';
import {startUdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {ServerMessage} from '../../source/protocol/messages.js';
import {Recorder} from '../helpers/room-recorder.js';

describe('away', () => {
	it('tells the others, lists it, and comes back', async () => {
		const server = await startUdpRoomServer({});
		const url = `udp://127.0.0.1:${server.port}`;
		const alice = createRoomClient(url);
		const bob = createRoomClient(url);
		const b = new Recorder(bob);
		try {
			await alice.connect('alice');
			await bob.connect('bob');
			assert.equal(alice.setAway?.(`lunch\u001b[2J ${'x'.repeat(300)}`), true);
			const away = await b.waitFor('presence', (event) => event.kind === 'away');
			assert.equal(away.nick, 'alice');
			assert.equal(away.reason, `lunch [2J ${'x'.repeat(190)}`, 'sanitised and cut to 200 characters');
			const listed = await b.waitFor('members', (event) => event.away?.has('alice') === true);
			assert.equal(listed.away?.get('alice'), away.reason);

			// A newcomer sees it in the welcome's member list.
			const carol = createRoomClient(url);
			const c = new Recorder(carol);
			await carol.connect('carol');
			assert.equal(
				(await c.waitFor('members', (e) => e.away?.has('alice') === true)).away?.get('alice'),
				away.reason,
			);
			await carol.close();

			alice.setAway?.(undefined);
			const back = await b.waitFor(
				'presence',
				(event) => event.kind === 'away' && event.reason === undefined,
			);
			assert.equal(back.nick, 'alice');
			await b.waitFor('members', (event) => event.away?.size === 0);
		} finally {
			await Promise.all([alice.close(), bob.close()]);
			await server.close();
		}
	});

	it('is sent only to members whose client said away; old ones see it in the member list', () => {
		const received = new Map<string, ServerMessage[]>();
		const output: RoomOutput<string> = {
			broadcast: (message, members) => {
				for (const member of members)
					received.set(member.link, [...(received.get(member.link) ?? []), message]);
			},
			send: (member: Member<string>, message) =>
				received.set(member.link, [...(received.get(member.link) ?? []), message]),
			disconnect: () => undefined,
		};
		const room = new Room<string>({name: 'lobby', output});
		const alice = room.join('alice', 'alice');
		const newer = room.join('newer', 'newer');
		const old = room.join('old', 'old');
		room.handle(newer, {t: 'away'}); // what a current client sends after its welcome
		room.handle(alice, {t: 'away', text: 'lunch'});
		const awayTo = (link: string) =>
			(received.get(link) ?? []).filter((m) => m.t === 'presence' && m.kind === 'away');
		assert.equal(awayTo('newer').length, 1);
		assert.equal(awayTo('old').length, 0);
		room.handle(old, {t: 'who'});
		const who = (received.get('old') ?? []).find((m) => m.t === 'who');
		assert.deepEqual(who?.t === 'who' && who.members, [
			{nick: 'alice', away: 'lunch'},
			{nick: 'newer'},
			{nick: 'old'},
		]);
		// The same text again announces nothing.
		room.handle(alice, {t: 'away', text: ' lunch '});
		assert.equal(awayTo('newer').length, 1);
	});
});
