// say() as a promise over real sockets: it resolves with the sequence number
// the room gave the message, rejects with the server's own error (code and
// message), and over the rate resolves late (the server's flood control holds
// it), on UDP and on TLS/TCP.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import type {AccountStore} from '../../server/store/account-store.js';
import {startUdpRoomServer, type UdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import {RoomError, type RoomClient} from '../../source/client/types.js';
import {Recorder} from '../helpers/room-recorder.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {sqliteBackend, type Backend} from '../store/backends.js';

// Slow refill, so the burst stays spent while the test runs, however loaded the machine.
const LIMITS = {ratePerSecond: 1, burst: 3, maxTextBytes: 100};

/** The contract, whatever the transport: `speaker` says, `listener` sees the same seq. */
async function checkSayContract(speaker: RoomClient, listener: Recorder): Promise<void> {
	const first = await speaker.say('one');
	const second = await speaker.say('two');
	assert.equal(second.seq, first.seq + 1);
	await listener.waitFor('message', (m) => m.text === 'two');
	const seen = listener.of('message').filter((m) => m.text === 'one' || m.text === 'two');
	assert.deepEqual(
		seen.map((m) => m.seq),
		[first.seq, second.seq],
		'the acknowledged seq is the one the room gave',
	);

	await assert.rejects(speaker.say('x'.repeat(101)), (error: unknown) => {
		assert.ok(error instanceof RoomError);
		assert.equal(error.code, 'too-long');
		assert.match(error.message, /limit is 100/);
		return true;
	});

	// The burst is spent (3 sends so far, one refused for length after the bucket took its token):
	// a send over the rate is not refused but slowed, held by the server and acknowledged at the rate.
	const asked = Date.now();
	const slowed = await speaker.say('too fast');
	assert.equal(slowed.seq, second.seq + 1, 'a slowed send keeps its place');
	const waited = Date.now() - asked;
	assert.ok(waited >= 300, `acknowledged after ${waited} ms, not held until the bucket refilled`);
}

describe('say() acknowledgements in a UDP room', () => {
	let server: UdpRoomServer;
	const clients: RoomClient[] = [];
	before(async () => {
		server = await startUdpRoomServer({port: 0, limits: LIMITS});
	});
	after(async () => {
		await Promise.all(clients.map((c) => c.close()));
		await server.close();
	});

	test('resolves with the seq, rejects with the server’s error, resolves late over the rate', async () => {
		const url = `udp://127.0.0.1:${server.port}`;
		const speaker = createRoomClient(url);
		const listener = createRoomClient(url);
		clients.push(speaker, listener);
		const heard = new Recorder(listener);
		await listener.connect('listener');
		await speaker.connect('speaker');
		await checkSayContract(speaker, heard);
	});

	test('a say() nobody waits for cannot crash the process when it fails', async () => {
		const url = `udp://127.0.0.1:${server.port}`;
		const careless = createRoomClient(url);
		clients.push(careless);
		const events = new Recorder(careless);
		await careless.connect('careless');
		void careless.say('y'.repeat(500)); // refused as too long; nobody awaits it
		const failed = await events.waitFor('failed');
		assert.equal(failed.code, 'too-long');
		// Still here, still working (an unhandled rejection would have ended the test run).
		assert.ok((await careless.say('fine')).seq > 0);
	});
});

describe('say() acknowledgements in a TLS room', () => {
	let source: Backend;
	let store: AccountStore;
	let room: TcpFixture;
	before(async () => {
		source = await sqliteBackend();
		store = await source.open();
		room = await tcpFixture(store, {limits: LIMITS});
		await room.addUser('speaker', 'speaker password');
		await room.addUser('listener', 'listener password');
	});
	after(async () => {
		await room.close();
		await store.close();
		await source.cleanup();
	});

	test('resolves with the journal’s seq, rejects with the server’s error, resolves late over the rate', async () => {
		const listener = await room.login('listener', 'listener password');
		const speaker = await room.login('speaker', 'speaker password');
		await checkSayContract(speaker.client, listener.events);
	});
});
