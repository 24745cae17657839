// What the mouse does on the chat screen: the wheel scrolls the log of the
// room shown (three lines a notch), a left click on a tab in the tab bar
// shows that room. Everything stays reachable from the keyboard.

import {useEffect, useRef} from 'react';
import type {LogView} from './log-view.js';
import type {MouseEvent, MouseSource} from './mouse.js';
import type {RoomTab} from './room-tab.js';
import {scrollLog} from './use-scroll-keys.js';
import type {Workspace} from './workspace.js';

export const WHEEL_LINES = 3;

export interface MouseControls {
	readonly source: MouseSource | undefined;
	readonly workspace: Workspace;
	readonly isActive: boolean;
	readonly viewFor: (tab: RoomTab) => LogView;
	/** The tab drawn at this 1-based cell, if the tab bar is there. */
	readonly tabAt: (x: number, y: number) => number | undefined;
}

export function useMouse(controls: MouseControls): void {
	// The listener reads the newest controls: layout and tabs change between events.
	const latest = useRef(controls);
	latest.current = controls;
	const {source} = controls;
	useEffect(() => {
		if (source === undefined) return undefined;
		const listener = (event: MouseEvent): void => {
			const {workspace, isActive, viewFor, tabAt} = latest.current;
			if (!isActive) return;
			const tab = workspace.active;
			if (event.kind === 'wheel') {
				if (tab === undefined) return;
				scrollLog(tab, viewFor, event.direction === 'up' ? WHEEL_LINES : -WHEEL_LINES);
				return;
			}
			if (event.button !== 'left') return;
			const index = tabAt(event.x, event.y);
			if (index !== undefined) workspace.activate(index);
		};
		source.on('mouse', listener);
		return () => {
			source.off('mouse', listener);
		};
	}, [source]);
}
