import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {NICK_PALETTE, nickColour, nickStyle, OWN_NICK_STYLE} from '../../source/tui/nick-colour.js';

describe('nick colours', () => {
	it('gives a nick the same colour in every run, whatever its case', () => {
		// Pinned values: a colour that depended on the run (a random seed, object identity, a
		// per-process hash) would change who looks like whom after every restart.
		const pinned = {alice: 'cyan', bob: 'magentaBright', carol: 'red', dave: 'cyanBright'};
		const nicks = Object.keys(pinned);
		assert.deepEqual(Object.fromEntries(nicks.map((nick) => [nick, nickColour(nick)])), pinned);
		for (const nick of nicks) {
			for (const spelling of [nick.toUpperCase(), nick[0]!.toUpperCase() + nick.slice(1)])
				assert.equal(nickColour(spelling), nickColour(nick), spelling);
			assert.equal(nickStyle(nick, false).color, nickColour(nick), 'the drawn style uses the same colour');
		}
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
