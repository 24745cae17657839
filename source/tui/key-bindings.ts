// Every key the chat screen understands, in one place (Ink's Key → an action).
//
//   Enter                submit the line          Ctrl+C          leave the room and quit
//   ←/→, Home/End        move (also Ctrl+B/F, Ctrl+A/E)
//   Backspace, Delete    delete a character (also Ctrl+H, Ctrl+D on a non-empty line)
//   Ctrl+W / Ctrl+U / Ctrl+K  delete word before / to line start / to line end
//   ↑/↓                  input history (the half-typed line comes back at the bottom)
//   PgUp/PgDn            scroll the log a page    Shift+↑/↓, Ctrl+↑/↓  scroll a line
//   Ctrl+End or Esc      back to the newest line (sending a message does it too)
//   Ctrl+T               show/hide the member panel. F-keys cannot be used:
//                        Ink's useInput reports no flag for them.
//   Alt+1…9              show room tab 1…9 (Ink reports Alt as `meta`, the digit as input)
//   Ctrl+N / Ctrl+P      next / previous room tab (wrapping around)
//   Ctrl+D on an empty line quits, as in a shell.
//   Tab / Shift+Tab      complete a nick ("alice: " at the line start) or a /command;
//                        again to cycle through the matches (featureActionForKey)
//   Ctrl+R               search the log. While searching (searchActionForKey):
//                        type the query; Ctrl+R or ↑ older match, Ctrl+S or ↓
//                        (or Ctrl+Shift+R where the terminal tells it apart) newer;
//                        Enter stays at the match; Esc or Ctrl+G goes back.
//                        Each room keeps its own search; Alt+N, Ctrl+N/P, Ctrl+T
//                        and Ctrl+C still work while it shows.
//   A bracketed paste of several lines becomes one multi-line draft in the
//   input line ("↵" marks the breaks); Enter sends it as one message, asking
//   "Send N lines as one message? [y/N]" above 5 lines (y sends; n, Enter, Esc
//   keep the draft).
//
// The login form (TCP rooms): Tab, Shift+Tab, ↑/↓ switch between user name and
// password; Enter on the user name moves on, on the password logs in; Ctrl+R
// creates the account instead. The room keys (Alt+N, Ctrl+N/P) work there too.
// The trust prompt takes y/Y (yes), n/N/Enter/Esc (no), and nothing else.
//
// Who acts on a key: whatever shows at the bottom of the screen (ScreenBottom)
// listens with its own useInput while it shows; the screen keeps the keys that
// work everywhere (use-screen-keys) and the scroll keys (use-scroll-keys). A
// chunk of typing that changes what shows part-way (Ctrl+N, Ctrl+R, Enter on a
// login) loses the rest of the chunk rather than sending it to the wrong place.

import type {Key} from 'ink';
import {DEFAULT_KEY_BINDINGS, type KeyAction, type KeyBindings, type KeySpec} from '../client/config.js';
import type {LineAction} from './line-editor.js';
import type {SearchAction} from './search.js';

export type ScreenAction =
	| {type: 'quit'}
	| {type: 'scroll-page'; direction: 'up' | 'down'}
	| {type: 'scroll-line'; direction: 'up' | 'down'}
	| {type: 'scroll-to-bottom'}
	| {type: 'toggle-members'}
	| {type: 'show-tab'; index: number}
	| {type: 'cycle-tab'; step: 1 | -1};

// The config's [keys] table (next_tab, search, scroll_up, …) over the defaults
// above. One table for the whole screen, read at each key by every prompt;
// the screen replaces it when the config is loaded or reloaded.
let bindings: KeyBindings = DEFAULT_KEY_BINDINGS;

export function setKeyBindings(next: KeyBindings): void {
	bindings = next;
}

const NAMED: Record<string, (key: Key) => boolean> = {
	up: (key) => key.upArrow,
	down: (key) => key.downArrow,
	left: (key) => key.leftArrow,
	right: (key) => key.rightArrow,
	pageup: (key) => key.pageUp,
	pagedown: (key) => key.pageDown,
	home: (key) => key.home,
	end: (key) => key.end,
	escape: (key) => key.escape,
	tab: (key) => key.tab,
};

/** Whether the key pressed is `spec`: its modifiers held (others may be too, as terminals add some), and the key. */
export function keyMatches(spec: KeySpec, input: string, key: Key): boolean {
	if ((spec.ctrl && !key.ctrl) || (spec.shift && !key.shift)) return false;
	const named = NAMED[spec.key];
	if (named !== undefined) return named(key) && (!spec.meta || key.meta);
	// A character: Alt comes as `meta`; a plain binding never takes typing with Ctrl or Alt held.
	if (spec.meta !== key.meta || spec.ctrl !== key.ctrl) return false;
	return input.toLowerCase() === spec.key;
}

