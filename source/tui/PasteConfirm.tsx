// Asks, on Enter, before a long multi-line draft (a pasted block) goes out as
// one message. y/Y sends; n/N, Enter and Esc do not (the safe default), and the
// draft stays in the input line, unsent.

import {Box, Text, type Key} from 'ink';
import {yesNoAnswerForKey} from './key-bindings.js';
import {usePromptKeys, usePromptPastes} from './use-keys.js';

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
export const pasteAnswerForKey = (input: string, key: Key): boolean | undefined =>
	yesNoAnswerForKey(input, key);

export function PasteConfirm({lines, width, onAnswer, hasKeys, report}: PasteConfirmProps) {
	usePromptKeys(
		(input, key) => {
			const send = pasteAnswerForKey(input, key);
			if (send !== undefined) onAnswer?.(send);
			return undefined;
		},
		{isActive: onAnswer !== undefined, hasKeys, report},
	);
	// Listening to pastes keeps them from arriving as keys: a paste answers nothing.
	usePromptPastes(() => undefined, {isActive: onAnswer !== undefined});
	return (
		<Box width={width} height={PASTE_CONFIRM_HEIGHT} overflow="hidden">
			<Text color="yellow" bold wrap="truncate-end">
				{pasteQuestion(lines)}
			</Text>
		</Box>
	);
}
