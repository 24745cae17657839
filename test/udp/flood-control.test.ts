// Flood control in the UDP room over a real socket: lines over the rate wait
// and go out at the rate, in order; a flood beyond the queue is kicked.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {startUdpRoomServer, type UdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import {Recorder} from '../helpers/room-recorder.js';
import {UdpBot} from '../helpers/udp-bot.js';
import {waitFor} from '../helpers/wait.js';

describe('flood control in the UDP room', () => {
	let server: UdpRoomServer;
	before(async () => {
		server = await startUdpRoomServer({limits: {ratePerSecond: 10, burst: 5}, floodQueue: 20});
	});
	after(() => server.close());

	it('delivers a paste longer than the burst, in order, at the rate', async (t) => {
		const alice = await UdpBot.open(server.port);
		const bob = await UdpBot.open(server.port);
		t.after(async () => {
			await alice.close();
			await bob.close();
		});
		await alice.join('alice');
		await bob.join('bob');
		const started = Date.now();
		for (let n = 1; n <= 15; n++) alice.send({t: 'say', ref: `r${n}`, text: `line ${n}`});
		const lines = () => bob.received.filter((m) => m.t === 'msg' && m.from === 'alice');
		await waitFor(() => lines().length === 15 || undefined, {what: '15 lines at bob'});
		const took = Date.now() - started;
		assert.deepEqual(
			lines().map((m) => m.text),
			Array.from({length: 15}, (_, i) => `line ${i + 1}`),
		);
		assert.ok(took >= 900, `10 lines over the burst at 10 a second took only ${took} ms`);
		const errors = alice.received.filter((m) => m.t === 'error');
		assert.equal(errors.length, 1, JSON.stringify(errors));
		assert.equal(errors[0]!.code, 'rate-limited');
		assert.equal(errors[0]!.ref, undefined);
		assert.equal(server.room.stats.rateLimited, 0);
	});

	it('lets the client wait for lines the server holds instead of giving them up', async (t) => {
		// Gives up on an unacknowledged line after 2 tries 150 ms apart: far sooner than the
		// server sends the tenth held line (1 s at 10 a second).
		const client = createRoomClient(`udp://127.0.0.1:${server.port}`, {ackTimeoutMs: 150, maxSendTries: 2});
		t.after(() => client.close());
		const events = new Recorder(client);
		await client.connect('dora');
		const acks = await Promise.all(Array.from({length: 15}, (_, i) => client.say(`paste ${i + 1}`)));
		assert.deepEqual(
			acks.map((ack) => ack.seq - acks[0]!.seq),
			Array.from({length: 15}, (_, i) => i),
		);
		assert.deepEqual(events.of('failed'), []);
		assert.ok(events.of('error').some((e) => e.code === 'rate-limited'));
	});

	it('kicks a member whose queue overflows', async (t) => {
		const carol = await UdpBot.open(server.port);
		t.after(() => carol.close());
		await carol.join('carol');
		for (let n = 1; n <= 60; n++) carol.send({t: 'say', ref: `f${n}`, text: `flood ${n}`});
		const bye = await carol.waitFor((m) => m.t === 'bye', 'a bye');
		assert.equal(bye.reason, 'flooding');
		assert.equal(server.room.findMember('carol'), undefined);
	});
});
