// The room core: members, nicks, sequencing, history, rate limits, direct
// messages and (in rooms with accounts) moderation and many sessions per
// account. It knows nothing of sockets: a transport adapter hands it parsed
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
	type RoomEventMessage,
	type ServerLimits,
	type ServerMessage,
	type UnsequencedRoomEvent,
} from '../../source/protocol/messages.js';
import {identityKey, roomLabel} from '../../source/protocol/names.js';
import {confusableKey} from '../../source/protocol/skeleton.js';
import {MULTI_ROOM_VERSION} from '../../source/protocol/versions.js';
import {emptyRoomSettings, type RoomRole, type RoomSettings} from '../store/account-store.js';
import {HistoryRing} from './history-ring.js';
import {RANK, banOf, mayEnter, modesOf, muteOf, rankOf} from './rights.js';
import {TokenBucket} from './token-bucket.js';
import type {Log} from '../log/log.js';

/**
 * One session in the room: a link (a UDP address, a TCP connection). In rooms
 * with accounts several sessions of one account are one member: they share
 * the nick, the send rate and the away text, and each gets every broadcast.
 */
export interface Member<Link> {
	readonly id: number;
	nick: string;
	readonly link: Link;
	/** identityKey of the logged-in account (TCP); undefined in rooms without accounts. */
	readonly account: string | undefined;
	/** A server admin: every right in every room. */
	readonly admin: boolean;
	lastSeen: number;
	dseq: number;
	// direct, resendBucket, readBucket and refs are made on first use: most sessions
	// of a big server sit idle, never sending a direct message or asking for a
	// resend, and the four cost ~0.9 KB a session made up front. A bucket made late
	// starts full, as one made at the join would be by then.
	/** Direct messages this session got, for resends; undefined until the first. */
	direct: HistoryRing<{seq: number; message: DirectMessage}> | undefined;
	/** Chat sends; shared by every session of an account, so a second one cannot double the rate. */
	readonly bucket: TokenBucket;
	resendBucket: TokenBucket | undefined;
	/** `history` and `search` requests (journal reads). */
	readBucket: TokenBucket | undefined;
	/** Recent client refs → what they produced, so a retransmitted send is not posted twice. */
	refs: Map<string, {s: 'room' | 'direct'; seq: number}> | undefined;
	strikes: number;
	/** Why the member is away (/away), while it is. */
	away?: string | undefined;
	/** The member has sent `away` (a client that knows it does after each welcome): it is told of away changes. */
	awayAware?: boolean;
	/**
	 * Live room events held while this session's join history is being read,
	 * sent right after it (a client shows history, then live). Undefined: none held.
	 */
	held?: ServerMessage[] | undefined;
}

export interface RoomOutput<Link> {
	/** Deliver to every member. Adapters encode once and send the same bytes to all. */
	broadcast(message: ServerMessage, members: Iterable<Member<Link>>): void;
	send(member: Member<Link>, message: ServerMessage): void;
	/**
	 * Close the member's session in this room after sending it `bye`; the room
	 * has already removed it. (A version-2 TCP connection stays open for its other rooms.)
	 */
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
	/**
	 * A journal that orders the room's events itself (several servers share the
	 * room: server/cluster/cluster-journal.ts) delivers them through this sink,
	 * in strictly increasing seq, its own appends (with the event appended) and
	 * other servers' alike; append's promise then only tells the number.
	 */
	attach?(sink: (event: RoomEventMessage & {seq: number}, appended?: UnsequencedRoomEvent) => void): void;
}

/** A member on another server of the room (cluster mode), as the room sees it. */
export interface RemoteMember {
	nick: string;
	/** identityKey of its account. */
	account?: string | undefined;
	away?: string | undefined;
}

/** A direct message crossing servers. */
export interface ForwardedDirect {
	from: string;
	to: string;
	text: string;
	ts: number;
}

/**
 * The room's other servers (cluster mode; server/cluster/cluster-node.ts). The
 * room asks who is there beyond its own sessions and hands over what must
 * cross; without peers (one server) it is on its own, as always.
 */
export interface RoomPeers {
	/** Members on other servers now (not this server's). */
	remoteMembers(): readonly RemoteMember[];
	/** This server's members changed (joined, left, renamed, away): tell the others. */
	localMembersChanged(): void;
	/** A direct message for the sessions of `to` (and the sender's own) on other servers. */
	forwardDirect(message: ForwardedDirect): void;
}

export interface RoomOptions<Link> {
	name: string;
	output: RoomOutput<Link>;
	limits?: Partial<ServerLimits>;
	/** Members (accounts, however many sessions each has) the room holds at most. */
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
	/** `history` and `search` requests a session may make a second (default 4), and its burst (default 8). */
	readsPerSecond?: number;
	readBurst?: number;
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
	/** The room's other servers (cluster mode); none: this server is the whole room. */
	peers?: RoomPeers;
	/** Characters an away text keeps at most (default 200). */
	maxAwayLength?: number;
	/** Announced in every welcome (see source/protocol/versions.ts). */
	capabilities?: readonly string[];
	/** This server instance's id, sent in every welcome (default: random), so clients notice a restart. */
	epoch?: string;
	/**
	 * Rooms with accounts (TCP): topic, modes, roles, bans, mutes and invites.
	 * Without it those requests are refused (UDP rooms have no accounts).
	 */
	moderation?: boolean;
	/** The room's saved settings (the owner's role among them); changed in place. */
	settings?: RoomSettings;
	/** Every settings change, with a copy of the whole settings, to persist. */
	onSettingsChange?: (settings: RoomSettings) => void;
	/** An account was invited (its key) by `by`: the hub tells it wherever it is. */
	onInvite?: (account: string, by: string) => void;
	/** An account's read marker moved forward to seq: the hub stores it. */
	onRead?: (account: string, seq: number) => void;
	/** An account parted the room for good (all its sessions left): the hub forgets the membership. */
	onPart?: (account: string) => void;
	/**
	 * Every event this room tells its members that happened here (sequenced
	 * events with their number, and `away` changes), not those handed to
	 * relayed(): a relay (server/cluster/udp-relay.ts) passes them to other nodes.
	 */
	onEvent?: (event: RoomEventMessage) => void;
	now?: () => number;
	log?: Log;
}

/** How a session joins. */
export interface JoinOptions {
	/** The last seq the client has: it is resent what came after (a rejoin). */
	since?: number;
	sid?: string;
	/** Events of history to send after the welcome (a first join). */
	history?: number;
	version?: number;
	replayKey?: string;
	/** The logged-in account (TCP): another session of a present account joins the same member. */
	account?: string;
	/** A server admin: may do everything, enters banned and invite-only rooms. */
	admin?: boolean;
	/** The account's read marker in this room, for the welcome. */
	read?: number;
}

