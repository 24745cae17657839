// Which wrapped rows of the log are on screen. Walks entries from the newest
// and wraps only what it passes, so a 10,000-entry log costs a screenful of
// wrapping, not 10,000; wrapped rows are cached per entry object and width.

import type {LogEntry} from './scrollback.js';

/** What the viewport needs from the log: the Scrollback class fits. */
export interface EntrySource {
	readonly length: number;
	at(index: number): LogEntry | undefined;
}

export type Layout<R> = (entry: LogEntry, width: number) => readonly R[];

export class RowCache<R> {
	// Keyed by the entry object: an edited entry is a new object and wraps afresh.
	private readonly cache = new WeakMap<LogEntry, {width: number; rows: readonly R[]}>();
	/** How many times `layout` ran; tests use it to prove the walk stays lazy. */
	wrapCount = 0;

	constructor(private readonly layout: Layout<R>) {}

	rowsFor(entry: LogEntry, width: number): readonly R[] {
		const cached = this.cache.get(entry);
		if (cached?.width === width) return cached.rows;
		this.wrapCount++;
		const rows = this.layout(entry, width);
		this.cache.set(entry, {width, rows});
		return rows;
	}
}

export interface ViewportRequest {
	readonly width: number;
	readonly height: number;
	/** Rows scrolled up from the bottom; 0 follows the newest line. */
	readonly offset: number;
}

export interface VisibleRow<R> {
	readonly entry: LogEntry;
	/** Which row of the entry this is (0 = first). */
	readonly part: number;
	readonly row: R;
}

export interface Viewport<R> {
	/** Oldest first, at most `height` of them. */
	readonly rows: readonly VisibleRow<R>[];
	/** The offset actually used: less than asked for when the log is not that long. */
	readonly offset: number;
	readonly atTop: boolean;
	readonly atBottom: boolean;
}

export function computeViewport<R>(
	source: EntrySource,
	cache: RowCache<R>,
	request: ViewportRequest,
): Viewport<R> {
	const height = Math.max(0, Math.floor(request.height));
	const offset = Math.max(0, Math.floor(request.offset));
	// Collected newest first, then reversed.
	const collected: VisibleRow<R>[] = [];
	let skipped = 0;
	let index = source.length - 1;
	for (; index >= 0 && collected.length < height; index--) {
		const entry = source.at(index);
		if (entry === undefined) continue;
		const rows = cache.rowsFor(entry, request.width);
		for (let part = rows.length - 1; part >= 0 && collected.length < height; part--) {
			if (skipped < offset) {
				skipped++;
				continue;
			}
			collected.push({entry, part, row: rows[part]!});
		}
	}
	if (index < 0 && collected.length < height && offset > 0) {
		// Scrolled past the oldest line: pin the oldest row to the top instead.
		return computeViewport(source, cache, {
			...request,
			offset: Math.max(0, skipped + collected.length - height),
		});
	}
	const top = collected.at(-1);
	const atTop = index < 0 && (top === undefined || top.part === 0);
	return {rows: collected.reverse(), offset, atTop, atBottom: offset === 0};
}

/** Rows taken by entries newer than `afterId`: how far a scrolled-up view must shift to stay put. */
export function rowsAfter<R>(
	source: EntrySource,
	cache: RowCache<R>,
	width: number,
	afterId: number,
): number {
	let total = 0;
	for (let index = source.length - 1; index >= 0; index--) {
		const entry = source.at(index);
		if (entry === undefined || entry.id <= afterId) break;
		total += cache.rowsFor(entry, width).length;
	}
	return total;
}
