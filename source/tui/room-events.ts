// Turns a RoomClient's events into log entries and the status the bar shows.
// Plain code: each room tab (room-tab.ts) applies its client's events here.

import {sanitizeText} from '../protocol/messages.js';
import type {ConnectionState, RoomClient, RoomEvent} from '../client/types.js';
import type {Scrollback} from './scrollback.js';

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
export function applyRoomEvent(log: Scrollback, event: RoomEvent, status: RoomStatus): RoomStatus {
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
			log.append({
				kind: 'presence',
				ts: event.ts,
				presence: event.kind,
				nick: sanitizeText(event.nick),
				...(event.old === undefined ? {} : {old: sanitizeText(event.old)}),
				...(event.reason === undefined ? {} : {reason: sanitizeText(event.reason)}),
			});
			return status;
		case 'lost':
			log.append({kind: 'lost', count: event.count});
			return status;
		case 'members':
			return {...status, members: event.members, away: event.away ?? status.away};
		case 'who': {
			const names = [...event.members].sort((a, b) => a.localeCompare(b)).map(sanitizeText);
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
		default:
			return status; // version 2 events: the tab handles them (TODO multi-room TUI)
	}
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