export interface RoomStats {
	/** Members (accounts), not sessions. */
	members: number;
	sessions: number;
	messages: number;
	rateLimited: number;
	rejected: number;
	resent: number;
	/** Resend requests left unanswered because the member was over its resend budget. */
	resendsRefused: number;
	/** Rejoin replays skipped because their key had used up its replay budget. */
	replaysThrottled: number;
	/** Live events not held for a joiner whose hold buffer was full (its client repairs the gap). */
	heldDropped: number;
}

const REF_MEMORY = 128;
/** Live events held for one joiner at most while its history is read. */
const MAX_HELD = 512;
/** Search answers hold at most this many messages. */
const MAX_FOUND = 50;
const NO_MODERATION = 'UDP rooms have no accounts, so no moderation';
type Sequenced = RoomEventMessage & {seq: number};
type Presence = Omit<Extract<RoomEventMessage, {t: 'presence'}>, 'seq'>;
type ModerationRequest = Extract<
	ClientMessage,
	{t: 'topic' | 'mode' | 'role' | 'kick' | 'ban' | 'unban' | 'bans' | 'mute' | 'unmute' | 'invite'}
>;
const MODERATION = new Set<ClientMessage['t']>([
	'topic',
	'mode',
	'role',
	'kick',
	'ban',
	'unban',
	'bans',
	'mute',
	'unmute',
	'invite',
]);

export class Room<Link> {
	readonly name: string;
	readonly limits: ServerLimits;
	readonly epoch: string;
	readonly moderation: boolean;
	private readonly output: RoomOutput<Link>;
	/** Nick key → the member's sessions, oldest first (one, in rooms without accounts). */
	private readonly byKey = new Map<string, Member<Link>[]>();
	/** Account key → nick key, for the accounts present. */
	private readonly byAccount = new Map<string, string>();
	/** Every session, in the order they joined: who broadcasts go to. */
	private readonly sessions = new Set<Member<Link>>();
	/** Sessions holding live events behind their join history. */
	private holding = 0;
	private readonly ring: HistoryRing<Sequenced>;
	private readonly maxMembers: number;
	private readonly directHistorySize: number;
	private readonly maxResend: number;
	private readonly resendRate: number;
	private readonly resendBurst: number;
	private readonly readsPerSecond: number;
	private readonly readBurst: number;
	private readonly floodStrikes: number;
	private readonly replayPerMinute: number;
	private readonly replayBuckets = new Map<string, TokenBucket>();
	private readonly historyPageBytes: number;
	private readonly journal: RoomJournal | undefined;
	private readonly peers: RoomPeers | undefined;
	/** The journal delivers through attach (cluster): appends delivered by it, not by the publish chain. */
	private readonly ordered: boolean;
	/** Events this server appended that the ordered journal has delivered (a duplicate send never is). */
	private readonly sunk = new WeakSet<UnsequencedRoomEvent>();
	private readonly capabilities: string[];
	private readonly maxAwayLength: number;
	private readonly roomSettings: RoomSettings;
	private readonly onSettingsChange: ((settings: RoomSettings) => void) | undefined;
	private readonly onInvite: ((account: string, by: string) => void) | undefined;
	private readonly onRead: ((account: string, seq: number) => void) | undefined;
	private readonly onPart: ((account: string) => void) | undefined;
	private readonly onEvent: ((event: RoomEventMessage) => void) | undefined;
	/** Account key → its read marker here, as far as this room knows (only ever moves forward). */
	private readonly readMarks = new Map<string, number>();
	private readonly now: () => number;
	private readonly log: Log;
	private seq: number;
	private nextMemberId = 1;
	/** Journal appends are chained so sequence numbers are broadcast in order. Reads are not. */
	private publishing: Promise<void> = Promise.resolve();
	readonly stats: RoomStats = {
		members: 0,
		sessions: 0,
		messages: 0,
		rateLimited: 0,
		rejected: 0,
		resent: 0,
		resendsRefused: 0,
		replaysThrottled: 0,
		heldDropped: 0,
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
		this.readsPerSecond = options.readsPerSecond ?? 4;
		this.readBurst = Math.max(1, options.readBurst ?? 8);
		this.floodStrikes = options.floodStrikes ?? 20;
		this.replayPerMinute = options.replayPerMinute ?? 2 * this.maxResend;
		this.historyPageBytes = options.historyPageBytes ?? 32 * 1024;
		this.journal = options.journal;
		this.capabilities = [...(options.capabilities ?? [])];
		this.maxAwayLength = options.maxAwayLength ?? 200;
		this.moderation = options.moderation === true;
		this.roomSettings = options.settings ?? emptyRoomSettings();
		this.onSettingsChange = options.onSettingsChange;
		this.onInvite = options.onInvite;
		this.onRead = options.onRead;
		this.onPart = options.onPart;
		this.now = options.now ?? Date.now;
		this.onEvent = options.onEvent;
		// Every line names the room: one server log may carry several rooms.
		const log = options.log ?? (() => {});
		this.log = (line, fields) =>
			log(`room ${JSON.stringify(this.name)}: ${line}`, {...fields, room: this.name});
		this.seq = this.journal?.latestSeq() ?? 0;
		this.peers = options.peers;
		this.ordered = this.journal?.attach !== undefined;
		this.journal?.attach?.((event, appended) => this.acceptSequenced(event, appended));
	}

	/**
	 * A sequenced event in order (the ordered journal's sink): another server's,
	 * or one of ours now committed. Older than what the room has is dropped.
	 */
	acceptSequenced(event: RoomEventMessage & {seq: number}, appended?: UnsequencedRoomEvent): void {
		if (event.seq <= this.seq) return;
		if (appended) this.sunk.add(appended);
		this.seq = event.seq;
		this.ring.add(event);
		// Kicked or banned on another server: its sessions here go too.
		if (!appended && event.t === 'presence' && (event.kind === 'kick' || event.kind === 'ban')) {
			const why = `${event.kind === 'kick' ? 'kicked' : 'banned'} by ${event.by ?? 'an op'}${event.reason ? `: ${event.reason}` : ''}`;
			this.evict(identityKey(event.nick), why);
		}
		// Parted for good from a session on another server (which forgot the membership): so do its sessions here.
		if (!appended && event.t === 'presence' && event.kind === 'part')
			this.evict(identityKey(event.nick), 'left the room from another session');
		this.deliver(event, this.sessions);
	}

