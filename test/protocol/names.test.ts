import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {identityKey, MAX_USERNAME_LENGTH, usernameProblem} from '../../source/protocol/names.js';

describe('names', () => {
	it('folds case and compatibility forms into one identity, the same for nicks and user names', () => {
		assert.equal(identityKey('Bob'), 'bob');
		assert.equal(identityKey('ＢＯＢ'), 'bob', 'full-width letters are the same person');
		assert.equal(identityKey('ﬁona'), 'fiona', 'a ligature is the same person');
		assert.notEqual(identityKey('bob'), identityKey('bob_'));
	});

	it('accepts ASCII user names up to the limit and says why it refuses the others', () => {
		assert.equal(usernameProblem('alice.smith-2_'), undefined);
		assert.equal(usernameProblem('a'.repeat(MAX_USERNAME_LENGTH)), undefined);
		assert.match(usernameProblem('a'.repeat(MAX_USERNAME_LENGTH + 1)) ?? '', /at most 32/);
		assert.match(usernameProblem('') ?? '', /empty/);
		assert.match(usernameProblem('ünïcode') ?? '', /letters, digits/);
	});
});
