// The search keeps its matches up to date without searching the whole log
// again (a growing query re-tests only the earlier matches, a refresh only the
// new lines): whatever happens to the log, the result is the full search's.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {Scrollback} from '../../source/tui/scrollback.js';
import {findMatches, openSearch, reduceSearch, type SearchState} from '../../source/tui/search.js';

const say = (log: Scrollback, text: string, from = 'alice') =>
	log.append({kind: 'message', from, text, action: false, self: false, history: false});

function refreshed(state: SearchState<undefined>, log: Scrollback): SearchState<undefined> {
	const next = reduceSearch(state, {type: 'refresh'}, log);
	assert.deepEqual(next.matches, findMatches(log, next.query), `refresh of "${next.query}" = full search`);
	return next;
}

describe('incremental search', () => {
	it('narrows a growing query over the earlier matches, and widens a shorter one from scratch', () => {
		const log = new Scrollback(100);
		for (const text of ['Lazy dog', 'lazy cat', 'a LAZY DOG again', 'dog', 'lazy'] as const) say(log, text);
		let state = openSearch(log, undefined);
		for (const char of 'lazy d') {
			state = reduceSearch(state, {type: 'type', text: char}, log);
			assert.deepEqual(state.matches, findMatches(log, state.query), `"${state.query}"`);
		}
		assert.deepEqual(state.matches, [3, 1]);
		say(log, 'lazy dogs, newer than the last search');
		state = reduceSearch(state, {type: 'type', text: 'o'}, log);
		assert.deepEqual(state.matches, [6, 3, 1], 'a line newer than the last search is tested too');
		state = reduceSearch(state, {type: 'backspace'}, log);
		state = reduceSearch(state, {type: 'backspace'}, log);
		assert.deepEqual(state.matches, findMatches(log, 'lazy '));
	});

	it('a refresh adds new lines and drops those trimmed off the top or cleared', () => {
		const log = new Scrollback(5);
		say(log, 'build one');
		say(log, 'nothing');
		let state = openSearch(log, undefined, 'build');
		assert.deepEqual(state.matches, [1]);
		for (let n = 2; n <= 8; n++) {
			say(log, n % 2 === 0 ? `build ${n}` : 'other');
			state = refreshed(state, log);
		}
		assert.ok(!state.matches.includes(1), 'trimmed off the top');
		// Our own line acknowledged or failed in place keeps its text (and its match).
		log.addPending('r1', 'me', 'my build');
		state = refreshed(state, log);
		log.acknowledge({
			kind: 'message',
			from: 'me',
			text: 'my build',
			action: false,
			self: true,
			history: false,
		});
		state = refreshed(state, log);
		log.addPending('r2', 'me', 'build failing');
		log.fail('r2', 'timeout', 'not acknowledged');
		state = refreshed(state, log);
		log.clear();
		state = refreshed(state, log);
		assert.deepEqual(state.matches, []);
		say(log, 'build after clear');
		state = refreshed(state, log);
		assert.equal(state.matches.length, 1);
	});

	it('searches the text as shown: a control character shows as U+FFFD and is found as that', () => {
		const log = new Scrollback(10);
		say(log, 'ring\u0007bell');
		say(log, 'plain ringbell');
		assert.deepEqual(findMatches(log, '\uFFFD'), [1]);
		assert.deepEqual(findMatches(log, 'ring\uFFFDb'), [1]);
		assert.deepEqual(findMatches(log, 'ring\u0007'), [], 'the raw control character is not on screen');
		assert.deepEqual(findMatches(log, 'RINGBELL'), [2]);
	});
});
