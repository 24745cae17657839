// The one thing that differs between room types: how messages reach the server.
// The room session (sequencing, retries, members) is shared by every transport.

import type {ClientMessage, ServerMessage} from '../protocol/messages.js';
import type {TransportKind} from './types.js';

/** Who is joining: the nick, and for authenticated rooms the password that proves it. */
export interface Login {
	nick: string;
	/**
	 * Given for a first login only. Without it an authenticating transport logs
	 * in again with what it kept from its last successful login as this nick
	 * (TCP: SCRAM's derived keys), or refuses with 'auth-failed'.
	 */
	password?: string;
	/** Create the account before logging in (TCP servers with registration open). */
	register?: boolean;
}

export interface TransportHandlers {
	message(message: ServerMessage): void;
	/** The channel is gone (socket closed, TLS failure). `fatal` means retrying cannot help. */
	closed(reason: string, fatal: boolean): void;
	/** Something was wrong but the channel is still usable (e.g. a malformed datagram). */
	problem(reason: string): void;
	/** Information for the user, such as the server's certificate fingerprint. */
	notice(text: string): void;
}

export interface Transport {
	readonly kind: TransportKind;
	readonly url: string;
	/** True when the channel itself retransmits (TCP): the session then skips its own retries. */
	readonly reliable: boolean;
	/** How often the session pings: keeps UDP membership alive and measures lag. */
	readonly keepaliveMs: number;
	setHandlers(handlers: TransportHandlers): void;
	/** Opens a verified channel (UDP: address cookie; TCP: TLS and login). Rejects with RoomError. */
	open(login: Login): Promise<void>;
	/**
	 * Checks who the server is before anyone types a password for it (TCP:
	 * connect, verify the certificate against known_hosts, asking about a new
	 * one, then hang up), as ssh asks about a host key before the password.
	 * Transports with nothing to verify leave it out.
	 */
	checkHost?(): Promise<void>;
	send(message: ClientMessage): void;
	close(): void;
	/** Version 2: the room this transport joins (`#name`); absent, the server's default room. */
	readonly room?: string | undefined;
	/**
	 * Version 2: a transport to another room of the same server, sharing what
	 * can be shared (TCP: the connection and its login; UDP: address only).
	 */
	sibling?(room: string): Transport;
}

/** Client messages that are about no room in particular: never stamped with one. */
export const UNSCOPED_CLIENT_MESSAGES: ReadonlySet<ClientMessage['t']> = new Set(['join', 'list']);

/** The message with `room` set, for every room-scoped message type. */
export function stampRoom(message: ClientMessage, room: string | undefined): ClientMessage {
	if (room === undefined || UNSCOPED_CLIENT_MESSAGES.has(message.t)) return message;
	return {...message, room} as ClientMessage;
}
