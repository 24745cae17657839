// The top row: where we are, who we are and how the connection is doing.
// On a narrow terminal the URL gives way first; the state stays visible. In the
// compact layout (no tab bar row) `rooms` says which tab this is and what waits
// in the others, e.g. "1/3 +5@".

import {Box, Text} from 'ink';
import stringWidth from 'string-width';
import type {ConnectionState, TransportKind} from '../client/types.js';
import {sanitizeText} from '../protocol/messages.js';
import {graphemes} from './graphemes.js';

export interface StatusBarProps {
	readonly url: string;
	readonly transport: TransportKind;
	readonly nick: string | undefined;
	readonly state: ConnectionState;
	readonly memberCount: number;
	readonly lagMs: number | undefined;
	readonly width: number;
	/** Shown first, highlighted, e.g. "1/3 +5@" (the compact layout's stand-in for the tab bar). */
	readonly rooms?: string | undefined;
	/** Said instead of the state, in yellow, e.g. "not logged in" before the first login ("closed" would alarm). */
	readonly stateLabel?: string | undefined;
}

const stateColours: Record<ConnectionState, string> = {
	connecting: 'yellow',
	connected: 'green',
	reconnecting: 'yellow',
	closed: 'red',
};

/** Cuts `text` to `width` columns, ending in "…" when something was cut. */
export function truncateToWidth(text: string, width: number): string {
	if (stringWidth(text) <= width) return text;
	if (width <= 0) return '';
	let result = '';
	let used = 0;
	for (const item of graphemes(text)) {
		if (used + item.width > width - 1) break;
		result += item.text;
		used += item.width;
	}
	return `${result}…`;
}

export function StatusBar({
	url,
	transport,
	nick,
	state,
	memberCount,
	lagMs,
	width,
	rooms,
	stateLabel,
}: StatusBarProps) {
	const stateText = stateLabel ?? state;
	// The member count and lag describe a live connection: without one they would be stale.
	const connected = state === 'connected';
	const lag = !connected || lagMs === undefined ? '' : ` │ lag ${Math.round(lagMs)} ms`;
	const members = `${memberCount} ${memberCount === 1 ? 'member' : 'members'}`;
	const middle = ` │ ${transport.toUpperCase()} │ ${sanitizeText(nick ?? '(no nick)')} │ `;
	const right = connected ? ` │ ${members}${lag} ` : ' ';
	const roomsText = rooms === undefined ? '' : ` ${rooms}`;
	const fixed = stringWidth(roomsText) + stringWidth(middle) + stringWidth(stateText) + stringWidth(right);
	// The URL takes what is left (at least a few columns, so the room is recognisable);
	// beside the rooms summary it may go entirely, as the state matters more.
	const room = width - fixed - 1;
	const left =
		rooms !== undefined && room < 6
			? ''
			: ` ${truncateToWidth(sanitizeText(url), Math.max(rooms === undefined ? 8 : 0, room))}`;
	const colour = stateLabel === undefined ? stateColours[state] : 'yellow';
	// Pad to the full width so the inverse bar spans the screen; Ink truncates if still too long.
	const padding = Math.max(0, width - stringWidth(left) - fixed);
	return (
		<Box width={width} height={1} overflow="hidden">
			<Text wrap="truncate-end" inverse>
				{roomsText === '' ? null : (
					<Text color="magenta" bold>
						{roomsText}
					</Text>
				)}
				{left}
				{middle}
				<Text color={colour} bold>
					{stateText}
				</Text>
				{right + ' '.repeat(padding)}
			</Text>
		</Box>
	);
}
