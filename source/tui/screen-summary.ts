// What the status bar and the tab bar say about the open rooms.

import type {RoomTab} from './room-tab.js';
import {distinctNames, type TabInfo} from './tab-bar.js';
import type {Workspace} from './workspace.js';

export function tabInfos(tabs: readonly RoomTab[]): TabInfo[] {
	const names = distinctNames(
		tabs.map((tab) => ({transport: tab.client.transport, name: tab.name, url: tab.client.url})),
	);
	return tabs.map((tab, index) => ({
		transport: tab.client.transport,
		name: names[index] ?? tab.name,
		unread: tab.unread,
		mentioned: tab.mentioned,
		state: tab.status.state,
		waiting: tab.join.phase !== 'joined',
	}));
}

/** Before the first join "closed" would alarm: say what is missing instead. */
export function stateLabel(tab: RoomTab): string | undefined {
	if (tab.join.phase === 'joined' || tab.status.state !== 'closed') return undefined;
	return tab.client.needsPassword ? 'not logged in' : 'not joined';
}

/** The compact layout's stand-in for the tab bar: "2/3", plus what waits in the others ("+5@"). */
export function roomsSummary(workspace: Workspace): string | undefined {
	const {tabs, activeIndex} = workspace;
	if (tabs.length < 2) return undefined;
	const others = tabs.filter((_, index) => index !== activeIndex);
	const unread = others.reduce((sum, tab) => sum + tab.unread, 0);
	const mentioned = others.some((tab) => tab.mentioned);
	return `${activeIndex + 1}/${tabs.length}${unread > 0 ? ` +${unread}` : ''}${mentioned ? (unread > 0 ? '@' : ' @') : ''}`;
}
