// Ink's useInput as every part of the screen uses it: each keypress of a chunk
// on its own (eachKeypress), only while `isActive`, and a handler that throws
// shows "key handling failed" in the room instead of taking the screen down.

import {type Key, useInput, usePaste} from 'ink';
import {errorMessage} from '../util/error-message.js';
import {eachKeypress, handsOverKeys} from './key-bindings.js';

/** Returns 'stop' to drop the rest of the chunk (the keys went to something else meanwhile). */
export type KeyHandler = (input: string, key: Key) => undefined | 'stop';

export interface KeysOptions {
	readonly isActive?: boolean | undefined;
	/** Where a failing handler's message goes (the room on screen); without it the error is thrown on. */
	readonly report?: ((message: string) => void) | undefined;
}

const rethrow = (message: string): never => {
	throw new Error(message);
};

export function useKeys(handler: KeyHandler, {isActive = true, report = rethrow}: KeysOptions): void {
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

export interface PromptKeysOptions extends KeysOptions {
	/**
	 * Read at key time: whether the prompt still has the keys. A key earlier in
	 * the same chunk may have closed it or shown another room; what follows was
	 * typed for whatever shows next, which only listens after the next render.
	 */
	readonly hasKeys?: (() => boolean) | undefined;
}

const always = (): boolean => true;

/**
 * useKeys for a prompt at the bottom of the screen: it sees keys only while it
 * has them, and a key that shows another room or quits (handsOverKeys) drops
 * the rest of the chunk.
 */
export function usePromptKeys(handler: KeyHandler, {hasKeys = always, ...options}: PromptKeysOptions): void {
	useKeys((input, key) => (!hasKeys() || handsOverKeys(input, key) ? 'stop' : handler(input, key)), options);
}

/** Ink's usePaste for a prompt, only while it has the keys; a handler that throws shows "paste failed" in the room. */
export function usePromptPastes(
	handler: (text: string) => void,
	{isActive = true, hasKeys = always, report = rethrow}: PromptKeysOptions,
): void {
	usePaste(
		(text) => {
			if (!hasKeys()) return;
			try {
				handler(text);
			} catch (error) {
				report(`paste failed: ${errorMessage(error)}`);
			}
		},
		{isActive},
	);
}
