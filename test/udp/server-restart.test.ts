// A UDP room server that restarts (stopped, or killed without a word) comes
// back as a new instance numbering from 0 again: its clients must notice,
// say that what was sent meanwhile is lost, and hear each other again, and a
// line typed while it was down must still be delivered.
import {after, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {fork, type ChildProcess} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {startUdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomClient} from '../../source/client/types.js';
import {Recorder} from '../helpers/room-recorder.js';
import {startUdpProxy} from '../helpers/udp-proxy.js';
import {waitFor} from '../helpers/wait.js';

const quickReconnect = {reconnectMinMs: 100, reconnectMaxMs: 400};
const RESTART_NOTICE = /the server restarted; messages sent while it was down are lost/;

async function member(url: string, nick: string): Promise<[RoomClient, Recorder]> {
	const client = createRoomClient(url, quickReconnect);
	const recorder = new Recorder(client);
	await client.connect(nick);
	return [client, recorder];
}

/** Two members who have talked, so each has seen a good few sequence numbers. */
async function chattingPair(url: string) {
	const [alice, a] = await member(url, 'alice');
	const [bob, b] = await member(url, 'bob');
	for (let i = 0; i < 5; i++) {
		alice.say(`a${i}`);
		bob.say(`b${i}`);
	}
	for (const r of [a, b]) await waitFor(() => r.texts().length === 10, {what: 'the first ten messages'});
	return {alice, a, bob, b};
}

/** After the restart: the line typed while down arrives, both hear each other, the gap is told. */
async function assertResumed({alice, a, bob, b}: Awaited<ReturnType<typeof chattingPair>>) {
	await b.waitFor('message', (m) => m.text === 'typed while down' && m.from === 'alice', 15_000);
	await a.waitFor('message', (m) => m.text === 'typed while down' && m.self, 5000);
	bob.say('bob is back');
	await a.waitFor('message', (m) => m.text === 'bob is back', 5000);
	alice.say('alice is back');
	await b.waitFor('message', (m) => m.text === 'alice is back', 5000);
	for (const r of [a, b]) {
		assert.ok(
			r.of('notice').some((n) => RESTART_NOTICE.test(n.text)),
			'the restart is shown, not hidden',
		);
		assert.deepEqual(r.of('failed'), [], 'nothing ends as "not acknowledged"');
	}
	assert.equal(alice.state, 'connected');
	assert.equal(bob.state, 'connected');
}

describe('UDP clients across a server restart', () => {
	const clients: RoomClient[] = [];
	const children: ChildProcess[] = [];
	after(async () => {
		await Promise.all(clients.map((c) => c.close()));
		for (const child of children) child.kill('SIGKILL');
	});

	it('resume after the server is stopped and started again on the same port', async () => {
		const first = await startUdpRoomServer();
		const url = `udp://127.0.0.1:${first.port}`;
		const pair = await chattingPair(url);
		clients.push(pair.alice, pair.bob);
		await first.close();
		await pair.a.waitFor('state', (s) => s.state === 'reconnecting');
		pair.alice.say('typed while down');
		const second = await startUdpRoomServer({port: first.port});
		try {
			await assertResumed(pair);
		} finally {
			await Promise.all([pair.alice.close(), pair.bob.close()]);
			await second.close();
		}
	});

	const serverScript = fileURLToPath(new URL('../../bench/udp-server-child.js', import.meta.url));
	/** A UDP room server in a process of its own, so it can be killed without a goodbye. */
	const spawnServer = async (port: number): Promise<{child: ChildProcess; port: number}> => {
		const child = fork(serverScript, ['--port', String(port), '--rate', '50', '--burst', '50'], {
			stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
		});
		children.push(child);
		const ready = await new Promise<{port: number}>((resolve, reject) => {
			child.once('message', (message) => resolve(message as {port: number}));
			child.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
		});
		return {child, port: ready.port};
	};
	const kill = async (child: ChildProcess): Promise<void> => {
		const gone = new Promise((resolve) => child.once('exit', resolve));
		child.kill('SIGKILL');
		await gone;
	};

	it('resume after the server is killed without a goodbye', async () => {
		const first = await spawnServer(0);
		const pair = await chattingPair(`udp://127.0.0.1:${first.port}`);
		clients.push(pair.alice, pair.bob);
		await kill(first.child);
		pair.alice.say('typed while down'); // nobody at the port: the client learns it at once
		await spawnServer(first.port);
		await assertResumed(pair);
	});

	it('resume when the killed server is back before the clients noticed it was gone', async () => {
		const first = await spawnServer(0);
		// Relays in front of the server keep the clients from hearing "port unreachable" while it is
		// down, as across a network, or when it is back before their next datagram.
		const relays = await Promise.all([startUdpProxy(first.port), startUdpProxy(first.port)]);
		try {
			const [alice, a] = await member(`udp://127.0.0.1:${relays[0].port}`, 'alice');
			const [bob, b] = await member(`udp://127.0.0.1:${relays[1].port}`, 'bob');
			clients.push(alice, bob);
			alice.say('hello');
			await b.waitFor('message', (m) => m.text === 'hello');
			await kill(first.child);
			await spawnServer(first.port);
			// Their next keepalive reaches a server that does not know them: its answer must get
			// through to them (within a keepalive, not after the 15 s that mean "the server is gone").
			for (const r of [a, b]) await r.waitFor('notice', (n) => RESTART_NOTICE.test(n.text), 8000);
			alice.say('typed while down');
			await assertResumed({alice, a, bob, b});
		} finally {
			await Promise.all(relays.map((relay) => relay.close()));
		}
	});
});
