import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {parseInput} from '../../source/tui/commands.js';
import {countLines, needsConfirmation, normalisePaste, pastePolicy} from '../../source/tui/paste-policy.js';
import {textProblem} from '../../source/protocol/messages.js';

describe('paste policy', () => {
	it('inserts a single line at the cursor, a trailing newline dropped', () => {
		assert.deepEqual(pastePolicy('hello world'), {kind: 'insert', text: 'hello world'});
		assert.deepEqual(pastePolicy('hello world\r\n'), {kind: 'insert', text: 'hello world'});
		assert.deepEqual(pastePolicy('\n\n  hello\n\n'), {kind: 'insert', text: '  hello'});
		assert.deepEqual(pastePolicy(''), {kind: 'ignore'});
		assert.deepEqual(pastePolicy('\r\n \n'), {kind: 'ignore'});
	});

	it('makes several lines one multi-line draft, CRLF and CR made LF, the cursor after the paste', () => {
		assert.deepEqual(pastePolicy('one\r\ntwo\rthree\n'), {
			kind: 'draft',
			value: 'one\ntwo\nthree',
			cursor: 13,
			lines: 3,
		});
		assert.deepEqual(
			pastePolicy('a\n\n\tb'),
			{kind: 'draft', value: 'a\n\n\tb', cursor: 5, lines: 3},
			'inner blank lines and tabs stay',
		);
	});

	it('asks before sending a draft of more than five lines (or the given number)', () => {
		assert.equal(needsConfirmation('l1\nl2\nl3\nl4\nl5\nl6'), 6);
		assert.equal(needsConfirmation('l1\nl2\nl3\nl4\nl5'), undefined);
		assert.equal(needsConfirmation('just one'), undefined);
		assert.equal(needsConfirmation('a\nb', 1), 2);
	});

	it('joins the paste with what is typed around the cursor', () => {
		const decision = pastePolicy('x = 1\ny = 2', {line: {value: 'look: !', cursor: 6}});
		assert.deepEqual(decision, {kind: 'draft', value: 'look: x = 1\ny = 2!', cursor: 17, lines: 2});
		const action = pastePolicy('waves\nand bows', {line: {value: '/me ', cursor: 4}});
		assert.ok(action.kind === 'draft');
		assert.deepEqual(parseInput(action.value), {kind: 'action', text: 'waves\nand bows'});
		const direct = pastePolicy('a\nb', {line: {value: '/msg bob ', cursor: 9}});
		assert.ok(direct.kind === 'draft');
		assert.deepEqual(parseInput(direct.value), {kind: 'direct', nick: 'bob', text: 'a\nb'});
	});

	it('never turns a pasted block into a command', () => {
		const decision = pastePolicy('/etc/hosts\n/etc/passwd');
		assert.ok(decision.kind === 'draft');
		assert.equal(decision.value, '//etc/hosts\n/etc/passwd');
		assert.equal(decision.cursor, decision.value.length);
		assert.deepEqual(parseInput(decision.value), {kind: 'say', text: '/etc/hosts\n/etc/passwd'});
		assert.deepEqual(
			pastePolicy('/shrug'),
			{kind: 'insert', text: '/shrug'},
			'one line is typed text, as if typed',
		);
	});

	it('strips escape sequences and control characters the protocol refuses', () => {
		const pasted = '\u001B[31mred\u001B[0m line\n\u001B]0;title\u0007bell\u0007 \u0000nul\u200Fok\u202Eno';
		const text = normalisePaste(pasted);
		assert.equal(text, 'red line\nbell nulokno');
		assert.equal(textProblem(text, 8192), undefined, 'what the policy sends, the server accepts');
	});

	it('refuses, up front, a paste larger than the room takes', () => {
		const big = Array.from({length: 100}, () => 'x'.repeat(99)).join('\n');
		assert.deepEqual(pastePolicy(big, {maxBytes: 8192}), {
			kind: 'too-long',
			bytes: 9999,
			maxBytes: 8192,
			lines: 100,
		});
		assert.equal(pastePolicy(big).kind, 'draft', 'no limit given: no check');
		assert.deepEqual(pastePolicy('y'.repeat(20), {maxBytes: 10, line: {value: 'ab', cursor: 2}}), {
			kind: 'too-long',
			bytes: 22,
			maxBytes: 10,
			lines: 1,
		});
	});

	it('counts lines', () => {
		assert.equal(countLines(''), 0);
		assert.equal(countLines('a'), 1);
		assert.equal(countLines('a\n\nb'), 3);
	});
});
