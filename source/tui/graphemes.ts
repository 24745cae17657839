// Grapheme helpers shared by the editor, the input window and the wrapper, so
// none of them ever splits a surrogate pair, an emoji sequence or a combining mark.

import stringWidth from 'string-width';

const segmenter = new Intl.Segmenter(undefined, {granularity: 'grapheme'});

export interface Grapheme {
	readonly text: string;
	/** UTF-16 offset of the grapheme in the string it came from. */
	readonly start: number;
	/** Terminal columns it takes (CJK and most emoji take 2). */
	readonly width: number;
}

// Printable ASCII: every character is a grapheme one column wide. Most chat
// text is, and segmenting and measuring it character by character is most of
// what wrapping a flood of lines costs.
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export function graphemes(text: string): Grapheme[] {
	const result: Grapheme[] = [];
	if (PRINTABLE_ASCII.test(text)) {
		for (let index = 0; index < text.length; index++)
			result.push({text: text[index]!, start: index, width: 1});
		return result;
	}
	for (const {segment, index} of segmenter.segment(text)) {
		result.push({text: segment, start: index, width: stringWidth(segment)});
	}
	return result;
}

/** The grapheme boundary just before `offset` (0 at the start). */
export function previousBoundary(text: string, offset: number): number {
	let previous = 0;
	for (const {index} of segmenter.segment(text)) {
		if (index >= offset) break;
		previous = index;
	}
	return previous;
}

/** The grapheme boundary just after `offset` (text.length at the end). */
export function nextBoundary(text: string, offset: number): number {
	if (offset >= text.length) return text.length;
	const found = segmenter.segment(text).containing(offset);
	return found === undefined ? text.length : found.index + found.segment.length;
}

/** Snaps an arbitrary offset to the start of the grapheme containing it. */
export function snapToBoundary(text: string, offset: number): number {
	if (offset <= 0) return 0;
	if (offset >= text.length) return text.length;
	return segmenter.segment(text).containing(offset)?.index ?? text.length;
}
