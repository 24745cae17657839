// The room core: members, nicks, sequencing, history, rate limits and direct
// messages. It knows nothing of sockets: a transport adapter hands it parsed
// client messages and gives it a RoomOutput to deliver what it produces.

import {randomBytes} from 'node:crypto';
import {
	DEFAULT_LIMITS,
	ProtocolError,
	nickProblem,
	sanitizeText,
	textProblem,
	type ChatMessage,
	type ClientMessage,
	type DirectMessage,
	type ErrorCode,
	type MemberInfo,
	type PresenceKind,
	type RoomEventMessage,
	type ServerLimits,
	type ServerMessage,
	type UnsequencedRoomEvent,
} from '../../source/protocol/messages.js';
import {identityKey} from '../../source/protocol/names.js';
import {confusableKey} from '../../source/protocol/skeleton.js';
import {HistoryRing} from './history-ring.js';
import {TokenBucket} from './token-bucket.js';

export interface Member<Link> {
	readonly id: number;
	nick: string;
	readonly link: Link;
	lastSeen: number;
	dseq: number;
	readonly direct: HistoryRing<{seq: number; message: DirectMessage}>;
	readonly bucket: TokenBucket;
	readonly resendBucket: TokenBucket;
	/** Recent client refs → what they produced, so a retransmitted send is not posted twice. */
	readonly refs: Map<string, {s: 'room' | 'direct'; seq: number}>;
	strikes: number;
	/** Why the member is away (/away), while it is. */
	away?: string | undefined;
	/** The member has sent `away` (a client that knows it does after each welcome): it is told of away changes. */
	awayAware?: boolean;
}

export interface RoomOutput<Link> {
	/** Deliver to every member. Adapters encode once and send the same bytes to all. */
	broadcast(message: ServerMessage, members: Iterable<Member<Link>>): void;
	send(member: Member<Link>, message: ServerMessage): void;
	/** Close the member's link after sending it `bye`; the room has already removed it. */
	disconnect(member: Member<Link>, reason: string, retry: boolean): void;
}

/**
 * Persists room events and assigns their sequence numbers (the TCP room's
 * store). Version 2 journals presence too (all kinds but `away`), so a
 * replay has it in order. Reads are served beside appends, never behind them.
 */
export interface RoomJournal {
	latestSeq(): number;
	append(event: UnsequencedRoomEvent): Promise<number>;
	range(from: number, to: number): Promise<RoomEventMessage[]>;
	/** The newest `count` events, oldest first. */
	last(count: number): Promise<RoomEventMessage[]>;
	/** The newest `limit` events with seq < before, oldest first; complete when nothing older is stored. */
	before(before: number, limit: number): Promise<{events: RoomEventMessage[]; complete: boolean}>;
	/** Chat messages containing `text` (case-insensitive), seq < before when given: the newest `limit`, oldest first. */
	search(text: string, before: number | undefined, limit: number): Promise<ChatMessage[]>;
}

export interface RoomOptions<Link> {
	name: string;
	output: RoomOutput<Link>;
	limits?: Partial<ServerLimits>;
	maxMembers?: number;
	historySize?: number;
	directHistorySize?: number;
	/** Largest range one resend request may ask for. */
	maxResend?: number;
	/**
	 * Messages a second one member may have resent (repairing its losses), and
	 * how many it may save up. A separate budget from chatting: asking again is
	 * never flooding, requests beyond it are left unanswered (the client asks
	 * again, then reports the gap lost).
	 */
	resendRate?: number;
	resendBurst?: number;
	/** Rejected sends within the bucket's window before a member is kicked for flooding. */
	floodStrikes?: number;
	/**
	 * Messages one joiner (by replay key: an address, an account) may be resent
	 * per minute when it rejoins with `since`; beyond it the replay is skipped and
	 * the client repairs its gap with ordinary (rate-limited) resend requests.
	 */
	replayPerMinute?: number;
	/** Largest encoded size of one `history` page; longer histories go out in several. */
	historyPageBytes?: number;
	journal?: RoomJournal;
	/** Characters an away text keeps at most (default 200). */
	maxAwayLength?: number;
	/** Announced in every welcome (see source/protocol/versions.ts). */
	capabilities?: readonly string[];
	/** This server instance's id, sent in every welcome (default: random), so clients notice a restart. */
	epoch?: string;
	now?: () => number;
	log?: (line: string) => void;
}