const bound = (action: KeyAction, input: string, key: Key): boolean =>
	bindings[action].some((spec) => keyMatches(spec, input, key));

/**
 * Keys that act on the whole screen whatever prompt has the keys: quitting,
 * showing another room and the member panel (the trust prompt lets only
 * Ctrl+C through). The prompts ignore them.
 */
export function globalActionForKey(input: string, key: Key): ScreenAction | undefined {
	if (key.ctrl && input === 'c') return {type: 'quit'};
	if (bound('member_list', input, key)) return {type: 'toggle-members'};
	if (bound('next_tab', input, key)) return {type: 'cycle-tab', step: 1};
	if (bound('prev_tab', input, key)) return {type: 'cycle-tab', step: -1};
	if (key.meta && !key.ctrl && /^[1-9]$/.test(input)) return {type: 'show-tab', index: Number(input) - 1};
	return undefined;
}

/** Keys that scroll the log while the input line, the nick prompt or the login form shows. */
export function scrollActionForKey(input: string, key: Key): ScreenAction | undefined {
	if (bound('scroll_up', input, key)) return {type: 'scroll-page', direction: 'up'};
	if (bound('scroll_down', input, key)) return {type: 'scroll-page', direction: 'down'};
	if (bound('scroll_line_up', input, key)) return {type: 'scroll-line', direction: 'up'};
	if (bound('scroll_line_down', input, key)) return {type: 'scroll-line', direction: 'down'};
	if (bound('scroll_bottom', input, key)) return {type: 'scroll-to-bottom'};
	return undefined;
}

/** Ctrl+D on an empty input line quits, as in a shell. */
const quitsOnEmptyLine = (input: string, key: Key): boolean => key.ctrl && input === 'd';

/**
 * A key that leaves the prompt that has the keys: it quits or shows another
 * room. The prompt drops the rest of the chunk then, which was typed for
 * whatever has the keys next (it subscribes only after the next render).
 */
export function handsOverKeys(input: string, key: Key): boolean {
	const action = globalActionForKey(input, key);
	return action !== undefined && action.type !== 'toggle-members';
}

/** Keys that act on the screen rather than on the line, checked before the line editor sees them. */
export function screenActionForKey(input: string, key: Key, lineIsEmpty: boolean): ScreenAction | undefined {
	if (lineIsEmpty && quitsOnEmptyLine(input, key)) return {type: 'quit'};
	return globalActionForKey(input, key) ?? scrollActionForKey(input, key);
}

/** Editing keys; also used by the nick prompt. Unknown control keys map to nothing. */
export function lineActionForKey(input: string, key: Key): LineAction | undefined {
	if (key.return || input === '\n') return {type: 'submit'}; // Ctrl+J too, as in readline
	if (key.leftArrow) return {type: 'left'};
	if (key.rightArrow) return {type: 'right'};
	if (key.upArrow) return {type: 'history-up'};
	if (key.downArrow) return {type: 'history-down'};
	if (key.home) return {type: 'home'};
	if (key.end) return {type: 'end'};
	if (key.backspace) return {type: key.meta ? 'delete-word-before' : 'backspace'};
	if (key.delete) return {type: 'delete'};
	if (key.ctrl) {
		switch (input) {
			case 'a':
				return {type: 'home'};
			case 'e':
				return {type: 'end'};
			case 'b':
				return {type: 'left'};
			case 'f':
				return {type: 'right'};
			case 'd':
				return {type: 'delete'};
			case 'w':
				return {type: 'delete-word-before'};
			case 'u':
				return {type: 'delete-to-start'};
			case 'k':
				return {type: 'delete-to-end'};
			default:
				return undefined;
		}
	}
	if (key.meta || key.escape || key.tab || key.pageUp || key.pageDown) return undefined;
	return input === '' ? undefined : {type: 'insert', text: input};
}

export type FormAction = LineAction | {type: 'switch-field'} | {type: 'register'};

/**
 * Keys for a form of single-line fields (the login form): the line editor's
 * actions, with ↑/↓ and Tab switching fields instead of browsing history.
 */
export function formActionForKey(input: string, key: Key): FormAction | undefined {
	if (key.ctrl && input === 'r') return {type: 'register'};
	if (key.tab) return {type: 'switch-field'};
	const action = lineActionForKey(input, key);
	return action?.type === 'history-up' || action?.type === 'history-down' ? {type: 'switch-field'} : action;
}

/** Keys for features that need more than the line: completion and search. */
export type FeatureAction = {type: 'complete'; direction: 'forward' | 'backward'} | {type: 'search'};

/**
 * Checked after screenActionForKey and before the line editor. Any key that
 * does not give 'complete' ends a completion session.
 */
