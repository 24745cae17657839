// What the server needs from persistent storage, whatever the backend:
// accounts (SCRAM verifiers only, never passwords) and each room's message
// log with gap-free sequence numbers. Backends: sqlite-store, mysql-store.

import {identityKey, usernameProblem} from '../../source/protocol/names.js';
import type {ScramCredential} from '../../source/protocol/scram.js';
import type {TokenInfo} from '../auth/bot-tokens.js';
import type {PresenceKind} from '../../source/protocol/messages.js';

export type {ScramCredential, TokenInfo};

export const MAX_ROOM_LENGTH = 128;
export const MAX_SENDER_LENGTH = 64;
/** The client's id for one send (the protocol's ref), at most this long. */
export const MAX_REF_LENGTH = 40;
/** Generous beside DEFAULT_LIMITS.maxTextBytes; keeps rows within a MySQL TEXT column. */
export const MAX_STORED_TEXT_BYTES = 60_000;
export const MAX_PAGE = 1000;

export class InvalidUsernameError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'InvalidUsernameError';
	}
}

export class UserExistsError extends Error {
	constructor(readonly username: string) {
		super(`user ${username} already exists`);
		this.name = 'UserExistsError';
	}
}

export class NoSuchUserError extends Error {
	constructor(readonly username: string) {
		super(`no such user ${username}`);
		this.name = 'NoSuchUserError';
	}
}

/** Throws InvalidUsernameError; returns the uniqueness key of a valid name. */
export function checkedUsernameKey(name: string): string {
	const problem = usernameProblem(name);
	if (problem !== undefined) throw new InvalidUsernameError(problem);
	return identityKey(name);
}

export interface NewToken {
	id: string;
	label: string;
	hash: Buffer;
	createdAt: number;
}

export interface StoredToken {
	user: string;
	hash: Buffer;
}

export interface NewRoomMessage {
	from: string;
	text: string;
	action: boolean;
	ts: number;
	/** Set for a presence event kept in the log (version 2); `text` is '' then. */
	presence?: StoredPresence;
	/**
	 * The sender's id for this send. Stored with the message so that a client
	 * resending it after a reconnect or a server restart (it never saw the
	 * acknowledgement) gets the stored copy back instead of a second one.
	 */
	ref?: string;
}

/** A message and the number the local journal gave it. */
export interface NumberedMessage {
	seq: number;
	message: NewRoomMessage;
}

export interface StoredRoomMessage extends NewRoomMessage {
	seq: number;
}

/**
 * A presence event kept in a room's log (version 2 sequences them with the
 * messages): stored as a message row whose `from` is the member it is about,
 * `text` empty, and these details beside it. Search never matches them.
 */
export interface StoredPresence {
	kind: PresenceKind;
	old?: string;
	reason?: string;
	by?: string;
	text?: string;
	mode?: string;
	role?: string;
	until?: number;
}

export type RoomRole = 'owner' | 'op' | 'voice';

export interface RoomBan {
	/** The account as registered. */
	account: string;
	by?: string;
	reason?: string;
	/** ms since the epoch; absent: until lifted. */
	until?: number;
}

/** Everything about a room that moderation changes, saved whole (small: roles, bans, mutes, invites). */
export interface RoomSettings {
	topic?: string;
	inviteOnly?: boolean;
	moderated?: boolean;
	/** By account key (identityKey): owner, op or voice. */
	roles: Record<string, RoomRole>;
	/** By account key. */
	bans: Record<string, RoomBan>;
	/** By account key: until when (absent: until lifted). */
	mutes: Record<string, {until?: number; by?: string}>;
	/** Account keys let into an invite-only room. */
	invites: string[];
}

export function emptyRoomSettings(): RoomSettings {
	return {roles: {}, bans: {}, mutes: {}, invites: []};
}

export interface StoredRoom {
	/** As created, without the `#`. */
	name: string;
	/** roomKey(name): what messages, memberships and read markers are keyed by. */
	key: string;
	/** The creating account (its owner), absent for rooms made by the operator. */
	owner?: string;
	createdAt: number;
	settings: RoomSettings;
}

export class RoomExistsError extends Error {
	constructor(readonly room: string) {
		super(`room #${room} already exists`);
		this.name = 'RoomExistsError';
	}
}

export function checkRoom(room: string): string {
	if (room.length === 0 || room.length > MAX_ROOM_LENGTH)
		throw new RangeError(`room name must be 1-${MAX_ROOM_LENGTH} characters`);
	return room;
}

export function checkMessage(message: NewRoomMessage): NewRoomMessage {
	if (message.from.length === 0 || message.from.length > MAX_SENDER_LENGTH)
		throw new RangeError(`sender must be 1-${MAX_SENDER_LENGTH} characters`);
	if (Buffer.byteLength(message.text, 'utf8') > MAX_STORED_TEXT_BYTES)
		throw new RangeError(`message text exceeds ${MAX_STORED_TEXT_BYTES} bytes`);
	if (!Number.isSafeInteger(message.ts)) throw new RangeError('ts must be an integer timestamp');
	const {ref} = message;
	if (ref !== undefined && (ref.length === 0 || ref.length > MAX_REF_LENGTH || !/^[\x21-\x7e]+$/.test(ref)))
		throw new RangeError(`ref must be 1-${MAX_REF_LENGTH} printable ASCII characters`);
	return message;
}

/** Clamps a caller's page size so one request cannot pull a whole table. */
export function checkLimit(limit: number): number {
	if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError('limit must be a non-negative integer');
	return Math.min(limit, MAX_PAGE);
}

