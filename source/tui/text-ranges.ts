// Ranges of text (search matches, mentions of our nick) and how to paint them
// onto styled spans. Shared by search.ts, mentions.ts and log-format.ts.

import {nextBoundary, snapToBoundary} from './graphemes.js';
import type {Span} from './wrap.js';

/** A half-open range of UTF-16 offsets, [start, end). */
export interface TextRange {
	readonly start: number;
	readonly end: number;
}

/**
 * Escapes every character a `u`-flag RegExp treats as syntax. (Only those: in
 * `u` mode an escaped "-" or "_" is itself a syntax error, so a blanket
 * "escape all punctuation" would break on nicks like "a-b".)
 */
export function escapeRegExp(text: string): string {
	return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/**
 * Every occurrence of `needle` in `text`, case-insensitively by Unicode case
 * folding. A RegExp with the `iu` flags folds case without changing lengths,
 * so the offsets stay those of `text` (lower-casing first would shift them:
 * "İ" lower-cases to two code units).
 */
export function findAll(text: string, needle: string): TextRange[] {
	if (needle === '' || text === '') return [];
	const pattern = new RegExp(escapeRegExp(needle), 'giu');
	const ranges: TextRange[] = [];
	for (const match of text.matchAll(pattern))
		ranges.push({start: match.index, end: match.index + match[0].length});
	return ranges;
}

/** Widens ranges to whole graphemes (so "e" never paints half of "é") and merges overlaps; sorted. */
export function normaliseRanges(text: string, ranges: readonly TextRange[]): TextRange[] {
	const widened = ranges
		.map((range) => {
			const start = snapToBoundary(text, Math.max(0, range.start));
			const end = Math.min(text.length, range.end);
			const snappedEnd =
				end <= start ? start : snapToBoundary(text, end) === end ? end : nextBoundary(text, end);
			return {start, end: snappedEnd};
		})
		.filter((range) => range.end > range.start)
		.sort((a, b) => a.start - b.start || a.end - b.end);
	const merged: TextRange[] = [];
	for (const range of widened) {
		const last = merged.at(-1);
		if (last !== undefined && range.start <= last.end)
			merged[merged.length - 1] = {start: last.start, end: Math.max(last.end, range.end)};
		else merged.push(range);
	}
	return merged;
}

/** Ranges to paint and the style they get, given the style beneath them. */
export interface PaintLayer<S> {
	readonly ranges: readonly TextRange[];
	/** Return shared objects for equal inputs: the wrapper merges neighbouring cells by style identity. */
	readonly styleFor: (base: S) => S;
}

/**
 * Splits one span where the layers' ranges start and end, restyling each part
 * with every layer that covers it, in order (a later layer paints over an
 * earlier one). Offsets are those of `span.text`.
 */
export function paintRanges<S>(span: Span<S>, layers: readonly PaintLayer<S>[]): Span<S>[] {
	const text = span.text;
	const normalised = layers.map((layer) => normaliseRanges(text, layer.ranges));
	const cuts = new Set<number>([0, text.length]);
	for (const ranges of normalised) for (const range of ranges) cuts.add(range.start).add(range.end);
	const points = [...cuts].sort((a, b) => a - b);
	const parts: Span<S>[] = [];
	for (let index = 0; index + 1 < points.length; index++) {
		const start = points[index]!;
		const end = points[index + 1]!;
		let style = span.style;
		normalised.forEach((ranges, layer) => {
			if (ranges.some((range) => range.start <= start && end <= range.end))
				style = layers[layer]!.styleFor(style);
		});
		const last = parts.at(-1);
		if (last !== undefined && last.style === style)
			parts[parts.length - 1] = {text: last.text + text.slice(start, end), style};
		else parts.push({text: text.slice(start, end), style});
	}
	return parts.length === 0 ? [span] : parts;
}
