// Flood control in front of a real room core, with a fake clock and fake
// timers: a burst passes at once, the rest waits and goes out at the rate, in
// order and with its refs; only an overflowing queue gets a member kicked.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {FloodControl, type Timers} from '../../server/room/flood-control.js';
import {Room, type Member, type RoomOutput} from '../../server/room/room.js';
import type {ClientMessage, ServerMessage} from '../../source/protocol/messages.js';

/** A clock and timers that move only when the test says so. */
class FakeTime implements Timers {
	now = 1_000_000;
	private timers: Array<{at: number; callback: () => void; id: number}> = [];
	private nextId = 1;

	set(callback: () => void, ms: number): unknown {
		const id = this.nextId++;
		this.timers.push({at: this.now + ms, callback, id});
		return id;
	}

	clear(handle: unknown): void {
		this.timers = this.timers.filter((timer) => timer.id !== handle);
	}

	/** Moves the clock forward, firing due timers in time order. */
	advance(ms: number): void {
		const end = this.now + ms;
		for (;;) {
			this.timers.sort((a, b) => a.at - b.at);
			const due = this.timers[0];
			if (due === undefined || due.at > end) break;
			this.timers.shift();
			this.now = Math.max(this.now, due.at);
			due.callback();
		}
		this.now = end;
	}

	get pending(): number {
		return this.timers.length;
	}
}

class Recorder implements RoomOutput<string> {
	readonly seen = new Map<string, Array<{at: number; message: ServerMessage}>>();
	readonly disconnected: Array<{to: string; reason: string}> = [];
	constructor(private readonly time: FakeTime) {}

	broadcast(message: ServerMessage, members: Iterable<Member<string>>): void {
		for (const member of members) this.send(member, message);
	}

	send(member: Member<string>, message: ServerMessage): void {
		const list = this.seen.get(member.link) ?? [];
		list.push({at: this.time.now, message});
		this.seen.set(member.link, list);
	}

	disconnect(member: Member<string>, reason: string): void {
		this.disconnected.push({to: member.link, reason});
	}

	/** The chat lines `link` saw: "from:text@ms since start", in order. */
	lines(link: string): Array<{text: string; at: number; ref?: string}> {
		return (this.seen.get(link) ?? []).flatMap(({at, message}) =>
			message.t === 'msg'
				? [{text: message.text, at, ...(message.ref === undefined ? {} : {ref: message.ref})}]
				: [],
		);
	}

	errors(link: string): Array<Extract<ServerMessage, {t: 'error'}>> {
		return (this.seen.get(link) ?? []).flatMap(({message}) => (message.t === 'error' ? [message] : []));
	}
}

function setup(maxQueue = 50) {
	const time = new FakeTime();
	const output = new Recorder(time);
	const room = new Room<string>({
		name: 'lobby',
		output,
		limits: {ratePerSecond: 5, burst: 10},
		now: () => time.now,
	});
	const flood = new FloodControl({room, maxQueue, now: () => time.now, timers: time});
	const alice = room.join('alice', 'alice');
	room.join('bob', 'bob');
	return {time, output, room, flood, alice};
}

const say = (n: number): ClientMessage => ({t: 'say', ref: `r${n}`, text: `line ${n}`});

