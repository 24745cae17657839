// The client side of a room, for every transport: joining, in-order delivery
// with gap repair, acknowledged sends with retries, presence, keepalive and
// reconnecting with backoff. The UI and the scripts talk only to this.

import {randomBytes} from 'node:crypto';
import {
	DEFAULT_LIMITS,
	sanitizeText,
	type ErrorCode,
	type RoomEventMessage,
	type ServerLimits,
	type ServerMessage,
} from '../protocol/messages.js';
import {roomKey, roomLabel, roomNameProblem} from '../protocol/names.js';
import {CAPABILITY, MULTI_ROOM_VERSION, PROTOCOL_VERSIONS} from '../protocol/versions.js';
import {fileLinkOf} from './file-link.js';
import {RoomFiles, describeSharedFile} from './file-transfer.js';
import {SequenceTracker} from './sequence-tracker.js';
import type {Login, Transport} from './transport.js';
import {
	RoomError,
	type ConnectionState,
	type Role,
	type RoomClient,
	type RoomEvent,
	type RoomInfo,
	type RoomListener,
	type RoomRequest,
	type SayAck,
} from './types.js';

export interface RoomSessionOptions {
	now?: () => number;
	/** How long to wait for the server's acknowledgement before resending (unreliable transports). */
	ackTimeoutMs?: number;
	/** Sends tried this many times before they are reported failed. */
	maxSendTries?: number;
	/** Silence from the server this long means the connection is lost. */
	deadAfterMs?: number;
	/** Reconnect backoff bounds. */
	reconnectMinMs?: number;
	reconnectMaxMs?: number;
}

interface PendingSend {
	ref: string;
	message:
		| {t: 'say'; ref: string; text: string; action?: boolean}
		| {t: 'dm'; ref: string; to: string; text: string};
	sentAt: number;
	tries: number;
}

/** After a server restart, how many of the new server's messages before our rejoin are asked for. */
const RESTART_CATCH_UP = 100;
/** At most one read marker a second goes to the server (scrolling moves it many times a second). */
const READ_MARKER_INTERVAL_MS = 1000;
/** Told to reconnect elsewhere, a client goes within this spread (its server's members do not all come at once). */
const SOON_SPREAD_MS = 250;
/** Default and largest history page (the server takes 1 to 500). */
const PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 500;
/** Join refusals a reconnect cannot get past: the room stays closed with the reason. */
const FATAL_JOIN_CODES = new Set<string>([
	'auth-failed',
	'nick-invalid',
	'not-allowed',
	'host-changed',
	'host-rejected',
	'unsupported-version',
	'no-such-room',
	'banned',
	'invite-only',
	'too-many-rooms',
]);

type Waiter = {resolve: () => void; reject: (error: RoomError) => void};
type AckWaiter = {resolve: (ack: SayAck) => void; reject: (error: RoomError) => void};

export class RoomSession implements RoomClient {
	private currentState: ConnectionState = 'closed';
	private currentNick: string | undefined;
	private announcedRoom: string | undefined;
	private memberNicks: string[] = [];
	/** Who is away, with why (servers with the `away` capability). */
	private awayMembers = new Map<string, string>();
	/** Our own /away text, sent again after every welcome. */
	private awayText: string | undefined;
	private lag: number | undefined;
	/** Version 2: topic, modes and roles, from the welcome and presence since. */
	private roomInfo: RoomInfo | undefined;
	/** Our read marker as the server has it (welcome, other sessions) or as we last sent it. */
	private readMarker = 0;
	/** The newest seq markRead() was given that the server has not been told yet. */
	private readWanted = 0;
	private readSentAt = Number.NEGATIVE_INFINITY;
	/** For a sibling: what the client it came from knew of the server (a one-room server refuses other rooms). */
	private server: {caps: readonly string[]; room: string | undefined} | undefined;
	/** File transfer here, made on first use (or on joining a server that has it). */
	private fileRoom: RoomFiles | undefined;
	private serverLimits: ServerLimits = DEFAULT_LIMITS;
	private serverVersion: number | undefined;
	private serverCapabilities: readonly string[] = [];
	private readonly listeners = new Set<RoomListener>();
	private readonly pending = new Map<string, PendingSend>();
	/** say() promises by ref, settled by the echo (on arrival, before in-order delivery) or an error. */
	private readonly ackWaiters = new Map<string, AckWaiter>();
	/** Our sends the server has echoed that wait for in-order delivery (marked self then). */
	private readonly echoed = new Set<string>();
	private readonly refPrefix = randomBytes(4).toString('hex');
	private refCounter = 0;
	private readonly room: SequenceTracker<RoomEventMessage>;
	private readonly directs: SequenceTracker<Extract<ServerMessage, {t: 'dm'}>>;
	private login: Login = {nick: ''};
	private joined = false;
	private hasJoinedOnce = false;
	/** The server lists the account's rooms after every login, reconnects too; only a new session's list is news. */
	private sessionRoomsWanted = false;
	/** The server instance of the last welcome: another one means the server restarted. */
	private serverEpoch: string | undefined;
	private joinWaiter: Waiter | undefined;
	private timer: NodeJS.Timeout | undefined;
	private lastHeard = 0;
	/** The server holds our lines (flood control) until about then: unacknowledged ones are not given up before. */
	private slowedUntil = 0;
	private lastPing = 0;
	private helloSentAt = 0;
	private helloTries = 0;
	private reconnectTimer: NodeJS.Timeout | undefined;
	/** The history page or search asked for and not answered yet: the server may refuse it for now (rate-limited). */
	private unansweredRead: Parameters<Transport['send']>[0] | undefined;
	private readRetryTimer: NodeJS.Timeout | undefined;
	private reconnectDelay: number;
	private closing = false;
	private readonly now: () => number;
	private readonly ackTimeoutMs: number;
	private readonly maxSendTries: number;
	private readonly deadAfterMs: number;
	private readonly reconnectMinMs: number;
	private readonly reconnectMaxMs: number;

