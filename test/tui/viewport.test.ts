import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {Scrollback, type LogEntry} from '../../source/tui/scrollback.js';
import {computeViewport, RowCache, rowsAfter} from '../../source/tui/viewport.js';
import {wrapText} from '../../source/tui/wrap.js';

const layout = (entry: LogEntry, width: number): string[] =>
	wrapText(entry.kind === 'notice' ? entry.text : '?', width);
const texts = (rows: readonly {row: string}[]): string[] => rows.map((visible) => visible.row);

function logOf(...lines: string[]): Scrollback {
	const log = new Scrollback();
	for (const text of lines) log.append({kind: 'notice', text});
	return log;
}

describe('viewport', () => {
	it('shows the newest rows at offset 0', () => {
		const view = computeViewport(logOf('one', 'two', 'three', 'four'), new RowCache(layout), {
			width: 20,
			height: 2,
			offset: 0,
		});
		assert.deepEqual(texts(view.rows), ['three', 'four']);
		assert.equal(view.atBottom, true);
		assert.equal(view.atTop, false);
	});

	it('counts the offset in wrapped rows and can start inside an entry', () => {
		const log = logOf('aaaa bbbb cccc', 'dd', 'ee');
		const view = computeViewport(log, new RowCache(layout), {width: 5, height: 2, offset: 2});
		assert.deepEqual(texts(view.rows), ['bbbb', 'cccc']);
		assert.deepEqual(
			view.rows.map((visible) => visible.part),
			[1, 2],
		);
	});

	it('clamps an offset past the top and says so', () => {
		const log = logOf('one', 'two', 'three');
		const view = computeViewport(log, new RowCache(layout), {width: 20, height: 2, offset: 50});
		assert.deepEqual(texts(view.rows), ['one', 'two']);
		assert.equal(view.offset, 1);
		assert.equal(view.atTop, true);
	});

	it('returns fewer rows than the height for a short log', () => {
		const view = computeViewport(logOf('only'), new RowCache(layout), {width: 20, height: 5, offset: 0});
		assert.deepEqual(texts(view.rows), ['only']);
		assert.equal(view.atTop, true);
	});

	it('wraps only the entries it shows, even with 10,000 of them', () => {
		const log = new Scrollback();
		for (let index = 0; index < 10_000; index++)
			log.append({kind: 'notice', text: `message number ${index}`});
		const cache = new RowCache(layout);
		const view = computeViewport(log, cache, {width: 12, height: 20, offset: 0});
		assert.equal(view.rows.length, 20);
		assert.ok(cache.wrapCount <= 20, `wrapped ${cache.wrapCount} entries`);
		assert.equal(view.rows.at(-1)?.row, 'number 9999');

		computeViewport(log, cache, {width: 12, height: 20, offset: 0});
		assert.ok(cache.wrapCount <= 20, 'a second draw reuses the cache');

		const before = cache.wrapCount;
		computeViewport(log, cache, {width: 12, height: 20, offset: 40});
		assert.ok(
			cache.wrapCount - before <= 20,
			`scrolling a page wraps about a page, not the log (${cache.wrapCount - before})`,
		);

		computeViewport(log, cache, {width: 30, height: 20, offset: 0});
		assert.ok(cache.wrapCount - before <= 40, 'a new width re-wraps only what shows');
	});

	it('re-wraps an entry that was replaced', () => {
		const log = new Scrollback();
		log.addPending('r', 'me', 'x');
		const cache = new RowCache((entry: LogEntry) => [entry.kind]);
		assert.deepEqual(texts(computeViewport(log, cache, {width: 10, height: 1, offset: 0}).rows), [
			'outgoing',
		]);
		log.acknowledge({kind: 'message', from: 'me', text: 'x', action: false, self: true, history: false});
		assert.deepEqual(texts(computeViewport(log, cache, {width: 10, height: 1, offset: 0}).rows), ['message']);
	});

	it('counts the rows added after an id', () => {
		const log = logOf('a');
		const last = log.newest()!.id;
		log.append({kind: 'notice', text: 'bbbb cccc'});
		log.append({kind: 'notice', text: 'd'});
		assert.equal(rowsAfter(log, new RowCache(layout), 5, last), 3);
	});
});
