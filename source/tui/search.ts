// Searching the room's log (Ctrl+R or /search TEXT): case-insensitive
// substring matches over what each entry shows, newest first, and a small state
// machine for "search mode" — typing the query, stepping to older and newer
// matches, Enter to stay at the match, Esc to go back to where the view was.
// No React: the screen keeps a SearchState and scrolls to `currentMatchId`.

import {sanitizeText} from '../protocol/messages.js';
import {previousBoundary} from './graphemes.js';
import {cleanInsertedText} from './line-editor.js';
import {entryText} from './log-format.js';
import type {LogEntry} from './scrollback.js';
import {escapeRegExp, findAll, type TextRange} from './text-ranges.js';
import type {EntrySource, RowCache} from './viewport.js';

/** The text of an entry that search looks in (what it shows after the time and nick), sanitized or as kept. */
function textOf(entry: LogEntry, sanitize: boolean): string {
	// These show their text as the body's first span (see entrySpans): skip laying out the rest.
	switch (entry.kind) {
		case 'message':
		case 'direct':
		case 'outgoing':
		case 'notice':
		case 'error':
			return sanitize ? sanitizeText(entry.text) : entry.text;
		default:
			return entryText(entry);
	}
}

/**
 * Sanitizing swaps single control characters for U+FFFD, one for one, so a
 * query with neither matches the raw text exactly where it matches the shown
 * one: the text can be searched as it is.
 */
const needsSanitizedText = (query: string): boolean =>
	query.includes('\uFFFD') || sanitizeText(query) !== query;

/** Where `query` occurs in `text`, case-insensitively; empty for an empty query. */
export function matchRanges(text: string, query: string): TextRange[] {
	return findAll(text, query);
}

/** Whether a text contains `query`, case-insensitively as findAll folds case; compiled once per query. */
function containsQuery(query: string): (text: string) => boolean {
	const pattern = new RegExp(escapeRegExp(query), 'iu');
	return (text) => pattern.test(text);
}

interface ScanOptions {
	/** Entries with ids up to this were searched before: only newer ones are tested... */
	readonly after?: number;
	/** ...except these (newest first), the earlier matches of a shorter query, which are tested again. */
	readonly candidates?: readonly number[];
}

/**
 * Ids of matching entries, newest first, walking from the newest entry.
 * Without options every entry is tested. A query that grows only matches
 * where its shorter self did, and lines already searched never change text
 * (an acknowledgement or failure keeps it), which is what `after` and
 * `candidates` exploit: a key or a new line costs the new work, not the log.
 */
function scan(source: EntrySource, query: string, options: ScanOptions = {}): number[] {
	if (query === '') return [];
	const after = options.after ?? 0;
	const candidates = options.candidates;
	const contains = containsQuery(query);
	const sanitize = needsSanitizedText(query);
	const ids: number[] = [];
	let next = 0;
	for (let index = source.length - 1; index >= 0; index--) {
		const entry = source.at(index);
		if (entry === undefined) continue;
		if (entry.id <= after) {
			if (candidates === undefined) break;
			while (next < candidates.length && candidates[next]! > entry.id) next++;
			if (next >= candidates.length) break;
			if (candidates[next] !== entry.id) continue;
		}
		if (contains(textOf(entry, sanitize))) ids.push(entry.id);
	}
	return ids;
}

/** Ids of the entries whose text contains `query`, newest first. An empty query matches nothing. */
export function findMatches(source: EntrySource, query: string): number[] {
	return scan(source, query);
}

/** The newest entry's id: everything up to it has been searched. */
function newestId(source: EntrySource): number {
	return source.length === 0 ? 0 : (source.at(source.length - 1)?.id ?? 0);
}

export type SearchStatus = 'active' | 'accepted' | 'cancelled';

