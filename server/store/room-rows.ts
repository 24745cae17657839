// How the room data of version 2 sits in rows, the same for the SQLite and
// MySQL stores: presence details and room settings as JSON text, room and
// account keys normalised, and the LIKE pattern of a search.

import {identityKey, roomKey, usernameProblem} from '../../source/protocol/names.js';
import {checkRoom, emptyRoomSettings, type RoomSettings, type StoredPresence} from './account-store.js';

/** The character that escapes %, _ and itself in search patterns (no backslash: its SQL quoting differs). */
export const LIKE_ESCAPE = '!';

/** `%text%` for a case-insensitive LIKE against a lowercased column: the caller's %, _ and ! match literally. */
export function containsPattern(text: string): string {
	return `%${text.toLowerCase().replace(/[!%_]/g, (c) => `${LIKE_ESCAPE}${c}`)}%`;
}

/** Room keys are compared as roomKey makes them: '#Dev', 'DEV' and 'dev' are one room. */
export function checkRoomKey(key: string): string {
	return checkRoom(roomKey(checkRoom(key)));
}

/** The account's key, or undefined for a name no account can have. */
export function accountKey(name: string): string | undefined {
	return usernameProblem(name) === undefined ? identityKey(name) : undefined;
}

const PRESENCE_STRINGS = ['old', 'reason', 'by', 'text', 'mode', 'role'] as const;

/** The presence column of a message row: null for chat. */
export function presenceColumn(presence: StoredPresence | undefined): string | null {
	if (presence === undefined) return null;
	if (typeof presence.kind !== 'string' || presence.kind.length === 0)
		throw new RangeError('a presence row needs its kind');
	const stored: StoredPresence = {kind: presence.kind};
	for (const key of PRESENCE_STRINGS) if (presence[key] !== undefined) stored[key] = String(presence[key]);
	if (presence.until !== undefined) {
		if (!Number.isSafeInteger(presence.until)) throw new RangeError('until must be an integer timestamp');
		stored.until = presence.until;
	}
	return JSON.stringify(stored);
}

export function presenceFromColumn(value: unknown): StoredPresence | undefined {
	if (value === null || value === undefined) return undefined;
	return JSON.parse(String(value)) as StoredPresence;
}

export function settingsColumn(settings: RoomSettings): string {
	return JSON.stringify(settings);
}

/** Missing collections are filled in, so a row written by an older server still reads as whole settings. */
export function settingsFromColumn(value: unknown): RoomSettings {
	return {...emptyRoomSettings(), ...(JSON.parse(String(value)) as Partial<RoomSettings>)};
}
