// What the tab bar shows in one row, as plain data: every room as
// "N:transport name", its unread count "(3)" and "@" when it mentioned us, the
// shown room in brackets. When the row is too narrow the labels shed detail
// (names shortened, then dropped, then the transport), and only when even that
// does not fit does the bar show a window around the active tab with "‹2"/"3›"
// for the tabs left out (with "@" there if one of those mentioned us).

import stringWidth from 'string-width';
import type {ConnectionState, TransportKind} from '../client/types.js';
import {truncateToWidth} from './StatusBar.js';

export interface TabInfo {
	readonly transport: TransportKind;
	readonly name: string;
	readonly unread: number;
	readonly mentioned: boolean;
	readonly state: ConnectionState;
	/** Waiting for a nick or a login: nothing arrives until the user acts. */
	readonly waiting: boolean;
}

export type TabBarCell =
	| {
			readonly kind: 'tab';
			/** 0-based; the label shows it 1-based. */
			readonly index: number;
			readonly active: boolean;
			/** "1:udp lobby", without the unread count and mark. */
			readonly label: string;
			/** " (3)" or "". */
			readonly unread: string;
			/** " @" or "". */
			readonly mention: string;
			readonly tab: TabInfo;
	  }
	| {readonly kind: 'more'; readonly text: string; readonly mentioned: boolean}
	| {readonly kind: 'hint'; readonly text: string};

/** A name longer than this is cut at the second level of detail. */
const SHORT_NAME = 12;
/** Columns a cell takes on screen (a tab has a bracket or a space on each side). */
export const cellWidth = (cell: TabBarCell): number =>
	cell.kind === 'tab' ? stringWidth(cell.label + cell.unread + cell.mention) + 2 : stringWidth(cell.text);

function tabCell(tab: TabInfo, index: number, active: boolean, detail: number): TabBarCell {
	const number = String(index + 1);
	const label =
		detail === 0
			? `${number}:${tab.transport} ${tab.name}`
			: detail === 1
				? `${number}:${tab.transport} ${truncateToWidth(tab.name, SHORT_NAME)}`
				: detail === 2
					? `${number}:${tab.transport}`
					: number;
	const compact = detail >= 3;
	return {
		kind: 'tab',
		index,
		active,
		label,
		unread: tab.unread === 0 ? '' : compact ? `(${tab.unread})` : ` (${tab.unread})`,
		mention: tab.mentioned ? (compact ? '@' : ' @') : '',
		tab,
	};
}

const totalWidth = (cells: readonly TabBarCell[]): number =>
	cells.reduce((sum, cell) => sum + cellWidth(cell), 0);

/** The cells of the bar, left to right, never wider than `width` columns together. */
export function layoutTabBar(
	tabs: readonly TabInfo[],
	activeIndex: number,
	width: number,
	hint?: string,
): TabBarCell[] {
	for (let detail = 0; detail <= 3; detail++) {
		const cells = tabs.map((tab, index) => tabCell(tab, index, index === activeIndex, detail));
		const used = totalWidth(cells);
		if (used <= width) {
			// The hint only when it fits whole, with a gap.
			if (hint !== undefined && used + 2 + stringWidth(hint) <= width) cells.push({kind: 'hint', text: hint});
			return cells;
		}
	}
	return windowAround(tabs, activeIndex, width);
}

/** The most compact labels, as many as fit around the active one, with counts of those left out. */
function windowAround(tabs: readonly TabInfo[], activeIndex: number, width: number): TabBarCell[] {
	const cells = tabs.map((tab, index) => tabCell(tab, index, index === activeIndex, 3));
	const more = (from: number, to: number, left: boolean): TabBarCell[] => {
		if (from >= to) return [];
		const hidden = tabs.slice(from, to);
		const mentioned = hidden.some((tab) => tab.mentioned);
		const count = String(to - from);
		return [
			{
				kind: 'more',
				text: left ? `‹${count}${mentioned ? '@' : ''} ` : ` ${count}${mentioned ? '@' : ''}›`,
				mentioned,
			},
		];
	};
	let start = Math.min(Math.max(0, activeIndex), Math.max(0, cells.length - 1));
	let end = start + 1;
	const build = (): TabBarCell[] => [
		...more(0, start, true),
		...cells.slice(start, end),
		...more(end, cells.length, false),
	];
	// Grow to the right first, then to the left, while everything still fits.
	for (let grown = true; grown; ) {
		grown = false;
		if (end < cells.length) {
			end++;
			if (totalWidth(build()) <= width) grown = true;
			else end--;
		}
		if (start > 0) {
			start--;
			if (totalWidth(build()) <= width) grown = true;
			else start++;
		}
	}
	const result = build();
	if (totalWidth(result) <= width) return result;
	// Narrower than one label and its markers: the active tab alone, then its bare number, then nothing.
	const active = cells[activeIndex];
	if (active === undefined || active.kind !== 'tab') return [];
	for (const only of [active, {...active, unread: '', mention: ''}])
		if (cellWidth(only) <= width) return [only];
	return [];
}

/**
 * The hotlist: the rooms other than the shown one where something arrived
 * since they were last shown, those that mentioned us (or sent us a direct
 * message) first, then by how much waits there, e.g. "act: 3@ 1(12) 2(1)".
 * Undefined when nothing waits anywhere else.
 */
export function hotlist(tabs: readonly TabInfo[], activeIndex: number): string | undefined {
	const hot = tabs
		.map((tab, index) => ({tab, index}))
		.filter(({tab, index}) => index !== activeIndex && (tab.unread > 0 || tab.mentioned))
		.sort(
			(a, b) =>
				Number(b.tab.mentioned) - Number(a.tab.mentioned) || b.tab.unread - a.tab.unread || a.index - b.index,
		);
	if (hot.length === 0) return undefined;
	const parts = hot.map(({tab, index}) => (tab.mentioned ? `${index + 1}@` : `${index + 1}(${tab.unread})`));
	return `act: ${parts.join(' ')}`;
}

/**
 * Names for the bar that tell rooms apart: two servers both calling their
 * room "lobby" become "lobby@host:port" (the transport already differs otherwise).
 */
export function distinctNames(
	rooms: ReadonlyArray<{readonly transport: TransportKind; readonly name: string; readonly url: string}>,
): string[] {
	const key = (room: {transport: TransportKind; name: string}) => `${room.transport} ${room.name}`;
	const counts = new Map<string, number>();
	for (const room of rooms) counts.set(key(room), (counts.get(key(room)) ?? 0) + 1);
	return rooms.map((room) => {
		const address = room.url.replace(/^[a-z]+:\/\//, '');
		return (counts.get(key(room)) ?? 0) > 1 && room.name !== address ? `${room.name}@${address}` : room.name;
	});
}