export interface SearchState<S = unknown> {
	readonly query: string;
	/** Matching entry ids, newest first. */
	readonly matches: readonly number[];
	/** Index into `matches` of the current match; -1 when there is none. */
	readonly current: number;
	/** What the screen had before searching (its scroll state), handed back on Esc. */
	readonly saved: S;
	/** The screen leaves search mode on 'accepted' (keep the view) and 'cancelled' (restore `saved`). */
	readonly status: SearchStatus;
	/** Set when the last step found no older / newer match, for a hint. */
	readonly edge?: 'oldest' | 'newest' | undefined;
	/** The newest entry id `matches` covers: a refresh only searches what came after. */
	readonly scanned?: number | undefined;
}

export type SearchAction =
	| {type: 'type'; text: string}
	| {type: 'backspace'}
	| {type: 'delete-word'}
	| {type: 'clear-query'}
	| {type: 'set-query'; query: string}
	/** Ctrl+R, ↑: the next older match. */
	| {type: 'older'}
	/** Ctrl+S, ↓: the next newer match. */
	| {type: 'newer'}
	/** Enter: leave search mode and stay at the match. */
	| {type: 'accept'}
	/** Esc, Ctrl+G: leave search mode and go back. */
	| {type: 'cancel'}
	/** The log changed (new lines, trimmed, cleared): find the matches again, keeping the current one. */
	| {type: 'refresh'};

/**
 * Picks the match to show after the matches changed: the same entry if it
 * still matches, else the nearest older one (as you refine a query the view
 * moves back in time, never jumps forward), else the newest.
 */
function reselect(matches: readonly number[], previousId: number | undefined): number {
	if (matches.length === 0) return -1;
	if (previousId === undefined) return 0;
	const same = matches.indexOf(previousId);
	if (same !== -1) return same;
	const older = matches.findIndex((id) => id < previousId);
	return older === -1 ? matches.length - 1 : older;
}

function withQuery<S>(state: SearchState<S>, query: string, source: EntrySource): SearchState<S> {
	if (query === state.query) return state;
	// A longer query can only match where the shorter one did.
	const narrows = state.query !== '' && query.startsWith(state.query);
	const matches = narrows
		? scan(source, query, {after: state.scanned ?? 0, candidates: state.matches})
		: scan(source, query);
	return {
		...state,
		query,
		matches,
		current: reselect(matches, currentMatchId(state)),
		edge: undefined,
		scanned: newestId(source),
	};
}

/** Enters search mode; with a query (from /search TEXT) the newest match is current at once. */
export function openSearch<S>(source: EntrySource, saved: S, query = ''): SearchState<S> {
	const clean = cleanInsertedText(query);
	const matches = findMatches(source, clean);
	return {
		query: clean,
		matches,
		current: matches.length === 0 ? -1 : 0,
		saved,
		status: 'active',
		scanned: newestId(source),
	};
}

/** The matches after the log changed: new lines searched, lines trimmed off the top (or cleared) dropped. */
function refreshedMatches(state: SearchState<unknown>, source: EntrySource): number[] {
	const oldestId = source.length === 0 ? Number.POSITIVE_INFINITY : (source.at(0)?.id ?? 0);
	const added = scan(source, state.query, {after: state.scanned ?? 0});
	const kept = state.matches.filter((id) => id >= oldestId && id <= (state.scanned ?? 0));
	return added.length === 0 && kept.length === state.matches.length
		? [...state.matches]
		: [...added, ...kept];
}

