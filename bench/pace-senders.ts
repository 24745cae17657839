// The open-loop send schedule of the fan-out member processes: each sender
// sends `ratePerSender` messages a second from `origin` for `durationMs`,
// offset by its phase so the senders do not all fall due together; a timer
// every 2 ms sends whatever has fallen due since the last tick.

import {clock} from './util.js';

export interface PacedSender {
	/** In (0, 1): where in each sender's interval its sends fall. */
	phase: number;
	/** Messages sent so far; counted here. */
	sent: number;
}

export interface Pace {
	/** clock() the schedule starts from. */
	origin: number;
	ratePerSender: number;
	durationMs: number;
}

/** Calls `sendOne` for each message as it falls due, and `afterTick` per sender each tick; resolves at the end. */
export function paceSenders<S extends PacedSender>(
	senders: readonly S[],
	pace: Pace,
	sendOne: (sender: S) => void,
	afterTick?: (sender: S) => void,
): Promise<void> {
	const due = (elapsed: number, phase: number) =>
		Math.floor((Math.min(elapsed, pace.durationMs) / 1000) * pace.ratePerSender + phase);
	return new Promise<void>((resolve) => {
		const tick = () => {
			const elapsed = clock() - pace.origin;
			for (const sender of senders) {
				const target = due(elapsed, sender.phase);
				while (sender.sent < target) {
					sender.sent++;
					sendOne(sender);
				}
				afterTick?.(sender);
			}
			if (elapsed >= pace.durationMs) {
				clearInterval(timer);
				resolve();
			}
		};
		const timer = setInterval(tick, 2);
		tick();
	});
}
