// A multi-line message over a real UDP room: delivered whole, as one message,
// to everyone, with its line breaks (what a bracketed paste sends).
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {startUdpRoomServer, type UdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomClient} from '../../source/client/types.js';
import {Recorder} from '../helpers/room-recorder.js';

describe('UDP room: multi-line messages', () => {
	let server: UdpRoomServer;
	const clients: RoomClient[] = [];

	before(async () => {
		server = await startUdpRoomServer();
	});
	after(async () => {
		await Promise.all(clients.map((client) => client.close()));
		await server.close();
	});

	async function join(nick: string): Promise<Recorder> {
		const client = createRoomClient(`udp://127.0.0.1:${server.port}`);
		clients.push(client);
		const recorder = new Recorder(client);
		await client.connect(nick);
		return recorder;
	}

	it('carries newlines and tabs as one message, and refuses a carriage return', async () => {
		const alice = await join('alice');
		const bob = await join('bob');
		const text = 'def f():\n\treturn 1\n\nprint(f())';
		alice.client.say(text);
		const received = await bob.waitFor('message', (message) => message.from === 'alice');
		assert.equal(received.text, text);
		await alice.waitFor('message', (message) => message.self && message.text === text);
		assert.equal(bob.of('message').length, 1, 'one message, not one per line');

		alice.client.say('bad\r\nline');
		const failed = await alice.waitFor('failed');
		assert.match(failed.text, /control characters/);
		assert.equal(bob.of('message').length, 1);
	});
});
