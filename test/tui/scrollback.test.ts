import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {Scrollback, type LogEntry} from '../../source/tui/scrollback.js';

const message = (text: string, self = false) =>
	({kind: 'message', from: self ? 'me' : 'bob', text, action: false, self, history: false, ts: 1}) as const;

describe('scrollback', () => {
	it('gives growing ids and keeps at most `cap` entries', () => {
		const log = new Scrollback(3);
		for (const text of ['a', 'b', 'c', 'd', 'e']) log.append({kind: 'notice', text});
		assert.equal(log.length, 3);
		assert.deepEqual(
			log.toArray().map((entry) => entry.id),
			[3, 4, 5],
		);
		assert.equal(new Scrollback().cap, 10_000);
	});

	it('stamps entries with the current time unless given one', () => {
		const log = new Scrollback(10, () => 42);
		assert.equal(log.append({kind: 'notice', text: 'x'}).ts, 42);
		assert.equal(log.append({kind: 'notice', text: 'x', ts: 7}).ts, 7);
	});

	it('replaces a pending line in place when its echo arrives', () => {
		const log = new Scrollback();
		log.append(message('before'));
		const pending = log.addPending('r1', 'me', 'hi there');
		log.append(message('after'));
		assert.equal(log.acknowledge(message('hi there', true)), true);
		const entry = log.at(1);
		assert.equal(entry?.kind, 'message');
		assert.equal(entry?.id, pending.id);
		assert.equal(log.length, 3);
		assert.equal(log.acknowledge(message('hi there', true)), false, 'only once');
	});

	it('acknowledges identical texts in the order they were sent', () => {
		const log = new Scrollback();
		log.addPending('r1', 'me', 'same');
		log.addPending('r2', 'me', 'same');
		log.acknowledge(message('same', true));
		assert.deepEqual(
			log.toArray().map((entry) => entry.kind),
			['message', 'outgoing'],
		);
		assert.equal(log.fail('r2', 'rate-limited', 'slow down'), true);
		const failed = log.at(1);
		assert.ok(failed?.kind === 'outgoing' && failed.status === 'failed' && failed.reason === 'slow down');
	});

	it('matches direct echoes by recipient and text', () => {
		const log = new Scrollback();
		log.addPending('r1', 'me', 'psst', 'carol');
		const echo = {kind: 'direct', from: 'me', to: 'dave', text: 'psst', self: true} as const;
		assert.equal(log.acknowledge(echo), false);
		assert.equal(log.acknowledge({...echo, to: 'carol'}), true);
		assert.equal(log.at(0)?.kind, 'direct');
	});

	it('reports an unknown ref on failure', () => {
		assert.equal(new Scrollback().fail('nope', 'timeout', 'timed out'), false);
	});

	it('clears and counts chat lines after an id', () => {
		const log = new Scrollback();
		const first = log.append(message('a'));
		log.append({kind: 'notice', text: 'n'});
		log.append(message('b'));
		log.append({kind: 'direct', from: 'x', to: 'me', text: 'c', self: false});
		assert.equal(log.countMessagesAfter(first.id), 2);
		const version = log.version;
		log.clear();
		assert.equal(log.length, 0);
		assert.ok(log.version > version);
		assert.ok(log.append({kind: 'notice', text: 'n'}).id > first.id, 'ids are never reused');
	});

	it('a full log drops its oldest lines one by one, across the compaction of dropped slots', () => {
		const cap = 100;
		const log = new Scrollback(cap);
		const textOf = (entry: LogEntry | undefined) =>
			entry !== undefined && 'text' in entry ? entry.text : undefined;
		log.addPending('early', 'me', 'trimmed before its echo');
		for (let n = 1; n <= 1000; n++) {
			if (n === 150) log.addPending('mid', 'me', 'kept');
			log.append(message(`line ${n}`));
			assert.equal(log.length, Math.min(n + (n >= 150 ? 2 : 1), cap));
			assert.equal(textOf(log.at(log.length - 1)), `line ${n}`);
			assert.equal(textOf(log.newest()), `line ${n}`);
			assert.equal(log.at(log.length), undefined);
			assert.equal(log.at(-1), undefined);
			const ids = log.toArray().map((entry) => entry.id);
			assert.deepEqual(
				ids,
				Array.from({length: ids.length}, (_, i) => ids[0]! + i),
				'contiguous',
			);
			assert.equal(log.at(0)?.id, ids[0]);
			// Dropped (before the slots are cut off) is gone, too.
			if (n === 110)
				assert.equal(log.fail('early', 'timeout', 'no echo'), false, 'a trimmed line is not found');
			if (n === 180) assert.equal(log.fail('mid', 'timeout', 'no echo'), true, 'a kept line is found by id');
		}
		assert.equal(log.countMessagesAfter(0), cap);
	});

	it('prepends an older page with ids below the oldest, keeps ids growing along the log, and knows its sequence numbers', () => {
		const log = new Scrollback(10);
		const numbered = (seq: number, self = false) => ({...message(`line ${seq}`, self), seq});
		log.append(numbered(20));
		log.addPending('r1', 'me', 'mine');
		log.append(numbered(21));
		assert.equal(log.oldestSeq(), 20);
		assert.equal(log.newestSeq(), 21);
		log.prepend([numbered(17), {kind: 'notice', text: 'no seq'}, numbered(18), numbered(19, true)]);
		const ids = log.toArray().map((entry) => entry.id);
		assert.deepEqual(
			ids,
			[...ids].sort((a, b) => a - b),
			'ids grow along the log',
		);
		assert.equal(new Set(ids).size, ids.length);
		assert.equal(log.oldestSeq(), 17);
		assert.equal(log.newestSeq(), 21);
		assert.equal(log.countMessagesAboveSeq(17), 3, '18, 20, 21 (19 is ours, the notice has none)');
		assert.equal(log.countMessagesAboveSeq(21), 0);
		assert.equal(log.acknowledge(message('mine', true)), true, 'pending lines are still found by id');
		// Past the cap the newest entries go: the reader is at the other end.
		log.prepend([numbered(10), numbered(11), numbered(12), numbered(13), numbered(14)]);
		assert.equal(log.length, 10);
		assert.equal(log.oldestSeq(), 10);
		assert.equal(log.newestSeq(), 20);
		log.append(numbered(22));
		assert.equal(log.length, 10, 'appending trims the oldest again');
		assert.equal(log.oldestSeq(), 11);
		assert.equal(log.newestSeq(), 22);
		const after = log.toArray().map((entry) => entry.id);
		assert.deepEqual(
			after,
			[...after].sort((a, b) => a - b),
		);
	});
});