export interface RoomStats {
	members: number;
	messages: number;
	rateLimited: number;
	rejected: number;
	resent: number;
	/** Resend requests left unanswered because the member was over its resend budget. */
	resendsRefused: number;
	/** Rejoin replays skipped because their key had used up its replay budget. */
	replaysThrottled: number;
}

const REF_MEMORY = 128;
type Sequenced = RoomEventMessage & {seq: number};

export class Room<Link> {
	readonly name: string;
	readonly limits: ServerLimits;
	readonly epoch: string;
	private readonly output: RoomOutput<Link>;
	private readonly byKey = new Map<string, Member<Link>>();
	private readonly ring: HistoryRing<Sequenced>;
	private readonly maxMembers: number;
	private readonly directHistorySize: number;
	private readonly maxResend: number;
	private readonly resendRate: number;
	private readonly resendBurst: number;
	private readonly floodStrikes: number;
	private readonly replayPerMinute: number;
	private readonly replayBuckets = new Map<string, TokenBucket>();
	private readonly historyPageBytes: number;
	private readonly journal: RoomJournal | undefined;
	private readonly capabilities: string[];
	private readonly maxAwayLength: number;
	private readonly now: () => number;
	private readonly log: (line: string) => void;
	private seq: number;
	private nextMemberId = 1;
	/** Journal writes are chained so sequence numbers are broadcast in order. */
	private publishing: Promise<void> = Promise.resolve();
	readonly stats: RoomStats = {
		members: 0,
		messages: 0,
		rateLimited: 0,
		rejected: 0,
		resent: 0,
		resendsRefused: 0,
		replaysThrottled: 0,
	};

	constructor(options: RoomOptions<Link>) {
		this.name = options.name;
		this.epoch = options.epoch ?? randomBytes(9).toString('base64url');
		this.output = options.output;
		this.limits = {...DEFAULT_LIMITS, ...options.limits};
		this.maxMembers = options.maxMembers ?? 256;
		this.ring = new HistoryRing(options.historySize ?? 1024);
		this.directHistorySize = options.directHistorySize ?? 64;
		this.maxResend = options.maxResend ?? 256;
		this.resendRate = options.resendRate ?? 1000;
		this.resendBurst = Math.max(1, options.resendBurst ?? 2000);
		this.floodStrikes = options.floodStrikes ?? 20;
		this.replayPerMinute = options.replayPerMinute ?? 2 * this.maxResend;
		this.historyPageBytes = options.historyPageBytes ?? 32 * 1024;
		this.journal = options.journal;
		this.capabilities = [...(options.capabilities ?? [])];
		this.maxAwayLength = options.maxAwayLength ?? 200;
		this.now = options.now ?? Date.now;
		// Every line names the room: one server log may carry several rooms.
		const log = options.log ?? (() => {});
		this.log = (line) => log(`room ${JSON.stringify(this.name)}: ${line}`);
		this.seq = this.journal?.latestSeq() ?? 0;
	}

	get latestSeq(): number {
		return this.seq;
	}

	get size(): number {
		return this.byKey.size;
	}

	members(): IterableIterator<Member<Link>> {
		return this.byKey.values();
	}

	memberList(): MemberInfo[] {
		return [...this.byKey.values()]
			.map((m) => (m.away === undefined ? {nick: m.nick} : {nick: m.nick, away: m.away}))
			.sort((a, b) => a.nick.localeCompare(b.nick));
	}

	findMember(nick: string): Member<Link> | undefined {
		return this.byKey.get(identityKey(nick));
	}

