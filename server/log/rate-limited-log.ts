// A log that a flood cannot fill: at most `perSecond` lines a second (with a
// small burst); lines over it are counted and the count is told with the next
// line that gets through. For events strangers can cause at will (failed or
// refused logins, protocol violations before login).

import {TokenBucket} from '../room/token-bucket.js';
import type {Log} from './log.js';

export interface RateLimitedLogOptions {
	perSecond: number;
	now?: () => number;
}

export function rateLimitedLog(log: Log, {perSecond, now = Date.now}: RateLimitedLogOptions): Log {
	const bucket = new TokenBucket(perSecond, Math.max(1, perSecond), now());
	let suppressed = 0;
	return (line, fields) => {
		if (!bucket.take(now())) {
			suppressed++;
			return;
		}
		const text = suppressed > 0 ? `${line} (${suppressed} similar lines suppressed)` : line;
		if (fields === undefined) log(text);
		else log(text, suppressed > 0 ? {...fields, suppressed} : fields);
		suppressed = 0;
	};
}
