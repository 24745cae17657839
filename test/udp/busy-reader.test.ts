// A member that only reads, behind a lossy link, in a room where another
// member sends fast: it asks for many resends, and asking is not flooding. It
// must stay in the room and end with every message either shown or counted
// as lost, never kicked and never told to slow down.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {startUdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import {Recorder} from '../helpers/room-recorder.js';
import {startUdpProxy} from '../helpers/udp-proxy.js';
import {delay} from '../helpers/wait.js';

/** A small deterministic generator, so the same datagrams are dropped on every run. */
function seeded(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

describe('a reading UDP member in a busy, lossy room', () => {
	it('stays, and sees every message or an honest lost count', async () => {
		const RATE = 600; // messages a second from the busy member
		const SECONDS = 3;
		const total = RATE * SECONDS;
		// The busy member may send this fast; the reader's own limits are the defaults.
		const server = await startUdpRoomServer({limits: {ratePerSecond: 100_000, burst: 100_000}});
		const random = seeded(13);
		// One datagram in ten towards the reader is lost, resends and their answers included.
		const proxy = await startUdpProxy(
			server.port,
			(_datagram, direction) => direction === 'down' && random() < 0.1,
		);
		const reader = createRoomClient(`udp://127.0.0.1:${proxy.port}`);
		const r = new Recorder(reader);
		await reader.connect('reader');
		const sender = createRoomClient(`udp://127.0.0.1:${server.port}`);
		await sender.connect('busy');
		try {
			const started = Date.now();
			for (let sent = 0; sent < total; ) {
				const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * RATE) + 1);
				for (; sent < due; sent++) sender.say(`m${sent}`);
				await delay(5);
			}
			sender.say('done');
			const got = () => r.of('message').filter((m) => m.from === 'busy' && m.text !== 'done').length;
			const lost = () => r.of('lost').reduce((sum, l) => sum + l.count, 0);
			await r.waitFor('message', (m) => m.text === 'done', 15_000);
			// Everything before "done" has been delivered or declared lost once it is shown (in order).
			assert.ok(proxy.dropped > total / 20, `the link lost ${proxy.dropped} datagrams`);
			assert.equal(got() + lost(), total, `got ${got()} + lost ${lost()}`);
			assert.ok(got() > total * 0.9, `most messages are repaired (got ${got()} of ${total})`);
			const texts = r.texts().filter((t) => t !== 'done');
			assert.deepEqual(
				texts,
				[...texts].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))),
				'in order',
			);
			assert.equal(reader.state, 'connected');
			assert.ok(server.room.findMember('reader'), 'the reader is still a member');
			assert.equal(server.room.stats.rateLimited, 0, 'asking again earned no strikes');
			assert.deepEqual(
				r.of('error').map((e) => e.text),
				[],
				'the reader is never told to slow down',
			);
			assert.deepEqual(
				r.of('state').map((s) => s.state),
				['connecting', 'connected'],
				'never dropped',
			);
		} finally {
			await Promise.all([reader.close(), sender.close()]);
			await proxy.close();
			await server.close();
		}
	});
});
