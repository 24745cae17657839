// The client's sequence tracker: in-order delivery over a lossy transport,
// gap repair by resend requests, and explicit "lost" counts when repair fails.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {SequenceTracker, type SequenceTrackerOptions} from '../../source/client/sequence-tracker.js';

function tracker(next = 1, options: Partial<SequenceTrackerOptions<string>> = {}) {
	const events: string[] = [];
	const clock = {time: 0};
	const seq = new SequenceTracker<string>(next, {
		deliver: (item) => events.push(item),
		lost: (count) => events.push(`lost ${count}`),
		requestResend: (from, to) => events.push(`resend ${from}-${to}`),
		now: () => clock.time,
		retryMs: 400,
		maxTries: 3,
		...options,
	});
	return {seq, events, clock};
}

describe('SequenceTracker', () => {
	it('delivers in order and drops duplicates', () => {
		const {seq, events} = tracker();
		for (const n of [1, 2, 2, 1, 3]) seq.accept(n, `m${n}`);
		assert.deepEqual(events, ['m1', 'm2', 'm3']);
		assert.equal(seq.next, 4);
		assert.equal(seq.waiting, false);
	});

	it('holds what comes after a gap, asks for the gap, and delivers all once it is filled', () => {
		const {seq, events} = tracker();
		seq.accept(1, 'm1');
		seq.accept(4, 'm4');
		seq.accept(5, 'm5');
		assert.deepEqual(events, ['m1', 'resend 2-3']);
		assert.equal(seq.waiting, true);
		seq.accept(3, 'm3');
		assert.deepEqual(events.slice(2), [], 'still waiting for 2');
		seq.accept(2, 'm2');
		assert.deepEqual(events.slice(2), ['m2', 'm3', 'm4', 'm5']);
		assert.equal(seq.waiting, false);
	});

	it('reports what the server says it lost, then goes on', () => {
		const {seq, events} = tracker();
		seq.accept(1, 'm1');
		seq.accept(5, 'm5');
		assert.deepEqual(events, ['m1', 'resend 2-4'], 'the whole gap, in one request');
		seq.markLost(2, 3);
		assert.deepEqual(events.slice(2), ['lost 2'], 'at once; 4 was asked for with the gap, not again');
		seq.accept(4, 'm4');
		assert.deepEqual(events.slice(3), ['m4', 'm5']);
		seq.markLost(1, 3); // old news
		assert.deepEqual(events.slice(5), []);
	});

	it('asks again after retryMs and declares the gap lost after maxTries', () => {
		const {seq, events, clock} = tracker();
		seq.accept(1, 'm1');
		seq.accept(4, 'm4');
		seq.tick();
		assert.deepEqual(events, ['m1', 'resend 2-3'], 'not before retryMs');
		clock.time += 400;
		seq.tick();
		clock.time += 400;
		seq.tick();
		assert.deepEqual(events.slice(2), ['resend 2-3', 'resend 2-3']);
		clock.time += 400;
		seq.tick();
		assert.deepEqual(events.slice(4), ['lost 2', 'm4'], 'three tries, then lost: the stream goes on');
		assert.equal(seq.waiting, false);
	});

	it('treats a latest number beyond what arrived as a gap at the tail', () => {
		const {seq, events, clock} = tracker();
		seq.accept(1, 'm1');
		seq.observeLatest(1);
		assert.deepEqual(events, ['m1'], 'nothing missing');
		seq.observeLatest(3);
		assert.deepEqual(events.slice(1), ['resend 2-3']);
		seq.accept(2, 'm2');
		assert.equal(seq.waiting, true, 'still missing 3');
		seq.accept(3, 'm3');
		assert.equal(seq.waiting, false);
		seq.observeLatest(5);
		for (let i = 0; i < 4; i++) {
			clock.time += 400;
			seq.tick();
		}
		assert.deepEqual(events.slice(-2), ['resend 4-5', 'lost 2']);
	});

	it('bounds what it holds: past maxHeld the oldest gap is lost at once', () => {
		const {seq, events} = tracker(1, {maxHeld: 3});
		for (const n of [3, 4, 5]) seq.accept(n, `m${n}`);
		assert.deepEqual(events, ['resend 1-2']);
		seq.accept(6, 'm6');
		assert.deepEqual(events.slice(1), ['lost 2', 'm3', 'm4', 'm5', 'm6']);
	});

	it('starts over from a new number on reset', () => {
		const {seq, events} = tracker();
		seq.accept(3, 'm3');
		seq.reset(10);
		seq.accept(10, 'm10');
		assert.deepEqual(events, ['resend 1-2', 'm10']);
		assert.equal(seq.waiting, false);
	});
});
