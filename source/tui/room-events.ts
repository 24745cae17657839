// Turns a RoomClient's events into log entries and the status the bar shows.
// Plain code: each room tab (room-tab.ts) applies its client's events here.

import {type ChatMessage, type RoomEventMessage, sanitizeText} from '../protocol/messages.js';
import {identityKey} from '../protocol/names.js';
import type {ConnectionState, Role, RoomClient, RoomEvent} from '../client/types.js';
import {ROLE_MARKS} from './role-marks.js';
import type {NewLogEntry, Scrollback} from './scrollback.js';

export interface RoomStatus {
	readonly state: ConnectionState;
	readonly detail: string | undefined;
	readonly nick: string | undefined;
	readonly members: readonly string[];
	/** Members who are away, with why. */
	readonly away: ReadonlyMap<string, string>;
	readonly lagMs: number | undefined;
}

const stateNotices: Partial<Record<ConnectionState, string>> = {
	connected: 'connected',
	reconnecting: 'connection lost; reconnecting…',
	closed: 'disconnected',
};

/** Applies one event to the log and returns the status change it implies. */
export function applyRoomEvent(
	log: Scrollback,
	event: RoomEvent,
	status: RoomStatus,
	/** The room's roles by nick (version 2): /who marks them like the member panel. */
	roles?: ReadonlyMap<string, Role>,
): RoomStatus {
	switch (event.type) {
		case 'message': {
			const entry = {
				kind: 'message',
				ts: event.ts,
				from: sanitizeText(event.from),
				text: sanitizeText(event.text),
				action: event.action,
				self: event.self,
				history: event.history,
				...(event.seq > 0 ? {seq: event.seq} : {}),
			} as const;
			if (!(event.self && !event.history && log.acknowledge(entry))) log.append(entry);
			return status;
		}
		case 'direct': {
			const entry = {
				kind: 'direct',
				ts: event.ts,
				from: sanitizeText(event.from),
				to: sanitizeText(event.to),
				text: sanitizeText(event.text),
				self: event.self,
			} as const;
			if (!(event.self && log.acknowledge(entry))) log.append(entry);
			return status;
		}
		case 'presence':
			log.append(presenceEntry(event));
			return status;
		case 'lost':
			log.append({kind: 'lost', count: event.count});
			return status;
		case 'members':
			return {...status, members: event.members, away: event.away ?? status.away};
		case 'who': {
			const roleOf = new Map([...(roles ?? [])].map(([nick, role]) => [identityKey(nick), role]));
			const names = [...event.members]
				.sort((a, b) => a.localeCompare(b))
				.map((nick) => {
					const role = roleOf.get(identityKey(nick));
					return (role === undefined ? '' : ROLE_MARKS[role]) + sanitizeText(nick);
				});
			log.append({kind: 'notice', text: `in the room (${names.length}): ${names.join(', ')}`});
			return status;
		}
		case 'state': {
			if (event.state !== status.state) {
				const notice = stateNotices[event.state];
				const detail =
					event.detail === undefined || event.detail === '' ? '' : ` (${sanitizeText(event.detail)})`;
				if (notice !== undefined)
					log.append({kind: event.state === 'closed' ? 'error' : 'notice', text: notice + detail});
			}
			return {...status, state: event.state, detail: event.detail};
		}
		case 'nick':
			// The room's presence line ("x is now known as y") already tells the user.
			return {...status, nick: event.nick};
		case 'pending':
			log.addPending(
				event.ref,
				sanitizeText(status.nick ?? 'me'),
				sanitizeText(event.text),
				event.to === undefined ? undefined : sanitizeText(event.to),
			);
			return status;
		case 'failed':
			if (!log.fail(event.ref, event.code, sanitizeText(event.text)))
				log.append({kind: 'error', text: `not sent: ${sanitizeText(event.text)}`});
			return status;
		case 'error':
			log.append({kind: 'error', text: `${sanitizeText(event.text)} [${event.code}]`});
			return status;
		case 'notice':
			log.append({kind: 'notice', text: sanitizeText(event.text)});
			return status;
		case 'lag':
			return {...status, lagMs: event.ms};
		case 'found':
			for (const text of foundLines(event.text, event.messages)) log.append({kind: 'notice', text});
			return status;
		case 'bans':
			for (const text of banLines(event.bans)) log.append({kind: 'notice', text});
			return status;
		case 'invited': {
			const room = sanitizeText(event.room);
			log.append({kind: 'notice', text: `${sanitizeText(event.by)} invited you to ${room} — /join ${room}`});
			return status;
		}
		default:
			return status; // room, rooms, session-rooms, read, page: the tab handles them (room-tab.ts)
	}
}