export function checkSeq(seq: number): number {
	if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError('seq must be a non-negative integer');
	return seq;
}

export type StoreOutcome = 'stored' | 'duplicate' | 'conflict';

export interface AccountStore {
	/** Throws UserExistsError when the name (case-insensitively) is taken, InvalidUsernameError when malformed. */
	createUser(name: string, verifier: ScramCredential): Promise<void>;
	/** Replaces the verifier (password change). Throws NoSuchUserError. */
	setVerifier(name: string, verifier: ScramCredential): Promise<void>;
	/** True when a user was removed. */
	removeUser(name: string): Promise<boolean>;
	/** Case-insensitive; undefined for unknown or malformed names. */
	getVerifier(name: string): Promise<ScramCredential | undefined>;
	/** Names as registered, sorted by their key. */
	listUsers(): Promise<string[]>;

	// ---- access tokens (bots): only their SHA-256 hashes, see server/auth/bot-tokens.ts ----
	/** Stores a new token of an account. Throws NoSuchUserError. Removing the user removes its tokens. */
	createToken(user: string, token: NewToken): Promise<void>;
	/** The account's tokens, oldest first; [] for unknown users. */
	listTokens(user: string): Promise<TokenInfo[]>;
	/** True when the account had a token with that id and it is gone now. */
	revokeToken(user: string, id: string): Promise<boolean>;
	/** The hash of token `id` and the account it logs in (its name as registered). */
	findToken(id: string): Promise<StoredToken | undefined>;
	/** Records a successful login with the token. */
	touchToken(id: string, at: number): Promise<void>;

	/**
	 * Stores a message and returns its sequence number: 1, 2, 3… per room, no gaps, no repeats.
	 * A message with the same room, sender and ref as a stored one is not stored
	 * again: the stored one's sequence number is returned.
	 */
	appendMessage(room: string, message: NewRoomMessage): Promise<number>;
	/**
	 * Stores a message under a number already given (the local journal's), and
	 * moves the room's counter up to it. Idempotent: `duplicate` when that very
	 * message is there already, `conflict` when the number or the ref is taken
	 * by another one (nothing is written then).
	 */
	storeMessageAt(room: string, seq: number, message: NewRoomMessage): Promise<StoreOutcome>;
	/**
	 * Several messages in ONE transaction, numbered in order from the room's
	 * counter (the numbers several servers share: cluster mode). A message whose
	 * sender and ref are stored already keeps that number and is not stored
	 * again (`duplicate`). All or nothing: a failure stores none and uses no number.
	 * Only the shared (MySQL) store has it.
	 */
	appendMessages?(
		room: string,
		messages: NewRoomMessage[],
	): Promise<Array<{seq: number; duplicate: boolean}>>;
	/** storeMessageAt for several, in one transaction (the journal's backlog goes over in batches): an outcome each. */
	storeMessagesAt(room: string, entries: readonly NumberedMessage[]): Promise<StoreOutcome[]>;
	/** Messages with seq > after, oldest first, at most limit (capped at MAX_PAGE). */
	messagesAfter(room: string, after: number, limit: number): Promise<StoredRoomMessage[]>;
	/** The newest messages, oldest first. */
	lastMessages(room: string, limit: number): Promise<StoredRoomMessage[]>;
	/** 0 when the room has no messages. */
	latestSeq(room: string): Promise<number>;
	/** Events with seq < before, oldest first: the newest `limit` of them (capped at MAX_PAGE). */
	messagesBefore(room: string, before: number, limit: number): Promise<StoredRoomMessage[]>;
	/**
	 * Chat messages (never presence) whose text contains `text`, case-insensitively
	 * (LIKE with % and _ escaped), with seq < before when given: the newest `limit`, oldest first.
	 */
	searchMessages(
		room: string,
		text: string,
		before: number | undefined,
		limit: number,
	): Promise<StoredRoomMessage[]>;

	// ---- rooms (version 2): `room` arguments are room keys (roomKey) ----------
	/** Throws RoomExistsError when the key is taken. */
	createRoom(room: StoredRoom): Promise<void>;
	getRoom(key: string): Promise<StoredRoom | undefined>;
	/** Every room, sorted by key. */
	listRooms(): Promise<StoredRoom[]>;
	saveRoomSettings(key: string, settings: RoomSettings): Promise<void>;
	/** Removes the room with its messages, memberships and read markers; true when it existed. */
	removeRoom(key: string): Promise<boolean>;

	// ---- accounts in rooms --------------------------------------------------
	/** Server admins moderate every room. Throws NoSuchUserError. */
	setAdmin(name: string, admin: boolean): Promise<void>;
	/** False for unknown users. */
	isAdmin(name: string): Promise<boolean>;
	/** Remembers that the account is in the room (its next session reopens it). Idempotent. */
	addMembership(user: string, room: string): Promise<void>;
	removeMembership(user: string, room: string): Promise<void>;
	/** The keys of the rooms the account is in, in the order it joined them. */
	membershipsOf(user: string): Promise<string[]>;
	/** Moves the account's read marker in the room forward to seq (never back). */
	setReadMarker(user: string, room: string, seq: number): Promise<void>;
	/** 0 when the account has read nothing there. */
	readMarker(user: string, room: string): Promise<number>;

	/** Resolves when the backend answers; rejects when it is down. */
	ping(): Promise<void>;
	close(): Promise<void>;
}