describe('flood control', () => {
	it('lets a paste of the burst through at once', () => {
		const {output, flood, alice} = setup();
		for (let n = 1; n <= 10; n++) flood.submit(alice, say(n));
		const lines = output.lines('bob');
		assert.equal(lines.length, 10);
		assert.ok(lines.every((line) => line.at === lines[0]!.at));
		assert.equal(flood.queued(alice), 0);
		assert.deepEqual(output.errors('alice'), []);
	});

	it('queues what is over the rate and releases it at the rate, in order, with its refs', () => {
		const {time, output, flood, alice, room} = setup();
		const start = time.now;
		for (let n = 1; n <= 25; n++) flood.submit(alice, say(n));
		assert.equal(output.lines('bob').length, 10, 'the burst goes at once');
		assert.equal(flood.queued(alice), 15);
		// One notice, unsequenced and without a ref: no line failed.
		const notices = output.errors('alice');
		assert.equal(notices.length, 1);
		assert.equal(notices[0]!.code, 'rate-limited');
		assert.equal(notices[0]!.ref, undefined);
		assert.match(notices[0]!.message, /slowed down: your lines are queued/);
		assert.equal(notices[0]!.retry_after_ms, 200);

		time.advance(1000);
		assert.equal(output.lines('bob').length, 15, 'five more after one second');
		time.advance(2000);
		const lines = output.lines('bob');
		assert.deepEqual(
			lines.map((line) => line.text),
			Array.from({length: 25}, (_, i) => `line ${i + 1}`),
		);
		// Released one every 200 ms after the burst.
		assert.deepEqual(
			lines.slice(10).map((line) => line.at - start),
			Array.from({length: 15}, (_, i) => 200 * (i + 1)),
		);
		// The sender's acknowledgements carry its refs, in order.
		assert.deepEqual(
			output.lines('alice').map((line) => line.ref),
			Array.from({length: 25}, (_, i) => `r${i + 1}`),
		);
		assert.equal(output.errors('alice').length, 1, 'still just the one notice');
		assert.equal(room.stats.rateLimited, 0, "the room's own limit never refused a released line");
		assert.equal(flood.queued(alice), 0);
		assert.equal(time.pending, 0);
	});

	it('keeps a sender at 12.5 lines a second against 5 a second slowed, not kicked, while the queue holds', () => {
		const {time, output, flood, alice, room} = setup(50);
		for (let n = 1; n <= 38; n++) {
			flood.submit(alice, say(n));
			time.advance(80);
		}
		assert.ok(room.isMember(alice));
		assert.ok(flood.queued(alice) > 0 && flood.queued(alice) <= 50);
		time.advance(10_000);
		assert.equal(output.lines('bob').length, 38);
		assert.deepEqual(output.disconnected, []);
	});

	it('kicks a member whose queue overflows, and drops what it held', () => {
		const {time, output, flood, alice, room} = setup(5);
		for (let n = 1; n <= 15; n++) flood.submit(alice, say(n)); // burst 10, queue 5: full
		assert.ok(room.isMember(alice));
		flood.submit(alice, say(16));
		assert.equal(room.isMember(alice), false);
		assert.deepEqual(output.disconnected, [{to: 'alice', reason: 'flooding'}]);
		const kick = output.seen
			.get('bob')!
			.map(({message}) => message)
			.find((message) => message.t === 'presence' && message.kind === 'kick');
		assert.equal(kick?.t === 'presence' && kick.reason, 'flooding');
		// Each line it held, and the one too many, is answered "not sent", so a client does not send it again.
		assert.deepEqual(
			output.errors('alice').flatMap((error) => (error.ref === undefined ? [] : [error.ref])),
			['r11', 'r12', 'r13', 'r14', 'r15', 'r16'],
		);
		time.advance(10_000);
		assert.equal(output.lines('bob').length, 10, 'nothing queued goes out after the kick');
		assert.equal(flood.stats.kicked, 1);
	});

	it('never holds pings, who, resends and reads, and keeps other requests behind queued lines', () => {
		const {time, output, flood, alice} = setup();
		for (let n = 1; n <= 12; n++) flood.submit(alice, say(n));
		flood.submit(alice, {t: 'ping', ts: 1});
		assert.ok(output.seen.get('alice')!.some(({message}) => message.t === 'pong'));
		flood.submit(alice, {t: 'history', before: 5, limit: 2});
		assert.ok(output.seen.get('alice')!.some(({message}) => message.t === 'history'));
		flood.submit(alice, {t: 'leave'});
		assert.equal(flood.queued(alice), 3);
		time.advance(400);
		assert.equal(output.lines('bob').length, 12, 'both lines out before the leave');
		const bobSaw = output.seen.get('bob')!.map(({message}) => message);
		const leave = bobSaw.findIndex((message) => message.t === 'presence' && message.kind === 'leave');
		const last = bobSaw.findIndex((message) => message.t === 'msg' && message.text === 'line 12');
		assert.ok(leave > last, 'the leave comes after the last line');
	});

	it('drops a retransmission of a line still queued (same ref)', () => {
		const {time, output, flood, alice} = setup();
		for (let n = 1; n <= 12; n++) flood.submit(alice, say(n));
		flood.submit(alice, say(12));
		assert.equal(flood.stats.duplicates, 1);
		time.advance(1000);
		assert.equal(output.lines('bob').length, 12);
	});

	it('tells the member again only after a quiet while', () => {
		const {time, output, flood, alice} = setup();
		for (let n = 1; n <= 11; n++) flood.submit(alice, say(n));
		time.advance(300);
		flood.submit(alice, say(12)); // the bucket is empty again: a new queue, but no second notice yet
		time.advance(300);
		assert.equal(output.errors('alice').length, 1);
		time.advance(10_000);
		for (let n = 13; n <= 23; n++) flood.submit(alice, say(n));
		assert.equal(output.errors('alice').length, 2);
	});
});
