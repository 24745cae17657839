// How the rows and columns of the terminal are shared out, as plain numbers:
// status bar, tab bar, log (with the member panel beside it) and the bottom
// (input line, nick prompt, login form or trust question). Below COMPACT_ROWS
// the tab bar folds into the status bar; on a tiny terminal the bottom keeps its
// rows first, then the status bar, and the log gets what is left (maybe none).
// The parts always add up to exactly the terminal's height, so nothing wraps.

import {MEMBER_PANEL_GAP, MEMBER_PANEL_MIN_SCREEN_WIDTH, MEMBER_PANEL_WIDTH} from './MemberPanel.js';

/** Fewer rows than this: the compact layout (no tab bar row). */
export const COMPACT_ROWS = 12;

export interface ScreenLayoutRequest {
	readonly columns: number;
	readonly rows: number;
	/** Rows the bottom part wants. */
	readonly bottomHeight: number;
	/** Whether the user wants the member panel (Ctrl+T). */
	readonly membersWanted: boolean;
	/** Whether the room has a topic to show under the tab bar. */
	readonly topic?: boolean | undefined;
}

export interface ScreenLayout {
	/** The tab bar is folded into the status bar. */
	readonly compact: boolean;
	readonly statusHeight: number;
	readonly tabBarHeight: number;
	/** The room's topic, under the tab bar (only with it, and only while the log keeps two rows). */
	readonly topicHeight: number;
	readonly logHeight: number;
	readonly bottomHeight: number;
	readonly panelShown: boolean;
	readonly logWidth: number;
}

export function screenLayout({
	columns,
	rows,
	bottomHeight,
	membersWanted,
	topic = false,
}: ScreenLayoutRequest): ScreenLayout {
	const height = Math.max(0, Math.floor(rows));
	const compact = height < COMPACT_ROWS;
	const bottom = Math.min(Math.max(0, bottomHeight), height);
	const statusHeight = height - bottom >= 1 ? 1 : 0;
	// The tab bar only when the log keeps at least one row.
	const tabBarHeight = !compact && height - bottom - statusHeight >= 2 ? 1 : 0;
	const topicHeight = topic && tabBarHeight > 0 && height - bottom - statusHeight - tabBarHeight >= 3 ? 1 : 0;
	const logHeight = height - bottom - statusHeight - tabBarHeight - topicHeight;
	const panelShown = membersWanted && columns >= MEMBER_PANEL_MIN_SCREEN_WIDTH && logHeight > 0;
	return {
		compact,
		statusHeight,
		tabBarHeight,
		topicHeight,
		logHeight,
		bottomHeight: bottom,
		panelShown,
		logWidth: Math.max(1, columns - (panelShown ? MEMBER_PANEL_WIDTH + MEMBER_PANEL_GAP : 0)),
	};
}
