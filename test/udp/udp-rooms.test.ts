// Named rooms on a UDP server, over real sockets: the room goes in `hello`,
// and a one-room server's own room may be named. Another room is refused
// clearly by a one-room server; with the many-rooms server (issue #11) the
// rooms are separate, each client keeping its own socket and session.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {startUdpRoomServer, type UdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomSession} from '../../source/client/room-session.js';
import {RoomError, type RoomClient} from '../../source/client/types.js';
import {CAPABILITY} from '../../source/protocol/versions.js';
import {Recorder} from '../helpers/room-recorder.js';

describe('named rooms on a UDP server', () => {
	let server: UdpRoomServer;
	let url: string;
	const clients: RoomClient[] = [];
	const open = (path: string) => {
		const client = createRoomClient(`${url}${path}`) as RoomSession;
		clients.push(client);
		return client;
	};

	before(async () => {
		server = await startUdpRoomServer({maxMembersPerAddress: 64, roomName: 'lobby'});
		url = `udp://127.0.0.1:${server.port}`;
	});
	after(async () => {
		await Promise.all(clients.map((c) => c.close()));
		await server.close();
	});

	it('joins the server room by its name, like the address without one', async () => {
		const named = open('/#Lobby');
		const plain = open('');
		const namedEvents = new Recorder(named);
		await named.connect('alice');
		await plain.connect('bob');
		const ack = await plain.say('same room');
		await namedEvents.waitFor('message', (m) => m.seq === ack.seq);
		assert.equal(named.url, `${url}/#Lobby`);
	});

	it('opens other rooms as siblings: separate on a many-rooms server, refused clearly by a one-room one', async () => {
		const probe = open('');
		await probe.connect('carol');
		const dev = probe.sibling('#dev');
		clients.push(dev);
		if (!probe.capabilities.includes(CAPABILITY.multiRoom)) {
			await assert.rejects(
				dev.connect('carol'),
				(error: unknown) =>
					error instanceof RoomError &&
					error.code === 'no-such-room' &&
					/this server has one room only \(#lobby\); #dev is not there/.test(error.message),
			);
			assert.equal(dev.state, 'closed');
			assert.equal(probe.state, 'connected');
			return;
		}
		const devEvents = new Recorder(dev);
		const probeEvents = new Recorder(probe);
		await dev.connect('carol');
		const ops = probe.sibling('#ops');
		clients.push(ops);
		await ops.connect('carol');
		const inDev = await dev.say('only in dev');
		await devEvents.waitFor('message', (m) => m.seq === inDev.seq);
		const inLobby = await probe.say('lobby marker');
		await probeEvents.waitFor('message', (m) => m.seq === inLobby.seq);
		assert.equal(probeEvents.texts().includes('only in dev'), false);
	});
});