	/**
	 * Admits a member. Throws ProtocolError (nick-invalid, nick-taken, room-full)
	 * for the adapter to report; on success sends the welcome and tells everyone.
	 */
	join(
		link: Link,
		nick: string,
		options: {since?: number; sid?: string; history?: number; version?: number; replayKey?: string} = {},
	): Member<Link> {
		const problem = nickProblem(nick);
		if (problem) throw new ProtocolError('nick-invalid', problem);
		if (this.byKey.has(identityKey(nick))) throw new ProtocolError('nick-taken', `the nick ${nick} is taken`);
		this.refuseLookalike(nick);
		if (this.byKey.size >= this.maxMembers)
			throw new ProtocolError('room-full', `the room is full (${this.maxMembers} members)`);
		const now = this.now();
		const member: Member<Link> = {
			id: this.nextMemberId++,
			nick,
			link,
			lastSeen: now,
			dseq: 0,
			direct: new HistoryRing(this.directHistorySize),
			bucket: new TokenBucket(this.limits.ratePerSecond, this.limits.burst, now),
			resendBucket: new TokenBucket(this.resendRate, this.resendBurst, now),
			refs: new Map(),
			strikes: 0,
		};
		this.byKey.set(identityKey(nick), member);
		this.stats.members = this.byKey.size;
		try {
			this.output.send(member, {
				t: 'welcome',
				nick,
				room: this.name,
				seq: this.seq,
				dseq: 0,
				members: this.memberList(),
				...(options.sid ? {sid: options.sid} : {}),
				epoch: this.epoch,
				limits: this.limits,
				v: options.version ?? 1,
				caps: this.capabilities,
			});
		} catch (error) {
			// The welcome does not fit the transport (a long member list): the join
			// never happened, so no ghost keeps the nick or a member slot.
			this.byKey.delete(identityKey(nick));
			this.stats.members = this.byKey.size;
			if (error instanceof ProtocolError && error.code !== 'too-long') throw error;
			throw new ProtocolError('room-full', 'the room is full (its member list no longer fits a welcome)');
		}
		if (options.since !== undefined && options.since < this.seq) {
			if (this.takeReplay(options.replayKey ?? identityKey(nick), options.since, now))
				this.resend(member, 'room', options.since + 1, this.seq, true);
		} else if (options.history) {
			this.sendHistory(member, options.history);
		}
		this.log(`join ${nick} (${this.byKey.size} ${this.byKey.size === 1 ? 'member' : 'members'})`);
		this.publish({t: 'presence', ts: now, kind: 'join', nick});
		return member;
	}

	/** Removes a member and tells the others. Idempotent. */
	leave(
		member: Member<Link>,
		kind: Exclude<PresenceKind, 'join' | 'nick' | 'away'> = 'leave',
		reason?: string,
	): void {
		if (this.byKey.get(identityKey(member.nick)) !== member) return;
		this.byKey.delete(identityKey(member.nick));
		this.stats.members = this.byKey.size;
		this.log(`${kind} ${member.nick}${reason ? `: ${reason}` : ''}`);
		// A kicked client may come back after its reconnect backoff: a flood is over once it stops.
		if (kind === 'kick') this.output.disconnect(member, reason ?? 'kicked', true);
		this.publish({t: 'presence', ts: this.now(), kind, nick: member.nick, ...(reason ? {reason} : {})});
	}

	isMember(member: Member<Link>): boolean {
		return this.byKey.get(identityKey(member.nick)) === member;
	}

	/** Handles one message from a joined member. Never throws: problems go back as errors. */
	handle(member: Member<Link>, message: ClientMessage): void {
		if (!this.isMember(member)) return;
		member.lastSeen = this.now();
		try {
			switch (message.t) {
				case 'say':
					return this.say(member, message.ref, message.text, message.action === true);
				case 'dm':
					return this.direct(member, message.ref, message.to, message.text);
				case 'nick':
					return this.rename(member, message.nick);
				case 'who':
					return this.output.send(member, {t: 'who', members: this.memberList()});
				case 'resend':
					return this.resend(member, message.s, message.from, message.to, false);
				case 'ping':
					return this.output.send(member, {t: 'pong', ts: message.ts, seq: this.seq, dseq: member.dseq});
				case 'leave':
					return this.leave(member, 'leave');
				case 'away':
					return this.setAway(member, message.text);
				case 'join':
				case 'hello':
					throw new ProtocolError('bad-request', 'already joined');
			}
		} catch (error) {
			if (!(error instanceof ProtocolError)) throw error;
			this.stats.rejected++;
			const ref = 'ref' in message ? message.ref : undefined;
			this.sendError(member, error.code, error.message, ref, error.retryAfterMs);
		}
	}

