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
import {CAPABILITY, PROTOCOL_VERSIONS} from '../protocol/versions.js';
import {SequenceTracker} from './sequence-tracker.js';
import type {Login, Transport} from './transport.js';
import {
	RoomError,
	type ConnectionState,
	type RoomClient,
	type RoomEvent,
	type RoomListener,
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
		options: RoomSessionOptions = {},
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

	/** Leaves the room; resolves once the goodbye has been handed to the transport. */
	async close(): Promise<void> {
		if (this.currentState === 'closed' && this.closing) return;
		this.closing = true;
		clearTimeout(this.reconnectTimer);
		this.stopTimer();
		if (this.joined) this.send({t: 'leave'});
		this.joined = false;
		// One turn for the leave datagram/frame to be written before the socket goes.
		await new Promise((resolve) => setImmediate(resolve));
		this.transportImpl.close();
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
				for (const event of message.messages) this.deliverRoomEvent(event, true);
				return;
			case 'dm':
				if (message.ref !== undefined) this.settleAck(message.ref, {seq: message.dseq, ref: message.ref});
				return this.directs.accept(message.dseq, message);
			case 'lost':
				return (message.s === 'room' ? this.room : this.directs).markLost(message.from, message.to);
			case 'who':
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
				return this.onTransportClosed(message.reason, message.retry !== true);
			case 'cookie':
				return; // the transport's business
		}
	}

	private onWelcome(message: Extract<ServerMessage, {t: 'welcome'}>): void {
		const first = !this.hasJoinedOnce;
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
		// Says we know `away` (so we hear of changes), and restores ours after a reconnect.
		if (this.serverCapabilities.includes(CAPABILITY.away)) this.sendAway();
		// Sends made while disconnected (or unacknowledged) go out again; the server
		// drops duplicates of any it already has.
		for (const pending of this.pending.values()) {
			pending.sentAt = this.now();
			this.send(pending.message);
		}
		const waiter = this.joinWaiter;
		this.joinWaiter = undefined;
		waiter?.resolve();
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
		this.emit({
			type: 'presence',
			seq: event.seq,
			ts: event.ts,
			kind: event.kind,
			nick: event.nick,
			...(event.old ? {old: event.old} : {}),
			...(event.reason ? {reason: event.reason} : {}),
		});
	}

	private applyPresence(event: Extract<RoomEventMessage, {t: 'presence'}>): void {
		const without = (nick: string) => this.memberNicks.filter((m) => m !== nick);
		if (event.kind === 'away') {
			if (event.reason === undefined || event.reason === '') this.awayMembers.delete(event.nick);
			else this.awayMembers.set(event.nick, sanitizeText(event.reason));
			this.emitMembers();
			return;
		}
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

	private onTransportClosed(reason: string, fatal: boolean): void {
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
		this.scheduleReconnect();
	}

	private scheduleReconnect(): void {
		clearTimeout(this.reconnectTimer);
		const delay = this.reconnectDelay;
		this.reconnectDelay = Math.min(this.reconnectMaxMs, this.reconnectDelay * 2);
		this.reconnectTimer = setTimeout(() => void this.reconnect(), delay * (0.8 + Math.random() * 0.4));
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
			const fatal =
				error instanceof RoomError &&
				[
					'auth-failed',
					'nick-invalid',
					'not-allowed',
					'host-changed',
					'host-rejected',
					'unsupported-version',
				].includes(error.code);
			if (fatal) {
				this.setState('closed', error.message);
				return;
			}
			this.setState('reconnecting', (error as Error).message);
			this.scheduleReconnect();
		}
	}
}
