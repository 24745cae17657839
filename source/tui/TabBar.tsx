// The row under the status bar: every open room, the shown one in brackets.
// Which labels fit is decided in tab-bar.ts; this only colours them.

import {Box, Text} from 'ink';
import {cellWidth, hotlist, layoutTabBar, type TabBarCell, type TabInfo} from './tab-bar.js';

export interface TabBarProps {
	readonly tabs: readonly TabInfo[];
	readonly activeIndex: number;
	readonly width: number;
}

export const TAB_BAR_HEIGHT = 1;

/**
 * What the right end says while there is room: the hotlist when other rooms
 * have activity, else how to get more rooms or how to move between them.
 */
function rightEnd(tabs: readonly TabInfo[], activeIndex: number): string {
	return hotlist(tabs, activeIndex) ?? tabBarHint(tabs.length);
}

export function tabBarHint(tabCount: number): string {
	return tabCount <= 1 ? '/connect URL opens another room' : 'Alt+1…9 · Ctrl+N/P switch rooms';
}

function labelColour(tab: TabInfo): string | undefined {
	if (tab.state === 'closed') return 'red';
	if (tab.waiting) return 'gray';
	return tab.state === 'connected' ? undefined : 'yellow';
}

function Cell({cell}: {cell: TabBarCell}) {
	if (cell.kind === 'more') return <Text color={cell.mentioned ? 'magenta' : 'gray'}>{cell.text}</Text>;
	if (cell.kind === 'hint')
		return <Text color={cell.text.startsWith('act: ') ? 'yellow' : 'gray'}>{cell.text}</Text>;
	const colour = labelColour(cell.tab);
	return (
		<Text inverse={cell.active} bold={cell.active}>
			{cell.active ? '[' : ' '}
			<Text {...(colour === undefined ? {} : {color: colour})}>{cell.label}</Text>
			{cell.unread === '' ? null : (
				<Text color="yellow" bold>
					{cell.unread}
				</Text>
			)}
			{cell.mention === '' ? null : (
				<Text color="magenta" bold>
					{cell.mention}
				</Text>
			)}
			{cell.active ? ']' : ' '}
		</Text>
	);
}

/** Which tab (0-based) the bar draws at `column` (0-based), if any. */
export function tabIndexAt(
	tabs: readonly TabInfo[],
	activeIndex: number,
	width: number,
	column: number,
): number | undefined {
	let left = 0;
	for (const cell of layoutTabBar(tabs, activeIndex, width, rightEnd(tabs, activeIndex))) {
		const right = left + cellWidth(cell);
		if (column >= left && column < right) return cell.kind === 'tab' ? cell.index : undefined;
		left = right;
	}
	return undefined;
}

export function TabBar({tabs, activeIndex, width}: TabBarProps) {
	const cells = layoutTabBar(tabs, activeIndex, width, rightEnd(tabs, activeIndex));
	const hint = cells.at(-1)?.kind === 'hint' ? cells.pop() : undefined;
	const used = cells.reduce((sum, cell) => sum + cellWidth(cell), 0);
	// The hint sits at the right end.
	const gap = hint === undefined ? 0 : Math.max(0, width - used - cellWidth(hint));
	return (
		<Box width={width} height={TAB_BAR_HEIGHT} overflow="hidden">
			<Text wrap="truncate-end">
				{cells.map((cell, index) => (
					<Cell key={index} cell={cell} />
				))}
				{hint === undefined ? null : (
					<>
						{' '.repeat(gap)}
						<Cell cell={hint} />
					</>
				)}
			</Text>
		</Box>
	);
}
