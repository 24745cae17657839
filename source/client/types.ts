// What the UI (and the send/tail scripts) see of a room, whatever the transport.
// Nothing here knows about React or sockets.

import type {RoomFiles} from './file-transfer.js';
import type {
	ChatMessage,
	ErrorCode,
	PresenceKind,
	RoomEventMessage,
	ServerLimits,
} from '../protocol/messages.js';

/** A member's standing in a room (version 2). */
export type Role = 'owner' | 'op' | 'voice';

/** One row of a server's room list (`/list`). */
export interface RoomListing {
	readonly name: string;
	readonly members: number;
	readonly topic?: string | undefined;
	readonly private?: boolean | undefined;
}

/** What a room is like now (version 2): told on joining and on every change. */
export interface RoomInfo {
	/** `#name` as the server spells it. */
	readonly name: string;
	readonly topic: string;
	/** e.g. "im": invite-only, moderated; '' for none. */
	readonly modes: string;
	/** Our role here; undefined: an ordinary member. */
	readonly role: Role | undefined;
	/** Members with a role, by nick. */
	readonly roles: ReadonlyMap<string, Role>;
}

/**
 * Version 2 requests a room client passes to its server as they are (the
 * server checks rights and answers with presence, a `bans` list, an error).
 */
export type RoomRequest =
	| {t: 'topic'; text: string}
	| {t: 'mode'; mode: '+i' | '-i' | '+m' | '-m'}
	| {t: 'role'; nick: string; role: 'op' | 'voice' | 'member'}
	| {t: 'kick'; nick: string; reason?: string}
	| {t: 'ban'; account: string; duration_ms?: number; reason?: string}
	| {t: 'unban'; account: string}
	| {t: 'bans'}
	| {t: 'mute'; nick: string; duration_ms?: number}
	| {t: 'unmute'; nick: string}
	| {t: 'invite'; nick: string}
	| {t: 'list'};

export type TransportKind = 'udp' | 'tcp';

export type ConnectionState =
	| 'connecting' // opening the transport (UDP handshake, TLS + login)
	| 'connected' // joined and receiving
	| 'reconnecting' // lost the server; retrying with backoff
	| 'closed'; // left for good (by /quit, a fatal error or the server's bye)

export type RoomEvent =
	| {
			type: 'message';
			seq: number;
			ts: number;
			from: string;
			text: string;
			action: boolean;
			/** True when this member sent it (the server's echo acknowledges it). */
			self: boolean;
			/** True when it was replayed as history on join. */
			history: boolean;
	  }
	| {type: 'direct'; ts: number; from: string; to: string; text: string; self: boolean}
	| {
			type: 'presence';
			seq?: number;
			ts: number;
			kind: PresenceKind;
			nick: string;
			old?: string;
			reason?: string;
			/** Version 2: the op who did it; the topic; the mode change; the new role; when a ban or mute ends. */
			by?: string;
			text?: string;
			mode?: string;
			role?: string;
			until?: number;
			/** True when it was replayed as history on join (version 2 TCP rooms keep presence in the log). */
			history?: boolean;
	  }
	| {type: 'lost'; count: number}
	/** `away`: the members who are away, with why (servers with the `away` capability). */
	| {type: 'members'; members: readonly string[]; away?: ReadonlyMap<string, string>}
	| {type: 'who'; members: readonly string[]}
	| {type: 'state'; state: ConnectionState; detail?: string}
	| {type: 'nick'; nick: string}
	| {type: 'pending'; ref: string; text: string; to?: string}
	| {type: 'failed'; ref: string; code: ErrorCode | 'timeout'; text: string}
	| {type: 'error'; code: ErrorCode | 'network'; text: string}
	/** Something the user should know that is not an error (e.g. the server's certificate). */
	| {type: 'notice'; text: string}
	| {type: 'lag'; ms: number}
	// ---- version 2 ----
	/** The room's topic, modes or roles changed (and once on every join). */
	| {type: 'room'; info: RoomInfo}
	/** The answer to list(): the server's rooms. */
	| {type: 'rooms'; rooms: readonly RoomListing[]}
	/** After the first join of a session: the rooms this account is in (to open as tabs). */
	| {type: 'session-rooms'; rooms: readonly string[]}
	/** Our read marker here (from the welcome, or another session of ours read further). */
	| {type: 'read'; seq: number}
	/** An older page of the stored log, oldest first; complete: nothing older is stored. */
	| {type: 'page'; before: number; events: readonly RoomEventMessage[]; complete: boolean}
	/** Stored messages matching a search, oldest first. */
	| {type: 'found'; text: string; messages: readonly ChatMessage[]}
	| {type: 'bans'; bans: readonly {account: string; by?: string; reason?: string; until?: number}[]}
	/** Someone let us into an invite-only room. */
	| {type: 'invited'; room: string; by: string};

