// Leaving: every room is closed and every pending trust question refused; the
// screen exits once the clients have closed, or after `timeoutMs` anyway, with
// the room logs flushed either way. A second quit does not wait for the network.

import {useCallback, useRef} from 'react';
import {useApp} from 'ink';
import {sleep} from '../util/sleep.js';
import type {Workspace} from './workspace.js';

export function useQuit(workspace: Workspace, refuseAll: () => void, timeoutMs: number): () => void {
	const {exit} = useApp();
	const quitting = useRef(false);
	return useCallback(() => {
		if (quitting.current) {
			exit();
			return;
		}
		quitting.current = true;
		refuseAll();
		workspace.active?.notice('leaving…');
		Promise.race([workspace.closeAll(), sleep(timeoutMs, {unref: true})])
			.then(() => workspace.detachAll())
			.finally(() => exit());
	}, [exit, timeoutMs, refuseAll, workspace]);
}
