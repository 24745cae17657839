// The prompt and the part of the input that fits, with the cursor drawn as an
// inverse-video character (the terminal's own cursor stays hidden by Ink). A
// multi-line draft (a pasted block) stays on this one row: each line break
// shows as a dim "↵", a tab as a space; Enter sends the whole draft as one message.

import {useRef} from 'react';
import {Box, Text} from 'ink';
import stringWidth from 'string-width';
import {visibleWindow} from './visible-window.js';

export interface InputLineProps {
	readonly value: string;
	readonly cursor: number;
	readonly width: number;
	readonly prompt?: string;
	/** Dims the line when keys go elsewhere. */
	readonly active?: boolean;
}

/** What stands for a line break in the one-row input line. */
export const LINE_BREAK_MARK = '↵';

/**
 * The value as drawn: one UTF-16 unit per unit of `value` (so the cursor
 * offset stays valid), line breaks as "↵" and tabs as spaces.
 */
export function displayValue(value: string): string {
	return value.replace(/\n/g, LINE_BREAK_MARK).replace(/\t/g, ' ');
}

/** Draws a piece of the original value, its line breaks as dim marks. */
function Piece({text}: {text: string}) {
	if (!text.includes('\n')) return <>{displayValue(text)}</>;
	return (
		<>
			{text.split('\n').map((part, index) => (
				<Text key={index}>
					{index > 0 ? <Text dimColor>{LINE_BREAK_MARK}</Text> : null}
					{displayValue(part)}
				</Text>
			))}
		</>
	);
}

export function InputLine({value, cursor, width, prompt = '> ', active = true}: InputLineProps) {
	// Remembered between renders so the text only scrolls when the cursor would leave the view.
	const start = useRef(0);
	const view = visibleWindow(
		displayValue(value),
		cursor,
		Math.max(1, width - stringWidth(prompt)),
		start.current,
	);
	start.current = view.start;
	// The window's pieces, cut from the original value so its line breaks can be drawn apart.
	const beforeEnd = view.start + view.beforeCursor.length;
	const underEnd = beforeEnd + (cursor < value.length ? view.underCursor.length : 0);
	const before = value.slice(view.start, beforeEnd);
	const under = cursor < value.length ? value.slice(beforeEnd, underEnd) : view.underCursor;
	const after = value.slice(underEnd, underEnd + view.afterCursor.length);
	return (
		<Box width={width} height={1} overflow="hidden">
			<Text wrap="truncate-end">
				<Text color="cyan" bold dimColor={!active}>
					{prompt}
				</Text>
				<Piece text={before} />
				<Text inverse={active}>{under === '\n' ? LINE_BREAK_MARK : displayValue(under)}</Text>
				<Piece text={after} />
			</Text>
		</Box>
	);
}
