// The sequence tracker's gap repair, without sockets: every gap is asked for
// at once and once, a resend that arrives piece by piece is not asked for
// again, and what stays missing becomes a lost count while held items survive.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {SequenceTracker} from '../../source/client/sequence-tracker.js';

function tracker() {
	let now = 0;
	const delivered: number[] = [];
	const lost: number[] = [];
	const requests: Array<[number, number]> = [];
	const t = new SequenceTracker<number>(1, {
		deliver: (seq) => delivered.push(seq),
		lost: (count) => lost.push(count),
		requestResend: (from, to) => requests.push([from, to]),
		now: () => now,
	});
	return {t, delivered, lost, requests, advance: (ms: number) => (now += ms)};
}

describe('sequence tracker gap repair', () => {
	it('asks for every gap at once, and for each only once while its resend arrives', () => {
		const {t, delivered, requests} = tracker();
		for (const seq of [1, 4, 5, 8, 9]) t.accept(seq, seq);
		assert.deepEqual(requests, [
			[2, 3],
			[6, 7],
		]);
		for (const seq of [2, 3, 6, 7]) t.accept(seq, seq);
		assert.deepEqual(requests.length, 2, 'the resent items fill the gaps without new requests');
		assert.deepEqual(delivered, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
		assert.equal(t.waiting, false);
	});

	it('re-asks only what is still missing, then counts it lost and delivers what it holds', () => {
		const {t, delivered, lost, requests, advance} = tracker();
		for (const seq of [1, 10]) t.accept(seq, seq);
		t.accept(5, 5); // part of the resend came back
		for (let i = 0; i < 4; i++) {
			advance(500);
			t.tick();
		}
		assert.deepEqual(requests[0], [2, 9]);
		assert.deepEqual(requests.slice(1, 3), [
			[2, 4],
			[6, 9],
		]);
		assert.deepEqual(delivered, [1, 5, 10], 'the held item inside the lost gap is still shown');
		assert.equal(
			lost.reduce((a, b) => a + b, 0),
			7,
		);
	});
});
