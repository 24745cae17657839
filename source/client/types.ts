// What the UI (and the send/tail scripts) see of a room, whatever the transport.
// Nothing here knows about React or sockets.

import type {ErrorCode, PresenceKind, ServerLimits} from '../protocol/messages.js';

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
	| {type: 'lag'; ms: number};

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
