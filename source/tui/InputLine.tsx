// The prompt and the part of the input that fits, with the cursor drawn as an
// inverse-video character (the terminal's own cursor stays hidden by Ink).

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

export function InputLine({value, cursor, width, prompt = '> ', active = true}: InputLineProps) {
	// Remembered between renders so the text only scrolls when the cursor would leave the view.
	const start = useRef(0);
	const view = visibleWindow(value, cursor, Math.max(1, width - stringWidth(prompt)), start.current);
	start.current = view.start;
	return (
		<Box width={width} height={1} overflow="hidden">
			<Text wrap="truncate-end">
				<Text color="cyan" bold dimColor={!active}>
					{prompt}
				</Text>
				{view.beforeCursor}
				<Text inverse={active}>{view.underCursor}</Text>
				{view.afterCursor}
			</Text>
		</Box>
	);
}
