// TEST ONLY: small timing helpers for ink-testing-library, whose frames update asynchronously.

import {sleep as delay} from '../../../source/util/sleep.js';

export {delay};

/** Polls until `predicate` holds (up to `timeoutMs`), then returns; throws with `describe()` otherwise. */
export async function waitFor(
	predicate: () => boolean,
	describe: () => string = () => '',
	timeoutMs = 10_000,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!predicate()) {
		if (Date.now() > deadline)
			throw new Error(`timed out waiting${describe() === '' ? '' : `; last frame:\n${describe()}`}`);
		await delay(5);
	}
}

/** Writes keys one at a time with a pause, as a person types. */
export async function typeKeys(stdin: {write(data: string): void}, ...keys: string[]): Promise<void> {
	for (const key of keys) {
		stdin.write(key);
		await delay(15);
	}
}

export const KEYS = {
	enter: '\r',
	left: '\u001B[D',
	right: '\u001B[C',
	up: '\u001B[A',
	down: '\u001B[B',
	home: '\u001B[H',
	end: '\u001B[F',
	pageUp: '\u001B[5~',
	pageDown: '\u001B[6~',
	ctrlEnd: '\u001B[1;5F',
	escape: '\u001B',
	shiftUp: '\u001B[1;2A',
	backspace: '\u007F',
	delete: '\u001B[3~',
	ctrlA: '\u0001',
	ctrlC: '\u0003',
	ctrlE: '\u0005',
	ctrlK: '\u000B',
	ctrlT: '\u0014',
	ctrlU: '\u0015',
	ctrlW: '\u0017',
} as const;
