// The keys that work whatever has the keys (key-bindings.ts: globalActionForKey):
// Ctrl+C quits, Alt+1…9 and Ctrl+N/P show another room, Ctrl+T shows or hides
// the member panel. While the trust prompt asks, only Ctrl+C (which also says
// no) gets through: the question has every other key.

import {globalActionForKey} from './key-bindings.js';
import {useKeys} from './use-keys.js';
import type {Workspace} from './workspace.js';

export interface ScreenKeys {
	readonly workspace: Workspace;
	readonly trustAsking: boolean;
	readonly quit: () => void;
	readonly toggleMembers: () => void;
}

export function useScreenKeys({workspace, trustAsking, quit, toggleMembers}: ScreenKeys): void {
	useKeys(
		(input, key) => {
			const action = globalActionForKey(input, key);
			if (action === undefined || (trustAsking && action.type !== 'quit')) return;
			switch (action.type) {
				case 'quit':
					quit();
					return;
				case 'toggle-members':
					toggleMembers();
					return;
				case 'show-tab':
					workspace.activate(action.index);
					return;
				case 'cycle-tab':
					workspace.cycle(action.step);
					return;
			}
		},
		{report: (message) => workspace.active?.error(message)},
	);
}
