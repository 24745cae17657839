// Ink's useInput as every part of the screen uses it: each keypress of a chunk
// on its own (eachKeypress), only while `isActive`, and a handler that throws
// shows "key handling failed" in the room instead of taking the screen down.

import {type Key, useInput, usePaste} from 'ink';
import {eachKeypress} from './key-bindings.js';

/** Returns 'stop' to drop the rest of the chunk (the keys went to something else meanwhile). */
export type KeyHandler = (input: string, key: Key) => undefined | 'stop';

export interface KeysOptions {
	readonly isActive?: boolean | undefined;
	/** Where a failing handler's message goes (the room on screen). */
	readonly report: (message: string) => void;
}

export const errorMessage = (error: unknown): string =>
	error instanceof Error ? error.message : String(error);

export function useKeys(handler: KeyHandler, {isActive = true, report}: KeysOptions): void {
	useInput(
		eachKeypress((input, key) => {
			try {
				return handler(input, key);
			} catch (error) {
				report(`key handling failed: ${errorMessage(error)}`);
				return undefined;
			}
		}),
		{isActive},
	);
}

/** Ink's usePaste, only while `isActive`; a handler that throws shows "paste failed" in the room. */
export function usePastes(handler: (text: string) => void, {isActive = true, report}: KeysOptions): void {
	usePaste(
		(text) => {
			try {
				handler(text);
			} catch (error) {
				report(`paste failed: ${errorMessage(error)}`);
			}
		},
		{isActive},
	);
}