export function featureActionForKey(input: string, key: Key): FeatureAction | undefined {
	if (key.tab && !key.ctrl && !key.meta)
		return {type: 'complete', direction: key.shift ? 'backward' : 'forward'};
	if (bound('search', input, key)) return {type: 'search'};
	return undefined;
}

/**
 * Keys while searching the log: they all go to the search (Ctrl+C excepted,
 * which the screen checks first). Unknown control keys map to nothing.
 */
export function searchActionForKey(input: string, key: Key): SearchAction | undefined {
	if (key.escape || (key.ctrl && input === 'g')) return {type: 'cancel'};
	if (key.return) return {type: 'accept'};
	// Ctrl+Shift+R only differs from Ctrl+R in terminals with the kitty keyboard protocol.
	if (key.ctrl && input.toLowerCase() === 'r') return {type: key.shift ? 'newer' : 'older'};
	if (key.upArrow) return {type: 'older'};
	if ((key.ctrl && input === 's') || key.downArrow) return {type: 'newer'};
	if (key.backspace) return key.meta ? {type: 'delete-word'} : {type: 'backspace'};
	if (key.ctrl && input === 'w') return {type: 'delete-word'};
	if (key.ctrl && input === 'u') return {type: 'clear-query'};
	if (key.ctrl || key.meta || key.tab || key.pageUp || key.pageDown || key.delete) return undefined;
	if (key.leftArrow || key.rightArrow || key.home || key.end) return undefined;
	return input === '' ? undefined : {type: 'type', text: input};
}

/**
 * The answer a key gives to a [y/N] question (the trust prompt, the send
 * question): y/Y yes; n/N, Enter and Esc no, the safe default; any other key none.
 */
export function yesNoAnswerForKey(input: string, key: Key): boolean | undefined {
	if (key.ctrl || key.meta) return undefined;
	if (input === 'y' || input === 'Y') return true;
	if (input === 'n' || input === 'N' || key.return || key.escape) return false;
	return undefined;
}

/** No key flag set: what a plain run of typed text comes with. */
export const NO_KEY: Key = {
	upArrow: false,
	downArrow: false,
	leftArrow: false,
	rightArrow: false,
	pageDown: false,
	pageUp: false,
	home: false,
	end: false,
	return: false,
	escape: false,
	ctrl: false,
	shift: false,
	tab: false,
	backspace: false,
	delete: false,
	meta: false,
	super: false,
	hyper: false,
	capsLock: false,
	numLock: false,
};

/** C0 controls that stand for a key: Ctrl+letters, Backspace, Tab, Enter (CR, or LF as Ctrl+J does). */
const CONTROL = /[\x01-\x1a\x7f]/;

/** The key one control character stands for, as Ink reports it when pressed alone. */
function controlKey(char: string): [string, Key] {
	const code = char.codePointAt(0)!;
	if (code === 0x7f || code === 0x08) return ['', {...NO_KEY, backspace: true}];
	if (code === 0x09) return ['\t', {...NO_KEY, tab: true}];
	if (code === 0x0a || code === 0x0d) return ['\r', {...NO_KEY, return: true}];
	return [String.fromCodePoint(code + 0x60), {...NO_KEY, ctrl: true}];
}

/**
 * Splits one input chunk into the keypresses it holds. A terminal delivers
 * fast typing, tmux send-keys or a password manager as one chunk, so
 * "\tsecret\x12" is Tab, the text "secret" and Ctrl+R, and "hi\r" is "hi" and
 * Enter: every handler then sees keys as if they were pressed one by one.
 * (A paste is not typing: bracketed paste delivers it whole to usePaste.)
 */
export function keypresses(input: string, key: Key): Array<[string, Key]> {
	if (input.length <= 1 || key.ctrl || key.meta || !CONTROL.test(input)) return [[input, key]];
	const presses: Array<[string, Key]> = [];
	let text = '';
	for (const char of input.replaceAll('\r\n', '\r')) {
		if (!CONTROL.test(char)) {
			text += char;
			continue;
		}
		if (text !== '') presses.push([text, NO_KEY]);
		text = '';
		presses.push(controlKey(char));
	}
	if (text !== '') presses.push([text, NO_KEY]);
	return presses;
}

/**
 * Wraps a useInput handler so it sees each keypress of a chunk on its own.
 * The handler returns 'stop' when it submitted a form: the rest of the chunk
 * is dropped, as keys typed while the form is busy are.
 */
export function eachKeypress(
	handler: (input: string, key: Key) => undefined | 'stop',
): (input: string, key: Key) => void {
	return (input, key) => {
		for (const [oneInput, oneKey] of keypresses(input, key)) if (handler(oneInput, oneKey) === 'stop') return;
	};
}
