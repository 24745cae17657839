// The room's history ring: the last N sequenced events, by sequence number.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {HistoryRing} from '../../server/room/history-ring.js';

const filled = (capacity: number, upTo: number) => {
	const ring = new HistoryRing<{seq: number; text: string}>(capacity);
	for (let seq = 1; seq <= upTo; seq++) ring.add({seq, text: `m${seq}`});
	return ring;
};

describe('HistoryRing', () => {
	it('finds what it holds by sequence number', () => {
		const ring = filled(4, 3);
		assert.equal(ring.get(2)?.text, 'm2');
		assert.equal(ring.get(4), undefined, 'not yet added');
		assert.equal(ring.get(0), undefined);
	});

	it('keeps only the newest `capacity` events', () => {
		const ring = filled(4, 10);
		assert.deepEqual(
			[6, 7, 8, 9, 10].map((seq) => ring.get(seq)?.text),
			[undefined, 'm7', 'm8', 'm9', 'm10'],
		);
		assert.equal(ring.get(3), undefined, 'an old number whose slot was reused is not confused with it');
	});

	it('returns the held part of a range, in order', () => {
		const ring = filled(4, 10);
		assert.deepEqual(
			ring.range(1, 10).map((e) => e.seq),
			[7, 8, 9, 10],
		);
		assert.deepEqual(
			ring.range(8, 9).map((e) => e.seq),
			[8, 9],
		);
		assert.deepEqual(ring.range(11, 20), [], 'nothing beyond the newest');
		assert.deepEqual(ring.range(5, 4), [], 'an empty range');
	});

	it('skips gaps in what was added', () => {
		const ring = new HistoryRing<{seq: number}>(8);
		for (const seq of [1, 2, 5, 6]) ring.add({seq});
		assert.deepEqual(
			ring.range(1, 6).map((e) => e.seq),
			[1, 2, 5, 6],
		);
	});
});
