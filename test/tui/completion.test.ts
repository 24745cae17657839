import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {
	commandNames,
	complete,
	nickCandidates,
	recentSpeakers,
	type CompletionSession,
	type EditState,
} from '../../source/tui/completion.js';
import {createLineState, reduceLine} from '../../source/tui/line-editor.js';
import {Scrollback} from '../../source/tui/scrollback.js';

const at = (value: string, cursor = value.length): EditState => ({value, cursor});
const candidates = {nicks: ['alice', 'Albert', 'bob', 'al[away]'], commands: commandNames()};

/** Presses Tab `times` times, carrying the session like the screen does; returns every line shown. */
function tabs(start: EditState, times: number, direction: 'forward' | 'backward' = 'forward'): string[] {
	const shown: string[] = [];
	let state = start;
	let session: CompletionSession | undefined;
	for (let index = 0; index < times; index++) {
		const result = complete(state, candidates, session, direction);
		session = result.session;
		state = result;
		shown.push(`${result.value}|${result.cursor}`);
	}
	return shown;
}

describe('completion', () => {
	it('completes a nick at the line start with ": " and elsewhere with a space', () => {
		const start = complete(at('bo'), candidates);
		assert.equal(start.value, 'bob: ');
		assert.equal(start.cursor, 5);
		const middle = complete(at('hi bo'), candidates);
		assert.equal(middle.value, 'hi bob ');
		assert.equal(middle.cursor, 7);
	});

	it('matches case-insensitively and writes the nick as it is spelled', () => {
		assert.equal(complete(at('BO'), candidates).value, 'bob: ');
		assert.equal(complete(at('thanks alb'), candidates).value, 'thanks Albert ');
	});

	it('cycles through the matches of the original prefix in the given order, wrapping around', () => {
		assert.deepEqual(tabs(at('al'), 4), ['alice: |7', 'Albert: |8', 'al[away]: |10', 'alice: |7']);
		assert.deepEqual(tabs(at('al'), 2, 'backward'), ['al[away]: |10', 'Albert: |8']);
	});

	it('starts afresh when the line changed since the last Tab (any other key ends the session)', () => {
		const first = complete(at('al'), candidates);
		assert.equal(first.value, 'alice: ');
		const typed = {value: 'alice: b', cursor: 8};
		const next = complete(typed, candidates, first.session);
		assert.equal(next.value, 'alice: bob ');
	});

	it('completes the word before the cursor and keeps the text after it', () => {
		const result = complete(at('bo is here', 2), candidates);
		assert.equal(result.value, 'bob: is here');
		assert.equal(result.cursor, 4, 'no second space before the existing one');
		const cycled = complete(at('x al y', 4), candidates);
		assert.equal(cycled.value, 'x alice y');
		const again = complete(cycled, candidates, cycled.session);
		assert.equal(again.value, 'x Albert y');
		assert.equal(again.cursor, 8);
	});

	it('completes /commands at the line start, never "//" escapes, and nicks after a command', () => {
		assert.equal(complete(at('/he'), candidates).value, '/help ');
		assert.equal(complete(at('/SE'), candidates).value, '/search ');
		assert.deepEqual(
			tabs(at('/cl'), 2).map((line) => line.split('|')[0]),
			['/clear ', '/close '],
		);
		assert.equal(complete(at('//he'), candidates).session, undefined);
		assert.equal(complete(at('/msg bo'), candidates).value, '/msg bob ');
		assert.equal(complete(at('say /he'), candidates).session, undefined, 'a /word mid-line is not a command');
	});

	it('leaves the line alone when nothing matches or nothing is typed', () => {
		for (const state of [at('zed'), at(''), at('hello '), at('  ')]) {
			const result = complete(state, candidates);
			assert.equal(result.value, state.value);
			assert.equal(result.cursor, state.cursor);
			assert.equal(result.session, undefined);
		}
	});

	it('handles non-Latin nicks and prefixes', () => {
		const result = complete(at('ÉL'), {nicks: ['élodie', 'Ωmega'], commands: []});
		assert.equal(result.value, 'élodie: ');
		assert.equal(complete(at('hi ω'), {nicks: ['Ωmega'], commands: []}).value, 'hi Ωmega ');
	});

	it('orders members by recent activity, then alphabetically, own nick last', () => {
		const log = new Scrollback(100, () => 0);
		const say = (from: string) =>
			log.append({kind: 'message', from, text: 'x', action: false, self: false, history: false});
		say('carol');
		say('Bob');
		say('zed'); // spoke, but has left: not offered
		log.append({kind: 'notice', text: 'noise'});
		say('carol');
		assert.deepEqual(recentSpeakers(log), ['carol', 'zed', 'Bob']);
		assert.deepEqual(nickCandidates(['me', 'bob', 'carol', 'dave', 'anna'], log, 'ME'), [
			'carol',
			'bob',
			'anna',
			'dave',
			'me',
		]);
	});

	it('lists command names before aliases, without symbols', () => {
		const names = commandNames();
		assert.ok(names.indexOf('help') < names.indexOf('dm'));
		assert.ok(names.includes('search'));
		assert.ok(!names.includes('?'));
	});

	it('feeds the line editor through its replace action', () => {
		let line = reduceLine(createLineState(), {type: 'insert', text: 'hi bo'});
		const result = complete(line, candidates);
		line = reduceLine(line, {type: 'replace', value: result.value, cursor: result.cursor});
		assert.equal(line.value, 'hi bob ');
		assert.equal(line.cursor, 7);
	});
});
