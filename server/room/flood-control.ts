// Flood control in front of a room, after Ergo's "fakelag": a member who sends
// faster than the room's rate is slowed down, not refused. Its lines (say, dm)
// wait in a queue, in order and with their refs, and go to the room as its
// token bucket allows, so the acknowledgement arrives when a line goes out.
// The bucket's burst is the paste allowance: that many lines go at once. The
// member hears once that it is being slowed; only a queue overflowing (sustained
// abuse) gets it kicked for flooding, its held lines answered "not sent". Knows no sockets: the transport adapter
// hands it what the room would get, and tests drive it with a fake clock.

import type {ClientMessage} from '../../source/protocol/messages.js';
import type {Member, Room} from './room.js';

export interface Timers {
	set(callback: () => void, ms: number): unknown;
	clear(handle: unknown): void;
}

const realTimers: Timers = {
	set: (callback, ms) => setTimeout(callback, ms).unref(),
	clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface FloodControlOptions<Link> {
	room: Room<Link>;
	/** Lines held for one member at most; one more and it is kicked for flooding (default 50). */
	maxQueue?: number;
	/** Called after the room handled each of the member's messages (the adapter closes a member that left). */
	afterHandle?: (member: Member<Link>) => void;
	/** The member hears "slowed down" at most this often (default 10 s). */
	noticeEveryMs?: number;
	/** The room's clock: the bucket it reads is the room's. */
	now?: () => number;
	timers?: Timers;
}

export interface FloodStats {
	/** Lines that waited in a queue before going to the room. */
	delayed: number;
	/** Retransmissions of a line still queued (same ref), dropped: the queued one answers them. */
	duplicates: number;
	/** Members kicked because their queue overflowed. */
	kicked: number;
}

/** Lines: what the room's rate limit is about, and what may wait. */
const LINES = new Set<ClientMessage['t']>(['say', 'dm']);
/** Never held: keepalives, member lists, loss repair and reads (markers, pages, search) must not wait behind a paste. */
const IMMEDIATE = new Set<ClientMessage['t']>(['ping', 'who', 'resend', 'read', 'history', 'search']);

interface Held {
	readonly messages: ClientMessage[];
	timer: unknown;
}

export class FloodControl<Link> {
	readonly stats: FloodStats = {delayed: 0, duplicates: 0, kicked: 0};
	readonly #room: Room<Link>;
	readonly #maxQueue: number;
	readonly #afterHandle: (member: Member<Link>) => void;
	readonly #noticeEveryMs: number;
	readonly #now: () => number;
	readonly #timers: Timers;
	readonly #held = new Map<Member<Link>, Held>();
	readonly #toldAt = new WeakMap<Member<Link>, number>();

	constructor(options: FloodControlOptions<Link>) {
		this.#room = options.room;
		this.#maxQueue = Math.max(1, options.maxQueue ?? 50);
		this.#afterHandle = options.afterHandle ?? (() => {});
		this.#noticeEveryMs = options.noticeEveryMs ?? 10_000;
		this.#now = options.now ?? Date.now;
		this.#timers = options.timers ?? realTimers;
	}

	/** Lines waiting for `member`. */
	queued(member: Member<Link>): number {
		return this.#held.get(member)?.messages.length ?? 0;
	}

	/** A message from a joined member: to the room now, or queued behind the member's earlier lines. */
	submit(member: Member<Link>, message: ClientMessage): void {
		const held = this.#held.get(member);
		if (IMMEDIATE.has(message.t) || !this.#room.isMember(member)) return this.#deliver(member, message);
		if (held === undefined) {
			if (!LINES.has(message.t) || this.#waitMs(member) === 0) return this.#deliver(member, message);
			this.#hold(member, message);
			return;
		}
		// Anything else (nick, away, leave) keeps its place behind the lines.
		const ref = 'ref' in message ? message.ref : undefined;
		if (ref !== undefined && held.messages.some((queued) => 'ref' in queued && queued.ref === ref)) {
			this.stats.duplicates++;
			return;
		}
		if (held.messages.length >= this.#maxQueue) return this.#kick(member, message);
		held.messages.push(message);
		this.stats.delayed++;
	}

	/** Drops every queue and timer (server shutdown). */
	clear(): void {
		for (const held of this.#held.values()) this.#timers.clear(held.timer);
		this.#held.clear();
	}

	#hold(member: Member<Link>, message: ClientMessage): void {
		const wait = this.#waitMs(member);
		const held: Held = {messages: [message], timer: undefined};
		this.#held.set(member, held);
		this.stats.delayed++;
		this.#schedule(member, held, wait);
		const now = this.#now();
		const told = this.#toldAt.get(member);
		if (told === undefined || now - told >= this.#noticeEveryMs) {
			this.#toldAt.set(member, now);
			const {ratePerSecond} = this.#room.limits;
			this.#room.sendError(
				member,
				'rate-limited',
				`slowed down: your lines are queued and go out at ${ratePerSecond} a second`,
				undefined,
				wait,
			);
		}
	}

	#schedule(member: Member<Link>, held: Held, ms: number): void {
		held.timer = this.#timers.set(() => this.#release(member), Math.max(1, ms));
	}

	/** Hands the room what its bucket allows now, in order; waits again for the rest. */
	#release(member: Member<Link>): void {
		const held = this.#held.get(member);
		if (held === undefined) return;
		held.timer = undefined;
		while (held.messages.length > 0) {
			if (!this.#room.isMember(member)) break;
			const next = held.messages[0]!;
			const wait = LINES.has(next.t) ? this.#waitMs(member) : 0;
			if (wait > 0) return this.#schedule(member, held, wait);
			held.messages.shift();
			this.#deliver(member, next);
		}
		this.#held.delete(member);
	}

	#deliver(member: Member<Link>, message: ClientMessage): void {
		this.#room.handle(member, message);
		this.#afterHandle(member);
	}

	/** The lines it held, and the one too many, are answered "not sent" (so a client does not send them again), then the kick. */
	#kick(member: Member<Link>, overflow: ClientMessage): void {
		const held = this.#held.get(member);
		if (held) this.#timers.clear(held.timer);
		this.#held.delete(member);
		this.stats.kicked++;
		for (const message of [...(held?.messages ?? []), overflow])
			if (LINES.has(message.t) && 'ref' in message)
				this.#room.sendError(member, 'rate-limited', 'not sent: flooding', message.ref);
		this.#room.leave(member, 'kick', 'flooding');
		this.#afterHandle(member);
	}

	/** The room's own bucket decides: what it would take now goes now, so the room never refuses a released line. */
	#waitMs(member: Member<Link>): number {
		return member.bucket.waitMs(this.#now());
	}
}
