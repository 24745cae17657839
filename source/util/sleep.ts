// The one way to wait a while. `unref`: the wait does not keep the process
// alive (a timeout that only bounds something else).

import {setTimeout} from 'node:timers/promises';

export function sleep(ms: number, options: {readonly unref?: boolean} = {}): Promise<void> {
	return setTimeout(ms, undefined, {ref: options.unref !== true});
}
