// A `rooms` answer that fits what the transport can carry in one message.

import type {ServerMessage} from '../../source/protocol/messages.js';
import type {RoomListing} from './room-hub.js';

/** The most rooms one answer names (the schema's bound). */
const MAX_LISTED = 10_000;

/** All the rooms when they fit in `maxBytes` (encoded); otherwise the fullest ones that do, by name. */
export function roomsMessage(rooms: RoomListing[], maxBytes: number): ServerMessage {
	const all: ServerMessage = {t: 'rooms', rooms};
	if (rooms.length <= MAX_LISTED && Buffer.byteLength(JSON.stringify(all)) <= maxBytes) return all;
	const budget = maxBytes - 32; // the envelope
	const kept: RoomListing[] = [];
	let bytes = 0;
	for (const room of [...rooms].sort((a, b) => b.members - a.members)) {
		const size = Buffer.byteLength(JSON.stringify(room)) + 1;
		if (bytes + size > budget || kept.length >= MAX_LISTED) break;
		kept.push(room);
		bytes += size;
	}
	kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
	return {t: 'rooms', rooms: kept};
}
