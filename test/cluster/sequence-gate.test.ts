// The cluster's ordering gate without sockets or Redis: events in any order
// come out in seq order exactly once; a gap is filled from the "store" after
// the gap bound; duplicates and stale events are dropped.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {SequenceGate} from '../../server/cluster/sequence-gate.js';
import {waitFor} from '../helpers/wait.js';

type Event = {seq: number; from: string};
const event = (seq: number, from = 'broker'): Event => ({seq, from});

function gate(next: number, stored: Event[] = [], gapMs = 20) {
	const released: Event[] = [];
	const fills: number[] = [];
	let filled = 0;
	const g = new SequenceGate<Event>({
		next,
		gapMs,
		release: (e) => released.push(e),
		fill: async (after) => {
			fills.push(after);
			return stored.filter((e) => e.seq > after).slice(0, 3); // pages of 3
		},
		onFilled: (count) => (filled += count),
	});
	return {g, released, fills, filled: () => filled};
}

describe('the sequence gate', () => {
	it('releases events in seq order whatever order they arrive in', () => {
		const {g, released} = gate(1);
		for (const seq of [3, 1, 5, 2, 4]) g.offer(event(seq));
		assert.deepEqual(
			released.map((e) => e.seq),
			[1, 2, 3, 4, 5],
		);
		assert.equal(g.next, 6);
		assert.equal(g.waiting, 0);
		g.close();
	});

	it('drops duplicates and events older than the next expected', () => {
		const {g, released} = gate(10);
		g.offer(event(9)); // before the room opened: the store had it already
		g.offer(event(10));
		g.offer(event(10, 'again'));
		g.offer(event(12));
		g.offer(event(12, 'again'));
		g.offer(event(11));
		assert.deepEqual(
			released.map((e) => `${e.seq}:${e.from}`),
			['10:broker', '11:broker', '12:broker'],
		);
		assert.equal(g.duplicates, 3);
		g.close();
	});

	it('fills a gap the broker never closes from the store, then releases what waited behind it', async () => {
		const stored = [1, 2, 3, 4, 5, 6, 7].map((seq) => event(seq, 'store'));
		const {g, released, fills, filled} = gate(1, stored);
		g.offer(event(1));
		g.offer(event(7)); // 2…6 lost on the broker
		assert.deepEqual(
			released.map((e) => e.seq),
			[1],
		);
		await waitFor(() => g.next === 8 || undefined, {what: 'the gap filled'});
		assert.deepEqual(
			released.map((e) => e.seq),
			[1, 2, 3, 4, 5, 6, 7],
		);
		assert.equal(released.at(-1)?.from, 'broker', 'seq 7 came from the broker, once');
		assert.equal(filled(), 5);
		assert.ok(fills.length >= 2, 'pages were read until the gap closed');
		g.close();
	});

	it('does not go to the store when the broker brings the missing event within the bound', async () => {
		const {g, released, fills} = gate(1, [], 60_000);
		g.offer(event(2));
		g.offer(event(1));
		assert.deepEqual(
			released.map((e) => e.seq),
			[1, 2],
		);
		assert.equal(fills.length, 0);
		g.close();
	});

	it('catches up on a head it heard of (events published while it did not listen)', async () => {
		const stored = [1, 2, 3].map((seq) => event(seq, 'store'));
		const {g, released} = gate(1, stored);
		g.heardOf(3);
		await waitFor(() => g.next === 4 || undefined, {what: 'the head read'});
		assert.deepEqual(
			released.map((e) => e.seq),
			[1, 2, 3],
		);
		g.offer(event(3)); // the late broker copy
		assert.equal(released.length, 3);
		g.close();
	});
});
