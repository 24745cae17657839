import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import stringWidth from 'string-width';
import {visibleWindow, type InputWindow} from '../../source/tui/visible-window.js';

const shown = (view: InputWindow): string => view.beforeCursor + view.underCursor + view.afterCursor;

describe('visible window of the input', () => {
	it('shows a short line whole, with a cursor cell at the end', () => {
		const view = visibleWindow('hello', 5, 20);
		assert.deepEqual(view, {start: 0, beforeCursor: 'hello', underCursor: ' ', afterCursor: ''});
	});

	it('puts the character under the cursor in its own part', () => {
		const view = visibleWindow('hello', 1, 20);
		assert.equal(view.beforeCursor, 'h');
		assert.equal(view.underCursor, 'e');
		assert.equal(view.afterCursor, 'llo');
	});

	it('scrolls a long line so the cursor at the end stays visible', () => {
		const value = 'abcdefghijklmnopqrstuvwxyz';
		const view = visibleWindow(value, value.length, 10);
		assert.equal(shown(view), 'rstuvwxyz ');
		assert.equal(view.start, 17);
	});

	it('keeps its start while the cursor stays inside, and scrolls left with context', () => {
		const value = 'abcdefghijklmnopqrstuvwxyz';
		const end = visibleWindow(value, value.length, 10);
		const inside = visibleWindow(value, 20, 10, end.start);
		assert.equal(inside.start, end.start, 'no jump while the cursor is in view');
		const left = visibleWindow(value, 5, 10, end.start);
		assert.ok(left.start < 5 && left.start > 0, `some context before the cursor, start=${left.start}`);
		assert.equal(left.underCursor, 'f');
		assert.ok(stringWidth(shown(left)) <= 10);
	});

	it('measures CJK as two columns and never exceeds the width', () => {
		const value = '你好世界，这是一个很长的句子';
		for (let cursor = 0; cursor <= value.length; cursor++) {
			for (const width of [3, 4, 7, 10]) {
				const view = visibleWindow(value, cursor, width);
				assert.ok(stringWidth(shown(view)) <= width, `cursor ${cursor} width ${width}: ${shown(view)}`);
				assert.equal(view.underCursor, value[cursor] ?? ' ');
			}
		}
		assert.equal(shown(visibleWindow(value, value.length, 9)), '长的句子 ');
	});

	it('keeps emoji whole', () => {
		const value = 'a😀b😀c😀d😀';
		const view = visibleWindow(value, value.length, 6);
		assert.equal(shown(view), '😀d😀 ');
		const middle = visibleWindow(value, 1, 6);
		assert.equal(middle.underCursor, '😀');
		assert.ok(stringWidth(shown(middle)) <= 6);
	});

	it('brings earlier text back when the line becomes short again', () => {
		const view = visibleWindow('abc', 3, 10, 2);
		assert.equal(view.start, 0);
		assert.equal(shown(view), 'abc ');
	});
});
