// One TCP connection (TLS, certificate pinning, SCRAM login) per server and
// account, carrying every room the account has open there (protocol version 2:
// one hello per room, every room-scoped frame naming its room). Each room gets
// a RoomChannel, a Transport a RoomSession uses as it would a socket of its own.
//
// Routing of what the server sends:
// - frames naming a `room` go to that room's channel (a `bye` naming a room
//   closes that room only: kicked or banned);
// - `welcome` goes to the channel whose hello it answers (by room, else the
//   oldest hello still waiting), which learns the room's name from it;
// - frames without `room` go to the channel whose hello came first on this
//   socket (the server's "connection's first room"), else the oldest channel;
// - session-level frames: `rooms` to the channel that sent the `list` it
//   answers, `session` and `invited` to the oldest channel (one tab should
//   act on them, not every tab), a `bye` without room to every channel.
//
// Lifecycle: the first channel to open logs in; channels opening meanwhile
// wait for that login (never two logins at once); later ones join the open
// connection, without a password. Closing a channel leaves its room (`leave`);
// the socket closes with the last channel. When the socket drops, every
// channel hears closed() and their sessions' reconnects share one new login
// (SCRAM's derived keys kept by the one TcpTransport).

import {identityKey, roomKey, roomLabel} from '../protocol/names.js';
import type {ClientMessage, ServerMessage} from '../protocol/messages.js';
import {CAPABILITY} from '../protocol/versions.js';
import {RoomChannel} from './room-channel.js';
import {formatServer} from './room-url.js';
import {TcpTransport, type TcpTransportOptions} from './tcp-transport.js';
import {stampRoom, type Login} from './transport.js';
import {RoomError} from './types.js';

/** Where a channel connects: a TCP server with its TLS and trust settings. */
export type TcpEndpoint = TcpTransportOptions;

/** What a shared connection needs of its TCP transport (a TcpTransport; a scripted one in tests). */
export type PooledTransport = Pick<
	TcpTransport,
	'setHandlers' | 'open' | 'send' | 'close' | 'checkHost' | 'greeting' | 'fingerprint'
>;

export interface TcpConnectionPoolOptions {
	/** Makes the transport of a new connection (default: a TcpTransport). */
	makeTransport?: (endpoint: TcpEndpoint) => PooledTransport;
}

export class TcpConnectionPool {
	private readonly connections = new Map<string, SharedTcpConnection>();
	/** Per server: the transport that checked its certificate before a login (see checkHost). */
	private readonly checkers = new Map<string, PooledTransport>();
	private readonly makeTransport: (endpoint: TcpEndpoint) => PooledTransport;

	constructor(options: TcpConnectionPoolOptions = {}) {
		this.makeTransport = options.makeTransport ?? ((endpoint) => new TcpTransport(endpoint));
	}

	/** A channel to `room` (absent: the server's default room) on `endpoint`, not yet open. */
	channel(endpoint: TcpEndpoint, room?: string): RoomChannel {
		return new RoomChannel(this, endpoint, room);
	}

	/**
	 * The connection for this server and account, made on first use. The first
	 * channel's endpoint settings (known_hosts, trust prompt) are the connection's.
	 */
	connection(endpoint: TcpEndpoint, user: string): SharedTcpConnection {
		const key = `${endpointKey(endpoint)}|${identityKey(user)}`;
		let connection = this.connections.get(key);
		if (!connection) {
			const transport = this.makeTransport(endpoint);
			// The certificate was announced when it was checked before the login form: not again.
			transport.fingerprint = this.checkers.get(endpointKey(endpoint))?.fingerprint;
			connection = new SharedTcpConnection(transport);
			this.connections.set(key, connection);
		}
		return connection;
	}

	/** Checks the server's certificate before a password is asked for (TcpTransport.checkHost). */
	async checkHost(endpoint: TcpEndpoint, notice: (text: string) => void): Promise<void> {
		const key = endpointKey(endpoint);
		let checker = this.checkers.get(key);
		if (!checker) {
			checker = this.makeTransport(endpoint);
			this.checkers.set(key, checker);
		}
		checker.setHandlers({message: () => {}, closed: () => {}, problem: () => {}, notice});
		await checker.checkHost?.();
	}

