// Which rows of a room's log are on screen for its scroll state, and where a
// scroll key moves that state. Plain functions over the tab's data, so each tab
// keeps its own position while another is shown.

import type {LogRow} from './log-format.js';
import {FOLLOWING, type ScrollState} from './room-tab.js';
import type {Scrollback} from './scrollback.js';
import {computeViewport, rowsAfter, type RowCache, type Viewport} from './viewport.js';

export interface LogView {
	readonly viewport: Viewport<LogRow>;
	/** Rows for log lines (one less than the log's height while the "more below" marker shows). */
	readonly viewHeight: number;
	readonly scrolled: boolean;
	/** Chat lines below the view. */
	readonly newBelow: number;
	/** Rows a PgUp/PgDn moves. */
	readonly page: number;
	/** The scroll state after moving `rowsUp` rows up (negative: down), clamped to the log. */
	scrolledBy(rowsUp: number): ScrollState;
}

export function logView(
	log: Scrollback,
	cache: RowCache<LogRow>,
	scroll: ScrollState,
	width: number,
	height: number,
): LogView {
	const scrolled = scroll.offset > 0;
	// The marker takes the last log row while scrolled up.
	const viewHeight = scrolled && height > 1 ? height - 1 : height;
	const viewAt = (offset: number) => computeViewport(log, cache, {width, height: viewHeight, offset});
	const effectiveOffset = scrolled ? scroll.offset + rowsAfter(log, cache, width, scroll.anchorId) : 0;
	const viewport = viewAt(effectiveOffset);
	const newestId = log.nextEntryId - 1;
	return {
		viewport,
		viewHeight,
		scrolled,
		newBelow: scrolled ? log.countMessagesAfter(scroll.seenId) : 0,
		page: Math.max(1, viewHeight - 1),
		scrolledBy(rowsUp) {
			const target = Math.max(0, viewport.offset + rowsUp);
			if (target === 0) return FOLLOWING;
			// Clamp now, so scrolling back down from past the top responds at once.
			const {offset} = viewAt(target);
			if (offset === 0) return FOLLOWING;
			return {offset, anchorId: newestId, seenId: scrolled ? scroll.seenId : newestId};
		},
	};
}
