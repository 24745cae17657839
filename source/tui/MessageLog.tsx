// Draws the rows the viewport picked, bottom-aligned like any chat, with a
// marker line when newer messages are out of sight below.

import {Box, Text} from 'ink';
import type {LogRow} from './log-format.js';
import type {VisibleRow} from './viewport.js';

export interface MessageLogProps {
	/** Exactly the visible rows, oldest first (from computeViewport). */
	readonly rows: readonly VisibleRow<LogRow>[];
	readonly width: number;
	/** Rows available, including the marker row when it shows. */
	readonly height: number;
	/** Chat lines below the view; the marker shows when this is above 0 or `scrolled` is set. */
	readonly newBelow: number;
	readonly scrolled: boolean;
	/** At the top while an older page is on its way: a line says so above the oldest row. */
	readonly loadingOlder?: boolean | undefined;
}

export const LOADING_OLDER = 'loading older messages…';

function Row({row}: {row: LogRow}) {
	return (
		<Text wrap="truncate-end">
			{' '.repeat(row.indent)}
			{row.spans.map((span, index) => (
				<Text
					key={index}
					{...(span.style.color === undefined ? {} : {color: span.style.color})}
					bold={span.style.bold === true}
					dimColor={span.style.dim === true}
					italic={span.style.italic === true}
					inverse={span.style.inverse === true}
				>
					{span.text}
				</Text>
			))}
		</Text>
	);
}

export function newMessagesMarker(count: number, width: number): string {
	const label =
		count > 0 ? ` ${count} new ${count === 1 ? 'message' : 'messages'} below ` : ' more below (Ctrl+End) ';
	const side = Math.max(2, Math.floor((width - label.length) / 2));
	return ('─'.repeat(side) + label + '─'.repeat(side)).slice(0, Math.max(0, width));
}

export function MessageLog({rows, width, height, newBelow, scrolled, loadingOlder = false}: MessageLogProps) {
	const showMarker = scrolled && height > 1;
	const showLoading = loadingOlder && height - (showMarker ? 1 : 0) > 1;
	const shown = rows.slice(
		Math.max(0, rows.length - (height - (showMarker ? 1 : 0) - (showLoading ? 1 : 0))),
	);
	return (
		<Box flexDirection="column" width={width} height={height} justifyContent="flex-end" overflow="hidden">
			{showLoading ? (
				<Text color="gray" wrap="truncate-end">
					{LOADING_OLDER}
				</Text>
			) : null}
			{shown.map((visible) => (
				<Row key={`${visible.entry.id}:${visible.part}`} row={visible.row} />
			))}
			{showMarker ? (
				<Text color="yellow" wrap="truncate-end">
					{newMessagesMarker(newBelow, width)}
				</Text>
			) : null}
		</Box>
	);
}
