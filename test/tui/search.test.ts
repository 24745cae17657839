import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import type {Key} from 'ink';
import {featureActionForKey, searchActionForKey, NO_KEY} from '../../source/tui/key-bindings.js';
import {layoutEntry, type LogRow} from '../../source/tui/log-format.js';
import {parseInput} from '../../source/tui/commands.js';
import {runCommand, type CommandContext} from '../../source/tui/run-command.js';
import {Scrollback} from '../../source/tui/scrollback.js';
import {
	currentMatchId,
	findMatches,
	matchRanges,
	offsetToShow,
	openSearch,
	reduceSearch,
	searchStatusText,
	type SearchAction,
	type SearchState,
} from '../../source/tui/search.js';
import {computeViewport, RowCache} from '../../source/tui/viewport.js';
import {FakeRoomClient} from './helpers/fake-room-client.js';

const key = (flags: Partial<Key> = {}): Key => ({...NO_KEY, ...flags});

function roomLog(): Scrollback {
	const log = new Scrollback(1000, () => Date.UTC(2026, 0, 1, 12));
	const say = (from: string, text: string) =>
		log.append({kind: 'message', from, text, action: false, self: false, history: false});
	say('alice', 'The deploy is done'); // id 1
	say('bob', 'who broke the build?'); // 2
	log.append({kind: 'presence', presence: 'join', nick: 'deployer'}); // 3
	say('carol', 'DEPLOY again please'); // 4
	log.append({kind: 'notice', text: 'connected'}); // 5
	say('alice', 'İstanbul deploy: ok'); // 6
	return log;
}

const run = <S>(state: SearchState<S>, log: Scrollback, ...actions: SearchAction[]): SearchState<S> =>
	actions.reduce((current: SearchState<S>, action) => reduceSearch(current, action, log), state);

