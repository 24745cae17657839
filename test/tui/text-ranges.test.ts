import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {escapeRegExp, findAll, normaliseRanges, paintRanges} from '../../source/tui/text-ranges.js';

describe('text ranges', () => {
	it('escapes exactly the RegExp syntax characters (valid under the u flag)', () => {
		const nasty = 'a-b_c.d*e+f?g^h$i{j}k(l)m[n]o|p\\q/r`s';
		const pattern = new RegExp(escapeRegExp(nasty), 'u');
		assert.ok(pattern.test(`x${nasty}y`));
		assert.ok(!pattern.test('a-b_cXd'));
	});

	it('finds every case-insensitive occurrence', () => {
		assert.deepEqual(findAll('aAa', 'a'), [
			{start: 0, end: 1},
			{start: 1, end: 2},
			{start: 2, end: 3},
		]);
		assert.deepEqual(findAll('abc', ''), []);
	});

	it('widens ranges to whole graphemes and merges overlaps', () => {
		const text = 'cafe\u0301 ok';
		assert.deepEqual(normaliseRanges(text, [{start: 3, end: 4}]), [{start: 3, end: 5}]);
		assert.deepEqual(
			normaliseRanges('abcdef', [
				{start: 3, end: 5},
				{start: 0, end: 2},
				{start: 1, end: 4},
				{start: 5, end: 5},
			]),
			[{start: 0, end: 5}],
		);
	});

	it('paints layers over a span, later layers over earlier ones, sharing styles', () => {
		const base = {name: 'base'};
		const yellow = (style: {name: string}) => ({name: `${style.name}+yellow`});
		const inverse = (style: {name: string}) => ({name: `${style.name}+inverse`});
		const parts = paintRanges({text: 'hello bob there', style: base}, [
			{ranges: [{start: 6, end: 9}], styleFor: yellow},
			{ranges: [{start: 4, end: 7}], styleFor: inverse},
		]);
		assert.deepEqual(
			parts.map((part) => [part.text, part.style.name]),
			[
				['hell', 'base'],
				['o ', 'base+inverse'],
				['b', 'base+yellow+inverse'],
				['ob', 'base+yellow'],
				[' there', 'base'],
			],
		);
		const same = {text: 'plain', style: base};
		assert.deepEqual(paintRanges(same, []), [same]);
		assert.equal(
			paintRanges({text: '', style: base}, [{ranges: [{start: 0, end: 1}], styleFor: yellow}]).length,
			1,
		);
	});
});
