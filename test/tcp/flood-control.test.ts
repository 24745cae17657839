// Flood control over real TLS sockets: a member sending faster than the room's
// rate is slowed (its lines queued and delivered at the rate, in order, each
// acknowledged when it goes out), not kicked; one flooding far beyond the
// queue is kicked for flooding.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import type {AccountStore} from '../../server/store/account-store.js';
import {sqliteBackend, type Backend} from '../store/backends.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {rawMember} from '../helpers/tcp-raw-client.js';
import {delay, waitFor} from '../helpers/wait.js';

const RATE = 5;
const BURST = 10;

describe('flood control in the TCP room', () => {
	let source: Backend;
	let store: AccountStore;
	let room: TcpFixture;

	before(async () => {
		source = await sqliteBackend();
		store = await source.open();
		room = await tcpFixture(store, {limits: {ratePerSecond: RATE, burst: BURST}, floodQueue: 50});
		for (const user of ['alice', 'bob', 'carol']) await room.addUser(user, `${user} password`);
	});
	after(async () => {
		await room.close();
		await store.close();
		await source.cleanup();
	});

	it('slows a member sending 12.5 lines a second against 5 a second, and delivers every line in order', async (t) => {
		const alice = await rawMember(room.server.port, 'alice', 'alice password');
		const bob = await rawMember(room.server.port, 'bob', 'bob password');
		t.after(() => {
			alice.close();
			bob.close();
		});
		const welcome = alice.frames.find((frame) => frame.t === 'welcome');
		assert.deepEqual(welcome?.limits, {maxTextBytes: 8192, ratePerSecond: RATE, burst: BURST});
		const count = 38; // 3 s at 12.5 a second
		const started = Date.now();
		for (let n = 1; n <= count; n++) {
			alice.send({t: 'say', ref: `r${n}`, text: `line ${n}`});
			await delay(80);
		}
		const texts = Array.from({length: count}, (_, i) => `line ${i + 1}`);
		const chat = (frames: typeof bob.frames) =>
			frames.filter((frame) => frame.t === 'msg' && frame.from === 'alice');
		await waitFor(() => chat(bob.frames).length === count || undefined, {
			timeout: 15_000,
			what: `${count} lines at bob`,
		});
		const took = Date.now() - started;
		assert.deepEqual(
			chat(bob.frames).map((frame) => frame.text),
			texts,
		);
		// Alice's acknowledgements (her own lines with their refs) came in order, as each line went out.
		await waitFor(() => chat(alice.frames).length === count || undefined, {what: 'alice’s echoes'});
		assert.deepEqual(
			chat(alice.frames).map((frame) => frame.ref),
			texts.map((_, i) => `r${i + 1}`),
		);
		// Slowed: what is over the burst went out at the rate, so the last line left about
		// (count - burst) / rate seconds after the first.
		assert.ok(took >= ((count - BURST) / RATE) * 1000 - 500, `all ${count} lines took only ${took} ms`);
		// One notice, with no ref (no line failed), and no refusal or goodbye.
		const errors = alice.frames.filter((frame) => frame.t === 'error');
		assert.equal(errors.length, 1, JSON.stringify(errors));
		assert.equal(errors[0]!.code, 'rate-limited');
		assert.equal(errors[0]!.ref, undefined);
		assert.match(errors[0]!.message as string, /^slowed down: your lines are queued/);
		assert.ok(!alice.frames.some((frame) => frame.t === 'bye'));
		assert.equal(alice.closed, false);
		assert.equal(room.server.room.stats.rateLimited, 0);
		t.diagnostic(`${count} lines sent in 3 s went out over ${took} ms`);
	});

	it('kicks a member that floods far beyond the queue', async (t) => {
		const carol = await rawMember(room.server.port, 'carol', 'carol password');
		const bob = await rawMember(room.server.port, 'bob', 'bob password');
		t.after(() => {
			carol.close();
			bob.close();
		});
		const from = bob.frames.length;
		for (let n = 1; n <= 200; n++) carol.send({t: 'say', ref: `f${n}`, text: `flood ${n}`});
		const bye = await carol.next('bye', 0, () => true, 5000);
		assert.equal(bye.reason, 'flooding');
		await bob.next('presence', from, (frame) => frame.kind === 'kick' && frame.nick === 'carol');
		await waitFor(() => carol.closed || undefined, {what: 'carol’s connection closed'});
		const delivered = bob.frames.filter((frame) => frame.t === 'msg' && frame.from === 'carol').length;
		assert.ok(delivered < 200, `bob got ${delivered} of carol's 200 lines`);
	});
});