	/** A direct message from another server: to the local sessions of its recipient, and the sender's own as an echo. */
	acceptDirect({from, to, text, ts}: ForwardedDirect): void {
		const recipients = new Set([
			...(this.byKey.get(identityKey(to)) ?? []),
			...(this.byKey.get(identityKey(from)) ?? []),
		]);
		for (const recipient of recipients) {
			const message: DirectMessage = {t: 'dm', dseq: ++recipient.dseq, ts, from, to, text};
			recipient.direct ??= new HistoryRing(this.directHistorySize);
			recipient.direct.add({seq: message.dseq, message});
			this.output.send(recipient, message);
		}
	}

	/** A member on another server went away or came back: told to the sessions that know `away`. */
	remoteAway(nick: string, away: string | undefined): void {
		if (this.byKey.has(identityKey(nick))) return; // a session here tells it itself
		const aware = [...this.sessions].filter((other) => other.awayAware === true);
		this.deliver(
			{t: 'presence', ts: this.now(), kind: 'away', nick, ...(away === undefined ? {} : {reason: away})},
			aware,
		);
	}

	/**
	 * A member of a server that died leaves (sequenced, written by one server
	 * only), unless it is here or elsewhere again by now.
	 */
	announceRemoteLeave(nick: string, reason: string): void {
		const key = identityKey(nick);
		if (this.byKey.has(key)) return;
		if (this.peers?.remoteMembers().some((other) => identityKey(other.nick) === key)) return;
		this.log(`leave ${nick}: ${reason}`);
		this.publish({t: 'presence', ts: this.now(), kind: 'leave', nick, reason});
	}

	/** Another server changed the room's settings (topic, modes, roles, bans…): this copy follows. */
	adoptSettings(settings: RoomSettings): void {
		const mine = this.roomSettings as unknown as Record<string, unknown>;
		for (const key of Object.keys(mine)) delete mine[key];
		Object.assign(this.roomSettings, emptyRoomSettings(), structuredClone(settings));
	}

	/** This server's members (one per account), for the other servers. */
	localMembers(): RemoteMember[] {
		return [...this.byKey.values()].map(([first]) => ({
			nick: first!.nick,
			...(first!.account === undefined ? {} : {account: first!.account}),
			...(first!.away === undefined ? {} : {away: first!.away}),
		}));
	}

	get latestSeq(): number {
		return this.seq;
	}

	/** Members: accounts (however many sessions each has) or, without accounts, links. */
	get size(): number {
		return this.byKey.size;
	}

	/** The room's settings as they are now (read-only: changes go through requests). */
	get settings(): Readonly<RoomSettings> {
		return this.roomSettings;
	}

	get topic(): string | undefined {
		return this.roomSettings.topic;
	}

	/** "i", "m", "im" or ''. */
	get modes(): string {
		return modesOf(this.roomSettings);
	}

	/** Every session (several per account in rooms with accounts). */
	members(): IterableIterator<Member<Link>> {
		return this.sessions.values();
	}

	/** One entry per member (not per session), with its role, sorted by nick. */
	memberList(): MemberInfo[] {
		const list = [...this.byKey.values()].map(([first]) => this.memberInfo(first!));
		for (const remote of this.remoteOnly()) {
			const role = remote.account === undefined ? undefined : this.roomSettings.roles[remote.account];
			list.push({
				nick: remote.nick,
				...(role === undefined ? {} : {role}),
				...(remote.away === undefined ? {} : {away: remote.away}),
			});
		}
		return list.sort((a, b) => a.nick.localeCompare(b.nick));
	}

	/** Members on other servers that are not here too (one per nick). */
	private remoteOnly(): RemoteMember[] {
		if (!this.peers) return [];
		const seen = new Set(this.byKey.keys());
		const found: RemoteMember[] = [];
		for (const remote of this.peers.remoteMembers()) {
			const key = identityKey(remote.nick);
			if (seen.has(key)) continue;
			seen.add(key);
			found.push(remote);
		}
		return found;
	}

	/** The remote member called nick, when no local one is. */
	private remoteNamed(nick: string): RemoteMember | undefined {
		const key = identityKey(nick);
		return this.remoteOnly().find((remote) => identityKey(remote.nick) === key);
	}

	/** The member's first session. */
	findMember(nick: string): Member<Link> | undefined {
		return this.byKey.get(identityKey(nick))?.[0];
	}

	/** Every session of the member called nick, oldest first (none when absent). */
	sessionsOf(nick: string): readonly Member<Link>[] {
		return [...(this.byKey.get(identityKey(nick)) ?? [])];
	}

	/** Every session of an account (by account name or key) here. */
	sessionsOfAccount(account: string): readonly Member<Link>[] {
		const nickKey = this.byAccount.get(identityKey(account));
		return nickKey === undefined ? [] : this.sessionsOf(nickKey);
	}

	/** The account's role here (undefined: an ordinary member, or no such account). */
	roleOf(account: string): RoomRole | undefined {
		return this.roomSettings.roles[identityKey(account)];
	}

	/**
	 * Whether the account may join now (not banned; invited, given a role or an
	 * admin when the room is invite-only): `list` shows private rooms to these.
	 */
	admits(account: string, admin = false): boolean {
		if (!this.moderation || admin) return true;
		const key = identityKey(account);
		const {ban, lifted} = banOf(this.roomSettings, key, this.now());
		if (lifted) this.settingsChanged();
		return ban === undefined && mayEnter(this.roomSettings, key, admin);
	}

	/** Whether the session is in the room. */
	isMember(member: Member<Link>): boolean {
		return this.sessions.has(member);
	}