	sendError(
		member: Member<Link>,
		code: ErrorCode,
		message: string,
		ref?: string,
		retryAfterMs?: number,
	): void {
		this.output.send(member, {
			t: 'error',
			code,
			message,
			...(ref ? {ref} : {}),
			...(retryAfterMs === undefined ? {} : {retry_after_ms: retryAfterMs}),
		});
	}

	/** Sends `bye` to everyone and forgets them (server shutdown). */
	closeAll(reason: string): void {
		for (const member of [...this.byKey.values()]) {
			this.byKey.delete(identityKey(member.nick));
			this.output.disconnect(member, reason, true);
		}
		this.stats.members = 0;
	}

	private say(member: Member<Link>, ref: string, text: string, action: boolean): void {
		if (this.replayDuplicate(member, ref)) return;
		this.admit(member, text);
		this.stats.messages++;
		this.publish(
			{t: 'msg', ts: this.now(), from: member.nick, text, ...(action ? {action} : {}), ref},
			member,
			ref,
		);
	}

	private direct(member: Member<Link>, ref: string, to: string, text: string): void {
		if (this.replayDuplicate(member, ref)) return;
		const target = this.findMember(to);
		if (!target) throw new ProtocolError('no-such-nick', `no one called ${to} is here`);
		this.admit(member, text);
		this.stats.messages++;
		const ts = this.now();
		const deliver = (recipient: Member<Link>, withRef: boolean): number => {
			const message: DirectMessage = {
				t: 'dm',
				dseq: ++recipient.dseq,
				ts,
				from: member.nick,
				to: target.nick,
				text,
				...(withRef ? {ref} : {}),
			};
			recipient.direct.add({seq: message.dseq, message});
			this.output.send(recipient, message);
			return message.dseq;
		};
		if (target !== member) deliver(target, false);
		this.remember(member, ref, 'direct', deliver(member, true));
	}

	/** `bоb` (Cyrillic о) or `b0b` next to `bob` would pass for bob: refused like a taken nick (UTS #39). */
	private refuseLookalike(nick: string, except?: Member<Link>): void {
		const key = confusableKey(nick);
		for (const other of this.byKey.values())
			if (other !== except && confusableKey(other.nick) === key)
				throw new ProtocolError('nick-taken', `the nick ${nick} looks too much like ${other.nick}`);
	}

	private rename(member: Member<Link>, nick: string): void {
		if (!member.bucket.take(this.now())) throw this.rateLimited(member, member.bucket);
		const problem = nickProblem(nick);
		if (problem) throw new ProtocolError('nick-invalid', problem);
		const key = identityKey(nick);
		const holder = this.byKey.get(key);
		if (holder && holder !== member) throw new ProtocolError('nick-taken', `the nick ${nick} is taken`);
		if (member.nick === nick) return;
		this.refuseLookalike(nick, member);
		const old = member.nick;
		this.byKey.delete(identityKey(old));
		member.nick = nick;
		this.byKey.set(key, member);
		this.log(`nick ${old} → ${nick}`);
		this.publish({t: 'presence', ts: this.now(), kind: 'nick', nick, old});
	}

	private resend(
		member: Member<Link>,
		stream: 'room' | 'direct',
		from: number,
		to: number,
		free: boolean,
	): void {
		const latest = stream === 'room' ? this.seq : member.dseq;
		to = Math.min(to, latest);
		if (from > to) return;
		// Only the newest maxResend are worth resending; older ones are reported lost.
		const first = Math.max(from, to - this.maxResend + 1);
		const cost = Math.min(to - first + 1, this.resendBurst);
		if (!free && !member.resendBucket.take(this.now(), cost)) {
			// No error and no strike: a reader repairing a lossy link is not flooding.
			this.stats.resendsRefused++;
			return;
		}
		if (first > from) this.output.send(member, {t: 'lost', s: stream, from, to: first - 1});
		if (stream === 'direct') {
			this.sendFound(
				member,
				stream,
				first,
				to,
				member.direct.range(first, to).map((d) => d.message),
				(d) => d.dseq,
			);
			return;
		}
		const held = this.ring.range(first, to);
		const oldestHeld = held[0]?.seq ?? to + 1;
		if (this.journal && oldestHeld > first) {
			// Older than the memory ring: ask the journal, then send in order.
			const journal = this.journal;
			this.publishing = this.publishing
				.then(() => journal.range(first, to))
				.then((events) => this.sendFound(member, stream, first, to, events as Sequenced[], (e) => e.seq))
				.catch(() => this.sendError(member, 'server-error', 'history is unavailable right now'));
			return;
		}
		this.sendFound(member, stream, first, to, held, (e) => e.seq);
	}

