// Searching a room's log (search.ts) on screen: each step of the search
// scrolls the log to its current match; leaving the search with Esc goes back
// to the view it started from.

import type {LogRow} from './log-format.js';
import {FOLLOWING, type RoomTab, type TabSearch} from './room-tab.js';
import {currentMatchId, openSearch, reduceSearch, type SearchAction, scrollToEntry} from './search.js';
import type {RowCache} from './viewport.js';

export interface SearchControls {
	/** Opens the search (Ctrl+R, /search QUERY). */
	start(tab: RoomTab, query: string): void;
	/** A key (or a paste) in the search prompt. */
	act(tab: RoomTab, action: SearchAction): void;
}

export interface LogSize {
	readonly width: number;
	readonly height: number;
}

export function searchControls(
	logSize: (tab: RoomTab) => LogSize,
	baseRows: (tab: RoomTab) => RowCache<LogRow>,
): SearchControls {
	/** Takes the search's next state: scrolls to its match, or leaves search mode. */
	const apply = (tab: RoomTab, next: TabSearch): void => {
		tab.setSearch(next);
		if (next.status === 'cancelled') {
			tab.setScroll(next.saved);
			return;
		}
		const id = currentMatchId(next);
		if (id === undefined) {
			if (next.status === 'active') tab.setScroll(next.saved); // no match (yet): the view it started from
			return;
		}
		const {width, height} = logSize(tab);
		// Measured with the base rows: highlights never change how many rows an entry takes.
		const scroll = scrollToEntry(tab.log, baseRows(tab), width, height, id, tab.scroll);
		if (scroll !== undefined) tab.setScroll(scroll.offset === 0 ? FOLLOWING : scroll);
	};
	return {
		start: (tab, query) => apply(tab, openSearch(tab.log, tab.scroll, query)),
		act(tab, action) {
			if (tab.search !== undefined) apply(tab, reduceSearch(tab.search, action, tab.log));
		},
	};
}
