// Scrolling the room's log (key-bindings.ts: scrollActionForKey): PgUp/PgDn a
// page, Shift/Ctrl+↑/↓ a line, Esc or Ctrl+End back to the newest line. They
// work under the input line, the nick prompt and the login form; the send
// question, the search prompt and the trust prompt keep these keys for themselves.

import {scrollActionForKey} from './key-bindings.js';
import type {LogView} from './log-view.js';
import {FOLLOWING, type RoomTab} from './room-tab.js';
import {bottomKind} from './ScreenBottom.js';
import {useKeys} from './use-keys.js';
import type {Workspace} from './workspace.js';

export interface ScrollKeys {
	readonly workspace: Workspace;
	readonly isActive: boolean;
	/** The room's log as on screen now (its page size, how far it can scroll). */
	readonly viewFor: (tab: RoomTab) => LogView;
}

/**
 * Scrolls the tab's log by `rowsUp` (negative: down). Going up to the oldest
 * line loaded asks the server for the page before it (once, see RoomTab.loadOlder).
 */
export function scrollLog(tab: RoomTab, viewFor: (tab: RoomTab) => LogView, rowsUp: number): void {
	tab.setScroll(viewFor(tab).scrolledBy(rowsUp));
	if (rowsUp > 0 && viewFor(tab).viewport.atTop) tab.loadOlder();
}

export function useScrollKeys({workspace, isActive, viewFor}: ScrollKeys): void {
	useKeys(
		(input, key) => {
			// Read at key time: a key right after a switch scrolls the room shown now.
			const tab = workspace.active;
			if (tab === undefined) return undefined;
			const kind = bottomKind(tab);
			if (kind === 'question' || kind === 'search' || kind === 'picker') return undefined;
			const action = scrollActionForKey(input, key);
			if (action === undefined) return undefined;
			const view = viewFor(tab);
			switch (action.type) {
				case 'scroll-page':
					scrollLog(tab, viewFor, action.direction === 'up' ? view.page : -view.page);
					return undefined;
				case 'scroll-line':
					scrollLog(tab, viewFor, action.direction === 'up' ? 1 : -1);
					return undefined;
				case 'scroll-to-bottom':
					tab.setScroll(FOLLOWING);
					return undefined;
				default:
					return undefined;
			}
		},
		{isActive, report: (message) => workspace.active?.error(message)},
	);
}
