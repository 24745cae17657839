import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {createLineState, reduceLine, type LineAction, type LineState} from '../../source/tui/line-editor.js';

const run = (state: LineState, ...actions: LineAction[]): LineState => actions.reduce(reduceLine, state);
const typed = (text: string): LineState => run(createLineState(), {type: 'insert', text});

describe('line editor', () => {
	it('inserts at the cursor and moves left/right', () => {
		let state = typed('helo');
		state = run(state, {type: 'left'}, {type: 'insert', text: 'l'});
		assert.equal(state.value, 'hello');
		assert.equal(state.cursor, 4);
		state = run(state, {type: 'right'}, {type: 'right'});
		assert.equal(state.cursor, 5);
	});

	it('goes home and end', () => {
		const state = typed('abc');
		assert.equal(run(state, {type: 'home'}).cursor, 0);
		assert.equal(run(state, {type: 'home'}, {type: 'end'}).cursor, 3);
	});

	it('backspaces and deletes whole characters, never half a surrogate pair', () => {
		let state = typed('a😀b');
		state = run(state, {type: 'left'}, {type: 'backspace'});
		assert.equal(state.value, 'ab');
		assert.equal(state.cursor, 1);
		state = typed('x👍🏽y');
		state = run(state, {type: 'home'}, {type: 'right'}, {type: 'delete'});
		assert.equal(state.value, 'xy', 'an emoji with a skin-tone modifier is one grapheme');
		state = typed('e\u0301x');
		state = run(state, {type: 'home'}, {type: 'right'});
		assert.equal(state.cursor, 2, 'a combining accent moves with its letter');
	});

	it('ignores backspace at the start and delete at the end', () => {
		const state = typed('ab');
		assert.equal(run(state, {type: 'delete'}).value, 'ab');
		assert.equal(run(state, {type: 'home'}, {type: 'backspace'}).value, 'ab');
	});

	it('deletes the previous word (Ctrl+W), to the start (Ctrl+U) and to the end (Ctrl+K)', () => {
		const state = typed('say hello  world');
		const word = run(state, {type: 'delete-word-before'});
		assert.equal(word.value, 'say hello  ');
		assert.equal(run(word, {type: 'delete-word-before'}).value, 'say ');
		const middle = run(state, {type: 'home'}, {type: 'right'}, {type: 'right'}, {type: 'right'});
		const toStart = run(middle, {type: 'delete-to-start'});
		assert.equal(toStart.value, ' hello  world');
		assert.equal(toStart.cursor, 0);
		assert.equal(run(middle, {type: 'delete-to-end'}).value, 'say');
	});

	it('keeps pasted or typed control characters out of the line', () => {
		assert.equal(typed('a\r\nb\tc\u001B[31md\u202Ee').value, 'a b c[31mde');
	});

	it('submits into history, skipping blanks and consecutive duplicates', () => {
		let state = run(typed('one'), {type: 'submit'});
		assert.equal(state.value, '');
		assert.equal(state.cursor, 0);
		state = run(
			state,
			{type: 'insert', text: 'two'},
			{type: 'submit'},
			{type: 'insert', text: 'two'},
			{type: 'submit'},
		);
		state = run(state, {type: 'insert', text: '   '}, {type: 'submit'});
		assert.deepEqual(state.history, ['one', 'two']);
	});

	it('caps the history', () => {
		let state = createLineState({historyLimit: 3});
		for (const line of ['a', 'b', 'c', 'd'])
			state = run(state, {type: 'insert', text: line}, {type: 'submit'});
		assert.deepEqual(state.history, ['b', 'c', 'd']);
		assert.equal(createLineState().historyLimit, 500);
	});

	it('browses history with up/down and gives the half-typed draft back', () => {
		let state = createLineState({history: ['first', 'second']});
		state = run(state, {type: 'insert', text: 'draft'}, {type: 'left'});
		state = run(state, {type: 'history-up'});
		assert.equal(state.value, 'second');
		assert.equal(state.cursor, 6);
		state = run(state, {type: 'history-up'}, {type: 'history-up'});
		assert.equal(state.value, 'first', 'stops at the oldest');
		state = run(state, {type: 'history-down'});
		assert.equal(state.value, 'second');
		state = run(state, {type: 'history-down'});
		assert.equal(state.value, 'draft');
		assert.equal(state.historyIndex, undefined);
		assert.equal(run(state, {type: 'history-down'}).value, 'draft');
	});

	it('does nothing on up with an empty history', () => {
		const state = typed('x');
		assert.equal(run(state, {type: 'history-up'}), state);
	});
});