export type RoomListener = (event: RoomEvent) => void;

export interface RoomClient {
	readonly url: string;
	readonly transport: TransportKind;
	readonly state: ConnectionState;
	readonly nick: string | undefined;
	readonly members: readonly string[];
	readonly lagMs: number | undefined;
	/** The limits the server announced on joining (message size, rate); the defaults before that. */
	readonly limits: ServerLimits;
	/** The room's name as the server announced it on joining (e.g. "lobby"); undefined before that. */
	readonly roomName?: string | undefined;
	/** True for rooms that need a password (TCP): the UI shows a login form instead of a nick prompt. */
	readonly needsPassword: boolean;
	/** Verifies the server before credentials are asked for (see Transport.checkHost); rejects with a RoomError. */
	checkServer?(): Promise<void>;
	/** Joins the room; rejects with a RoomError (e.g. nick-taken, auth-failed) the UI can show. */
	connect(nick: string, password?: string, options?: {register?: boolean}): Promise<void>;
	/**
	 * Joins again, with the last nick and password, after the room closed for
	 * good (a changed certificate, a refused reconnect, the server's goodbye).
	 * Rejects like connect; the failure is also reported as the state's detail.
	 */
	reopen?(): Promise<void>;
	/**
	 * Sends a message. Resolves when the server acknowledges it (its echo, with
	 * the sequence number the room gave it); rejects with a RoomError carrying
	 * the server's code, message and retryAfterMs, or 'network' when it could
	 * not be delivered. Callers that do not wait may ignore the promise: it
	 * never counts as an unhandled rejection, and a 'failed' event says it too.
	 */
	say(text: string, options?: {action?: boolean}): Promise<SayAck>;
	/** Sends a direct message; settles like say(), with the direct stream's number as seq. */
	direct(nick: string, text: string): Promise<SayAck>;
	changeNick(nick: string): void;
	/**
	 * Away with `text`, or back with undefined; kept across reconnects. True when
	 * the server knows away (it tells the others); false when it cannot.
	 */
	setAway?(text: string | undefined): boolean;
	who(): void;
	close(): Promise<void>;
	// ---- version 2 (absent or refused on servers and transports without it) ----
	/** The room as the server last described it; undefined before joining or on version-1 servers. */
	readonly info?: RoomInfo | undefined;
	/** The capabilities the server announced (see source/protocol/versions.ts). */
	readonly capabilities?: readonly string[];
	/** Passes a moderation or list request to the server; false when it cannot take it (version 1, not joined). */
	request?(request: RoomRequest): boolean;
	/**
	 * A client for another room on the same server, sharing this one's
	 * connection and login (TCP) or its address and nick (UDP). Not yet joined:
	 * call connect(nick) with this client's nick (no password needed).
	 */
	sibling?(room: string): RoomClient;
	/** Leaves the room for good (the account's other sessions and next logins do not reopen it), then closes. */
	part?(reason?: string): Promise<void>;
	/** Asks for the stored page before `before` (a 'page' event answers); false when the server cannot. */
	loadOlder?(before: number, limit?: number): boolean;
	/** Tells the server we have read up to seq (shared with our other sessions). */
	markRead?(seq: number): void;
	/** Searches the room's stored messages (a 'found' event answers); false when the server cannot. */
	search?(text: string, before?: number): boolean;
	/** File transfer in this room (TCP servers with the `files` capability); undefined where there is none. */
	files?(): RoomFiles | undefined;
	/** Subscribes to events; returns the unsubscribe function. */
	subscribe(listener: RoomListener): () => void;
}

/** The server's acknowledgement of a say(). */
export interface SayAck {
	/** The room sequence number of the message. */
	seq: number;
	/** The id the client sent it under (also in the 'pending' event). */
	ref: string;
}

export type RoomErrorCode = ErrorCode | 'network' | 'host-changed' | 'host-rejected';

export class RoomError extends Error {
	constructor(
		readonly code: RoomErrorCode,
		message: string,
		/** From the server's error frame: how long to wait before the same request can succeed. */
		readonly retryAfterMs?: number,
	) {
		super(message);
		this.name = 'RoomError';
	}
}