	constructor(
		private readonly transportImpl: Transport,
		private readonly options: RoomSessionOptions = {},
	) {
		this.now = options.now ?? Date.now;
		this.ackTimeoutMs = options.ackTimeoutMs ?? 1500;
		this.maxSendTries = options.maxSendTries ?? 4;
		this.deadAfterMs = options.deadAfterMs ?? Math.max(3 * transportImpl.keepaliveMs, 5000);
		this.reconnectMinMs = options.reconnectMinMs ?? 500;
		this.reconnectMaxMs = options.reconnectMaxMs ?? 15_000;
		this.reconnectDelay = this.reconnectMinMs;
		this.room = new SequenceTracker(1, {
			deliver: (event) => this.deliverRoomEvent(event, false),
			lost: (count) => this.emit({type: 'lost', count}),
			requestResend: (from, to) => this.send({t: 'resend', s: 'room', from, to}),
			now: this.now,
		});
		this.directs = new SequenceTracker(1, {
			deliver: (message) => this.deliverDirect(message),
			lost: (count) => this.emit({type: 'lost', count}),
			requestResend: (from, to) => this.send({t: 'resend', s: 'direct', from, to}),
			now: this.now,
		});
		transportImpl.setHandlers({
			message: (message) => this.onMessage(message),
			closed: (reason, fatal) => this.onTransportClosed(reason, fatal),
			problem: (reason) => this.emit({type: 'error', code: 'network', text: reason}),
			notice: (text) => this.emit({type: 'notice', text}),
		});
	}

	get url(): string {
		return this.transportImpl.url;
	}

	get transport() {
		return this.transportImpl.kind;
	}

	get state(): ConnectionState {
		return this.currentState;
	}

	get nick(): string | undefined {
		return this.currentNick;
	}

	get members(): readonly string[] {
		return this.memberNicks;
	}

	get limits(): ServerLimits {
		return this.serverLimits;
	}

	/** The protocol version the server chose in its welcome; undefined before joining. */
	get protocolVersion(): number | undefined {
		return this.serverVersion;
	}

	/** The capabilities the server announced in its welcome (names this client does not know included). */
	get capabilities(): readonly string[] {
		return this.serverCapabilities;
	}

	get lagMs(): number | undefined {
		return this.lag;
	}

	get roomName(): string | undefined {
		return this.announcedRoom;
	}

	get info(): RoomInfo | undefined {
		return this.roomInfo;
	}

	/** The room this client joins as the transport names it (`#name`); undefined: the server's default. */
	get requestedRoom(): string | undefined {
		return this.transportImpl.room;
	}

	/** Our read marker here as the server last had it (0: none yet). */
	get readSeq(): number {
		return this.readMarker;
	}

	subscribe(listener: RoomListener): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	get needsPassword(): boolean {
		return this.transportImpl.kind === 'tcp';
	}

	async checkServer(): Promise<void> {
		try {
			await this.transportImpl.checkHost?.();
		} catch (error) {
			throw error instanceof RoomError ? error : new RoomError('network', (error as Error).message);
		}
	}

	async connect(nick: string, password?: string, options: {register?: boolean} = {}): Promise<void> {
		this.closing = false;
		this.currentNick = nick;
		// Reconnects log in as `nick` with what the transport kept from this login
		// (TCP: SCRAM's derived keys); the password is used once and never stored.
		this.login = {nick};
		const refused = this.oneRoomOnly();
		if (refused !== undefined) {
			this.setState('closed', refused);
			throw new RoomError('no-such-room', refused);
		}
		this.setState('connecting');
		try {
			await this.transportImpl.open({
				nick,
				...(password === undefined ? {} : {password}),
				...(options.register ? {register: true} : {}),
			});
		} catch (error) {
			this.setState('closed', (error as Error).message);
			throw error instanceof RoomError ? error : new RoomError('network', (error as Error).message);
		}
		this.startTimer();
		try {
			await this.hello();
		} catch (error) {
			this.stopTimer();
			this.transportImpl.close();
			this.setState('closed', (error as Error).message);
			throw error;
		}
	}