type PresenceFields = Omit<Extract<RoomEvent, {type: 'presence'}>, 'type'>;

/** A presence change as the log keeps it, v2 details (who did it, the topic, the mode…) included. */
function presenceEntry(event: PresenceFields): NewLogEntry {
	const text = (value: string | undefined) => (value === undefined ? undefined : sanitizeText(value));
	const fields = {
		old: text(event.old),
		reason: text(event.reason),
		by: text(event.by),
		text: text(event.text),
		mode: text(event.mode),
		role: text(event.role),
		until: event.until,
		seq: event.seq !== undefined && event.seq > 0 ? event.seq : undefined,
	};
	return {
		kind: 'presence',
		ts: event.ts,
		presence: event.kind,
		nick: sanitizeText(event.nick),
		...Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)),
	};
}

/**
 * A stored page (oldest first) as log entries; our own lines are marked by
 * `ownNick`, and nicks `isIgnored` says to hide are left out.
 */
export function pageEntries(
	events: readonly RoomEventMessage[],
	ownNick: string | undefined,
	isIgnored: (nick: string) => boolean = () => false,
): NewLogEntry[] {
	const entries: NewLogEntry[] = [];
	for (const event of events) {
		if (event.t === 'presence') {
			if (event.kind === 'away') continue;
			entries.push(presenceEntry(event));
			continue;
		}
		const self = ownNick !== undefined && identityKey(event.from) === identityKey(ownNick);
		if (!self && isIgnored(event.from)) continue;
		entries.push({
			kind: 'message',
			ts: event.ts,
			from: sanitizeText(event.from),
			text: sanitizeText(event.text),
			action: event.action === true,
			self,
			history: true,
			seq: event.seq,
		});
	}
	return entries;
}

const stamp = (ts: number): string => {
	const date = new Date(ts);
	const pad = (value: number) => String(value).padStart(2, '0');
	return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
};

/** A server search's answer as notice lines: a header, then each message with its date and time. */
export function foundLines(text: string, messages: readonly ChatMessage[]): string[] {
	const query = sanitizeText(text);
	if (messages.length === 0) return [`search: no stored message matches "${query}"`];
	const noun = messages.length === 1 ? 'result' : 'results';
	return [
		`search: ${messages.length} ${noun} for "${query}" in the room's stored history (oldest first)`,
		...messages.map(
			(message) =>
				`  [${stamp(message.ts)}] ${message.action === true ? `* ${sanitizeText(message.from)} ` : `${sanitizeText(message.from)}: `}${sanitizeText(message.text)}`,
		),
	];
}

type Ban = Extract<RoomEvent, {type: 'bans'}>['bans'][number];

export function banLines(bans: readonly Ban[]): string[] {
	if (bans.length === 0) return ['bans: nobody is banned here'];
	return [
		`bans (${bans.length}):`,
		...bans.map((ban) => {
			const by = ban.by === undefined ? '' : ` by ${sanitizeText(ban.by)}`;
			const until = ban.until === undefined ? ' for good' : ` until ${stamp(ban.until)}`;
			const reason = ban.reason === undefined || ban.reason === '' ? '' : ` (${sanitizeText(ban.reason)})`;
			return `  ${sanitizeText(ban.account)}${by}${until}${reason}`;
		}),
	];
}

/** The status a client reports right now (before any event arrives). */
export function statusOf(client: RoomClient): RoomStatus {
	return {
		state: client.state,
		detail: undefined,
		nick: client.nick,
		members: client.members,
		away: new Map(),
		lagMs: client.lagMs,
	};
}
