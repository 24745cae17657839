// What a bracketed paste becomes. One line goes into the input line like
// typing; several lines become ONE multi-line draft in the input line (shown
// with ↵ where the lines break), which Enter sends as one message — never a
// burst of separate sends, and never sent without Enter. A draft of more than a
// few lines asks "Send N lines as one message? [y/N]" on Enter
// (`needsConfirmation`). Pure: the screen acts on the decision.

import {stripVTControlCharacters} from 'node:util';
import {FORBIDDEN_TEXT_ALL} from '../protocol/messages.js';
import type {EditState} from './completion.js';

export const DEFAULT_CONFIRM_ABOVE_LINES = 5;

export type PasteDecision =
	/** Nothing printable was pasted. */
	| {kind: 'ignore'}
	/** One line: insert `text` at the cursor (the line editor's 'insert'). */
	| {kind: 'insert'; text: string}
	/**
	 * Several lines: the input line becomes `value` (what was typed around the
	 * cursor, with the paste in between), the cursor at `cursor`, just after the
	 * pasted text (the line editor's 'replace' with `multiline`).
	 */
	| {kind: 'draft'; value: string; cursor: number; lines: number}
	/** More than the server takes in one message: say so instead of pasting. */
	| {kind: 'too-long'; bytes: number; maxBytes: number; lines: number};

export interface PasteOptions {
	/** The input line as it is: the paste goes in at its cursor. */
	readonly line?: EditState | undefined;
	/** The room's per-message limit in UTF-8 bytes; no check when absent. */
	readonly maxBytes?: number | undefined;
}

/**
 * The pasted text as a message: CRLF and lone CR become LF, escape sequences
 * and other controls go, blank lines at either end go (a copied block often
 * ends with a newline). Tabs and inner blank lines stay.
 */
export function normalisePaste(text: string): string {
	// Colour and cursor sequences copied along with terminal output go whole,
	// not just their ESC (which would leave "[31m" behind).
	return (
		stripVTControlCharacters(text.replace(/\r\n?/g, '\n'))
			// What the protocol forbids in a message goes; the server checks it again.
			.replace(FORBIDDEN_TEXT_ALL, '')
			.replace(/^(?:[ \t]*\n)+/u, '')
			.replace(/(?:\n[ \t]*)+$/u, '')
	);
}

export function countLines(text: string): number {
	return text === '' ? 0 : text.split('\n').length;
}

export function pastePolicy(pasted: string, options: PasteOptions = {}): PasteDecision {
	const text = normalisePaste(pasted);
	if (text.trim() === '') return {kind: 'ignore'};

	const line = options.line ?? {value: '', cursor: 0};
	const cursor = Math.max(0, Math.min(line.cursor, line.value.length));
	const before = line.value.slice(0, cursor);
	const multiline = text.includes('\n');
	// Pasted text is text: a block starting with "/" on an empty line is not a
	// command, so it gets the "//" escape (visible in the draft, to undo by hand).
	// A typed "/me " or "/msg bob " before the cursor still makes the paste that
	// command's text. A single line is inserted like typing, unescaped.
	const inserted = multiline && before === '' && text.startsWith('/') ? `/${text}` : text;
	const message = before + inserted + line.value.slice(cursor);
	const lines = countLines(message);
	if (options.maxBytes !== undefined) {
		const bytes = Buffer.byteLength(message, 'utf8');
		if (bytes > options.maxBytes) return {kind: 'too-long', bytes, maxBytes: options.maxBytes, lines};
	}
	if (!multiline) return {kind: 'insert', text};
	return {kind: 'draft', value: message, cursor: before.length + inserted.length, lines};
}

/**
 * Whether sending `value` needs a "y" first: more lines than `confirmAboveLines`
 * (default 5). Returns the line count to ask about, or undefined.
 */
export function needsConfirmation(
	value: string,
	confirmAboveLines = DEFAULT_CONFIRM_ABOVE_LINES,
): number | undefined {
	const lines = countLines(value);
	return lines > confirmAboveLines ? lines : undefined;
}