	/**
	 * Admits a session. Throws ProtocolError (nick-invalid, nick-taken,
	 * room-full, banned, invite-only) for the adapter to report; on success
	 * sends the welcome and, when a member arrived (not another session of one
	 * already here), tells everyone.
	 */
	join(link: Link, nick: string, options: JoinOptions = {}): Member<Link> {
		const now = this.now();
		const account = options.account === undefined ? undefined : identityKey(options.account);
		const admin = options.admin === true;
		const presentKey = account === undefined ? undefined : this.byAccount.get(account);
		const siblings = presentKey === undefined ? undefined : this.byKey.get(presentKey);
		if (account !== undefined) this.refuseBarred(account, admin, now);
		// The account's member on another server (cluster): this session is one more of it.
		const elsewhere =
			siblings || account === undefined
				? undefined
				: this.remoteOnly().find((remote) => remote.account === account);
		if (siblings) {
			nick = siblings[0]!.nick; // another session of a member here: its nick
		} else if (elsewhere) {
			nick = elsewhere.nick;
		} else {
			const problem = nickProblem(nick);
			if (problem) throw new ProtocolError('nick-invalid', problem);
			if (this.byKey.has(identityKey(nick)) || this.remoteNamed(nick))
				throw new ProtocolError('nick-taken', `the nick ${nick} is taken`);
			this.refuseLookalike(nick);
			if (this.byKey.size >= this.maxMembers)
				throw new ProtocolError('room-full', `the room is full (${this.maxMembers} members)`);
		}
		const sibling = siblings?.[0];
		const member: Member<Link> = {
			id: this.nextMemberId++,
			nick,
			link,
			account,
			admin,
			lastSeen: now,
			dseq: 0,
			direct: undefined,
			bucket: sibling?.bucket ?? new TokenBucket(this.limits.ratePerSecond, this.limits.burst, now),
			resendBucket: undefined,
			readBucket: undefined,
			refs: undefined,
			strikes: 0,
			...(sibling?.away === undefined ? {} : {away: sibling.away}),
		};
		this.add(member);
		if (account !== undefined && options.read !== undefined)
			this.readMarks.set(account, Math.max(this.readMarks.get(account) ?? 0, options.read));
		try {
			this.output.send(member, this.welcome(member, options));
		} catch (error) {
			// The welcome does not fit the transport (a long member list): the join
			// never happened, so no ghost keeps the nick or a member slot.
			this.remove(member);
			if (error instanceof ProtocolError && error.code !== 'too-long') throw error;
			throw new ProtocolError('room-full', 'the room is full (its member list no longer fits a welcome)');
		}
		const joinSeq = this.seq;
		if (options.since !== undefined && options.since < joinSeq) {
			if (this.takeReplay(options.replayKey ?? account ?? identityKey(nick), options.since, now))
				this.holdUntil(member, this.resend(member, 'room', options.since + 1, joinSeq, true));
		} else if (options.history) {
			this.holdUntil(member, this.sendHistory(member, options.history, joinSeq));
		}
		if (siblings) {
			this.log(`join ${nick} (session ${siblings.length})`);
			return member;
		}
		if (elsewhere) {
			this.log(`join ${nick} (a session of a member on another server)`);
			return member;
		}
		this.log(`join ${nick} (${this.byKey.size} ${this.byKey.size === 1 ? 'member' : 'members'})`);
		this.publish({t: 'presence', ts: now, kind: 'join', nick});
		return member;
	}

	/**
	 * Removes a session. When it was its member's last (or with `part`, which
	 * takes every session of the account), tells the others. Idempotent.
	 */
	leave(member: Member<Link>, kind: 'leave' | 'expire' | 'kick' | 'part' = 'leave', reason?: string): void {
		if (!this.isMember(member)) return;
		if (kind === 'part' && member.account !== undefined) return this.part(member, reason);
		this.remove(member);
		this.log(`${kind} ${member.nick}${reason ? `: ${reason}` : ''}`);
		// A kicked client may come back after its reconnect backoff: a flood is over once it stops.
		if (kind === 'kick') this.output.disconnect(member, reason ?? 'kicked', true);
		if (this.byKey.has(identityKey(member.nick))) return; // its other sessions are still here
		// Its sessions on other servers keep the member in the room (cluster).
		if (
			kind !== 'kick' &&
			this.remoteNamed(member.nick)?.account === member.account &&
			member.account !== undefined
		)
			return;
		this.publish({t: 'presence', ts: this.now(), kind, nick: member.nick, ...(reason ? {reason} : {})});
	}

