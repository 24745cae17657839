import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {NICK_PALETTE, nickColour, nickStyle, OWN_NICK_STYLE} from '../../source/tui/nick-colour.js';

describe('nick colours', () => {
	it('gives a nick the same colour every time, whatever its case', () => {
		assert.equal(nickColour('alice'), nickColour('alice'));
		assert.equal(nickColour('Alice'), nickColour('alice'));
	});

	it('uses only readable colours, never black, white or grey', () => {
		assert.ok(NICK_PALETTE.length >= 10);
		for (const colour of NICK_PALETTE) assert.ok(!/black|white|gr[ae]y/i.test(colour), colour);
	});

	it('spreads nicks over the palette', () => {
		const used = new Set(Array.from({length: 200}, (_, index) => nickColour(`user${index}`)));
		assert.ok(used.size >= NICK_PALETTE.length - 1, `only ${used.size} colours used`);
	});

	it('marks our own nick in a style nobody else gets', () => {
		assert.equal(nickStyle('alice', true), OWN_NICK_STYLE);
		assert.equal(OWN_NICK_STYLE.color, undefined);
		assert.equal(OWN_NICK_STYLE.bold, true);
		const other = nickStyle('alice', false);
		assert.notEqual(other.color, undefined);
		assert.equal(other.bold, false);
	});
});