	private sendFound<T extends ServerMessage>(
		member: Member<Link>,
		stream: 'room' | 'direct',
		from: number,
		to: number,
		found: T[],
		seqOf: (item: T) => number,
	): void {
		let expected = from;
		for (const item of found) {
			const seq = seqOf(item);
			if (seq > expected) this.output.send(member, {t: 'lost', s: stream, from: expected, to: seq - 1});
			this.output.send(member, item);
			this.stats.resent++;
			expected = seq + 1;
		}
		if (expected <= to) this.output.send(member, {t: 'lost', s: stream, from: expected, to});
	}

	private sendHistory(member: Member<Link>, count: number): void {
		if (this.journal) {
			const journal = this.journal;
			this.publishing = this.publishing
				.then(() => journal.last(count))
				.then((messages) => {
					if (this.isMember(member)) this.sendHistoryPages(member, messages);
				})
				.catch(() => this.sendError(member, 'server-error', 'history is unavailable right now'));
			return;
		}
		const from = Math.max(1, this.seq - count + 1);
		this.sendHistoryPages(member, this.ring.range(from, this.seq));
	}

	/** Several `history` frames, each within historyPageBytes, so no page outgrows a frame. */
	private sendHistoryPages(member: Member<Link>, messages: RoomEventMessage[]): void {
		let page: RoomEventMessage[] = [];
		let pageBytes = 0;
		for (const message of messages) {
			const bytes = Buffer.byteLength(JSON.stringify(message)) + 1;
			if (page.length > 0 && pageBytes + bytes > this.historyPageBytes) {
				this.output.send(member, {t: 'history', messages: page});
				page = [];
				pageBytes = 0;
			}
			page.push(message);
			pageBytes += bytes;
		}
		if (page.length > 0) this.output.send(member, {t: 'history', messages: page});
	}

	/** Charges a rejoin replay to its key's budget; false (and counted) when it is spent. */
	private takeReplay(key: string, since: number, now: number): boolean {
		const count = Math.min(this.seq - since, this.maxResend, this.replayPerMinute);
		let bucket = this.replayBuckets.get(key);
		if (!bucket) {
			if (this.replayBuckets.size >= 4096) this.replayBuckets.clear(); // bounded; a reset only forgives
			bucket = new TokenBucket(this.replayPerMinute / 60, this.replayPerMinute, now);
			this.replayBuckets.set(key, bucket);
		}
		if (bucket.take(now, count)) return true;
		this.stats.replaysThrottled++;
		this.log(`replay of ${count} messages to ${JSON.stringify(key)} skipped: its replay budget is spent`);
		return false;
	}

	/**
	 * Away with `text` (one line, control characters removed, at most
	 * maxAwayLength characters), or back. A change is told, unsequenced, to the
	 * members whose clients know `away` (old clients would not understand it;
	 * they still see it in member lists). Costs a token like a message.
	 */
	private setAway(member: Member<Link>, text: string | undefined): void {
		const wasAware = member.awayAware === true;
		member.awayAware = true;
		const clean = awayText(text, this.maxAwayLength);
		if (clean === member.away) return;
		if (wasAware && !member.bucket.take(this.now())) throw this.rateLimited(member, member.bucket);
		member.away = clean;
		this.log(`away ${member.nick}${clean === undefined ? ' (back)' : `: ${clean}`}`);
		const aware = [...this.byKey.values()].filter((other) => other.awayAware === true);
		this.output.broadcast(
			{
				t: 'presence',
				ts: this.now(),
				kind: 'away',
				nick: member.nick,
				...(clean === undefined ? {} : {reason: clean}),
			},
			aware,
		);
	}

