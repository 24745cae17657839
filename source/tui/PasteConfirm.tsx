// Asks, on Enter, before a long multi-line draft (a pasted block) goes out as
// one message. y/Y sends; n/N, Enter and Esc do not (the safe default), and the
// draft stays in the input line, unsent.

import {Box, Text, type Key} from 'ink';

export interface PasteConfirmProps {
	readonly lines: number;
	readonly width: number;
}

export const PASTE_CONFIRM_HEIGHT = 1;

export function pasteQuestion(lines: number): string {
	return `Send ${lines} ${lines === 1 ? 'line' : 'lines'} as one message? [y/N]`;
}

/**
 * The answer a key gives, or undefined for a key that answers nothing. The
 * screen's key handler calls it while the question shows (as with the trust
 * prompt, a handler in here would subscribe too late for a key typed at once).
 */
export function pasteAnswerForKey(input: string, key: Key): boolean | undefined {
	if (key.ctrl || key.meta) return undefined;
	if (input === 'y' || input === 'Y') return true;
	if (input === 'n' || input === 'N' || key.return || key.escape) return false;
	return undefined;
}

export function PasteConfirm({lines, width}: PasteConfirmProps) {
	return (
		<Box width={width} height={PASTE_CONFIRM_HEIGHT} overflow="hidden">
			<Text color="yellow" bold wrap="truncate-end">
				{pasteQuestion(lines)}
			</Text>
		</Box>
	);
}
