// Draws again whenever anything in the workspace changes (any tab, shown or not).

import {useCallback, useSyncExternalStore} from 'react';
import type {Workspace} from './workspace.js';

/** Returns the workspace's version; the component re-renders when it changes. */
export function useWorkspace(workspace: Workspace): number {
	const subscribe = useCallback((listener: () => void) => workspace.subscribe(listener), [workspace]);
	return useSyncExternalStore(subscribe, () => workspace.version);
}
