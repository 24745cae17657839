import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {escapeForLog} from '../../server/log/escape.js';
import {rateLimitedLog} from '../../server/log/rate-limited-log.js';
import {confusableKey} from '../../source/protocol/skeleton.js';

describe('log escaping', () => {
	test('shows control, format and line-separator characters as escapes, quoted', () => {
		assert.equal(
			escapeForLog('a\nb\r\t\x1b[2J\x07\u009b\u2028\u200b\u202e"\\ é 😀'),
			String.raw`"a\nb\r\t\x1b[2J\x07\x9b\u2028\u200b\u202e\"\\ é 😀"`,
		);
	});

	test('cuts long text', () => {
		assert.equal(escapeForLog('x'.repeat(300), 5), '"xxxxx…"');
	});
});

describe('rate-limited log', () => {
	test('passes a burst, counts the rest, tells the count with the next line', () => {
		let now = 0;
		const lines: string[] = [];
		const log = rateLimitedLog((line) => lines.push(line), {perSecond: 2, now: () => now});
		for (let i = 0; i < 10; i++) log(`line ${i}`);
		assert.deepEqual(lines, ['line 0', 'line 1']);
		now += 500;
		log('later');
		assert.deepEqual(lines.at(-1), 'later (8 similar lines suppressed)');
	});
});

describe('look-alike names (UTS #39 skeleton)', () => {
	test('names that look alike share a key', () => {
		for (const [a, b] of [
			['bob', 'bоb'], // Cyrillic о
			['bob', 'b0b'],
			['alice', 'aIice'],
			['mallory', 'rnallory'],
			['Bob', 'bob'],
		])
			assert.equal(confusableKey(a as string), confusableKey(b as string), `${a} ~ ${b}`);
		assert.notEqual(confusableKey('bob'), confusableKey('rob'));
	});
});