	async reopen(): Promise<void> {
		if (this.currentState !== 'closed') return;
		await this.connect(this.currentNick ?? this.login.nick, this.login.password);
	}

	say(text: string, options: {action?: boolean} = {}): Promise<SayAck> {
		const ref = this.nextRef();
		const acked = this.awaitAck(ref);
		this.queueSend({t: 'say', ref, text, ...(options.action ? {action: true} : {})});
		this.emit({type: 'pending', ref, text});
		this.failIfClosed();
		return acked;
	}

	/** Like say(); the acknowledgement's seq is the direct stream's number (dseq). */
	direct(nick: string, text: string): Promise<SayAck> {
		const ref = this.nextRef();
		const acked = this.awaitAck(ref);
		this.queueSend({t: 'dm', ref, to: nick, text});
		this.emit({type: 'pending', ref, text, to: nick});
		this.failIfClosed();
		return acked;
	}

	private awaitAck(ref: string): Promise<SayAck> {
		const acked = new Promise<SayAck>((resolve, reject) => this.ackWaiters.set(ref, {resolve, reject}));
		// Fire-and-forget callers (the TUI) learn of failures from the 'failed' event instead.
		acked.catch(() => {});
		return acked;
	}

	changeNick(nick: string): void {
		this.send({t: 'nick', nick});
	}

	setAway(text: string | undefined): boolean {
		this.awayText = text;
		if (!this.serverCapabilities.includes(CAPABILITY.away)) return false;
		if (this.joined) this.sendAway();
		return true;
	}

	private sendAway(): void {
		this.send({t: 'away', ...(this.awayText === undefined ? {} : {text: this.awayText})});
	}

	private emitMembers(): void {
		this.emit({type: 'members', members: this.memberNicks, away: new Map(this.awayMembers)});
	}

	who(): void {
		this.send({t: 'who'});
	}

	// ---- version 2 -------------------------------------------------------------

	private has(capability: string): boolean {
		return this.serverCapabilities.includes(capability);
	}

	/** Sends a moderation or list request as it is; false when not joined or the server lacks the capability. */
	request(request: RoomRequest): boolean {
		if (!this.joined) return false;
		if (!this.has(request.t === 'list' ? CAPABILITY.multiRoom : CAPABILITY.moderation)) return false;
		this.send(request);
		return true;
	}

	/**
	 * A client for another room of this server over the same connection and
	 * login (TCP) or from the same machine (UDP). Not joined yet: connect(nick)
	 * with this client's nick, no password. Throws RoomError for a bad name.
	 */
	sibling(room: string): RoomSession {
		const problem = roomNameProblem(room);
		if (problem !== undefined) throw new RoomError('bad-request', problem);
		if (!this.transportImpl.sibling)
			throw new RoomError('not-allowed', 'this connection cannot open other rooms');
		const sibling = new RoomSession(this.transportImpl.sibling(roomLabel(room)), this.options);
		if (this.serverVersion !== undefined)
			sibling.server = {caps: this.serverCapabilities, room: this.announcedRoom};
		return sibling;
	}

	/** Why a sibling cannot join its room, known before asking: the server has one room, another one. */
	private oneRoomOnly(): string | undefined {
		const wanted = this.transportImpl.room;
		const server = this.server;
		if (!server || wanted === undefined || server.caps.includes(CAPABILITY.multiRoom)) return undefined;
		if (server.room !== undefined && roomKey(server.room) === roomKey(wanted)) return undefined;
		return `this server has one room only${server.room === undefined ? '' : ` (${roomLabel(server.room)})`}; ${wanted} is not there`;
	}

	/** Leaves the room for good (`leave` with `part`: the account's other sessions leave too), then closes. */
	async part(_reason?: string): Promise<void> {
		// The contract's `leave` carries no reason: a part is announced as the server words it.
		if (this.joined) {
			this.send({t: 'leave', ...(this.has(CAPABILITY.multiRoom) ? {part: true} : {})});
			this.joined = false;
		}
		await this.close();
	}