	/** Checks rate and content; throws ProtocolError, counting strikes toward a flood kick. */
	private admit(member: Member<Link>, text: string): void {
		if (!member.bucket.take(this.now())) throw this.rateLimited(member, member.bucket);
		const problem = textProblem(text, this.limits.maxTextBytes);
		if (problem) throw problem;
	}

	/** The error says when the bucket will hold a token again, so a client can wait exactly that. */
	private rateLimited(member: Member<Link>, bucket: TokenBucket): ProtocolError {
		this.stats.rateLimited++;
		if (++member.strikes >= this.floodStrikes) {
			// Leave after the error has been queued so the client learns why.
			queueMicrotask(() => this.leave(member, 'kick', 'flooding'));
		}
		return new ProtocolError(
			'rate-limited',
			`slow down: at most ${this.limits.ratePerSecond} messages a second (bursts of ${this.limits.burst})`,
			bucket.waitMs(this.now()),
		);
	}

	/** A retransmitted send whose original went through: resend the original to the sender only. */
	private replayDuplicate(member: Member<Link>, ref: string): boolean {
		const previous = member.refs.get(ref);
		if (!previous) return false;
		if (previous.s === 'direct') {
			const held = member.direct.get(previous.seq);
			if (held) this.output.send(member, held.message);
		} else {
			const held = this.ring.get(previous.seq);
			if (held) this.output.send(member, held);
		}
		return true;
	}

	private remember(member: Member<Link>, ref: string, s: 'room' | 'direct', seq: number): void {
		member.refs.set(ref, {s, seq});
		if (member.refs.size > REF_MEMORY) {
			const oldest = member.refs.keys().next();
			if (!oldest.done) member.refs.delete(oldest.value);
		}
	}

	/** Assigns the next sequence number (from the journal when there is one) and broadcasts. */
	private publish(event: UnsequencedRoomEvent, sender?: Member<Link>, ref?: string): void {
		const deliver = (seq: number) => {
			const message = {...event, seq} as Sequenced;
			this.ring.add(message);
			if (sender && ref) this.remember(sender, ref, 'room', seq);
			this.output.broadcast(message, this.byKey.values());
		};
		if (!this.journal) {
			deliver(++this.seq);
			return;
		}
		if (event.t === 'presence') {
			// The journal sequences stored messages only; presence waits behind the messages
			// still being stored, so "alice: bye" is never seen after "alice left".
			// It goes to those in the room when it happened (a newcomer's welcome already lists them).
			const present = [...this.byKey.values()];
			this.publishing = this.publishing.then(() =>
				this.output.broadcast(
					event,
					present.filter((member) => this.isMember(member)),
				),
			);
			return;
		}
		const journal = this.journal;
		this.publishing = this.publishing.then(async () => {
			try {
				const seq = await journal.append(event);
				if (seq <= this.seq && sender && ref) {
					// The journal already had this send (same sender and ref): the sender is
					// retrying after a reconnect or a server restart that swallowed the echo.
					// Everyone has it under that number; answer the sender alone, post nothing.
					this.remember(sender, ref, 'room', seq);
					if (this.isMember(sender)) this.output.send(sender, {...event, seq} as Sequenced);
					return;
				}
				this.seq = Math.max(this.seq, seq);
				deliver(seq);
			} catch (error) {
				this.log(`journal append failed: ${(error as Error).message}`);
				if (sender && this.isMember(sender))
					this.sendError(sender, 'server-error', 'message not stored; please resend', ref);
			}
		});
	}
}

/** An away text as the room keeps it: one line without control characters, bounded; blank is none. */
export function awayText(text: string | undefined, max: number): string | undefined {
	if (text === undefined) return undefined;
	const clean = sanitizeText(text)
		.replace(/[\uFFFD\s]+/gu, ' ')
		.trim();
	if (clean === '') return undefined;
	const chars = [...clean];
	return chars.length > max ? chars.slice(0, max).join('') : clean;
}
