// A room's wrapped rows, cached across frames and keyed by the tab, so a
// closed room's cache goes with it. `base` paints mentions of our nick; while
// a search has a query, `drawn` paints its matches too. A cache is rebuilt
// when what it paints changes (the nick, the query, the current match).

import {useRef} from 'react';
import {layoutEntry, type LogRow} from './log-format.js';
import type {RoomTab} from './room-tab.js';
import {currentMatchId} from './search.js';
import {RowCache} from './viewport.js';

interface TabRows {
	readonly nick: string | undefined;
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

export function useTabRows(): TabRowCaches {
	const caches = useRef(new WeakMap<RoomTab, TabRows>());
	const rowsFor = (tab: RoomTab): TabRows => {
		const ownNick = tab.status.nick;
		let rows = caches.current.get(tab);
		if (rows === undefined || rows.nick !== ownNick) {
			rows = {
				nick: ownNick,
				base: new RowCache<LogRow>((entry, width) => layoutEntry(entry, width, {ownNick})),
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
					layoutEntry(entry, width, {ownNick, highlight, currentId}),
				);
				rows.searchKey = key;
			}
			return rows.search;
		},
	};
}
