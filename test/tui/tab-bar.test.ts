import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {
	cellWidth,
	distinctNames,
	layoutTabBar,
	type TabBarCell,
	type TabInfo,
} from '../../source/tui/tab-bar.js';
import {COMPACT_ROWS, screenLayout} from '../../source/tui/screen-layout.js';

const tab = (transport: 'udp' | 'tcp', name: string, unread = 0, mentioned = false): TabInfo => ({
	transport,
	name,
	unread,
	mentioned,
	state: 'connected',
	waiting: false,
});

const text = (cells: readonly TabBarCell[]): string =>
	cells
		.map((cell) =>
			cell.kind === 'tab'
				? `${cell.active ? '[' : ' '}${cell.label}${cell.unread}${cell.mention}${cell.active ? ']' : ' '}`
				: cell.kind === 'hint'
					? `|${cell.text}`
					: cell.text,
		)
		.join('');

describe('tab bar layout', () => {
	const two = [tab('udp', 'lobby', 3), tab('tcp', 'chat', 0, true)];

	it('shows number, transport, name, unread count and the mention mark', () => {
		assert.equal(text(layoutTabBar(two, 1, 100)), ' 1:udp lobby (3) [2:tcp chat @]');
		assert.equal(text(layoutTabBar(two, 0, 100, 'hint')), '[1:udp lobby (3)] 2:tcp chat @ |hint');
	});

	it('sheds detail as the row narrows, keeping counts and marks', () => {
		const long = [tab('udp', 'a-very-long-room-name-indeed', 12), tab('tcp', 'chat', 0, true)];
		assert.equal(text(layoutTabBar(long, 0, 60)), '[1:udp a-very-long-room-name-indeed (12)] 2:tcp chat @ ');
		assert.equal(text(layoutTabBar(long, 0, 40)), '[1:udp a-very-long… (12)] 2:tcp chat @ ');
		assert.equal(text(layoutTabBar(long, 0, 26)), '[1:udp (12)] 2:tcp @ ');
		assert.equal(text(layoutTabBar(long, 0, 12)), '[1(12)] 2@ ');
	});

	it('shows a window around the active tab when even the shortest labels do not fit', () => {
		const many = Array.from({length: 30}, (_, index) =>
			tab('udp', `room${index}`, index === 2 ? 1 : 0, index === 2),
		);
		const cells = layoutTabBar(many, 20, 20);
		const shown = text(cells);
		assert.ok(shown.includes('[21]'), shown);
		assert.match(shown, /^‹\d+@ /, 'hidden tabs on the left, one of them mentioned us');
		assert.match(shown, / \d+›$/);
		assert.ok(cells.reduce((sum, cell) => sum + cellWidth(cell), 0) <= 20);
	});

	it('tells rooms with the same name apart by their address', () => {
		assert.deepEqual(
			distinctNames([
				{transport: 'udp', name: 'lobby', url: 'udp://127.0.0.1:7667'},
				{transport: 'tcp', name: 'lobby', url: 'tcp://127.0.0.1:7668'},
				{transport: 'tcp', name: 'lobby', url: 'tcp://10.0.0.5:7701'},
			]),
			['lobby', 'lobby@127.0.0.1:7668', 'lobby@10.0.0.5:7701'],
		);
	});

	it('never exceeds the width', () => {
		const tabs = Array.from({length: 9}, (_, index) =>
			tab(index % 2 ? 'tcp' : 'udp', `名前${index}`, index * 7, index % 3 === 0),
		);
		for (let width = 0; width <= 120; width++) {
			for (const active of [0, 4, 8]) {
				const cells = layoutTabBar(tabs, active, width, 'Alt+1…9 · Ctrl+N/P switch rooms');
				const used = cells.reduce((sum, cell) => sum + cellWidth(cell), 0);
				assert.ok(used <= width, `width ${width}: ${text(cells)}`);
				if (width >= 6)
					assert.ok(
						cells.some((cell) => cell.kind === 'tab' && cell.active),
						`width ${width}: the active tab shows`,
					);
			}
		}
	});
});

describe('screen layout', () => {
	it('adds up to exactly the terminal height at every size, and folds the tab bar when short', () => {
		for (let rows = 1; rows <= 40; rows++) {
			for (const bottomHeight of [1, 2, 3, 4, 9]) {
				for (const [columns, topic] of [10, 40, 59, 60, 100].flatMap(
					(c) =>
						[
							[c, false],
							[c, true],
						] as const,
				)) {
					const layout = screenLayout({columns, rows, bottomHeight, membersWanted: true, topic});
					const total =
						layout.statusHeight +
						layout.tabBarHeight +
						layout.topicHeight +
						layout.logHeight +
						layout.bottomHeight;
					if (!topic || layout.tabBarHeight === 0) assert.equal(layout.topicHeight, 0);
					assert.equal(total, rows, JSON.stringify({rows, bottomHeight, columns, layout}));
					assert.ok(layout.logHeight >= 0 && layout.logWidth >= 1);
					assert.equal(layout.compact, rows < COMPACT_ROWS);
					if (rows < COMPACT_ROWS) assert.equal(layout.tabBarHeight, 0);
					if (columns < 60) assert.equal(layout.panelShown, false);
				}
			}
		}
		assert.deepEqual(screenLayout({columns: 40, rows: 10, bottomHeight: 4, membersWanted: true}), {
			compact: true,
			statusHeight: 1,
			tabBarHeight: 0,
			topicHeight: 0,
			logHeight: 5,
			bottomHeight: 4,
			panelShown: false,
			logWidth: 40,
		});
	});
});
