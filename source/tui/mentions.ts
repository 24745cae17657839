// Mentions of our own nick, and of the config's highlight_words: where they
// are in a message (the log paints them) and whether an event deserves the
// terminal bell (--bell) and the tab's mark.

import type {RoomEvent} from '../client/types.js';
import {escapeRegExp, type TextRange} from './text-ranges.js';

// What a nick is made of (the protocol's NICK_PATTERN: letters, digits and
// _-[]{}|^` plus "."), with combining marks so "bobé" written with a
// combining accent is not a mention of "bob". The "." is left out on purpose
// and handled by the lookarounds: "bob." ends a sentence, "bob.smith" is
// someone else.
const NICK_CHAR = String.raw`[\p{L}\p{N}\p{M}_\-\[\]{}|^\x60]`;

const patterns = new Map<string, RegExp>();
const MAX_CACHED_PATTERNS = 64;

function patternFor(nick: string): RegExp {
	let pattern = patterns.get(nick);
	if (pattern === undefined) {
		pattern = new RegExp(
			String.raw`(?<!${NICK_CHAR})(?<!${NICK_CHAR}\.)(?:${escapeRegExp(nick)})(?!${NICK_CHAR})(?!\.${NICK_CHAR})`,
			'giu',
		);
		// Layout asks for the same one or two nicks over and over; keep the cache small anyway.
		if (patterns.size >= MAX_CACHED_PATTERNS) patterns.clear();
		patterns.set(nick, pattern);
	}
	return pattern;
}

/**
 * Where `nick` is mentioned in `text`: whole-word occurrences, compared
 * case-insensitively (Unicode case folding), as UTF-16 ranges of `text`.
 * "@bob:", "(Bob)" and "bob." mention bob; "bobby", "bob_" and "x.bob" do not.
 */
export function mentions(text: string, nick: string | undefined, words: readonly string[] = []): TextRange[] {
	if (text === '') return [];
	const ranges: TextRange[] = [];
	for (const word of nick === undefined ? words : [nick, ...words]) {
		if (word === '') continue;
		for (const match of text.matchAll(patternFor(word)))
			ranges.push({start: match.index, end: match.index + match[0].length});
	}
	// In text order, overlaps merged: the painter expects ranges that do not cross.
	ranges.sort((a, b) => a.start - b.start || b.end - a.end);
	const merged: TextRange[] = [];
	for (const range of ranges) {
		const last = merged.at(-1);
		if (last !== undefined && range.start < last.end)
			merged[merged.length - 1] = {start: last.start, end: Math.max(last.end, range.end)};
		else merged.push(range);
	}
	return merged;
}

/** Whether `text` names us, or holds one of the highlight words (whole words, any case). */
export function hasMention(text: string, nick: string | undefined, words: readonly string[] = []): boolean {
	return mentions(text, nick, words).length > 0;
}

/**
 * Whether an event should ring the bell: someone else's live message that
 * names us, or a direct message to us. Replayed history and our own lines never ring.
 */
export function shouldRing(
	event: RoomEvent,
	ownNick: string | undefined,
	highlightWords: readonly string[] = [],
): boolean {
	if (event.type === 'message')
		return !event.self && !event.history && hasMention(event.text, ownNick, highlightWords);
	if (event.type === 'direct') return !event.self;
	return false;
}

/** Where the bell goes: the terminal (process.stdout), or anything with `write` in tests. */
export interface BellStream {
	write(chunk: string): unknown;
}

export const BEL = '\u0007';

/**
 * Writes BEL to `stream` when `enabled`; true when it did. A BEL moves no
 * cursor, so it is safe to write past Ink. Never throws: a bell is not worth
 * crashing the UI over (the stream may be closed while quitting).
 */
export function bell(stream: BellStream, enabled: boolean): boolean {
	if (!enabled) return false;
	try {
		stream.write(BEL);
		return true;
	} catch {
		return false;
	}
}

export interface BellOptions {
	readonly enabled: boolean;
	/** A burst of mentions rings once per this many milliseconds (default 1000). */
	readonly minIntervalMs?: number;
	readonly now?: () => number;
}

export interface Bell {
	readonly enabled: boolean;
	/** Rings unless disabled or rung within the interval; true when it rang. */
	ring(): boolean;
}

export function createBell(stream: BellStream, options: BellOptions): Bell {
	const interval = options.minIntervalMs ?? 1000;
	const now = options.now ?? Date.now;
	let last = Number.NEGATIVE_INFINITY;
	return {
		enabled: options.enabled,
		ring() {
			if (!options.enabled) return false;
			const time = now();
			if (time - last < interval) return false;
			last = time;
			return bell(stream, true);
		},
	};
}