export function reduceSearch<S>(
	state: SearchState<S>,
	action: SearchAction,
	source: EntrySource,
): SearchState<S> {
	if (state.status !== 'active') return state;
	switch (action.type) {
		case 'type':
			return withQuery(state, state.query + cleanInsertedText(action.text), source);
		case 'backspace':
			return withQuery(
				state,
				state.query.slice(0, previousBoundary(state.query, state.query.length)),
				source,
			);
		case 'delete-word':
			return withQuery(state, state.query.replace(/\S*\s*$/u, ''), source);
		case 'clear-query':
			return withQuery(state, '', source);
		case 'set-query':
			return withQuery(state, cleanInsertedText(action.query), source);
		case 'older':
			if (state.matches.length === 0) return state;
			if (state.current >= state.matches.length - 1) return {...state, edge: 'oldest'};
			return {...state, current: state.current + 1, edge: undefined};
		case 'newer':
			if (state.matches.length === 0) return state;
			if (state.current <= 0) return {...state, edge: 'newest'};
			return {...state, current: state.current - 1, edge: undefined};
		case 'accept':
			return {...state, status: 'accepted'};
		case 'cancel':
			return {...state, status: 'cancelled'};
		case 'refresh': {
			const matches = refreshedMatches(state, source);
			const scanned = newestId(source);
			const same =
				matches.length === state.matches.length && matches.every((id, index) => id === state.matches[index]);
			if (same) return scanned === state.scanned ? state : {...state, scanned};
			return {...state, matches, current: reselect(matches, currentMatchId(state)), scanned};
		}
	}
}

/** The entry to scroll to, or undefined (no query or no match: show the view as it was, `saved`). */
export function currentMatchId(state: SearchState<unknown>): number | undefined {
	return state.current < 0 ? undefined : state.matches[state.current];
}

/** "match 3/17" (1 is the newest), "no matches", or '' before anything is typed; plus a hint at either end. */
export function searchStatusText(state: SearchState<unknown>): string {
	if (state.query === '') return '';
	if (state.matches.length === 0) return 'no matches';
	const position = `match ${state.current + 1}/${state.matches.length}`;
	if (state.edge === 'oldest') return `${position} (no older match)`;
	if (state.edge === 'newest') return `${position} (no newer match)`;
	return position;
}

/**
 * The scroll offset (rows up from the bottom, as computeViewport takes it)
 * that shows entry `id` about mid-view, or its first rows when it is taller
 * than the view; 0 when it is near the bottom; undefined when it is not in the
 * log. Pass the height the log has while scrolled up (the "more below" marker
 * takes a row) and the same RowCache the view draws with.
 */
export function offsetToShow<R>(
	source: EntrySource,
	cache: RowCache<R>,
	width: number,
	height: number,
	id: number,
): number | undefined {
	const rows = Math.max(1, Math.floor(height));
	let below = 0;
	for (let index = source.length - 1; index >= 0; index--) {
		const entry = source.at(index);
		if (entry === undefined) continue;
		if (entry.id < id) return undefined; // ids grow along the log: it is gone
		const count = cache.rowsFor(entry, width).length;
		if (entry.id === id) {
			const slack = rows - count;
			return slack >= 0 ? Math.max(0, below - Math.floor(slack / 2)) : below + count - rows;
		}
		below += count;
	}
	return undefined;
}

/** The scroll position a screen keeps for a room (structurally the tab's ScrollState). */
export interface ScrollPosition {
	/** Rows up from the bottom; 0 follows new lines. */
	readonly offset: number;
	/** Newest entry id when `offset` was set. */
	readonly anchorId: number;
	/** Newest entry id when the user left the bottom. */
	readonly seenId: number;
}

/**
 * The scroll position that shows entry `id`, for a log `logHeight` rows tall
 * (the "more below" marker's row is allowed for): following the bottom when
 * it is there already, undefined when the entry is gone. `current` keeps the
 * count of unseen lines running when the view was scrolled up already.
 */
export function scrollToEntry<R>(
	source: EntrySource & {readonly nextEntryId: number},
	cache: RowCache<R>,
	width: number,
	logHeight: number,
	id: number,
	current: ScrollPosition,
): ScrollPosition | undefined {
	const offset = offsetToShow(source, cache, width, Math.max(1, logHeight - 1), id);
	if (offset === undefined) return undefined;
	if (offset === 0) return {offset: 0, anchorId: 0, seenId: 0};
	const newestId = source.nextEntryId - 1;
	return {offset, anchorId: newestId, seenId: current.offset > 0 ? current.seenId : newestId};
}
