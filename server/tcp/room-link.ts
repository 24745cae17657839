// Joins logged-in connections to rooms and carries their frames there: each
// `hello` joins its room (the default one when it names none) on the same
// connection; a frame naming a room goes to this connection's member there,
// one naming none to the connection's first room. Many sessions of one
// account may be in a room at once (the room shows one member per account).

import {encodeFrame} from '../../source/protocol/framing.js';
import {
	ProtocolError,
	encodeJson,
	type ClientMessage,
	type ServerMessage,
} from '../../source/protocol/messages.js';
import {roomKey, roomNameProblem} from '../../source/protocol/names.js';
import {MULTI_ROOM_VERSION} from '../../source/protocol/versions.js';
import type {RoomHub} from '../hub/room-hub.js';
import {roomsMessage} from '../hub/room-listing.js';
import {FloodControl} from '../room/flood-control.js';
import type {Room, RoomOutput} from '../room/room.js';
import {TokenBucket} from '../room/token-bucket.js';
import type {Connection, Joined} from './connection.js';

/**
 * Delivers one room's output over framed links, naming the room (`label`) in
 * every message. A broadcast is encoded once for everyone. A version-2
 * connection told `bye` by the room leaves only that room; older ones close.
 */
export function framedRoomOutput(maxFrameBytes: number, key: string, label: string): RoomOutput<Connection> {
	const stamp = (message: ServerMessage) => encodeJson({...message, room: label});
	return {
		broadcast(message, members) {
			const frame = encodeFrame(stamp(message), maxFrameBytes); // once for everyone
			for (const member of members) member.link.link.enqueue(frame);
		},
		send(member, message) {
			member.link.link.enqueue(encodeFrame(stamp(message), maxFrameBytes));
		},
		disconnect(member, reason, retry) {
			const connection = member.link;
			if (connection.rooms.get(key)?.member === member) connection.rooms.delete(key);
			const bye = {t: 'bye', room: label, reason, ...(retry ? {retry} : {})} as const;
			if (connection.version >= MULTI_ROOM_VERSION) connection.link.send(bye);
			else connection.link.close(bye);
		},
	};
}

export interface RoomLinkOptions {
	hub: RoomHub<Connection>;
	/** Messages shown to a member on first join. */
	historyOnJoin: number;
	/** `ping`, `who`, `search` a member, and `list` a connection, may send per second (twice that as a burst); the rest are dropped. */
	queriesPerSecond: number;
	/** Largest frame: a `rooms` answer is cut to fit. */
	maxFrameBytes: number;
	/** Lines held for a member over the rate before it is kicked for flooding (FloodControl). */
	floodQueue?: number;
	now?: () => number;
}

/** Answers the server gives for next to nothing in, so a flood of them must be capped. */
const QUERIES = new Set<ClientMessage['t']>(['ping', 'who', 'search']);

export class RoomLink {
	/** Query budgets: per member for room queries, per connection for `list`. */
	readonly #queries = new WeakMap<object, {bucket: TokenBucket; toldUntil: number}>();
	readonly #now: () => number;
	/** One flood control per room: a member over the rate is slowed there, not refused. */
	readonly #floods = new Map<Room<Connection>, FloodControl<Connection>>();

	constructor(private readonly options: RoomLinkOptions) {
		this.#now = options.now ?? Date.now;
	}