	/** How many of the pool's connections have a socket open (logged in or logging in). */
	get openConnections(): number {
		return [...this.connections.values()].filter((c) => c.isOpen || c.isOpening).length;
	}
}

/** One connection per list of servers as typed (a cluster's addresses are one endpoint). */
function endpointKey(endpoint: TcpEndpoint): string {
	const servers = [endpoint, ...(endpoint.alternates ?? [])].map(formatServer).join(',');
	return `${endpoint.insecurePlaintext ? 'plain:' : ''}${servers}`;
}

/** One logged-in connection and the room channels on it. */
export class SharedTcpConnection {
	private opening: Promise<void> | undefined;
	private open = false;
	/** Channels on the open socket, oldest first. */
	private readonly channels: RoomChannel[] = [];
	/** Channels waiting in attach() for the login: they hear its notices (the certificate) too. */
	private readonly waiting = new Set<RoomChannel>();
	/** Channels whose hello is not yet answered, in the order sent. */
	private helloPending: RoomChannel[] = [];
	/** The channel whose hello was first on this socket: frames without `room` are its. */
	private firstRoom: RoomChannel | undefined;
	/** Channels that sent a `list`, oldest first: each `rooms` answers the oldest. */
	private listAskers: RoomChannel[] = [];
	/** The server's default room as a welcome named it (for channels opened without a room). */
	private defaultRoom: string | undefined;

	constructor(readonly transport: PooledTransport) {
		transport.setHandlers({
			message: (message) => this.route(message),
			closed: (reason) => this.lost(reason),
			problem: (reason) => {
				for (const channel of [...this.channels]) channel.problem(reason);
			},
			notice: (text) => {
				for (const channel of new Set([...this.channels, ...this.waiting])) channel.notice(text);
			},
		});
	}

	get isOpen(): boolean {
		return this.open;
	}

	get isOpening(): boolean {
		return this.opening !== undefined;
	}

	/** True when the server hosts many rooms on a connection (announced before the login). */
	get multiRoom(): boolean {
		return this.transport.greeting?.caps.includes(CAPABILITY.multiRoom) === true;
	}

	/** The channels on the open socket (tests, diagnostics). */
	get openChannels(): readonly RoomChannel[] {
		return this.channels;
	}

	/**
	 * Puts a channel on the connection, logging in first when there is no open
	 * socket (or waiting for the login already under way). Rejects with RoomError.
	 */
	async attach(channel: RoomChannel, login: Login): Promise<void> {
		this.waiting.add(channel);
		try {
			while (!this.open) {
				this.opening ??= this.openSocket(login).finally(() => {
					this.opening = undefined;
				});
				await this.opening;
			}
		} finally {
			this.waiting.delete(channel);
		}
		if (channel.closedWhileOpening) {
			this.closeIfIdle();
			throw new RoomError('network', 'closed');
		}
		this.refuseIfTaken(channel);
		this.channels.push(channel);
	}

	/** Takes a channel off the connection: leaves its room if the server has us there; the last one closes the socket. */
	detach(channel: RoomChannel): void {
		const index = this.channels.indexOf(channel);
		if (index < 0) return;
		this.channels.splice(index, 1);
		this.helloPending = this.helloPending.filter((c) => c !== channel);
		this.listAskers = this.listAskers.filter((c) => c !== channel);
		if (this.firstRoom === channel) this.firstRoom = undefined;
		if (channel.joinedOnServer && this.open) {
			channel.joinedOnServer = false;
			this.transport.send(stampRoom({t: 'leave'}, this.wireRoom(channel)));
		}
		this.closeIfIdle();
	}

	/** Sends a channel's message with its room stamped, noting what routing needs to know. */
	sendFrom(channel: RoomChannel, message: ClientMessage): void {
		if (!this.channels.includes(channel)) return;
		if (message.t === 'hello') {
			this.firstRoom ??= channel;
			if (!this.helloPending.includes(channel)) this.helloPending.push(channel);
		} else if (message.t === 'leave') channel.joinedOnServer = false;
		else if (message.t === 'list') this.listAskers.push(channel);
		this.transport.send(stampRoom(message, this.wireRoom(channel)));
	}

