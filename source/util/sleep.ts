// The one way to wait a while (source, server, tests and benchmarks).
// `unref`: the wait does not keep the process alive (a timeout that only
// bounds something else); `signal`: an abort ends the wait early, rejecting.

import {setTimeout} from 'node:timers/promises';

export interface SleepOptions {
	readonly unref?: boolean | undefined;
	readonly signal?: AbortSignal | undefined;
}

export function sleep(ms: number, {unref = false, signal}: SleepOptions = {}): Promise<void> {
	return setTimeout(ms, undefined, {ref: !unref, ...(signal === undefined ? {} : {signal})});
}
