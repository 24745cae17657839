// Shared by the room core's tests: a recording RoomOutput stands in for the
// transports, a fake clock for time and a scripted journal for the store, so
// every rule is checked exactly and without sockets.
import assert from 'node:assert/strict';
import {
	Room,
	type JoinOptions,
	type Member,
	type RoomJournal,
	type RoomOptions,
	type RoomOutput,
} from '../../server/room/room.js';
import type {
	ChatMessage,
	ClientMessage,
	RoomEventMessage,
	ServerMessage,
	UnsequencedRoomEvent,
} from '../../source/protocol/messages.js';

/** What the room asked its transport to do, with members named by their link. */
export type Delivery =
	| {kind: 'send'; to: string; message: ServerMessage}
	| {kind: 'broadcast'; to: string[]; message: ServerMessage}
	| {kind: 'disconnect'; to: string; reason: string; retry: boolean}
	/** Something the test marks in the record (a journal read finishing). */
	| {kind: 'mark'; what: string};

export class RecordingOutput implements RoomOutput<string> {
	readonly deliveries: Delivery[] = [];

	broadcast(message: ServerMessage, members: Iterable<Member<string>>): void {
		this.deliveries.push({kind: 'broadcast', to: [...members].map((m) => m.link), message});
	}

	send(member: Member<string>, message: ServerMessage): void {
		this.deliveries.push({kind: 'send', to: member.link, message});
	}

	disconnect(member: Member<string>, reason: string, retry: boolean): void {
		this.deliveries.push({kind: 'disconnect', to: member.link, reason, retry});
	}

	mark(what: string): void {
		this.deliveries.push({kind: 'mark', what});
	}

	/** Every message `link` received, directly or by broadcast, in order. */
	receivedBy(link: string): ServerMessage[] {
		return this.deliveries.flatMap((d) =>
			d.kind === 'send' && d.to === link
				? [d.message]
				: d.kind === 'broadcast' && d.to.includes(link)
					? [d.message]
					: [],
		);
	}

	/** A compact line per message `link` received, for order checks. */
	seenBy(link: string): string[] {
		return this.receivedBy(link).map(describeMessage);
	}

	/** Like seenBy, with the marks between: what arrived before and after a read finished. */
	timeline(link: string): string[] {
		return this.deliveries.flatMap((d) =>
			d.kind === 'mark'
				? [`[${d.what}]`]
				: (d.kind === 'send' && d.to === link) || (d.kind === 'broadcast' && d.to.includes(link))
					? [describeMessage(d.message)]
					: [],
		);
	}

	disconnectsOf(link: string): Array<{reason: string; retry: boolean}> {
		return this.deliveries.flatMap((d) =>
			d.kind === 'disconnect' && d.to === link ? [{reason: d.reason, retry: d.retry}] : [],
		);
	}

	clear(): void {
		this.deliveries.length = 0;
	}
}

export function describeMessage(message: ServerMessage): string {
	switch (message.t) {
		case 'msg':
			return `msg ${message.seq} ${message.from}: ${message.text}`;
		case 'presence':
			return `${message.kind} ${message.nick}${message.by ? ` by ${message.by}` : ''}`;
		case 'lost':
			return `lost ${message.from}-${message.to}`;
		case 'error':
			return `error ${message.code}${message.ref ? ` ${message.ref}` : ''}`;
		case 'dm':
			return `dm ${message.dseq} ${message.from}→${message.to}: ${message.text}`;
		case 'history':
			return `history ${message.messages.map((m) => m.seq).join(',')}`;
		case 'found':
			return `found ${message.messages.map((m) => m.seq).join(',')}`;
		case 'read':
			return `read ${message.seq}`;
		default:
			return message.t;
	}
}

export class FakeClock {
	time = 1_700_000_000_000;
	now = (): number => this.time;
	advance(ms: number): void {
		this.time += ms;
	}
}

/**
 * A journal under the test's control: appends wait while `hold` is set and
 * can fail; reads take `readDelayMs` (a slow database), each marking the
 * output when it finishes so tests see what went out before it.
 */
export class ScriptedJournal implements RoomJournal {
	readonly stored: RoomEventMessage[] = [];
	failNext = 0;
	private held: Array<() => void> = [];
	hold = false;
	readDelayMs = 0;
	marks: RecordingOutput | undefined;

	latestSeq(): number {
		return this.stored.length;
	}

	async append(event: UnsequencedRoomEvent): Promise<number> {
		if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
		if (this.failNext > 0) {
			this.failNext--;
			throw new Error('database is down');
		}
		const seq = this.stored.length + 1;
		this.stored.push({...event, seq} as RoomEventMessage);
		return seq;
	}

	async range(from: number, to: number): Promise<RoomEventMessage[]> {
		return this.read('range', () => this.stored.filter((e) => (e.seq ?? 0) >= from && (e.seq ?? 0) <= to));
	}

	async last(count: number): Promise<RoomEventMessage[]> {
		return this.read('last', () => this.stored.slice(-count));
	}

	async before(before: number, limit: number): Promise<{events: RoomEventMessage[]; complete: boolean}> {
		return this.read('before', () => {
			const older = this.stored.filter((e) => (e.seq ?? 0) < before);
			return {events: older.slice(-limit), complete: older.length <= limit};
		});
	}

	async search(text: string, before: number | undefined, limit: number): Promise<ChatMessage[]> {
		const needle = text.toLowerCase();
		return this.read('search', () =>
			this.stored
				.filter((e): e is ChatMessage => e.t === 'msg' && e.text.toLowerCase().includes(needle))
				.filter((e) => before === undefined || e.seq < before)
				.slice(-limit),
		);
	}

	release(): void {
		this.hold = false;
		for (const resolve of this.held.splice(0)) resolve();
	}

	private async read<T>(what: string, answer: () => T): Promise<T> {
		const result = answer(); // as of the request, like a database snapshot
		if (this.readDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.readDelayMs));
		this.marks?.mark(`${what} read done`);
		return result;
	}
}

/** Waits until the room's journal chain has run (each step is a few promise turns). */
export const journalSettled = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Lets queued microtasks run (the flood kick waits for the error to be queued first). */
export const microtasks = () => new Promise<void>((resolve) => queueMicrotask(resolve));

/**
 * A room with a recording output and a fake clock. Links are named after the
 * nick a member joined with unless given; `from` speaks through a given link
 * (a session) or the member's first session.
 */
export function setup(options: Partial<RoomOptions<string>> = {}) {
	const output = new RecordingOutput();
	const clock = new FakeClock();
	const room = new Room<string>({name: 'lobby', output, now: clock.now, ...options});
	const join = (nick: string, extra: JoinOptions & {link?: string} = {}) => {
		const {link, ...joinOptions} = extra;
		return room.join(link ?? nick, nick, joinOptions);
	};
	const session = (linkOrNick: string): Member<string> => {
		const member = [...room.members()].find((m) => m.link === linkOrNick) ?? room.findMember(linkOrNick);
		assert.ok(member, `${linkOrNick} is in the room`);
		return member;
	};
	const from = (linkOrNick: string, message: ClientMessage) => room.handle(session(linkOrNick), message);
	let refs = 0;
	const say = (linkOrNick: string, text: string, ref = `r${++refs}`) =>
		from(linkOrNick, {t: 'say', ref, text});
	return {room, output, clock, join, session, from, say};
}
