// Wraps styled text into terminal rows. Measures every grapheme with
// string-width so CJK and emoji (2 columns) never push a row past the width,
// breaks at spaces when it can and inside a word only when it must.

import {graphemes} from './graphemes.js';

export interface Span<S> {
	readonly text: string;
	readonly style: S;
}

export interface WrappedRow<S> {
	/** Blank columns before the spans (continuation rows hang under the message text). */
	readonly indent: number;
	readonly spans: readonly Span<S>[];
}

/** Below this many columns of text a hanging indent wastes more than it helps. */
export const MIN_TEXT_COLUMNS = 10;
const TAB = '    ';

interface Cell<S> {
	readonly text: string;
	readonly width: number;
	readonly style: S;
	readonly space: boolean;
	readonly newline: boolean;
}

function toCells<S>(spans: readonly Span<S>[]): Cell<S>[] {
	const cells: Cell<S>[] = [];
	for (const span of spans) {
		for (const item of graphemes(span.text.replaceAll('\t', TAB))) {
			const newline = item.text === '\n' || item.text === '\r\n' || item.text === '\r';
			cells.push({
				text: item.text,
				width: newline ? 0 : item.width,
				style: span.style,
				space: !newline && /^\s+$/u.test(item.text),
				newline,
			});
		}
	}
	return cells;
}

function toSpans<S>(cells: readonly Cell<S>[]): Span<S>[] {
	const spans: Span<S>[] = [];
	// Joined once per span: adding cell by cell would keep a rope of one-character
	// strings per row alive in the row cache (kilobytes per line).
	let start = 0;
	for (let index = 1; index <= cells.length; index++) {
		if (index < cells.length && cells[index]!.style === cells[start]!.style) continue;
		const parts = cells.slice(start, index).map((cell) => cell.text);
		spans.push({text: parts.join(''), style: cells[start]!.style});
		start = index;
	}
	return spans;
}

/**
 * Wraps `spans` into rows of at most `width` columns; rows after the first
 * start `indent` columns in. Styles are compared by identity, so pass shared
 * style objects to keep adjacent cells in one span.
 */
export function wrapSpans<S>(spans: readonly Span<S>[], width: number, indent = 0): WrappedRow<S>[] {
	const columns = Math.max(1, Math.floor(width));
	const hang = columns - indent >= MIN_TEXT_COLUMNS ? Math.max(0, indent) : 0;
	const cells = toCells(spans);
	const rows: WrappedRow<S>[] = [];
	let row: Cell<S>[] = [];
	let used = 0;
	// True right after a soft wrap: leading spaces there would look like a typo.
	let softStart = false;
	const limit = (): number => (rows.length === 0 ? columns : columns - hang);
	const pushRow = (soft: boolean): void => {
		if (soft) while (row.at(-1)?.space === true) row.pop();
		rows.push({indent: rows.length === 0 ? 0 : hang, spans: toSpans(row)});
		row = [];
		used = 0;
		softStart = soft;
	};

	let index = 0;
	while (index < cells.length) {
		const cell = cells[index]!;
		if (cell.newline) {
			pushRow(false);
			index++;
			continue;
		}
		if (cell.space) {
			if (!(softStart && row.length === 0)) {
				if (used + cell.width <= limit()) {
					row.push(cell);
					used += cell.width;
				} else {
					pushRow(true);
				}
			}
			index++;
			continue;
		}
		let end = index;
		let wordWidth = 0;
		while (end < cells.length && !cells[end]!.space && !cells[end]!.newline) {
			wordWidth += cells[end]!.width;
			end++;
		}
		if (used + wordWidth <= limit()) {
			row.push(...cells.slice(index, end));
			used += wordWidth;
			index = end;
			continue;
		}
		if (row.length > 0 && wordWidth <= columns - hang) {
			pushRow(true);
			continue;
		}
		// A word longer than a row: fill this row, then carry on in the next.
		while (index < end) {
			const part = cells[index]!;
			if (used + part.width > limit() && row.length > 0) pushRow(true);
			row.push(part);
			used += part.width;
			index++;
		}
	}
	if (row.length > 0 || rows.length === 0) pushRow(false);
	return rows;
}

/** Plain-text convenience over wrapSpans: the rows as strings, indent included. */
export function wrapText(text: string, width: number, indent = 0): string[] {
	const style = {};
	return wrapSpans([{text, style}], width, indent).map(
		(row) => ' '.repeat(row.indent) + row.spans.map((span) => span.text).join(''),
	);
}
