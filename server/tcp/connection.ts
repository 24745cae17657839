// One TCP connection as the server keeps it: its login, and (version 2) the
// rooms it is in, each with its own room membership.

import type {Member, Room} from '../room/room.js';
import type {Admitted} from './admission.js';
import type {FramedLink} from './framed-link.js';
import type {LoginSession} from './login-session.js';

export type Phase = 'auth' | 'authed' | 'joined';

/** One room this connection is in. */
export interface Joined {
	room: Room<Connection>;
	member: Member<Connection>;
	/** `#Name`, as frames name it. */
	label: string;
}

export interface Connection {
	link: FramedLink;
	address: string;
	phase: Phase;
	login: LoginSession;
	admitted: Admitted;
	user?: string;
	/** A server admin (fetched once at login): moderates every room. */
	admin: boolean;
	/** Negotiated by the first hello: 2 keeps the connection open when one room says bye. */
	version: number;
	/** By room key, in the order joined: frames without `room` go to the first. */
	readonly rooms: Map<string, Joined>;
	/** Login is async (PBKDF2, database); frames arriving meanwhile wait their turn. */
	busy: Promise<void>;
	/** From login to the first hello; undefined before login and once joined. */
	joinTimer?: NodeJS.Timeout | undefined;
}