describe('search', () => {
	it('finds entries case-insensitively, newest first, in what each entry shows', () => {
		const log = roomLog();
		assert.deepEqual(findMatches(log, 'deploy'), [6, 4, 3, 1]);
		assert.deepEqual(findMatches(log, 'BUILD?'), [2]);
		assert.deepEqual(findMatches(log, 'alice'), [], 'the nick in the gutter is not searched');
		assert.deepEqual(findMatches(log, ''), []);
		assert.deepEqual(
			findMatches(log, 'i̇stanbul'),
			[],
			'no false matches from case mapping that changes length',
		);
		assert.deepEqual(findMatches(log, 'İSTANBUL'), [6]);
	});

	it('returns match ranges in the original text, even around characters whose case mapping changes length', () => {
		assert.deepEqual(matchRanges('İstanbul deploy', 'DEPLOY'), [{start: 9, end: 15}]);
		assert.deepEqual(matchRanges('a.b a.b', '.'), [
			{start: 1, end: 2},
			{start: 5, end: 6},
		]);
		assert.deepEqual(matchRanges('abc', ''), []);
	});

	it('steps to older and newer matches and says where it is', () => {
		const log = roomLog();
		let state = openSearch(log, 'saved-scroll', 'deploy');
		assert.equal(currentMatchId(state), 6);
		assert.equal(searchStatusText(state), 'match 1/4');
		state = run(state, log, {type: 'older'}, {type: 'older'});
		assert.equal(currentMatchId(state), 3);
		assert.equal(searchStatusText(state), 'match 3/4');
		state = run(state, log, {type: 'older'}, {type: 'older'});
		assert.equal(currentMatchId(state), 1);
		assert.equal(searchStatusText(state), 'match 4/4 (no older match)');
		state = run(state, log, {type: 'newer'});
		assert.equal(currentMatchId(state), 3);
		assert.equal(searchStatusText(state), 'match 3/4');
		state = run(state, log, {type: 'newer'}, {type: 'newer'}, {type: 'newer'});
		assert.equal(searchStatusText(state), 'match 1/4 (no newer match)');
	});

	it('edits the query incrementally, staying at the current match or moving back in time', () => {
		const log = roomLog();
		let state = openSearch(log, 'saved');
		assert.equal(searchStatusText(state), '');
		assert.equal(currentMatchId(state), undefined);
		state = run(state, log, {type: 'type', text: 'd'}, {type: 'type', text: 'e'});
		assert.equal(currentMatchId(state), 6);
		state = run(state, log, {type: 'older'}); // 4: "DEPLOY again please"
		assert.equal(currentMatchId(state), 4);
		state = run(state, log, {type: 'type', text: 'ploy a'});
		assert.equal(state.query, 'deploy a');
		assert.equal(currentMatchId(state), 4, 'still matches: stays');
		state = run(state, log, {type: 'backspace'}, {type: 'backspace'}, {type: 'type', text: ' is'});
		assert.equal(state.query, 'deploy is');
		assert.equal(currentMatchId(state), 1, 'no longer matches: the next older one');
		state = run(state, log, {type: 'type', text: 'zzz'});
		assert.equal(searchStatusText(state), 'no matches');
		assert.equal(currentMatchId(state), undefined);
		state = run(state, log, {type: 'delete-word'});
		assert.equal(state.query, 'deploy ');
		state = run(state, log, {type: 'clear-query'});
		assert.equal(state.query, '');
		state = run(state, log, {type: 'set-query', query: 'build\n'});
		assert.equal(state.query, 'build ');
		assert.equal(currentMatchId(state), undefined, 'the newline became a space, which is not in "build?"');
	});

	it('accepts (keep the view) or cancels (hand back what was saved), then ignores further actions', () => {
		const log = roomLog();
		const accepted = run(openSearch(log, {offset: 7}, 'deploy'), log, {type: 'older'}, {type: 'accept'});
		assert.equal(accepted.status, 'accepted');
		assert.equal(currentMatchId(accepted), 4);
		const cancelled = run(openSearch(log, {offset: 7}, 'deploy'), log, {type: 'cancel'});
		assert.equal(cancelled.status, 'cancelled');
		assert.deepEqual(cancelled.saved, {offset: 7});
		assert.equal(reduceSearch(cancelled, {type: 'older'}, log), cancelled);
	});

	it('refreshes when the log changes, keeping the current match', () => {
		const log = roomLog();
		let state = run(openSearch(log, 'saved', 'deploy'), log, {type: 'older'});
		assert.equal(currentMatchId(state), 4);
		log.append({kind: 'message', from: 'dan', text: 'deploy #2', action: false, self: false, history: false});
		state = reduceSearch(state, {type: 'refresh'}, log);
		assert.equal(currentMatchId(state), 4);
		assert.equal(searchStatusText(state), 'match 3/5');
		assert.equal(reduceSearch(state, {type: 'refresh'}, log), state, 'unchanged log: same state');
		log.clear();
		state = reduceSearch(state, {type: 'refresh'}, log);
		assert.equal(searchStatusText(state), 'no matches');
	});

	it('computes the scroll offset that brings a match into view', () => {
		const log = new Scrollback(1000, () => 0);
		for (let index = 1; index <= 40; index++)
			log.append({
				kind: 'message',
				from: 'bob',
				text: `line ${index}`,
				action: false,
				self: false,
				history: false,
			});
		const cache = new RowCache<LogRow>(layoutEntry);
		const height = 9;
		for (const id of [1, 10, 25, 38, 40]) {
			const offset = offsetToShow(log, cache, 80, height, id);
			assert.ok(offset !== undefined);
			const view = computeViewport(log, cache, {width: 80, height, offset});
			assert.ok(
				view.rows.some((row) => row.entry.id === id),
				`entry ${id} visible at offset ${offset}`,
			);
		}
		assert.equal(offsetToShow(log, cache, 80, height, 40), 0, 'the newest line needs no scrolling');
		assert.equal(offsetToShow(log, cache, 80, height, 20), 16, '20 rows below it, centred in 9 rows');
		assert.equal(offsetToShow(log, cache, 80, height, 999), undefined);
		const tall = new Scrollback(10, () => 0);
		tall.append({
			kind: 'message',
			from: 'bob',
			text: Array.from({length: 20}, (_, n) => `row ${n}`).join('\n'),
			action: false,
			self: false,
			history: false,
		});
		tall.append({kind: 'notice', text: 'after'});
		const tallCache = new RowCache<LogRow>(layoutEntry);
		const offset = offsetToShow(tall, tallCache, 80, 5, 1)!;
		const rows = computeViewport(tall, tallCache, {width: 80, height: 5, offset}).rows;
		assert.equal(rows[0]?.part, 0, 'a message taller than the view shows from its first row');
	});

	it('maps keys: Ctrl+R opens search, and inside it steps, edits, accepts and cancels', () => {
		assert.deepEqual(featureActionForKey('r', key({ctrl: true})), {type: 'search'});
		assert.deepEqual(featureActionForKey('', key({tab: true})), {type: 'complete', direction: 'forward'});
		assert.deepEqual(featureActionForKey('', key({tab: true, shift: true})), {
			type: 'complete',
			direction: 'backward',
		});
		assert.equal(featureActionForKey('a', key()), undefined);
		assert.deepEqual(searchActionForKey('r', key({ctrl: true})), {type: 'older'});
		assert.deepEqual(searchActionForKey('', key({upArrow: true})), {type: 'older'});
		assert.deepEqual(searchActionForKey('s', key({ctrl: true})), {type: 'newer'});
		assert.deepEqual(searchActionForKey('r', key({ctrl: true, shift: true})), {type: 'newer'});
		assert.deepEqual(searchActionForKey('', key({downArrow: true})), {type: 'newer'});
		assert.deepEqual(searchActionForKey('', key({return: true})), {type: 'accept'});
		assert.deepEqual(searchActionForKey('', key({escape: true})), {type: 'cancel'});
		assert.deepEqual(searchActionForKey('g', key({ctrl: true})), {type: 'cancel'});
		assert.deepEqual(searchActionForKey('', key({backspace: true})), {type: 'backspace'});
		assert.deepEqual(searchActionForKey('w', key({ctrl: true})), {type: 'delete-word'});
		assert.deepEqual(searchActionForKey('u', key({ctrl: true})), {type: 'clear-query'});
		assert.deepEqual(searchActionForKey('é', key()), {type: 'type', text: 'é'});
		assert.equal(searchActionForKey('x', key({ctrl: true})), undefined);
		assert.equal(searchActionForKey('', key({tab: true})), undefined);
	});

	it('parses /search TEXT and hands it to the screen, or says search is unavailable', () => {
		assert.deepEqual(parseInput('/search  deploy failed '), {kind: 'search', query: 'deploy failed'});
		assert.deepEqual(parseInput('/find x'), {kind: 'search', query: 'x'});
		assert.deepEqual(parseInput('/search'), {kind: 'search', query: ''});
		const asked: string[] = [];
		const errors: string[] = [];
		// Only what /search touches; the cast keeps this test independent of the other commands' hooks.
		const base = {
			client: new FakeRoomClient(),
			notice: () => undefined,
			error: (text: string) => errors.push(text),
			clearLog: () => undefined,
			quit: () => undefined,
		} as unknown as CommandContext;
		runCommand({kind: 'search', query: 'deploy'}, {...base, search: (query) => asked.push(query)});
		assert.deepEqual(asked, ['deploy']);
		runCommand({kind: 'search', query: 'deploy'}, base);
		assert.deepEqual(errors, ['search is not available here']);
	});
});
