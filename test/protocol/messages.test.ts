// Message text rules: a multi-line message (pasted code, a list) is one
// message with "\n" in it; other control characters stay forbidden.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {sanitizeText, textProblem} from '../../source/protocol/messages.js';

describe('message text', () => {
	it('allows newlines and tabs inside a message', () => {
		assert.equal(textProblem('line one\nline two\n\n\tindented', 8192), undefined);
	});

	it('refuses carriage returns, escapes, other controls and bidi overrides', () => {
		for (const text of [
			'a\rb',
			'a\r\nb',
			'\u001B[2Jwiped',
			'nul\u0000',
			'del\u007F',
			'c1\u0085',
			'rtl\u202Eevil',
			'iso\u2066x',
			'line\u2028separator',
			'para\u2029graph',
			'zero\u200Bwidth',
			'lrm\u200Emark',
			'rlm\u200Fmark',
			'alm\u061Cmark',
		])
			assert.equal(
				textProblem(text, 8192)?.message,
				'message contains control characters',
				JSON.stringify(text),
			);
	});

	it('keeps the joiners that emoji sequences and Persian spelling need', () => {
		for (const text of ['family 👨\u200D👩\u200D👧', 'می\u200Cخواهم'])
			assert.equal(textProblem(text, 8192), undefined);
	});

	it('refuses blank messages, newlines only included', () => {
		assert.equal(textProblem('\n\n\t \n', 8192)?.message, 'empty message');
	});

	it('counts the limit in UTF-8 bytes, newlines included', () => {
		assert.equal(textProblem(`${'a\n'.repeat(4)}a`, 9), undefined);
		assert.equal(textProblem(`${'a\n'.repeat(5)}a`, 9)?.code, 'too-long');
	});

	it('keeps newlines and tabs when sanitising text for display, and replaces the rest', () => {
		assert.equal(sanitizeText('one\ntwo\tthree'), 'one\ntwo\tthree');
		assert.equal(sanitizeText('a\rb\u001Bc'), 'a\uFFFDb\uFFFDc');
	});
});
