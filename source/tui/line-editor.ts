// The input line as a pure reducer: text, cursor and history. React holds the
// state; every key becomes one LineAction so the editing rules are testable
// without a terminal.

import {FORBIDDEN_TEXT_ALL} from '../protocol/messages.js';
import {nextBoundary, previousBoundary, snapToBoundary} from './graphemes.js';

export const DEFAULT_HISTORY_LIMIT = 500;

export interface LineState {
	readonly value: string;
	/** UTF-16 offset that always sits on a grapheme boundary, so no edit can split a character. */
	readonly cursor: number;
	/** Submitted lines, oldest first. */
	readonly history: readonly string[];
	/** Which history line is shown; undefined while editing the draft. */
	readonly historyIndex: number | undefined;
	/** The half-typed line kept aside while browsing history. */
	readonly draft: string;
	readonly historyLimit: number;
}

export type LineAction =
	| {type: 'insert'; text: string}
	| {type: 'left'}
	| {type: 'right'}
	| {type: 'home'}
	| {type: 'end'}
	| {type: 'backspace'}
	| {type: 'delete'}
	| {type: 'delete-word-before'}
	| {type: 'delete-to-start'}
	| {type: 'delete-to-end'}
	| {type: 'history-up'}
	| {type: 'history-down'}
	| {type: 'submit'}
	/**
	 * Sets the whole line (Tab completion rewrites a word; a multi-line paste
	 * becomes the draft). Line breaks become spaces unless `multiline` is set:
	 * then "\n" and tabs stay (a draft sent as one multi-line message).
	 */
	| {type: 'replace'; value: string; cursor: number; multiline?: boolean};

export function createLineState(
	options: {history?: readonly string[]; historyLimit?: number} = {},
): LineState {
	const historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
	return {
		value: '',
		cursor: 0,
		history: (options.history ?? []).slice(-historyLimit),
		historyIndex: undefined,
		draft: '',
		historyLimit,
	};
}

// Whatever a terminal or a paste delivers, the line stays printable text: line
// breaks and tabs become spaces, whatever the protocol refuses goes (controls,
// bidi overrides and marks, separators). The one
// exception is a multi-line draft (a paste of several lines, `replace` with
// `multiline`), which keeps its "\n"s until Enter sends it as one message.
const LINE_BREAKS = /\r\n|[\r\n\t]/g;

export function cleanInsertedText(text: string): string {
	return text.replace(LINE_BREAKS, ' ').replace(FORBIDDEN_TEXT_ALL, '');
}

/** As cleanInsertedText, but "\n" (CRLF and CR made "\n") and tabs stay: the text of a multi-line draft. */
export function cleanDraftText(text: string): string {
	return text.replace(/\r\n?/g, '\n').replace(FORBIDDEN_TEXT_ALL, '');
}

function edit(state: LineState, value: string, cursor: number): LineState {
	return {...state, value, cursor: snapToBoundary(value, cursor)};
}

/** Unix word-rubout: spaces before the cursor, then the word before them. */
function startOfPreviousWord(value: string, cursor: number): number {
	let index = cursor;
	while (index > 0 && /\s/u.test(value[index - 1] ?? '')) index--;
	while (index > 0 && !/\s/u.test(value[index - 1] ?? '')) index--;
	return index;
}

function showHistory(state: LineState, historyIndex: number | undefined): LineState {
	const value = historyIndex === undefined ? state.draft : (state.history[historyIndex] ?? '');
	return {...state, historyIndex, value, cursor: value.length};
}

export function reduceLine(state: LineState, action: LineAction): LineState {
	const {value, cursor} = state;
	switch (action.type) {
		case 'insert': {
			const text = cleanInsertedText(action.text);
			if (text.length === 0) return state;
			return edit(state, value.slice(0, cursor) + text + value.slice(cursor), cursor + text.length);
		}
		case 'left':
			return {...state, cursor: previousBoundary(value, cursor)};
		case 'right':
			return {...state, cursor: nextBoundary(value, cursor)};
		case 'home':
			return {...state, cursor: 0};
		case 'end':
			return {...state, cursor: value.length};
		case 'backspace': {
			if (cursor === 0) return state;
			const start = previousBoundary(value, cursor);
			return edit(state, value.slice(0, start) + value.slice(cursor), start);
		}
		case 'delete': {
			if (cursor >= value.length) return state;
			return edit(state, value.slice(0, cursor) + value.slice(nextBoundary(value, cursor)), cursor);
		}
		case 'delete-word-before': {
			const start = startOfPreviousWord(value, cursor);
			return edit(state, value.slice(0, start) + value.slice(cursor), start);
		}
		case 'delete-to-start':
			return edit(state, value.slice(cursor), 0);
		case 'delete-to-end':
			return edit(state, value.slice(0, cursor), cursor);
		case 'history-up': {
			if (state.history.length === 0) return state;
			if (state.historyIndex === undefined) {
				return showHistory({...state, draft: value}, state.history.length - 1);
			}
			return state.historyIndex === 0 ? state : showHistory(state, state.historyIndex - 1);
		}
		case 'history-down': {
			if (state.historyIndex === undefined) return state;
			const next = state.historyIndex + 1;
			return showHistory(state, next < state.history.length ? next : undefined);
		}
		case 'submit': {
			const keep = value.trim().length > 0 && state.history.at(-1) !== value;
			const history = keep ? [...state.history, value].slice(-state.historyLimit) : state.history;
			return {...state, value: '', cursor: 0, history, historyIndex: undefined, draft: ''};
		}
		case 'replace': {
			// Cleaned like typed text, each side of the cursor apart so the cursor stays where it was asked to be.
			const at = Math.max(0, Math.min(action.cursor, action.value.length));
			const clean = action.multiline === true ? cleanDraftText : cleanInsertedText;
			const before = clean(action.value.slice(0, at));
			const next = before + clean(action.value.slice(at));
			if (next === value && before.length === cursor) return state;
			return edit(state, next, before.length);
		}
	}
}
