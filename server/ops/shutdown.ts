// Graceful shutdown of `parley serve`: the signal that starts it, the share of
// the bound the database copy may take, and a hard deadline so the process is
// gone within the bound whatever hangs (a frozen database connection).
import type {Log} from '../log/log.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Resolves with the first of SIGINT, SIGTERM, SIGHUP (a closed terminal stops a foreground server as cleanly). */
export function shutdownSignal(): Promise<string> {
	return new Promise((resolve) => {
		const handlers = SIGNALS.map((signal) => {
			const handler = () => {
				for (const [other, h] of handlers) process.off(other, h);
				resolve(signal);
			};
			process.on(signal, handler);
			return [signal, handler] as const;
		});
	});
}

/** What the journals may spend catching up: the bound less a margin for closing everything. */
export function flushBudget(timeoutMs: number): number {
	return Math.max(0, timeoutMs - Math.min(1000, timeoutMs / 2));
}

/**
 * From now on the process ends within `timeoutMs`: if it is still there then,
 * it exits (0 when the shutdown itself finished and only a lingering handle
 * kept it, 1 when the shutdown did not finish). The timer does not keep the
 * process alive itself.
 */
export function armDeadline(
	timeoutMs: number,
	log: Log,
	exit: (code: number) => void = (code) => process.exit(code),
): Deadline {
	const end = Date.now() + timeoutMs;
	let finished = false;
	const timer = setTimeout(() => {
		log(
			`shutdown ${finished ? 'done but the process lingered' : 'unfinished'} after ${timeoutMs} ms: exiting`,
			{
				level: finished ? 'warn' : 'error',
			},
		);
		exit(finished ? 0 : 1);
	}, timeoutMs);
	timer.unref();
	return {
		remainingMs: () => Math.max(0, end - Date.now()),
		finished(lingering = false) {
			finished = true;
			if (!lingering) return;
			clearTimeout(timer);
			exit(0);
		},
	};
}

export interface Deadline {
	remainingMs(): number;
	/** The shutdown is done; `lingering`: something (a frozen database connection) would keep the process, so it exits now. */
	finished(lingering?: boolean): void;
}

/** Whether the promise settled within `ms` (it goes on, unwaited, if not). */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
	let timer: NodeJS.Timeout | undefined;
	const late = new Promise<false>((resolve) => {
		timer = setTimeout(() => resolve(false), ms);
	});
	try {
		return await Promise.race([promise.then(() => true), late]);
	} finally {
		clearTimeout(timer);
	}
}