	/** The room a channel's messages name: none on a one-room server; the default room's name once known. */
	private wireRoom(channel: RoomChannel): string | undefined {
		if (!this.multiRoom) return undefined;
		return channel.room ?? channel.learnedRoom ?? this.defaultRoom;
	}

	/** A channel's room as compared: its key, '' for the default room while its name is unknown. */
	private keyOf(channel: RoomChannel): string {
		const name = channel.room ?? channel.learnedRoom ?? this.defaultRoom;
		return name === undefined ? '' : roomKey(name);
	}

	private refuseIfTaken(channel: RoomChannel): void {
		const key = this.keyOf(channel);
		const label = channel.room ?? channel.learnedRoom ?? this.defaultRoom ?? 'the default room';
		if (this.channels.some((other) => this.keyOf(other) === key))
			throw new RoomError('bad-request', `${label} is already open on this connection`);
		if (!this.multiRoom && this.channels.length > 0)
			throw new RoomError(
				'no-such-room',
				`this server has one room only${this.defaultRoom === undefined ? '' : ` (${this.defaultRoom})`}`,
			);
	}

	private async openSocket(login: Login): Promise<void> {
		await this.transport.open(login);
		this.open = true;
		this.firstRoom = undefined;
		this.helloPending = [];
		this.listAskers = [];
	}

	private closeIfIdle(): void {
		if (this.channels.length > 0 || this.waiting.size > 0 || this.opening) return;
		this.open = false;
		this.transport.close();
	}

	/** The socket is gone: every channel is off it and hears so; their reconnects share the next login. */
	private lost(reason: string): void {
		this.open = false;
		const channels = [...this.channels];
		this.channels.length = 0;
		this.helloPending = [];
		this.listAskers = [];
		this.firstRoom = undefined;
		for (const channel of channels) {
			channel.joinedOnServer = false;
			channel.lost(reason);
		}
	}

	private route(message: ServerMessage): void {
		switch (message.t) {
			case 'welcome':
				return this.welcome(message);
			case 'session':
			case 'invited':
				return this.channels[0]?.deliver(message);
			case 'rooms':
				return (this.listAskers.shift() ?? this.channels[0])?.deliver(message);
			case 'bye':
				if (message.room === undefined) {
					// The whole connection ends (shutdown, logged in elsewhere): every room hears why.
					for (const channel of [...this.channels]) {
						channel.joinedOnServer = false;
						channel.deliver(message);
					}
					return;
				}
		}
		const room = 'room' in message && typeof message.room === 'string' ? message.room : undefined;
		const channel = room === undefined ? (this.firstRoom ?? this.channels[0]) : this.channelFor(room);
		if (!channel) return; // a room we have left: its last frames cross our leave
		if (message.t === 'bye') channel.joinedOnServer = false; // kicked or banned from this room only
		channel.deliver(message);
	}

	/** The channel of a room named by the server; a default-room channel not yet welcomed takes its refusal. */
	private channelFor(room: string): RoomChannel | undefined {
		const key = roomKey(room);
		return (
			this.channels.find((c) => this.keyOf(c) === key) ??
			this.helloPending.find((c) => c.room === undefined && c.learnedRoom === undefined)
		);
	}

	private welcome(message: Extract<ServerMessage, {t: 'welcome'}>): void {
		const key = message.room === '' ? undefined : roomKey(message.room);
		const channel =
			this.helloPending.find((c) => key !== undefined && this.keyOf(c) === key) ??
			this.helloPending.find((c) => c.room === undefined && c.learnedRoom === undefined) ??
			this.helloPending[0] ??
			(key === undefined ? undefined : this.channels.find((c) => this.keyOf(c) === key));
		if (!channel) return;
		this.helloPending = this.helloPending.filter((c) => c !== channel);
		channel.joinedOnServer = true;
		if (message.room !== '' && channel.room === undefined) {
			channel.learnedRoom = roomLabel(message.room);
			this.defaultRoom ??= channel.learnedRoom;
		}
		channel.deliver(message);
	}
}
