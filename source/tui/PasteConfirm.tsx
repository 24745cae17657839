// Asks, on Enter, before a long multi-line draft (a pasted block) goes out as
// one message. y/Y sends; n/N, Enter and Esc do not (the safe default), and the
// draft stays in the input line, unsent.

import {Box, Text, type Key, usePaste} from 'ink';
import {handsOverKeys} from './key-bindings.js';
import {useKeys} from './use-keys.js';

export interface PasteConfirmProps {
	readonly lines: number;
	readonly width: number;
	/** The answer; without it the question is only drawn and takes no keys. */
	readonly onAnswer?: ((send: boolean) => void) | undefined;
	/** Read at key time: whether the question still has the keys (it may have been answered earlier in a chunk). */
	readonly hasKeys?: (() => boolean) | undefined;
	readonly report?: ((message: string) => void) | undefined;
}

export const PASTE_CONFIRM_HEIGHT = 1;

export function pasteQuestion(lines: number): string {
	return `Send ${lines} ${lines === 1 ? 'line' : 'lines'} as one message? [y/N]`;
}

/** The answer a key gives, or undefined for a key that answers nothing. */
export function pasteAnswerForKey(input: string, key: Key): boolean | undefined {
	if (key.ctrl || key.meta) return undefined;
	if (input === 'y' || input === 'Y') return true;
	if (input === 'n' || input === 'N' || key.return || key.escape) return false;
	return undefined;
}

const always = (): boolean => true;
const nowhere = (): void => undefined;

export function PasteConfirm({
	lines,
	width,
	onAnswer,
	hasKeys = always,
	report = nowhere,
}: PasteConfirmProps) {
	useKeys(
		(input, key) => {
			if (!hasKeys() || handsOverKeys(input, key)) return 'stop';
			const send = pasteAnswerForKey(input, key);
			if (send !== undefined) onAnswer?.(send);
			return undefined;
		},
		{isActive: onAnswer !== undefined, report},
	);
	// Listening to pastes keeps them from arriving as keys: a paste answers nothing.
	usePaste(nowhere, {isActive: onAnswer !== undefined});
	return (
		<Box width={width} height={PASTE_CONFIRM_HEIGHT} overflow="hidden">
			<Text color="yellow" bold wrap="truncate-end">
				{pasteQuestion(lines)}
			</Text>
		</Box>
	);
}