	/** Asks for the stored page before `before`; a 'page' event answers. False when the server cannot page. */
	loadOlder(before: number, limit = PAGE_SIZE): boolean {
		if (!this.joined || !this.has(CAPABILITY.historyPaging)) return false;
		const size = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit)));
		this.sendRead({t: 'history', before: Math.max(0, Math.floor(before)), limit: size});
		return true;
	}

	/** Searches the room's stored messages; a 'found' event answers. False when the server cannot search. */
	/** File transfer in this room (TCP servers with the `files` capability); undefined elsewhere. */
	files(): RoomFiles | undefined {
		if (this.fileRoom) return this.fileRoom;
		if (!this.has(CAPABILITY.files)) return undefined;
		const link = fileLinkOf(this.transportImpl);
		if (!link) return undefined;
		this.fileRoom = new RoomFiles(link, {room: () => this.transportImpl.room ?? this.announcedRoom});
		this.fileRoom.onFile((file) =>
			this.emit({type: 'notice', text: describeSharedFile(file, this.currentNick)}),
		);
		return this.fileRoom;
	}

	search(text: string, before?: number): boolean {
		if (!this.joined || !this.has(CAPABILITY.historyPaging)) return false;
		const trimmed = text.trim();
		if (trimmed === '') return false;
		this.sendRead({t: 'search', text: trimmed.slice(0, 200), ...(before === undefined ? {} : {before})});
		return true;
	}

	/** Sends a history or search request, remembered until answered so a refusal for the rate can ask again. */
	private sendRead(message: Parameters<Transport['send']>[0]): void {
		clearTimeout(this.readRetryTimer);
		this.readRetryTimer = undefined;
		this.unansweredRead = message;
		this.send(message);
	}

	private readAnswered(): void {
		clearTimeout(this.readRetryTimer);
		this.readRetryTimer = undefined;
		this.unansweredRead = undefined;
	}

	/**
	 * The server refused a request for its rate with no ref: if a page or search
	 * is waiting, ask again when the server says it may be (a tab scrolling up
	 * would otherwise wait for that page forever). True when nothing else can
	 * have been refused (no line of ours pending), so the error need not be shown.
	 */
	private retryReadLater(retryAfterMs: number | undefined): boolean {
		const message = this.unansweredRead;
		if (message === undefined) return false;
		if (this.readRetryTimer === undefined)
			this.readRetryTimer = setTimeout(
				() => {
					this.readRetryTimer = undefined;
					if (this.unansweredRead === message && this.joined) this.send(message);
				},
				Math.max(10, retryAfterMs ?? 250),
			);
		return this.pending.size === 0;
	}

	/**
	 * Moves our read marker forward to seq (never back). At most one `read` a
	 * second goes out; the newest asked for is sent when the second is over.
	 */
	markRead(seq: number): void {
		if (!Number.isSafeInteger(seq) || seq <= Math.max(this.readMarker, this.readWanted)) return;
		this.readWanted = seq;
		this.flushRead();
	}

	private flushRead(): void {
		if (this.readWanted <= this.readMarker || !this.joined || !this.has(CAPABILITY.multiSession)) return;
		const now = this.now();
		if (now - this.readSentAt < READ_MARKER_INTERVAL_MS) return; // the tick sends it later
		this.readSentAt = now;
		this.readMarker = this.readWanted;
		this.send({t: 'read', seq: this.readWanted});
	}

	/** Leaves the room; resolves once the goodbye has been handed to the transport. */
	async close(): Promise<void> {
		if (this.currentState === 'closed' && this.closing) return;
		this.closing = true;
		clearTimeout(this.reconnectTimer);
		this.readAnswered();
		this.stopTimer();
		if (this.joined) this.send({t: 'leave'});
		this.joined = false;
		// One turn for the leave datagram/frame to be written before the socket goes.
		await new Promise((resolve) => setImmediate(resolve));
		this.transportImpl.close();
		this.fileRoom?.dispose();
		this.failPending('timeout', 'not sent: left the room');
		this.setState('closed');
	}

	// ---- internals -----------------------------------------------------------

	private nextRef(): string {
		return `${this.refPrefix}-${++this.refCounter}`;
	}

	private emit(event: RoomEvent): void {
		for (const listener of this.listeners) {
			try {
				listener(event);
			} catch {
				// A listener's bug must not break delivery to the others.
			}
		}
	}

	private setState(state: ConnectionState, detail?: string): void {
		if (this.currentState === state && detail === undefined) return;
		this.currentState = state;
		this.emit({type: 'state', state, ...(detail ? {detail} : {})});
	}

	private send(message: Parameters<Transport['send']>[0]): void {
		if (this.currentState === 'closed' && message.t !== 'leave') return;
		try {
			this.transportImpl.send(message);
		} catch (error) {
			this.emit({type: 'error', code: 'network', text: (error as Error).message});
		}
	}

	private queueSend(message: PendingSend['message']): void {
		const now = this.now();
		if (this.slowedUntil > now) this.slowedUntil += 1000 / Math.max(this.serverLimits.ratePerSecond, 0.01);
		this.pending.set(message.ref, {ref: message.ref, message, sentAt: now, tries: 1});
		// While reconnecting the send waits in `pending` and goes out after the rejoin.
		if (this.joined) this.send(message);
	}

	private hello(): Promise<void> {
		this.joined = false;
		const nick = this.currentNick ?? '';
		return new Promise<void>((resolve, reject) => {
			this.joinWaiter = {resolve, reject};
			this.helloTries = 0;
			this.sendHello(nick);
		});
	}

	private sendHello(nick: string): void {
		this.helloTries++;
		this.helloSentAt = this.now();
		const since = this.hasJoinedOnce ? this.room.next - 1 : undefined;
		this.send({t: 'hello', nick, versions: [...PROTOCOL_VERSIONS], ...(since === undefined ? {} : {since})});
	}

	private onMessage(message: ServerMessage): void {
		this.lastHeard = this.now();
		switch (message.t) {
			case 'welcome':
				return this.onWelcome(message);
			case 'msg':
				if (message.ref !== undefined && this.pending.delete(message.ref)) {
					// Acknowledged now, even if earlier messages are still missing: no resend, no timeout.
					this.echoed.add(message.ref);
					this.settleAck(message.ref, {seq: message.seq, ref: message.ref});
				}
				return this.room.accept(message.seq, message);
			case 'presence':
				if (message.seq === undefined) return this.deliverRoomEvent(message, false);
				return this.room.accept(message.seq, message);
			case 'history':
				return this.onHistory(message);
			case 'dm':
				if (message.ref !== undefined) this.settleAck(message.ref, {seq: message.dseq, ref: message.ref});
				return this.directs.accept(message.dseq, message);
			case 'lost':
				return (message.s === 'room' ? this.room : this.directs).markLost(message.from, message.to);
			case 'who':
				if (this.roomInfo && this.updateRoles(message.members)) this.emitInfo();
				return this.emit({type: 'who', members: message.members.map((m) => m.nick)});
			case 'pong':
				this.lag = Math.max(0, this.now() - message.ts);
				this.emit({type: 'lag', ms: this.lag});
				this.room.observeLatest(message.seq);
				this.directs.observeLatest(message.dseq);
				return;
			case 'error':
				return this.onError(message.code, message.message, message.ref, message.retry_after_ms);
			case 'bye':
				// A goodbye with retry: the server is going away (a shutdown); another one is tried at once.
				return this.onTransportClosed(message.reason, message.retry !== true, {
					elsewhere: message.retry === true,
				});
			case 'cookie':
				return; // the transport's business
			case 'rooms':
				return this.emit({
					type: 'rooms',
					rooms: message.rooms.map((r) => ({
						name: sanitizeText(r.name),
						members: r.members,
						...(r.topic === undefined ? {} : {topic: sanitizeText(r.topic)}),
						...(r.private ? {private: true} : {}),
					})),
				});
			case 'session':
				if (!this.sessionRoomsWanted) return;
				this.sessionRoomsWanted = false;
				return this.emit({type: 'session-rooms', rooms: message.rooms.map(sanitizeText)});
			case 'read':
				if (message.seq <= this.readMarker) return;
				this.readMarker = message.seq;
				return this.emit({type: 'read', seq: message.seq});
			case 'found':
				this.readAnswered();
				return this.emit({
					type: 'found',
					text: message.text,
					messages: message.messages.map((m) => ({...m, text: sanitizeText(m.text)})),
				});
			case 'bans':
				return this.emit({type: 'bans', bans: message.bans.map((b) => ({...b}))});
			case 'invited':
				return this.emit({type: 'invited', room: sanitizeText(message.room), by: message.by});
			case 'notice':
				return this.emit({type: 'notice', text: sanitizeText(message.text)});
		}
	}

	/** A history answer: a page asked for by loadOlder(), or the history shown on joining. */
	private onHistory(message: Extract<ServerMessage, {t: 'history'}>): void {
		if (message.before === undefined) {
			for (const event of message.messages) this.deliverRoomEvent(event, true);
			return;
		}
		this.readAnswered();
		const events = message.messages.map(sanitizeEvent);
		this.emit({
			type: 'page',
			before: message.before,
			events,
			complete: message.complete ?? events.length === 0,
		});
	}

	private onWelcome(message: Extract<ServerMessage, {t: 'welcome'}>): void {
		const wrongRoom = this.wrongRoom(message);
		if (wrongRoom !== undefined) {
			// A one-room server put us in its room, not the one asked for: out again, and say why.
			this.send({t: 'leave'});
			const waiter = this.joinWaiter;
			this.joinWaiter = undefined;
			if (waiter) waiter.reject(new RoomError('no-such-room', wrongRoom));
			else this.onTransportClosed(wrongRoom, true);
			return;
		}
		const first = !this.hasJoinedOnce;
		this.sessionRoomsWanted = first;
		const restarted = !first && this.serverRestarted(message);
		this.joined = true;
		this.hasJoinedOnce = true;
		this.serverEpoch = message.epoch;
		this.currentNick = message.nick;
		this.announcedRoom = message.room === '' ? undefined : sanitizeText(message.room);
		this.memberNicks = message.members.map((m) => m.nick);
		this.awayMembers = new Map(
			message.members.flatMap((m) => (m.away === undefined ? [] : [[m.nick, sanitizeText(m.away)] as const])),
		);
		this.serverLimits = message.limits;
		this.serverVersion = message.v;
		this.serverCapabilities = message.caps;
		this.roomInfo = message.v >= MULTI_ROOM_VERSION ? this.infoFromWelcome(message) : undefined;
		if (message.read !== undefined && message.read > this.readMarker) this.readMarker = message.read;
		if (first) this.room.reset(message.seq + 1);
		// What the new server carried before we were back is still in its memory: ask for the latest of it.
		else if (restarted) this.room.reset(Math.max(1, message.seq + 1 - RESTART_CATCH_UP));
		if (restarted)
			this.emit({type: 'notice', text: 'the server restarted; messages sent while it was down are lost'});
		this.directs.reset(message.dseq + 1);
		this.reconnectDelay = this.reconnectMinMs;
		this.setState('connected');
		this.emit({type: 'nick', nick: message.nick});
		this.emitMembers();
		if (this.roomInfo) this.emitInfo();
		if (message.read !== undefined) this.emit({type: 'read', seq: this.readMarker});
		// Says we know `away` (so we hear of changes), and restores ours after a reconnect.
		if (this.serverCapabilities.includes(CAPABILITY.away)) this.sendAway();
		this.files(); // files shared here are announced from now on
		// Sends made while disconnected (or unacknowledged) go out again; the server
		// drops duplicates of any it already has.
		for (const pending of this.pending.values()) {
			pending.sentAt = this.now();
			this.send(pending.message);
		}
		this.flushRead();
		const waiter = this.joinWaiter;
		this.joinWaiter = undefined;
		waiter?.resolve();
	}

	/** Why this welcome is for another room than the one asked for (servers without many rooms); undefined if it is ours. */
	private wrongRoom(message: Extract<ServerMessage, {t: 'welcome'}>): string | undefined {
		const wanted = this.transportImpl.room;
		if (wanted === undefined || message.caps.includes(CAPABILITY.multiRoom)) return undefined;
		if (message.room !== '' && roomKey(message.room) === roomKey(wanted)) return undefined;
		const only = message.room === '' ? '' : ` (${roomLabel(sanitizeText(message.room))})`;
		return `this server has one room only${only}; ${wanted} is not there`;
	}

	private infoFromWelcome(message: Extract<ServerMessage, {t: 'welcome'}>): RoomInfo {
		const roles = new Map<string, Role>();
		for (const member of message.members) if (member.role) roles.set(member.nick, member.role);
		return {
			name: message.room === '' ? '' : roomLabel(sanitizeText(message.room)),
			topic: sanitizeText(message.topic ?? ''),
			modes: message.modes ?? '',
			role: message.role,
			roles,
		};
	}

	private emitInfo(): void {
		if (this.roomInfo) this.emit({type: 'room', info: this.roomInfo});
	}

	/** Takes the roles of a member list (`who`); true when something changed. */
	private updateRoles(members: readonly {nick: string; role?: Role | undefined}[]): boolean {
		const info = this.roomInfo;
		if (!info) return false;
		const roles = new Map(info.roles);
		for (const member of members)
			if (member.role) roles.set(member.nick, member.role);
			else roles.delete(member.nick);
		const changed =
			roles.size !== info.roles.size || [...roles].some(([nick, role]) => info.roles.get(nick) !== role);
		if (changed) this.roomInfo = {...info, roles, role: roles.get(this.currentNick ?? '') ?? info.role};
		return changed;
	}

	/** Topic, mode and role changes (version 2) update the room's info; true when they did. */
	private applyRoomChange(event: Extract<RoomEventMessage, {t: 'presence'}>): boolean {
		const info = this.roomInfo;
		if (!info) return false;
		if (event.kind === 'topic') this.roomInfo = {...info, topic: sanitizeText(event.text ?? '')};
		else if (event.kind === 'mode' && event.mode)
			this.roomInfo = {...info, modes: applyMode(info.modes, event.mode)};
		else if (event.kind === 'role') {
			const roles = new Map(info.roles);
			if (event.role) roles.set(event.nick, event.role);
			else roles.delete(event.nick);
			const self = event.nick === this.currentNick;
			this.roomInfo = {...info, roles, ...(self ? {role: event.role} : {})};
		} else if (event.kind === 'nick' && event.old !== undefined && info.roles.has(event.old)) {
			const roles = new Map(info.roles);
			const role = roles.get(event.old)!;
			roles.delete(event.old);
			roles.set(event.nick, role);
			this.roomInfo = {...info, roles};
		} else if (event.kind === 'join' && event.role && info.roles.get(event.nick) !== event.role) {
			this.roomInfo = {...info, roles: new Map(info.roles).set(event.nick, event.role)};
		} else return false;
		return true;
	}

	/** Settles a say() promise, once; a later echo or error for the same ref finds none. */
	private settleAck(ref: string, outcome: SayAck | RoomError): void {
		const waiter = this.ackWaiters.get(ref);
		if (!waiter) return;
		this.ackWaiters.delete(ref);
		if (outcome instanceof RoomError) waiter.reject(outcome);
		else waiter.resolve(outcome);
	}

	/**
	 * Whether this welcome comes from a new server whose sequence numbers started
	 * again, so what we have seen says nothing about what is new. A room whose
	 * log is kept in a store (TCP) keeps its numbers across a restart and just
	 * resumes from `since`; a UDP room keeps it in memory and starts from 0. A
	 * number lower than one we have seen means the same, with or without an epoch.
	 */
	private serverRestarted(message: Extract<ServerMessage, {t: 'welcome'}>): boolean {
		if (message.seq < this.room.next - 1) return true;
		const newInstance = message.epoch !== undefined && message.epoch !== this.serverEpoch;
		return newInstance && this.transportImpl.kind === 'udp';
	}

	private onError(code: ErrorCode, text: string, ref?: string, retryAfterMs?: number): void {
		if (!this.joined && this.joinWaiter && code !== 'rate-limited') {
			const waiter = this.joinWaiter;
			this.joinWaiter = undefined;
			waiter.reject(new RoomError(code, text));
			return;
		}
		if (code === 'not-joined') {
			// The server forgot us (restart or expiry): join again.
			this.onTransportClosed('the server no longer knows this client', false);
			return;
		}
		if (ref && this.pending.has(ref)) {
			this.pending.delete(ref);
			this.settleAck(ref, new RoomError(code, text, retryAfterMs));
			this.emit({type: 'failed', ref, code, text});
			return;
		}
		// "slowed down": the server queues what we sent and sends it at its rate, so
		// the lines still pending are acknowledged one per 1/rate seconds from now.
		if (code === 'rate-limited' && ref === undefined && this.retryReadLater(retryAfterMs)) return;
		if (code === 'rate-limited' && ref === undefined) {
			const perLineMs = 1000 / Math.max(this.serverLimits.ratePerSecond, 0.01);
			this.slowedUntil = this.now() + (this.pending.size + 1) * perLineMs + this.ackTimeoutMs;
		}
		this.emit({type: 'error', code, text});
	}

	private deliverRoomEvent(event: RoomEventMessage, history: boolean): void {
		if (event.t === 'msg') {
			const self =
				event.ref !== undefined && (this.echoed.delete(event.ref) || this.pending.delete(event.ref));
			this.emit({
				type: 'message',
				seq: event.seq,
				ts: event.ts,
				from: event.from,
				text: sanitizeText(event.text),
				action: event.action === true,
				self: self || event.from === this.currentNick,
				history,
			});
			return;
		}
		if (!history) this.applyPresence(event);
		const roomChanged = !history && this.applyRoomChange(event);
		this.emit({
			type: 'presence',
			...(event.seq === undefined ? {} : {seq: event.seq}),
			ts: event.ts,
			kind: event.kind,
			nick: event.nick,
			...(event.old ? {old: event.old} : {}),
			...(event.reason ? {reason: sanitizeText(event.reason)} : {}),
			...(event.by ? {by: event.by} : {}),
			...(event.text === undefined ? {} : {text: sanitizeText(event.text)}),
			...(event.mode ? {mode: event.mode} : {}),
			...(event.role ? {role: event.role} : {}),
			...(event.until === undefined ? {} : {until: event.until}),
			...(history ? {history: true} : {}),
		});
		if (roomChanged) this.emitInfo();
	}

	private applyPresence(event: Extract<RoomEventMessage, {t: 'presence'}>): void {
		const without = (nick: string) => this.memberNicks.filter((m) => m !== nick);
		if (event.kind === 'away') {
			if (event.reason === undefined || event.reason === '') this.awayMembers.delete(event.nick);
			else this.awayMembers.set(event.nick, sanitizeText(event.reason));
			this.emitMembers();
			return;
		}
		// Topic, mode, role, ban, mute and invite changes leave the member list as it is.
		if (!MEMBERSHIP_KINDS.has(event.kind)) return;
		const away = this.awayMembers.get(event.old ?? event.nick);
		this.awayMembers.delete(event.old ?? event.nick);
		if (event.kind === 'nick' && away !== undefined) this.awayMembers.set(event.nick, away);
		if (event.kind === 'join') this.memberNicks = [...without(event.nick), event.nick];
		else if (event.kind === 'nick') {
			this.memberNicks = [...without(event.old ?? ''), event.nick];
			if (event.old === this.currentNick) {
				this.currentNick = event.nick;
				this.emit({type: 'nick', nick: event.nick});
			}
		} else this.memberNicks = without(event.nick);
		this.memberNicks.sort((a, b) => a.localeCompare(b));
		this.emitMembers();
	}

	private deliverDirect(message: Extract<ServerMessage, {t: 'dm'}>): void {
		if (message.ref) this.pending.delete(message.ref);
		this.emit({
			type: 'direct',
			ts: message.ts,
			from: message.from,
			to: message.to,
			text: sanitizeText(message.text),
			self: message.from === this.currentNick,
		});
	}

	private startTimer(): void {
		this.stopTimer();
		this.lastHeard = this.now();
		this.lastPing = 0;
		this.timer = setInterval(() => this.tick(), 100);
		this.timer.unref?.();
	}

	private stopTimer(): void {
		clearInterval(this.timer);
		this.timer = undefined;
	}

	/** Timers for keepalive, liveness, retries of hello/sends and gap repair. */
	private tick(): void {
		const now = this.now();
		if (!this.joined) {
			if (this.joinWaiter && now - this.helloSentAt > (this.transportImpl.reliable ? 10_000 : 1000)) {
				if (this.helloTries >= 5 || this.transportImpl.reliable) {
					const waiter = this.joinWaiter;
					this.joinWaiter = undefined;
					waiter.reject(new RoomError('network', 'the server did not answer'));
				} else this.sendHello(this.currentNick ?? '');
			}
			return;
		}
		if (now - this.lastPing >= this.transportImpl.keepaliveMs) {
			this.lastPing = now;
			this.send({t: 'ping', ts: now});
		}
		if (now - this.lastHeard > this.deadAfterMs) {
			this.onTransportClosed('no answer from the server', false);
			return;
		}
		this.room.tick();
		this.directs.tick();
		this.flushRead();
		if (!this.transportImpl.reliable) this.retrySends(now);
	}

	private retrySends(now: number): void {
		for (const pending of [...this.pending.values()]) {
			if (now - pending.sentAt < this.ackTimeoutMs) continue;
			// A silent server may be restarting: the line waits for the rejoin (which
			// sends it again) instead of failing before the connection is declared lost.
			const serverSilent = this.lastHeard < pending.sentAt;
			if (pending.tries >= this.maxSendTries && !serverSilent && now >= this.slowedUntil) {
				this.pending.delete(pending.ref);
				this.settleAck(pending.ref, new RoomError('network', 'not acknowledged by the server'));
				this.emit({
					type: 'failed',
					ref: pending.ref,
					code: 'timeout',
					text: 'not acknowledged by the server',
				});
				continue;
			}
			pending.tries++;
			pending.sentAt = now;
			this.send(pending.message);
		}
	}

	/** A closed room sends nothing until it is joined again: what was just said fails at once, not never. */
	private failIfClosed(): void {
		if (this.currentState === 'closed') this.failPending('timeout', 'not sent: the room is closed');
	}

	private failPending(code: 'timeout', text: string): void {
		for (const ref of this.pending.keys()) {
			this.settleAck(ref, new RoomError('network', text));
			this.emit({type: 'failed', ref, code, text});
		}
		this.pending.clear();
	}

	private onTransportClosed(reason: string, fatal: boolean, {elsewhere = false} = {}): void {
		if (this.closing || this.currentState === 'closed') return;
		this.joined = false;
		this.stopTimer();
		this.transportImpl.close();
		if (fatal || !this.hasJoinedOnce) {
			this.failPending('timeout', `not sent: ${reason}`);
			this.setState('closed', reason);
			const waiter = this.joinWaiter;
			this.joinWaiter = undefined;
			waiter?.reject(new RoomError('network', reason));
			return;
		}
		this.setState('reconnecting', reason);
		if (elsewhere) this.reconnectDelay = this.reconnectMinMs;
		this.scheduleReconnect(elsewhere);
	}

	/** Reconnects after the backoff; `soon`: within SOON_SPREAD_MS instead. */
	private scheduleReconnect(soon = false): void {
		clearTimeout(this.reconnectTimer);
		const delay = soon ? Math.random() * SOON_SPREAD_MS : this.reconnectDelay * (0.8 + Math.random() * 0.4);
		if (!soon) this.reconnectDelay = Math.min(this.reconnectMaxMs, this.reconnectDelay * 2);
		this.reconnectTimer = setTimeout(() => void this.reconnect(), delay);
	}

	private async reconnect(): Promise<void> {
		if (this.closing) return;
		try {
			await this.transportImpl.open(this.login);
			this.startTimer();
			await this.hello();
		} catch (error) {
			if (this.closing) return;
			this.stopTimer();
			this.transportImpl.close();
			const fatal = error instanceof RoomError && FATAL_JOIN_CODES.has(error.code);
			if (fatal) {
				this.setState('closed', error.message);
				return;
			}
			this.setState('reconnecting', (error as Error).message);
			this.scheduleReconnect();
		}
	}
}

/** Presence kinds that change who is in the room (the others are about the room or a member's standing). */
const MEMBERSHIP_KINDS = new Set<string>(['join', 'leave', 'part', 'nick', 'expire', 'kick', 'ban']);

/** The room's modes after a change: "+i" to "" gives "i", "-m" to "im" gives "i". */
function applyMode(modes: string, change: string): string {
	const letter = change.slice(1);
	const without = modes.replace(letter, '');
	return change.startsWith('+') ? [...`${without}${letter}`].sort().join('') : without;
}

/** A stored event with its texts made safe to show (as live events are). */
function sanitizeEvent(event: RoomEventMessage): RoomEventMessage {
	if (event.t === 'msg') return {...event, text: sanitizeText(event.text)};
	return {
		...event,
		...(event.reason === undefined ? {} : {reason: sanitizeText(event.reason)}),
		...(event.text === undefined ? {} : {text: sanitizeText(event.text)}),
	};
}