	/** Handles one message from a joined session. Never throws: problems go back as errors. */
	handle(member: Member<Link>, message: ClientMessage): void {
		if (!this.isMember(member)) return;
		member.lastSeen = this.now();
		try {
			if (MODERATION.has(message.t)) return this.moderate(member, message as ModerationRequest);
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
					this.resend(member, message.s, message.from, message.to, false);
					return;
				case 'ping':
					return this.output.send(member, {t: 'pong', ts: message.ts, seq: this.seq, dseq: member.dseq});
				case 'leave':
					return this.leave(member, message.part === true ? 'part' : 'leave');
				case 'away':
					return this.setAway(member, message.text);
				case 'read':
					return this.markRead(member, message.seq);
				case 'history':
					return this.page(member, message.before, message.limit);
				case 'search':
					return this.search(member, message.text, message.before);
				case 'list':
					throw new ProtocolError('bad-request', 'the server answers list, not a room');
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

	/**
	 * Sends `bye` to everyone and forgets them: a server shutdown (retry, the
	 * default) or the room being removed (retry false).
	 */
	closeAll(reason: string, retry = true): void {
		for (const member of [...this.sessions]) {
			this.remove(member);
			this.output.disconnect(member, reason, retry);
		}
	}

	/**
	 * An event from another node of this room (a relay): numbered here, in this
	 * room's own sequence, and delivered to the members here; `away` goes,
	 * unsequenced, to those who know it. Not told to onEvent (it came from there).
	 */
	relayed(event: UnsequencedRoomEvent): void {
		if (event.t === 'presence' && event.kind === 'away')
			this.deliver(
				event as ServerMessage,
				[...this.sessions].filter((member) => member.awayAware === true),
			);
		else this.publish(event, undefined, undefined, false);
	}

	/** Tells every member here something about the room itself (e.g. its link to other nodes). */
	notify(text: string): void {
		this.output.broadcast({t: 'notice', text}, this.sessions);
	}

	// ---- members and sessions -------------------------------------------------

	private add(member: Member<Link>): void {
		const key = identityKey(member.nick);
		const sessions = this.byKey.get(key);
		if (sessions) sessions.push(member);
		else this.byKey.set(key, [member]);
		if (member.account !== undefined) this.byAccount.set(member.account, key);
		this.sessions.add(member);
		this.counted();
	}

	private remove(member: Member<Link>): void {
		if (!this.sessions.delete(member)) return;
		if (member.held) {
			member.held = undefined;
			this.holding--;
		}
		const key = identityKey(member.nick);
		const rest = (this.byKey.get(key) ?? []).filter((other) => other !== member);
		if (rest.length > 0) this.byKey.set(key, rest);
		else {
			this.byKey.delete(key);
			if (member.account !== undefined) this.byAccount.delete(member.account);
		}
		this.counted();
	}

	private counted(): void {
		this.stats.members = this.byKey.size;
		this.stats.sessions = this.sessions.size;
		this.peers?.localMembersChanged();
	}

	private memberInfo(member: Member<Link>): MemberInfo {
		const role = member.account === undefined ? undefined : this.roomSettings.roles[member.account];
		return {
			nick: member.nick,
			...(role === undefined ? {} : {role}),
			...(member.away === undefined ? {} : {away: member.away}),
		};
	}

	private welcome(member: Member<Link>, options: JoinOptions): ServerMessage {
		const version = options.version ?? 1;
		const extra: Record<string, unknown> = {};
		if (version >= MULTI_ROOM_VERSION) {
			const {topic} = this.roomSettings;
			const modes = this.modes;
			const role = member.account === undefined ? undefined : this.roomSettings.roles[member.account];
			const read = member.account === undefined ? undefined : this.readMarks.get(member.account);
			if (topic) extra.topic = topic;
			if (modes) extra.modes = modes;
			if (role) extra.role = role;
			if (read !== undefined) extra.read = Math.min(read, this.seq);
		}
		return {
			t: 'welcome',
			nick: member.nick,
			room: this.name,
			seq: this.seq,
			dseq: 0,
			members: this.memberList(),
			...(options.sid ? {sid: options.sid} : {}),
			epoch: this.epoch,
			limits: this.limits,
			v: version,
			caps: this.capabilities,
			...extra,
		};
	}

	/** Banned accounts stay out; so do the uninvited from invite-only rooms. Admins pass. */
	private refuseBarred(account: string, admin: boolean, now: number): void {
		if (!this.moderation || admin) return;
		const {ban, lifted} = banOf(this.roomSettings, account, now);
		if (lifted) this.settingsChanged();
		if (ban) {
			const until =
				ban.until === undefined
					? ''
					: ` until ${new Date(ban.until).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
			throw new ProtocolError(
				'banned',
				`you are banned from ${roomLabel(this.name)}${until}${ban.reason ? `: ${ban.reason}` : ''}`,
			);
		}
		if (!mayEnter(this.roomSettings, account, admin))
			throw new ProtocolError(
				'invite-only',
				`${roomLabel(this.name)} is invite-only: ask an op for an invite`,
			);
	}

	/** Takes every session of the account out of the room and tells it why (kick, ban, part). */
	private evict(nickKey: string, reason: string, except?: Member<Link>): void {
		for (const session of this.byKey.get(nickKey) ?? []) {
			this.remove(session);
			if (session !== except) this.output.disconnect(session, reason, false);
		}
	}

	/** Leaves for good: every session of the account goes, the hub forgets the membership. */
	private part(member: Member<Link>, reason?: string): void {
		this.evict(identityKey(member.nick), 'left the room from another session', member);
		this.log(`part ${member.nick}${reason ? `: ${reason}` : ''}`);
		if (member.account !== undefined) this.onPart?.(member.account);
		this.publish({
			t: 'presence',
			ts: this.now(),
			kind: 'part',
			nick: member.nick,
			...(reason ? {reason} : {}),
		});
	}

	// ---- chat ----------------------------------------------------------------

	private say(member: Member<Link>, ref: string, text: string, action: boolean): void {
		if (this.replayDuplicate(member, ref)) return;
		this.refuseMuted(member);
		this.admit(member, text);
		this.stats.messages++;
		this.publish(
			{t: 'msg', ts: this.now(), from: member.nick, text, ...(action ? {action} : {}), ref},
			member,
			ref,
		);
	}

	/**
	 * To every session of the recipient; the sending session gets its copy with
	 * the ref (its acknowledgement), the sender's other sessions an echo without.
	 */
	private direct(member: Member<Link>, ref: string, to: string, text: string): void {
		if (this.replayDuplicate(member, ref)) return;
		const targets = this.byKey.get(identityKey(to)) ?? [];
		const remote = this.peers?.remoteMembers().find((other) => identityKey(other.nick) === identityKey(to));
		if (targets.length === 0 && !remote)
			throw new ProtocolError('no-such-nick', `no one called ${to} is here`);
		this.refuseMuted(member);
		this.admit(member, text);
		this.stats.messages++;
		const ts = this.now();
		const targetNick = targets[0]?.nick ?? remote!.nick;
		// Its sessions (and the sender's) on other servers get it from there.
		this.peers?.forwardDirect({from: member.nick, to: targetNick, text, ts});
		const deliver = (recipient: Member<Link>, withRef: boolean): number => {
			const message: DirectMessage = {
				t: 'dm',
				dseq: ++recipient.dseq,
				ts,
				from: member.nick,
				to: targetNick,
				text,
				...(withRef ? {ref} : {}),
			};
			recipient.direct ??= new HistoryRing(this.directHistorySize);
			recipient.direct.add({seq: message.dseq, message});
			this.output.send(recipient, message);
			return message.dseq;
		};
		const recipients = new Set([...targets, ...(this.byKey.get(identityKey(member.nick)) ?? [])]);
		recipients.delete(member);
		for (const recipient of recipients) deliver(recipient, false);
		this.remember(member, ref, 'direct', deliver(member, true));
	}

	/** Muted accounts, and in +m rooms members without voice, may not speak. */
	private refuseMuted(member: Member<Link>): void {
		if (!this.moderation || member.account === undefined || member.admin) return;
		const {muted, lifted} = muteOf(this.roomSettings, member.account, this.now());
		if (lifted) this.settingsChanged();
		if (muted) throw new ProtocolError('muted', `you are muted in ${this.name}`);
		if (this.roomSettings.moderated && this.rank(member) < RANK.voice)
			throw new ProtocolError('muted', `${this.name} is moderated: only voiced members and ops speak`);
	}

	/** `bоb` (Cyrillic о) or `b0b` next to `bob` would pass for bob: refused like a taken nick (UTS #39). */
	private refuseLookalike(nick: string, except?: Member<Link>): void {
		const key = confusableKey(nick);
		for (const [other] of this.byKey.values())
			if (other !== except && other && confusableKey(other.nick) === key)
				throw new ProtocolError('nick-taken', `the nick ${nick} looks too much like ${other.nick}`);
		const own = except?.account; // the member's own sessions elsewhere (accounts only)
		for (const remote of this.remoteOnly())
			if ((own === undefined || remote.account !== own) && confusableKey(remote.nick) === key)
				throw new ProtocolError('nick-taken', `the nick ${nick} looks too much like ${remote.nick}`);
	}

	/** Renames the member: every session of it. */
	private rename(member: Member<Link>, nick: string): void {
		if (!member.bucket.take(this.now())) throw this.rateLimited(member, member.bucket);
		const problem = nickProblem(nick);
		if (problem) throw new ProtocolError('nick-invalid', problem);
		const key = identityKey(nick);
		const oldKey = identityKey(member.nick);
		const holder = this.byKey.get(key) ?? this.remoteNamed(nick);
		if (holder && key !== oldKey) throw new ProtocolError('nick-taken', `the nick ${nick} is taken`);
		if (member.nick === nick) return;
		const sessions = this.byKey.get(oldKey) ?? [member];
		this.refuseLookalike(nick, sessions[0]);
		const old = member.nick;
		this.byKey.delete(oldKey);
		for (const session of sessions) session.nick = nick;
		this.byKey.set(key, sessions);
		if (member.account !== undefined) this.byAccount.set(member.account, key);
		this.peers?.localMembersChanged();
		this.log(`nick ${old} → ${nick}`);
		this.publish({t: 'presence', ts: this.now(), kind: 'nick', nick, old});
	}

	// ---- moderation ------------------------------------------------------------

	private rank(member: Member<Link>): number {
		return rankOf(this.roomSettings, member.account, member.admin);
	}

	/** The account a request names, by a present member's nick or else as an account name. */
	private target(nick: string): {account: string; nick: string; present: Member<Link>[] | undefined} {
		const present = this.byKey.get(identityKey(nick));
		const first = present?.[0];
		if (first?.account !== undefined) return {account: first.account, nick: first.nick, present};
		// A member on another server (cluster): its account, as that server told.
		const remote = this.remoteNamed(nick);
		if (remote?.account !== undefined)
			return {account: remote.account, nick: remote.nick, present: undefined};
		return {account: identityKey(nick), nick, present: undefined};
	}

	/** Rank of the account named, admins included when present. */
	private targetRank(target: {account: string; present: Member<Link>[] | undefined}): number {
		const first = target.present?.[0];
		return first ? this.rank(first) : rankOf(this.roomSettings, target.account, false);
	}

	private require(member: Member<Link>, rank: number, what: string): void {
		if (this.rank(member) < rank)
			throw new ProtocolError('not-allowed', `only ${rank >= RANK.owner ? 'the owner' : 'ops'} can ${what}`);
	}

	/** Acting on someone takes outranking them (an op cannot kick an op; the owner can). */
	private requireAbove(member: Member<Link>, rank: number, what: string): void {
		if (this.rank(member) <= rank) throw new ProtocolError('not-allowed', `you cannot ${what}`);
	}

	private moderate(member: Member<Link>, request: ModerationRequest): void {
		if (!this.moderation) throw new ProtocolError('not-allowed', NO_MODERATION);
		if (member.account === undefined) throw new ProtocolError('not-allowed', 'log in to moderate');
		if (!member.bucket.take(this.now())) throw this.rateLimited(member, member.bucket);
		const settings = this.roomSettings;
		const by = member.nick;
		const now = this.now();
		switch (request.t) {
			case 'topic': {
				this.require(member, RANK.op, 'set the topic');
				const text = awayText(request.text, 512) ?? '';
				if (text === '') delete settings.topic;
				else settings.topic = text;
				return this.announce({kind: 'topic', nick: by, text}, `topic: ${text}`);
			}
			case 'mode': {
				this.require(member, RANK.op, 'change modes');
				const on = request.mode.startsWith('+');
				const field = request.mode.endsWith('i') ? 'inviteOnly' : 'moderated';
				if ((settings[field] === true) === on) return; // already so
				if (on) settings[field] = true;
				else delete settings[field];
				return this.announce({kind: 'mode', nick: by, mode: request.mode}, `mode ${request.mode} by ${by}`);
			}
			case 'role': {
				this.require(member, request.role === 'op' ? RANK.owner : RANK.op, `make someone ${request.role}`);
				const target = this.target(request.nick);
				if (settings.roles[target.account] === 'op') this.require(member, RANK.owner, 'take op away');
				this.requireAbove(member, this.targetRank(target), `change the role of ${target.nick}`);
				if (request.role === 'member') delete settings.roles[target.account];
				else settings.roles[target.account] = request.role;
				return this.announce(
					{kind: 'role', nick: target.nick, by, ...(request.role === 'member' ? {} : {role: request.role})},
					`role ${target.nick} ${request.role} by ${by}`,
				);
			}
			case 'kick': {
				this.require(member, RANK.op, 'kick');
				const target = this.target(request.nick);
				const present = this.byKey.get(identityKey(request.nick));
				// A member on another server is kicked there when the kick arrives (acceptSequenced).
				if (!present && !this.remoteNamed(request.nick))
					throw new ProtocolError('no-such-nick', `no one called ${request.nick} is here`);
				this.requireAbove(
					member,
					present ? this.rank(present[0]!) : this.targetRank(target),
					`kick ${target.nick}`,
				);
				const reason = awayText(request.reason, 512);
				this.evict(identityKey(target.nick), `kicked by ${by}${reason ? `: ${reason}` : ''}`);
				this.log(`kick ${target.nick} by ${by}${reason ? `: ${reason}` : ''}`);
				this.publish({
					t: 'presence',
					ts: now,
					kind: 'kick',
					nick: target.nick,
					by,
					...(reason ? {reason} : {}),
				});
				return;
			}
			case 'ban': {
				this.require(member, RANK.op, 'ban');
				const target = this.target(request.account);
				this.requireAbove(member, this.targetRank(target), `ban ${target.nick}`);
				const reason = awayText(request.reason, 512);
				const until = request.duration_ms === undefined ? undefined : now + request.duration_ms;
				settings.bans[target.account] = {
					account: target.nick,
					by,
					...(reason ? {reason} : {}),
					...(until === undefined ? {} : {until}),
				};
				if (target.present)
					this.evict(identityKey(target.nick), `banned by ${by}${reason ? `: ${reason}` : ''}`);
				// Out for good: the account's next sessions are not sent back to a room that refuses them.
				this.onPart?.(target.account);
				return this.announce(
					{
						kind: 'ban',
						nick: target.nick,
						by,
						...(reason ? {reason} : {}),
						...(until === undefined ? {} : {until}),
					},
					`ban ${target.nick} by ${by}`,
				);
			}
			case 'unban': {
				this.require(member, RANK.op, 'unban');
				const account = identityKey(request.account);
				const ban = settings.bans[account];
				if (!ban) throw new ProtocolError('no-such-nick', `${request.account} is not banned here`);
				delete settings.bans[account];
				return this.announce({kind: 'unban', nick: ban.account, by}, `unban ${ban.account} by ${by}`);
			}
			case 'bans': {
				this.require(member, RANK.op, 'see the bans');
				let lifted = false;
				for (const account of Object.keys(settings.bans))
					lifted = banOf(settings, account, now).lifted || lifted;
				if (lifted) this.settingsChanged();
				this.output.send(member, {t: 'bans', bans: Object.values(settings.bans).map((ban) => ({...ban}))});
				return;
			}
			case 'mute': {
				this.require(member, RANK.op, 'mute');
				const target = this.target(request.nick);
				this.requireAbove(member, this.targetRank(target), `mute ${target.nick}`);
				const until = request.duration_ms === undefined ? undefined : now + request.duration_ms;
				settings.mutes[target.account] = {by, ...(until === undefined ? {} : {until})};
				return this.announce(
					{kind: 'mute', nick: target.nick, by, ...(until === undefined ? {} : {until})},
					`mute ${target.nick} by ${by}`,
				);
			}
			case 'unmute': {
				this.require(member, RANK.op, 'unmute');
				const target = this.target(request.nick);
				if (!muteOf(settings, target.account, now).muted)
					throw new ProtocolError('no-such-nick', `${target.nick} is not muted here`);
				delete settings.mutes[target.account];
				return this.announce({kind: 'unmute', nick: target.nick, by}, `unmute ${target.nick} by ${by}`);
			}
			case 'invite': {
				this.require(member, RANK.op, 'invite');
				const target = this.target(request.nick);
				if (!settings.invites.includes(target.account)) settings.invites.push(target.account);
				this.announce({kind: 'invite', nick: target.nick, by}, `invite ${target.nick} by ${by}`);
				this.onInvite?.(target.account, by);
				return;
			}
		}
	}

	/** A settings change: persisted, logged and told to the room as presence. */
	private announce(presence: Omit<Presence, 't' | 'ts'>, line: string): void {
		this.settingsChanged();
		this.log(line);
		this.publish({t: 'presence', ts: this.now(), ...presence});
	}

	private settingsChanged(): void {
		this.onSettingsChange?.(structuredClone(this.roomSettings));
	}

	/** Moves the account's read marker forward; its other sessions here are told. */
	private markRead(member: Member<Link>, seq: number): void {
		if (member.account === undefined) return; // nowhere to keep it without an account
		const account = member.account;
		const marked = Math.min(seq, this.seq);
		if (marked <= (this.readMarks.get(account) ?? 0)) return;
		this.readMarks.set(account, marked);
		this.onRead?.(account, marked);
		for (const session of this.byKey.get(identityKey(member.nick)) ?? [])
			if (session !== member) this.output.send(session, {t: 'read', seq: marked});
	}

	// ---- history: resends, join history, pages, search ---------------------------

	/** Answers a resend; a promise when the journal is read (beside appends, never behind them). */
	private resend(
		member: Member<Link>,
		stream: 'room' | 'direct',
		from: number,
		to: number,
		free: boolean,
	): Promise<void> | undefined {
		const latest = stream === 'room' ? this.seq : member.dseq;
		to = Math.min(to, latest);
		if (from > to) return undefined;
		// Only the newest maxResend are worth resending; older ones are reported lost.
		const first = Math.max(from, to - this.maxResend + 1);
		const cost = Math.min(to - first + 1, this.resendBurst);
		member.resendBucket ??= new TokenBucket(this.resendRate, this.resendBurst, this.now());
		if (!free && !member.resendBucket.take(this.now(), cost)) {
			// No error and no strike: a reader repairing a lossy link is not flooding.
			this.stats.resendsRefused++;
			return undefined;
		}
		if (first > from) this.output.send(member, {t: 'lost', s: stream, from, to: first - 1});
		if (stream === 'direct') {
			this.sendFound(
				member,
				stream,
				first,
				to,
				(member.direct?.range(first, to) ?? []).map((d) => d.message),
				(d) => d.dseq,
			);
			return undefined;
		}
		const held = this.ring.range(first, to);
		const oldestHeld = held[0]?.seq ?? to + 1;
		if (this.journal && oldestHeld > first) {
			// Older than the memory ring: ask the journal.
			return this.journal
				.range(first, to)
				.then((events) => {
					if (this.isMember(member))
						this.sendFound(member, stream, first, to, events as Sequenced[], (e) => e.seq);
				})
				.catch(() => this.unavailable(member));
		}
		this.sendFound(member, stream, first, to, held, (e) => e.seq);
		return undefined;
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

	/** The newest `count` events up to `upTo` (the welcome's seq), in pages; a promise when the journal is read. */
	private sendHistory(member: Member<Link>, count: number, upTo: number): Promise<void> | undefined {
		if (upTo === 0) return undefined;
		if (this.journal) {
			return this.journal
				.before(upTo + 1, count)
				.then(({events}) => {
					if (this.isMember(member)) this.sendHistoryPages(member, events);
				})
				.catch(() => this.unavailable(member));
		}
		this.sendHistoryPages(member, this.ring.range(Math.max(1, upTo - count + 1), upTo));
		return undefined;
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

	/**
	 * Holds the session's live events until `reading` (its join history or
	 * catch-up) is sent, then sends them: history first, then live, in order.
	 */
	private holdUntil(member: Member<Link>, reading: Promise<void> | undefined): void {
		if (!reading) return;
		member.held = [];
		this.holding++;
		void reading.finally(() => {
			const held = member.held;
			if (!held) return; // it left meanwhile
			member.held = undefined;
			this.holding--;
			for (const message of held) this.output.send(member, message);
		});
	}

	/** `history {before, limit}`: one page, newest `limit` before `before`, within historyPageBytes. */
	private page(member: Member<Link>, before: number, limit: number): void {
		this.takeRead(member);
		const asked = before; // echoed: the client matches the answer to its request
		before = Math.min(before, this.seq + 1);
		const answer = (events: RoomEventMessage[], complete: boolean) => {
			const fitting = newestFitting(events, this.historyPageBytes);
			this.output.send(member, {
				t: 'history',
				messages: fitting,
				before: asked,
				complete: complete && fitting.length === events.length,
			});
		};
		if (this.journal) {
			this.journal
				.before(before, limit)
				.then(({events, complete}) => {
					if (this.isMember(member)) answer(events, complete);
				})
				.catch(() => this.unavailable(member));
			return;
		}
		const events = this.ring.range(Math.max(1, before - limit), before - 1);
		answer(events, this.ring.get((events[0]?.seq ?? before) - 1) === undefined);
	}

	/** `search {text, before}`: stored chat containing text, the newest MAX_FOUND, oldest first. */
	private search(member: Member<Link>, text: string, before: number | undefined): void {
		this.takeRead(member);
		const answer = (messages: ChatMessage[]) => {
			this.output.send(member, {t: 'found', text, messages: newestFitting(messages, this.historyPageBytes)});
		};
		if (this.journal) {
			this.journal
				.search(text, before, MAX_FOUND)
				.then((messages) => {
					if (this.isMember(member)) answer(messages);
				})
				.catch(() => this.unavailable(member));
			return;
		}
		const needle = text.toLowerCase();
		const upTo = Math.min(this.seq, (before ?? this.seq + 1) - 1);
		const matches = this.ring
			.range(1, upTo)
			.filter((e): e is Sequenced & ChatMessage => e.t === 'msg' && e.text.toLowerCase().includes(needle));
		answer(matches.slice(-MAX_FOUND));
	}

	/** Reads have their own budget; past it the asker is told when to ask again (no strike). */
	private takeRead(member: Member<Link>): void {
		const now = this.now();
		member.readBucket ??= new TokenBucket(this.readsPerSecond, this.readBurst, now);
		if (member.readBucket.take(now)) return;
		this.stats.rateLimited++;
		throw new ProtocolError(
			'rate-limited',
			`too many history and search requests; at most ${this.readsPerSecond} a second`,
			member.readBucket.waitMs(now),
		);
	}

	private unavailable(member: Member<Link>): void {
		if (this.isMember(member)) this.sendError(member, 'server-error', 'history is unavailable right now');
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

	// ---- away, limits, delivery ----------------------------------------------------

	/**
	 * Away with `text` (one line, control characters removed, at most
	 * maxAwayLength characters), or back, for every session of the member. A
	 * change is told, unsequenced, to the sessions whose clients know `away`
	 * (old clients would not understand it; they still see it in member
	 * lists). Costs a token like a message.
	 */
	private setAway(member: Member<Link>, text: string | undefined): void {
		const wasAware = member.awayAware === true;
		member.awayAware = true;
		const clean = awayText(text, this.maxAwayLength);
		if (clean === member.away) return;
		if (wasAware && !member.bucket.take(this.now())) throw this.rateLimited(member, member.bucket);
		for (const session of this.byKey.get(identityKey(member.nick)) ?? []) session.away = clean;
		this.peers?.localMembersChanged();
		this.log(`away ${member.nick}${clean === undefined ? ' (back)' : `: ${clean}`}`);
		const aware = [...this.sessions].filter((other) => other.awayAware === true);
		const presence = {
			t: 'presence',
			ts: this.now(),
			kind: 'away',
			nick: member.nick,
			...(clean === undefined ? {} : {reason: clean}),
		} as const;
		this.deliver(presence, aware);
		this.onEvent?.(presence);
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
		const previous = member.refs?.get(ref);
		if (!previous) return false;
		if (previous.s === 'direct') {
			const held = member.direct?.get(previous.seq);
			if (held) this.output.send(member, held.message);
		} else {
			const held = this.ring.get(previous.seq);
			if (held) this.output.send(member, held);
		}
		return true;
	}

	private remember(member: Member<Link>, ref: string, s: 'room' | 'direct', seq: number): void {
		member.refs ??= new Map();
		member.refs.set(ref, {s, seq});
		if (member.refs.size > REF_MEMORY) {
			const oldest = member.refs.keys().next();
			if (!oldest.done) member.refs.delete(oldest.value);
		}
	}

	/** A live room event to these sessions: at once, or after the join history of those holding. */
	private deliver(message: ServerMessage, recipients: Iterable<Member<Link>>): void {
		if (this.holding === 0) {
			this.output.broadcast(message, recipients);
			return;
		}
		const now: Member<Link>[] = [];
		for (const member of recipients) {
			if (!member.held) now.push(member);
			else if (member.held.length < MAX_HELD) member.held.push(message);
			else this.stats.heldDropped++; // its client sees the gap and asks for a resend
		}
		if (now.length > 0) this.output.broadcast(message, now);
	}

	/**
	 * Assigns the next sequence number and broadcasts. With a journal, messages
	 * and presence alike are appended through one chain, so numbers go out in
	 * order and "alice left" never overtakes alice's last message.
	 */
	private publish(event: UnsequencedRoomEvent, sender?: Member<Link>, ref?: string, here = true): void {
		const deliver = (seq: number) => {
			const message = {...event, seq} as Sequenced;
			this.ring.add(message);
			if (sender && ref) this.remember(sender, ref, 'room', seq);
			this.deliver(message, this.sessions);
			if (here) this.onEvent?.(message);
		};
		if (!this.journal) {
			deliver(++this.seq);
			return;
		}
		// Appended now, so numbers are taken in call order and a journal may write
		// a whole turn's events in one commit; delivered in that order through the chain.
		const appended = this.journal.append(event);
		if (this.ordered) {
			this.publishOrdered(event, appended, sender, ref);
			return;
		}
		appended.catch(() => {}); // handled in the chain
		this.publishing = this.publishing.then(async () => {
			try {
				const seq = await appended;
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
				this.log(`journal append failed: ${(error as Error).message}`, {level: 'error'});
				// Presence still tells who is here, unsequenced (as version 1 did); a message is the sender's to resend.
				if (event.t === 'presence') this.deliver(event as ServerMessage, this.sessions);
				else if (sender && this.isMember(sender))
					this.sendError(sender, 'server-error', 'message not stored; please resend', ref);
			}
		});
	}

	/**
	 * With an ordered journal (cluster) the journal delivers the event through
	 * its sink once committed and in order; here only the sender's bookkeeping.
	 */
	private publishOrdered(
		event: UnsequencedRoomEvent,
		appended: Promise<number>,
		sender: Member<Link> | undefined,
		ref: string | undefined,
	): void {
		appended.then(
			(seq) => {
				if (!sender || !ref) return;
				this.remember(sender, ref, 'room', seq);
				// Not delivered: the journal had this send already (a retry); the sender alone hears it again.
				if (!this.sunk.has(event) && this.isMember(sender))
					this.output.send(sender, {...event, seq} as Sequenced);
			},
			(error: unknown) => {
				this.log(`journal append failed: ${(error as Error).message}`, {level: 'error'});
				if (event.t === 'presence') this.deliver(event as ServerMessage, this.sessions);
				else if (sender && this.isMember(sender))
					this.sendError(sender, 'server-error', 'message not stored; please resend', ref);
			},
		);
	}
}

/** The newest events that fit in `bytes` encoded (at least one), oldest first. */
function newestFitting<T>(events: T[], bytes: number): T[] {
	let total = 0;
	let first = events.length;
	while (first > 0) {
		const size = Buffer.byteLength(JSON.stringify(events[first - 1])) + 1;
		if (first < events.length && total + size > bytes) break;
		total += size;
		first--;
	}
	return events.slice(first);
}

/** An away text (or a topic, a reason) as the room keeps it: one line without control characters, bounded; blank is none. */
export function awayText(text: string | undefined, max: number): string | undefined {
	if (text === undefined) return undefined;
	const clean = sanitizeText(text)
		.replace(/[\uFFFD\s]+/gu, ' ')
		.trim();
	if (clean === '') return undefined;
	const chars = [...clean];
	return chars.length > max ? chars.slice(0, max).join('') : clean;
}
