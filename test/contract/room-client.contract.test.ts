// The TUI tests stand a FakeRoomClient in for the network. This runs one
// scenario against the fake and against the real RoomSession over a real UDP
// server and requires the same events, so the fake cannot drift from the real
// client the UI is written against.
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';
import {startUdpRoomServer, type UdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomClient, RoomEvent} from '../../source/client/types.js';
import {FakeRoomClient} from '../tui/helpers/fake-room-client.js';

/** The lifecycle events the fake models, one line each; repeats of the same member list fold into one. */
function lifecycle(events: readonly RoomEvent[]): string[] {
	const lines: string[] = [];
	for (const event of events) {
		let line: string | undefined;
		if (event.type === 'state') line = `state ${event.state}`;
		else if (event.type === 'nick') line = `nick ${event.nick}`;
		else if (event.type === 'members') line = `members ${event.members.join(',')}`;
		if (line !== undefined && line !== lines.at(-1)) lines.push(line);
	}
	return lines;
}

/** Joins as `nick`, notes what a UI would read off the client, and leaves. */
async function joinAndLeave(client: RoomClient, nick: string) {
	const events: RoomEvent[] = [];
	client.subscribe((event) => events.push(event));
	const before = {state: client.state, nick: client.nick};
	await client.connect(nick);
	const joined = {state: client.state, nick: client.nick, members: [...client.members]};
	const whileJoined = lifecycle(events);
	await client.close();
	return {before, joined, whileJoined, all: lifecycle(events), after: {state: client.state}};
}

describe('the fake room client keeps the real one’s contract', () => {
	let server: UdpRoomServer;
	before(async () => {
		server = await startUdpRoomServer();
	});
	after(async () => {
		await server.close();
	});

	it('joins and leaves with the same events, in the same order, leaving the same state', async () => {
		const real = await joinAndLeave(createRoomClient(`udp://127.0.0.1:${server.port}`), 'alice');
		const fake = await joinAndLeave(new FakeRoomClient({state: 'closed'}), 'alice');
		assert.deepEqual(real.all, [
			'state connecting',
			'state connected',
			'nick alice',
			'members alice',
			'state closed',
		]);
		assert.deepEqual(fake, real);
	});
});
