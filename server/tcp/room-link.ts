// Joins logged-in connections to the room core and carries their frames to
// it: `hello` joins (a newer connection of the same account replaces the
// older one), everything after that is the room's.

import {encodeFrame} from '../../source/protocol/framing.js';
import {ProtocolError, encodeJson, type ClientMessage} from '../../source/protocol/messages.js';
import {FloodControl} from '../room/flood-control.js';
import type {Member, Room, RoomOutput} from '../room/room.js';
import {TokenBucket} from '../room/token-bucket.js';
import type {FramedLink} from './framed-link.js';

/** What the room link needs of a connection: its framed socket. */
export interface Linked {
	readonly link: FramedLink;
}

/** Delivers the room's output over framed links. */
export function framedRoomOutput<C extends Linked>(maxFrameBytes: number): RoomOutput<C> {
	return {
		broadcast(message, members) {
			const frame = encodeFrame(encodeJson(message), maxFrameBytes); // once for everyone
			for (const member of members) member.link.link.enqueue(frame);
		},
		send(member, message) {
			member.link.link.send(message);
		},
		disconnect(member, reason, retry) {
			member.link.link.close({t: 'bye', reason, ...(retry ? {retry} : {})});
		},
	};
}

export interface RoomLinkOptions<C> {
	room: Room<C>;
	/** Messages shown to a member on first join. */
	historyOnJoin: number;
	/** `ping` and `who` a member may send per second (twice that as a burst); the rest are dropped. */
	queriesPerSecond: number;
	/** Lines held for a member over the rate before it is kicked for flooding (FloodControl). */
	floodQueue?: number;
	now?: () => number;
}

/** Answers the room gives for next to nothing in, so a flood of them must be capped. */
const QUERIES = new Set<ClientMessage['t']>(['ping', 'who']);

export class RoomLink<C extends Linked> {
	readonly #queries = new WeakMap<Member<C>, {bucket: TokenBucket; toldUntil: number}>();
	readonly #now: () => number;
	readonly flood: FloodControl<C>;

	constructor(private readonly options: RoomLinkOptions<C>) {
		this.#now = options.now ?? Date.now;
		this.flood = new FloodControl({
			room: options.room,
			...(options.floodQueue ? {maxQueue: options.floodQueue} : {}),
			afterHandle: (member) => {
				if (!options.room.isMember(member)) member.link.link.close();
			},
			now: this.#now,
		});
	}

	/**
	 * Joins an account that said hello, under its account name: identity in this
	 * room is proven, not claimed. Throws ProtocolError when the room refuses.
	 */
	join(connection: C, user: string, hello: ClientMessage, version: number): Member<C> {
		if (hello.t !== 'hello') throw new ProtocolError('not-joined', 'say hello first');
		const {room, historyOnJoin} = this.options;
		const joinOptions = {
			version,
			...(hello.since === undefined ? {history: historyOnJoin} : {since: hello.since}),
		};
		try {
			return room.join(connection, user, joinOptions);
		} catch (error) {
			if (!(error instanceof ProtocolError)) throw error;
			// Already here from another connection: the newer one wins (a reconnect).
			const previous = error.code === 'nick-taken' ? room.findMember(user) : undefined;
			if (!previous) throw error;
			room.leave(previous, 'leave', 'reconnected');
			previous.link.link.close({t: 'bye', reason: 'logged in from elsewhere'});
			return room.join(connection, user, joinOptions);
		}
	}

	/** A frame from a joined member. */
	handle(member: Member<C>, message: ClientMessage): void {
		const {room} = this.options;
		if (message.t === 'nick')
			return room.sendError(member, 'not-allowed', 'nicks are account names in this room');
		if (QUERIES.has(message.t) && !this.takeQuery(member)) return;
		this.flood.submit(member, message); // the room gets it, now or at the member's rate
	}

	/** False when over the query rate; the member hears so at most once a second. */
	private takeQuery(member: Member<C>): boolean {
		const now = this.#now();
		const {queriesPerSecond} = this.options;
		let state = this.#queries.get(member);
		if (!state) {
			state = {bucket: new TokenBucket(queriesPerSecond, queriesPerSecond * 2, now), toldUntil: 0};
			this.#queries.set(member, state);
		}
		if (state.bucket.take(now)) return true;
		if (now >= state.toldUntil) {
			const retryAfterMs = Math.ceil(1000 / queriesPerSecond);
			state.toldUntil = now + 1000;
			member.link.link.send({
				t: 'error',
				code: 'rate-limited',
				message: `too many ping/who requests; at most ${queriesPerSecond} a second`,
				retry_after_ms: retryAfterMs,
			});
		}
		return false;
	}
}
