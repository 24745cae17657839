// A log that a flood cannot fill: at most `perSecond` lines a second (with a
// small burst); lines over it are counted and the count is told with the next
// line that gets through. For events strangers can cause at will (failed or
// refused logins, protocol violations before login).

import {TokenBucket} from '../room/token-bucket.js';

export interface RateLimitedLogOptions {
	perSecond: number;
	now?: () => number;
}

export function rateLimitedLog(
	log: (line: string) => void,
	{perSecond, now = Date.now}: RateLimitedLogOptions,
): (line: string) => void {
	const bucket = new TokenBucket(perSecond, Math.max(1, perSecond), now());
	let suppressed = 0;
	return (line) => {
		if (!bucket.take(now())) {
			suppressed++;
			return;
		}
		log(suppressed > 0 ? `${line} (${suppressed} similar lines suppressed)` : line);
		suppressed = 0;
	};
}
