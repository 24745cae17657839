// The /list picker: the server's rooms with their member counts and topics,
// at the bottom of the screen in place of the input line. ↑/↓ move, Enter
// opens the room as /join #name does, Esc closes. It owns those keys while it
// shows (useInput with isActive, like the other prompts).

import {Box, Text} from 'ink';
import {sanitizeText} from '../protocol/messages.js';
import type {RoomListing} from '../client/types.js';
import type {RoomPickerState} from './room-tab.js';
import {usePromptKeys, usePromptPastes} from './use-keys.js';

/** At most this many rooms show at once; the window follows the choice. */
export const PICKER_ROWS = 8;

export function pickerHeight(picker: RoomPickerState): number {
	return 1 + Math.min(PICKER_ROWS, Math.max(1, picker.rooms.length));
}

export function listingText(room: RoomListing): string {
	const members = `${room.members} ${room.members === 1 ? 'member' : 'members'}`;
	const hidden = room.private === true ? ', invite-only' : '';
	const topic = room.topic === undefined || room.topic === '' ? '' : ` — ${sanitizeText(room.topic)}`;
	return `${sanitizeText(room.name)} (${members}${hidden})${topic}`;
}

export interface RoomPickerProps {
	readonly picker: RoomPickerState;
	readonly width: number;
	readonly onMove: (step: number) => void;
	readonly onPick: (room: string) => void;
	readonly onClose: () => void;
	readonly hasKeys?: (() => boolean) | undefined;
	readonly report?: ((message: string) => void) | undefined;
}

export function RoomPicker({picker, width, onMove, onPick, onClose, hasKeys, report}: RoomPickerProps) {
	usePromptKeys(
		(_input, key) => {
			if (key.upArrow) onMove(-1);
			else if (key.downArrow) onMove(1);
			else if (key.pageUp) onMove(-PICKER_ROWS);
			else if (key.pageDown) onMove(PICKER_ROWS);
			else if (key.escape) onClose();
			else if (key.return) {
				const room = picker.rooms[picker.index];
				onClose();
				if (room !== undefined) onPick(room.name);
				return 'stop';
			}
			return undefined;
		},
		{hasKeys, report},
	);
	usePromptPastes(() => undefined, {hasKeys, report});
	const {rooms, index} = picker;
	const start = Math.min(Math.max(0, index - PICKER_ROWS + 1), Math.max(0, rooms.length - PICKER_ROWS));
	const shown = rooms.slice(start, start + PICKER_ROWS);
	return (
		<Box flexDirection="column" width={width} height={pickerHeight(picker)} overflow="hidden">
			<Text bold wrap="truncate-end">
				rooms ({rooms.length}) — ↑/↓ choose · Enter open · Esc close
			</Text>
			{rooms.length === 0 ? <Text dimColor>no rooms you can see</Text> : null}
			{shown.map((room, offset) => {
				const chosen = start + offset === index;
				return (
					<Text key={room.name} inverse={chosen} wrap="truncate-end">
						{chosen ? '› ' : '  '}
						{listingText(room)}
					</Text>
				);
			})}
		</Box>
	);
}
