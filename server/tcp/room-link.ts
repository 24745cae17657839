// Joins logged-in connections to the room core and carries their frames to
// it: `hello` joins (a newer connection of the same account replaces the
// older one), everything after that is the room's.

import {encodeFrame} from '../../source/protocol/framing.js';
import {ProtocolError, encodeJson, type ClientMessage} from '../../source/protocol/messages.js';
import type {Member, Room, RoomOutput} from '../room/room.js';
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
}

export class RoomLink<C extends Linked> {
	constructor(private readonly options: RoomLinkOptions<C>) {}

	/**
	 * Joins an account that said hello, under its account name: identity in this
	 * room is proven, not claimed. Throws ProtocolError when the room refuses.
	 */
	join(connection: C, user: string, hello: ClientMessage): Member<C> {
		if (hello.t !== 'hello') throw new ProtocolError('not-joined', 'say hello first');
		const {room, historyOnJoin} = this.options;
		const joinOptions = hello.since === undefined ? {history: historyOnJoin} : {since: hello.since};
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
		room.handle(member, message);
		if (!room.isMember(member)) member.link.link.close();
	}
}
