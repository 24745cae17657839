import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import type {Key} from 'ink';
import {
	formActionForKey,
	keypresses,
	lineActionForKey,
	screenActionForKey,
	NO_KEY,
} from '../../source/tui/key-bindings.js';

const key = (flags: Partial<Key> = {}): Key => ({...NO_KEY, ...flags});

describe('key bindings', () => {
	it('maps editing keys', () => {
		assert.deepEqual(lineActionForKey('a', key({ctrl: true})), {type: 'home'});
		assert.deepEqual(lineActionForKey('e', key({ctrl: true})), {type: 'end'});
		assert.deepEqual(lineActionForKey('w', key({ctrl: true})), {type: 'delete-word-before'});
		assert.deepEqual(lineActionForKey('u', key({ctrl: true})), {type: 'delete-to-start'});
		assert.deepEqual(lineActionForKey('k', key({ctrl: true})), {type: 'delete-to-end'});
		assert.deepEqual(lineActionForKey('', key({return: true})), {type: 'submit'});
		assert.deepEqual(lineActionForKey('', key({upArrow: true})), {type: 'history-up'});
		assert.deepEqual(lineActionForKey('', key({backspace: true})), {type: 'backspace'});
		assert.deepEqual(lineActionForKey('é', key()), {type: 'insert', text: 'é'});
		assert.equal(lineActionForKey('x', key({ctrl: true})), undefined);
		assert.equal(lineActionForKey('', key({tab: true})), undefined);
	});

	it('maps screen keys before editing keys', () => {
		assert.deepEqual(screenActionForKey('c', key({ctrl: true}), false), {type: 'quit'});
		assert.deepEqual(screenActionForKey('d', key({ctrl: true}), true), {type: 'quit'});
		assert.equal(
			screenActionForKey('d', key({ctrl: true}), false),
			undefined,
			'Ctrl+D deletes on a non-empty line',
		);
		assert.deepEqual(screenActionForKey('', key({pageUp: true}), false), {
			type: 'scroll-page',
			direction: 'up',
		});
		assert.deepEqual(screenActionForKey('', key({shift: true, downArrow: true}), false), {
			type: 'scroll-line',
			direction: 'down',
		});
		assert.deepEqual(screenActionForKey('', key({ctrl: true, end: true}), false), {type: 'scroll-to-bottom'});
		assert.deepEqual(screenActionForKey('t', key({ctrl: true}), false), {type: 'toggle-members'});
		assert.equal(screenActionForKey('', key({upArrow: true}), false), undefined, 'plain ↑ is history');
		assert.equal(screenActionForKey('', key({end: true}), false), undefined, 'plain End is for the line');
	});

	it('maps Alt+1…9 and Ctrl+N/Ctrl+P to the room tabs', () => {
		assert.deepEqual(screenActionForKey('1', key({meta: true}), false), {type: 'show-tab', index: 0});
		assert.deepEqual(screenActionForKey('9', key({meta: true}), true), {type: 'show-tab', index: 8});
		assert.equal(screenActionForKey('0', key({meta: true}), false), undefined);
		assert.equal(screenActionForKey('1', key(), false), undefined, 'a plain digit is text');
		assert.deepEqual(screenActionForKey('n', key({ctrl: true}), false), {type: 'cycle-tab', step: 1});
		assert.deepEqual(screenActionForKey('p', key({ctrl: true}), false), {type: 'cycle-tab', step: -1});
		assert.equal(lineActionForKey('1', key({meta: true})), undefined, 'Alt+digit never reaches the line');
	});

	it('maps form keys: Tab and ↑/↓ switch fields, Ctrl+R registers, a typed chunk acts key by key', () => {
		assert.deepEqual(formActionForKey('', key({tab: true})), {type: 'switch-field'});
		assert.deepEqual(formActionForKey('', key({tab: true, shift: true})), {type: 'switch-field'});
		assert.deepEqual(formActionForKey('', key({downArrow: true})), {type: 'switch-field'});
		assert.deepEqual(formActionForKey('r', key({ctrl: true})), {type: 'register'});
		assert.deepEqual(formActionForKey('', key({return: true})), {type: 'submit'});
		const chunk = (input: string) => keypresses(input, key()).map(([text, k]) => formActionForKey(text, k));
		assert.deepEqual(chunk('alice\tsecret\r'), [
			{type: 'insert', text: 'alice'},
			{type: 'switch-field'},
			{type: 'insert', text: 'secret'},
			{type: 'submit'},
		]);
		// A chunk that starts with Tab (tmux send-keys, a password manager) switches first.
		assert.deepEqual(chunk('\t\u0015bob\tpw\u0012'), [
			{type: 'switch-field'},
			{type: 'delete-to-start'},
			{type: 'insert', text: 'bob'},
			{type: 'switch-field'},
			{type: 'insert', text: 'pw'},
			{type: 'register'},
		]);
		assert.deepEqual(chunk('a\t\r'), [{type: 'insert', text: 'a'}, {type: 'switch-field'}, {type: 'submit'}]);
	});

	it('splits a chunk into the keypresses it holds: text, Ctrl+letters, Backspace, Tab, Enter', () => {
		const pressed = (input: string) =>
			keypresses(input, key()).map(([text, k]) =>
				k.ctrl ? `^${text}` : k.backspace ? '⌫' : k.tab ? '⇥' : k.return ? '⏎' : text,
			);
		assert.deepEqual(pressed('secret\u0012'), ['secret', '^r']);
		assert.deepEqual(pressed('\u0015new text'), ['^u', 'new text']);
		assert.deepEqual(pressed('ab\u007fc\u0017'), ['ab', '⌫', 'c', '^w']);
		assert.deepEqual(pressed('plain text'), ['plain text'], 'plain text stays one insert');
		assert.deepEqual(pressed('a\tb\r'), ['a', '⇥', 'b', '⏎']);
		assert.deepEqual(
			pressed('one\r\ntwo\nthree'),
			['one', '⏎', 'two', '⏎', 'three'],
			'CRLF is one Enter; LF is Ctrl+J',
		);
		assert.deepEqual(pressed('\t\u0015'), ['⇥', '^u']);
		const single = key({ctrl: true});
		assert.deepEqual(keypresses('r', single), [['r', single]], 'a single key passes through as is');
	});
});
