import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import stringWidth from 'string-width';
import {wrapSpans, wrapText} from '../../source/tui/wrap.js';

describe('wrap', () => {
	it('breaks at spaces', () => {
		assert.deepEqual(wrapText('the quick brown fox jumps', 10), ['the quick', 'brown fox', 'jumps']);
	});

	it('hard-breaks a word longer than a row', () => {
		assert.deepEqual(wrapText('abcdefghijkl', 5), ['abcde', 'fghij', 'kl']);
	});

	it('returns one empty row for empty text', () => {
		assert.deepEqual(wrapText('', 10), ['']);
	});

	it('keeps line breaks in the text', () => {
		assert.deepEqual(wrapText('one\ntwo', 10), ['one', 'two']);
	});

	it('indents continuation rows under the text', () => {
		const rows = wrapText('12:00 bob: aaa bbb ccc ddd eee fff ggg', 22, 11);
		assert.deepEqual(rows, ['12:00 bob: aaa bbb ccc', '           ddd eee fff', '           ggg']);
	});

	it('drops the hanging indent when it would leave too little room', () => {
		const rows = wrapText('a-very-long-nick-here: hello there', 24, 20);
		assert.ok(rows.slice(1).every((row) => !row.startsWith(' ')));
	});

	it('measures CJK and emoji as two columns and never exceeds the width', () => {
		const text = '今日は良い天気ですね。明日も晴れるでしょう 🎉🎉🎉 mixed text 한국어도 됩니다';
		for (const width of [2, 3, 5, 8, 13, 20]) {
			for (const indent of [0, 4]) {
				const rows = wrapText(text, width, indent);
				for (const row of rows)
					assert.ok(stringWidth(row) <= width, `width ${width}: "${row}" is ${stringWidth(row)}`);
				assert.equal(rows.join('').replaceAll(' ', ''), text.replaceAll(' ', ''), 'no character lost');
			}
		}
		assert.deepEqual(wrapText('你好世界', 5), ['你好', '世界']);
	});

	it('keeps emoji sequences whole', () => {
		const rows = wrapText('👩‍👩‍👧‍👦👩‍👩‍👧‍👦👩‍👩‍👧‍👦', 4);
		assert.deepEqual(rows, ['👩‍👩‍👧‍👦👩‍👩‍👧‍👦', '👩‍👩‍👧‍👦']);
	});

	it('carries styles through rows and merges cells of one style', () => {
		const bold = {bold: true};
		const plain = {};
		const rows = wrapSpans(
			[
				{text: 'alice: ', style: bold},
				{text: 'hello world again', style: plain},
			],
			18,
			7,
		);
		assert.deepEqual(rows, [
			{
				indent: 0,
				spans: [
					{text: 'alice: ', style: bold},
					{text: 'hello world', style: plain},
				],
			},
			{indent: 7, spans: [{text: 'again', style: plain}]},
		]);
	});
});