	/** Drops every held line (server shutdown). */
	clearFloods(): void {
		for (const flood of this.#floods.values()) flood.clear();
		this.#floods.clear();
	}

	private floodFor(room: Room<Connection>): FloodControl<Connection> {
		let flood = this.#floods.get(room);
		if (!flood) {
			flood = new FloodControl({
				room,
				...(this.options.floodQueue ? {maxQueue: this.options.floodQueue} : {}),
				afterHandle: (member) => {
					if (room.isMember(member)) return;
					const joined = member.link.rooms.get(roomKey(room.name));
					if (joined?.member === member) this.forget(member.link, joined);
					if (room.size === 0) this.#floods.delete(room);
				},
				now: this.#now,
			});
			this.#floods.set(room, flood);
		}
		return flood;
	}

	/**
	 * Joins the connection's account to the hello's room (the default one
	 * without `room`), under its account name: identity in a room is proven,
	 * not claimed. Throws ProtocolError when the hub or the room refuses.
	 */
	async join(connection: Connection, hello: ClientMessage): Promise<Joined> {
		if (hello.t !== 'hello') throw new ProtocolError('not-joined', 'say hello first');
		const user = connection.user!;
		if (hello.room !== undefined) {
			const problem = roomNameProblem(hello.room);
			if (problem) throw new ProtocolError('bad-request', problem);
			if (connection.rooms.has(roomKey(hello.room)))
				throw new ProtocolError('bad-request', `already in ${hello.room}`);
		} else if (connection.rooms.has(this.options.hub.defaultKey))
			throw new ProtocolError('bad-request', 'already joined');
		const joined = await this.options.hub.join(
			connection,
			hello.room,
			user,
			{account: user, admin: connection.admin},
			{
				version: connection.version,
				...(hello.since === undefined ? {history: this.options.historyOnJoin} : {since: hello.since}),
			},
		);
		const entry: Joined = {room: joined.room, member: joined.member, label: joined.label};
		// The connection may have closed while the room was loading: leave at once then.
		if (!connection.link.isOpen) {
			joined.room.leave(joined.member, 'leave');
			return entry;
		}
		connection.rooms.set(joined.key, entry);
		return entry;
	}

	/** A frame from a connection that is in at least one room (or was). */
	async handle(connection: Connection, message: ClientMessage): Promise<void> {
		if (message.t === 'hello') {
			try {
				await this.join(connection, message);
			} catch (error) {
				if (!(error instanceof ProtocolError)) throw error;
				this.sendError(connection, error, message.room);
			}
			return;
		}
		if (message.t === 'list') {
			if (!this.takeQuery(connection, connection)) return;
			const rooms = await this.options.hub.list({account: connection.user!, admin: connection.admin});
			connection.link.send(roomsMessage(rooms, this.options.maxFrameBytes));
			return;
		}
		const room = 'room' in message ? message.room : undefined;
		const joined = this.joinedFor(connection, room);
		if (!joined) {
			connection.link.send({
				t: 'error',
				code: 'not-joined',
				message: room === undefined ? 'join a room first' : `you are not in ${room}`,
				...(room === undefined ? {} : {room}),
			});
			return;
		}
		const {room: target, member} = joined;
		if (message.t === 'nick')
			return target.sendError(member, 'not-allowed', 'nicks are account names in this room');
		if (QUERIES.has(message.t) && !this.takeQuery(member, connection)) return;
		// The room gets it now, or at the member's rate when it sends faster (flood-control.ts).
		// Before any await: a client closes right after parting, and the close must not
		// overtake the part (the account's other sessions would stay in the room).
		this.floodFor(target).submit(member, message);
		// The room forgets the membership too (its onPart); this also covers a part held behind lines.
		if (message.t === 'leave' && message.part === true)
			await this.options.hub.part({account: connection.user!}, roomKey(target.name));
	}

	/** The connection closed: it leaves every room it was in. */
	leaveAll(connection: Connection, reason?: string): void {
		for (const joined of [...connection.rooms.values()]) {
			joined.room.leave(joined.member, 'leave', reason);
			this.options.hub.release(joined.room);
		}
		connection.rooms.clear();
	}

	/** The room let the member go (a leave, a kick): version 1 connections end with their one room. */
	private forget(connection: Connection, joined: Joined): void {
		const key = roomKey(joined.room.name);
		if (connection.rooms.get(key) === joined) connection.rooms.delete(key);
		if (connection.version < MULTI_ROOM_VERSION) connection.link.close();
	}

	/** The member a frame is for: the named room's, or the first room's when it names none. */
	private joinedFor(connection: Connection, room: string | undefined): Joined | undefined {
		const joined =
			room === undefined
				? connection.rooms.values().next().value
				: roomNameProblem(room)
					? undefined
					: connection.rooms.get(roomKey(room));
		if (!joined) return undefined;
		// A room may have let the member go without telling the connection (another session parted).
		if (joined.room.isMember(joined.member)) return joined;
		this.forget(connection, joined);
		return connection.link.isOpen ? this.joinedFor(connection, room) : undefined;
	}

	private sendError(connection: Connection, error: ProtocolError, room: string | undefined): void {
		connection.link.send({
			t: 'error',
			code: error.code,
			message: error.message,
			...(room === undefined ? {} : {room}),
			...(error.retryAfterMs === undefined ? {} : {retry_after_ms: error.retryAfterMs}),
		});
	}

	/** False when over the query rate; the connection hears so at most once a second. */
	private takeQuery(owner: object, connection: Connection): boolean {
		const now = this.#now();
		const {queriesPerSecond} = this.options;
		let state = this.#queries.get(owner);
		if (!state) {
			state = {bucket: new TokenBucket(queriesPerSecond, queriesPerSecond * 2, now), toldUntil: 0};
			this.#queries.set(owner, state);
		}
		if (state.bucket.take(now)) return true;
		if (now >= state.toldUntil) {
			const retryAfterMs = Math.ceil(1000 / queriesPerSecond);
			state.toldUntil = now + 1000;
			connection.link.send({
				t: 'error',
				code: 'rate-limited',
				message: `too many ping/who/list/search requests; at most ${queriesPerSecond} a second`,
				retry_after_ms: retryAfterMs,
			});
		}
		return false;
	}
}
