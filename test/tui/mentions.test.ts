import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {BEL, bell, createBell, hasMention, mentions, shouldRing} from '../../source/tui/mentions.js';

const texts = (text: string, nick: string): string[] =>
	mentions(text, nick).map((range) => text.slice(range.start, range.end));

describe('mentions', () => {
	it('finds whole-word mentions, case-insensitively, with their ranges', () => {
		assert.deepEqual(mentions('hey bob, BOB!', 'bob'), [
			{start: 4, end: 7},
			{start: 9, end: 12},
		]);
		assert.deepEqual(texts('@Bob: (bob) "bob" bob.', 'bob'), ['Bob', 'bob', 'bob', 'bob']);
	});

	it('does not count a longer nick or a word containing the nick', () => {
		for (const text of ['bobby', 'kebob', 'bob_', 'bob-2', 'x.bob', 'bob.smith', 'bob[away]', 'bob2', 'bobé'])
			assert.deepEqual(mentions(text, 'bob'), [], text);
		assert.deepEqual(mentions('bobe\u0301', 'bobe'), [], 'a combining accent continues the word');
	});

	it('escapes nick punctuation that means something in a RegExp', () => {
		assert.deepEqual(texts('hi [m]-x^`{a}| and [m]-x^`{a}|!', '[m]-x^`{a}|'), ['[m]-x^`{a}|', '[m]-x^`{a}|']);
		assert.deepEqual(mentions('a.b is not axb', 'a.b'), [{start: 0, end: 3}]);
		assert.deepEqual(mentions('axb', 'a.b'), []);
		assert.deepEqual(texts('ping j.r. now', 'j.r.'), ['j.r.']);
	});

	it('is Unicode-aware: other scripts, case folding, astral characters', () => {
		assert.deepEqual(texts('Привет, ВАСЯ и вася', 'Вася'), ['ВАСЯ', 'вася']);
		assert.deepEqual(texts('ΣΟΦΙΑ σοφια', 'σοφια'), ['ΣΟΦΙΑ', 'σοφια']);
		assert.deepEqual(texts('😀bob😀 and 山田さん', 'bob'), ['bob']);
		assert.deepEqual(texts('山田 said hi', '山田'), ['山田']);
		assert.deepEqual(
			mentions('🙂 bob', 'bob'),
			[{start: 3, end: 6}],
			'offsets are UTF-16, as String.slice takes them',
		);
	});

	it('finds nothing without a nick or text', () => {
		assert.deepEqual(mentions('bob', undefined), []);
		assert.deepEqual(mentions('bob', ''), []);
		assert.deepEqual(mentions('', 'bob'), []);
		assert.equal(hasMention('hi BOB', 'bob'), true);
		assert.equal(hasMention('hi bobby', 'bob'), false);
	});

	it('rings for live mentions and direct messages from others only', () => {
		const message = {
			type: 'message',
			seq: 1,
			ts: 0,
			from: 'alice',
			text: 'bob: look',
			action: false,
			self: false,
			history: false,
		} as const;
		assert.equal(shouldRing(message, 'bob'), true);
		assert.equal(shouldRing({...message, text: 'nothing here'}, 'bob'), false);
		assert.equal(shouldRing({...message, history: true}, 'bob'), false);
		assert.equal(shouldRing({...message, self: true}, 'bob'), false);
		assert.equal(shouldRing(message, undefined), false);
		assert.equal(
			shouldRing({type: 'direct', ts: 0, from: 'alice', to: 'bob', text: 'psst', self: false}, 'bob'),
			true,
		);
		assert.equal(
			shouldRing({type: 'direct', ts: 0, from: 'bob', to: 'alice', text: 'psst', self: true}, 'bob'),
			false,
		);
		assert.equal(shouldRing({type: 'presence', ts: 0, kind: 'join', nick: 'bob'}, 'bob'), false);
	});

	it('writes BEL only when enabled, at most once per interval, and never throws', () => {
		const written: string[] = [];
		const stream = {write: (chunk: string) => written.push(chunk)};
		assert.equal(bell(stream, false), false);
		assert.equal(bell(stream, true), true);
		assert.deepEqual(written, [BEL]);
		assert.equal(
			bell(
				{
					write: () => {
						throw new Error('EPIPE');
					},
				},
				true,
			),
			false,
		);

		let now = 10_000;
		const ringer = createBell(stream, {enabled: true, minIntervalMs: 1000, now: () => now});
		assert.equal(ringer.ring(), true);
		now += 500;
		assert.equal(ringer.ring(), false);
		now += 600;
		assert.equal(ringer.ring(), true);
		assert.equal(written.length, 3);
		const silent = createBell(stream, {enabled: false});
		assert.equal(silent.ring(), false);
		assert.equal(written.length, 3);
	});
});
