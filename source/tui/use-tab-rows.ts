// A room's wrapped rows, cached across frames and keyed by the tab, so a
// closed room's cache goes with it. `base` paints mentions of our nick; while
// a search has a query, `drawn` paints its matches too. A cache is rebuilt
// when what it paints changes (the nick, the query, the current match).

import {useRef} from 'react';
import {layoutEntry, type LayoutOptions, type LogRow} from './log-format.js';
import type {RoomTab} from './room-tab.js';
import {currentMatchId} from './search.js';
import {RowCache} from './viewport.js';

/** What the config adds to every room's rows (the look, the highlight words); a new object rebuilds the caches. */
export type RowSettings = Pick<LayoutOptions, 'look' | 'highlightWords'>;

interface TabRows {
	readonly nick: string | undefined;
	readonly settings: RowSettings;
	readonly base: RowCache<LogRow>;
	searchKey?: string;
	search?: RowCache<LogRow>;
}

export interface TabRowCaches {
	/** The rows with mentions painted: what measuring uses (highlights never change how many rows an entry takes). */
	base(tab: RoomTab): RowCache<LogRow>;
	/** The rows as drawn: with the search's matches painted while it has a query. */
	drawn(tab: RoomTab): RowCache<LogRow>;
}

const NO_SETTINGS: RowSettings = Object.freeze({});

export function useTabRows(settings: RowSettings = NO_SETTINGS): TabRowCaches {
	const caches = useRef(new WeakMap<RoomTab, TabRows>());
	const rowsFor = (tab: RoomTab): TabRows => {
		const ownNick = tab.status.nick;
		let rows = caches.current.get(tab);
		if (rows === undefined || rows.nick !== ownNick || rows.settings !== settings) {
			rows = {
				nick: ownNick,
				settings,
				base: new RowCache<LogRow>((entry, width) => layoutEntry(entry, width, {...settings, ownNick})),
			};
			caches.current.set(tab, rows);
		}
		return rows;
	};
	return {
		base: (tab) => rowsFor(tab).base,
		drawn(tab) {
			const rows = rowsFor(tab);
			const search = tab.search;
			if (search === undefined || search.query === '') return rows.base;
			const currentId = currentMatchId(search);
			const key = `${currentId ?? ''}:${search.query}`;
			if (rows.search === undefined || rows.searchKey !== key) {
				const {nick: ownNick} = rows;
				const highlight = search.query;
				rows.search = new RowCache<LogRow>((entry, width) =>
					layoutEntry(entry, width, {...settings, ownNick, highlight, currentId}),
				);
				rows.searchKey = key;
			}
			return rows.search;
		},
	};
}
