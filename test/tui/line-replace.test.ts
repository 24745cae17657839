import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {createLineState, reduceLine} from '../../source/tui/line-editor.js';

describe('line editor: replace', () => {
	it('sets the value and the cursor, keeping history', () => {
		let state = reduceLine(createLineState({history: ['old']}), {type: 'insert', text: 'abc'});
		state = reduceLine(state, {type: 'replace', value: 'hello world', cursor: 5});
		assert.equal(state.value, 'hello world');
		assert.equal(state.cursor, 5);
		assert.deepEqual(state.history, ['old']);
	});

	it('cleans the text like typing does and keeps the cursor beside the same character', () => {
		const state = reduceLine(createLineState(), {type: 'replace', value: 'a\u0007b\nc', cursor: 3});
		assert.equal(state.value, 'ab c');
		assert.equal(state.cursor, 2);
	});

	it('keeps line breaks and tabs with multiline (a pasted draft), still dropping other controls', () => {
		const state = reduceLine(createLineState(), {
			type: 'replace',
			value: 'a\r\nb\u0007\n\tc',
			cursor: 4,
			multiline: true,
		});
		assert.equal(state.value, 'a\nb\n\tc');
		assert.equal(state.cursor, 3, 'CRLF became one LF before the cursor');
		const typed = reduceLine(state, {type: 'insert', text: 'x\ny'});
		assert.equal(typed.value, 'a\nbx y\n\tc', 'typed text around a draft is still one line');
		const sent = reduceLine(typed, {type: 'submit'});
		assert.deepEqual(sent.history, ['a\nbx y\n\tc']);
	});

	it('clamps the cursor and snaps it to a grapheme boundary', () => {
		assert.equal(reduceLine(createLineState(), {type: 'replace', value: 'ab', cursor: 99}).cursor, 2);
		assert.equal(reduceLine(createLineState(), {type: 'replace', value: '👍🏽x', cursor: 2}).cursor, 0);
	});

	it('returns the same state when nothing changes (so nobody redraws)', () => {
		const state = reduceLine(createLineState(), {type: 'insert', text: 'abc'});
		assert.equal(reduceLine(state, {type: 'replace', value: 'abc', cursor: 3}), state);
		assert.equal(reduceLine(state, {type: 'replace', value: '', cursor: 0}).value, '');
	});
});
