// The one line parser of the chat screen and `parley send`.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {parseChatLine} from '../../source/client/chat-line.js';

describe('parseChatLine', () => {
	it('reads messages, actions, direct messages and the // escape', () => {
		assert.deepEqual(parseChatLine('hello'), {kind: 'say', text: 'hello'});
		assert.deepEqual(parseChatLine('/me waves'), {kind: 'action', text: 'waves'});
		assert.deepEqual(parseChatLine('/ACTION waves'), {kind: 'action', text: 'waves'});
		assert.deepEqual(parseChatLine('/msg bob a secret'), {kind: 'direct', nick: 'bob', text: 'a secret'});
		assert.deepEqual(parseChatLine('/query bob hi'), {kind: 'direct', nick: 'bob', text: 'hi'});
		assert.deepEqual(parseChatLine('//msg bob not a dm'), {kind: 'say', text: '/msg bob not a dm'});
		assert.deepEqual(parseChatLine('   '), {kind: 'none'});
	});

	it('leaves other commands to the program and explains bad ones', () => {
		assert.deepEqual(parseChatLine('/who'), {kind: 'command', name: 'who', args: ''});
		assert.deepEqual(parseChatLine('/connect lobby'), {kind: 'command', name: 'connect', args: 'lobby'});
		assert.equal(parseChatLine('/msg bob').kind, 'invalid');
		assert.equal(parseChatLine('/msg bad!nick hi').kind, 'invalid');
		assert.equal(parseChatLine('/me').kind, 'invalid');
		assert.equal(parseChatLine('/ x').kind, 'invalid');
	});
});
