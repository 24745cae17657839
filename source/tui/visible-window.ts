// Horizontal scrolling for the input line: which part of a long value to show
// so the cursor stays on screen, measured in terminal columns.

import {graphemes, type Grapheme} from './graphemes.js';

export interface InputWindow {
	/** UTF-16 offset of the first shown character; pass it back as `previousStart` next time. */
	readonly start: number;
	readonly beforeCursor: string;
	/** The character under the cursor, or a space when the cursor is at the end. */
	readonly underCursor: string;
	readonly afterCursor: string;
}

const widthOf = (items: readonly Grapheme[], from: number, to: number): number => {
	let total = 0;
	for (let index = from; index < to; index++) total += items[index]?.width ?? 0;
	return total;
};

const join = (items: readonly Grapheme[], from: number, to: number): string =>
	items
		.slice(from, to)
		.map((item) => item.text)
		.join('');

/**
 * The slice of `value` to draw in `width` columns with the cursor visible.
 * Given the previous start, the view only scrolls when the cursor would leave
 * it, so moving the cursor does not make the text jump.
 */
export function visibleWindow(value: string, cursor: number, width: number, previousStart = 0): InputWindow {
	if (width <= 0) return {start: 0, beforeCursor: '', underCursor: '', afterCursor: ''};
	const items = graphemes(value);
	let cursorIndex = items.findIndex((item) => item.start >= cursor);
	if (cursorIndex === -1) cursorIndex = items.length;
	const cursorItem = items[cursorIndex];
	const cursorWidth = Math.max(1, cursorItem?.width ?? 1);

	let first = items.findIndex((item) => item.start >= previousStart);
	if (first === -1) first = items.length;
	if (cursorIndex < first) {
		// Scrolling left: keep about a third of the width as context before the cursor.
		first = cursorIndex;
		while (first > 0 && widthOf(items, first - 1, cursorIndex) + cursorWidth <= Math.floor(width / 3))
			first--;
	}
	while (first < cursorIndex && widthOf(items, first, cursorIndex) + cursorWidth > width) first++;
	// After deletions the tail may fit again: pull earlier text back into view.
	// (Always counting the end-of-line cursor cell keeps the view still when
	// the cursor leaves the end.)
	while (first > 0 && widthOf(items, first - 1, items.length) + 1 <= width) first--;

	let last = cursorIndex + (cursorItem === undefined ? 0 : 1);
	let used = widthOf(items, first, cursorIndex) + cursorWidth;
	while (last < items.length && used + (items[last]?.width ?? 0) <= width) {
		used += items[last]?.width ?? 0;
		last++;
	}

	return {
		start: items[first]?.start ?? value.length,
		beforeCursor: join(items, first, cursorIndex),
		underCursor: cursorItem?.text ?? ' ',
		afterCursor: cursorItem === undefined ? '' : join(items, cursorIndex + 1, last),
	};
}
