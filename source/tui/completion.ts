// Tab completion of nicks and /commands, irssi/WeeChat style: Tab replaces the
// word before the cursor with the first match, each further Tab with the next
// one (Shift+Tab goes back), wrapping around. The session remembers the word as
// typed, so cycling always offers the matches of the original prefix. Pure
// functions: the screen keeps the session between key presses and drops it on
// any other key.

import {identityKey} from '../protocol/names.js';
import {COMMANDS} from './commands.js';
import type {LogEntry} from './scrollback.js';
import type {EntrySource} from './viewport.js';

export interface EditState {
	readonly value: string;
	/** UTF-16 offset. */
	readonly cursor: number;
}

export interface CompletionCandidates {
	/** In the order to offer them: most recently active first (see `nickCandidates`). */
	readonly nicks: readonly string[];
	/** Command names without the slash (see `commandNames`). */
	readonly commands: readonly string[];
}

export interface CompletionSession {
	/** Where the completed word starts. */
	readonly start: number;
	/** The word as the user typed it (without a leading "/" for commands). */
	readonly prefix: string;
	/** What replaces the word for each match, separator included ("alice: ", "/msg "). */
	readonly replacements: readonly string[];
	/** Which replacement is on the line. */
	readonly index: number;
	/**
	 * The line as this session left it. A different line means the user did
	 * something else in between, so the next Tab starts afresh even if the
	 * screen forgot to drop the session.
	 */
	readonly value: string;
	readonly cursor: number;
}

export interface CompletionResult extends EditState {
	/** Keep this for the next Tab; undefined when nothing matched (the line is unchanged then). */
	readonly session: CompletionSession | undefined;
}

export type CompletionDirection = 'forward' | 'backward';

/** Command names for completion: every name (sorted), then the aliases (sorted), without slashes. */
export function commandNames(): string[] {
	const names = COMMANDS.map((spec) => spec.name).sort();
	const aliases = COMMANDS.flatMap((spec) => spec.aliases)
		.filter((alias) => /^[\p{L}\p{N}]/u.test(alias))
		.sort();
	return [...names, ...aliases];
}

/** Nicks that spoke (messages and direct messages), newest first, each once, by scanning the log from its end. */
export function recentSpeakers(source: EntrySource, limit = 500): string[] {
	const seen = new Set<string>();
	const speakers: string[] = [];
	for (let index = source.length - 1; index >= 0 && speakers.length < limit; index--) {
		const entry: LogEntry | undefined = source.at(index);
		if (entry === undefined || (entry.kind !== 'message' && entry.kind !== 'direct')) continue;
		const key = identityKey(entry.from);
		if (seen.has(key)) continue;
		seen.add(key);
		speakers.push(entry.from);
	}
	return speakers;
}

/**
 * The nicks to complete, in the order Tab offers them: members who spoke
 * recently (newest first), then the other members alphabetically, our own
 * nick last (you rarely address yourself, but "/msg me" is not forbidden).
 */
export function nickCandidates(members: readonly string[], source: EntrySource, ownNick?: string): string[] {
	const own = ownNick === undefined ? undefined : identityKey(ownNick);
	const byKey = new Map<string, string>();
	for (const member of members) if (identityKey(member) !== own) byKey.set(identityKey(member), member);
	const ordered: string[] = [];
	for (const speaker of recentSpeakers(source)) {
		const member = byKey.get(identityKey(speaker));
		if (member === undefined) continue;
		ordered.push(member);
		byKey.delete(identityKey(speaker));
	}
	ordered.push(...[...byKey.values()].sort((a, b) => a.localeCompare(b)));
	const self = members.find((member) => identityKey(member) === own);
	if (self !== undefined) ordered.push(self);
	return ordered;
}

const startsWithFolded = (candidate: string, prefix: string): boolean =>
	identityKey(candidate).startsWith(identityKey(prefix));

function uniqueMatches(candidates: readonly string[], prefix: string): string[] {
	const seen = new Set<string>();
	const matches: string[] = [];
	for (const candidate of candidates) {
		const key = identityKey(candidate);
		if (candidate === '' || seen.has(key) || !startsWithFolded(candidate, prefix)) continue;
		seen.add(key);
		matches.push(candidate);
	}
	return matches;
}

/** A fresh completion of the word before the cursor; undefined when nothing matches. */
function startSession(
	state: EditState,
	candidates: CompletionCandidates,
): Omit<CompletionSession, 'value' | 'cursor' | 'index'> | undefined {
	const before = state.value.slice(0, state.cursor);
	const start = before.search(/\S+$/u);
	if (start === -1) return undefined; // nothing typed before the cursor: nothing to complete
	const word = before.slice(start);
	const after = state.value.slice(state.cursor);
	// Text after the cursor already starts with a space: do not add a second one.
	const space = /^\s/u.test(after) ? '' : ' ';

	if (start === 0 && word.startsWith('/')) {
		if (word.startsWith('//')) return undefined; // "//text" is a message, not a command
		const prefix = word.slice(1);
		const matches = uniqueMatches(candidates.commands, prefix);
		return matches.length === 0
			? undefined
			: {start, prefix, replacements: matches.map((name) => `/${name}${space}`)};
	}
	const matches = uniqueMatches(candidates.nicks, word);
	if (matches.length === 0) return undefined;
	// Addressing someone at the start of a line reads "alice: ", as on IRC.
	const separator = start === 0 ? `:${space}` : space;
	return {start, prefix: word, replacements: matches.map((nick) => nick + separator)};
}

/**
 * Completes the word before the cursor. Pass the session the previous Tab
 * returned as `cycle` to move to the next match (or the previous one,
 * `direction: 'backward'`); pass undefined after any other key.
 */
export function complete(
	state: EditState,
	candidates: CompletionCandidates,
	cycle?: CompletionSession,
	direction: CompletionDirection = 'forward',
): CompletionResult {
	state = {value: state.value, cursor: Math.max(0, Math.min(state.cursor, state.value.length))};
	const continuing = cycle !== undefined && cycle.value === state.value && cycle.cursor === state.cursor;
	if (continuing) {
		const count = cycle.replacements.length;
		const index = (cycle.index + (direction === 'forward' ? 1 : -1) + count) % count;
		// The previous replacement sits between `start` and the cursor; everything after it is the user's.
		return apply(state.value.slice(0, cycle.start), state.value.slice(state.cursor), {...cycle, index});
	}
	const fresh = startSession(state, candidates);
	if (fresh === undefined) return {value: state.value, cursor: state.cursor, session: undefined};
	const index = direction === 'forward' ? 0 : fresh.replacements.length - 1;
	return apply(state.value.slice(0, fresh.start), state.value.slice(state.cursor), {
		...fresh,
		index,
		value: '',
		cursor: 0,
	});
}

function apply(head: string, tail: string, session: CompletionSession): CompletionResult {
	const replacement = session.replacements[session.index] ?? '';
	const value = head + replacement + tail;
	const cursor = head.length + replacement.length;
	return {value, cursor, session: {...session, value, cursor}};
}
