// A scripted TCP server for the connection pool, without sockets: each
// connection the pool makes is a ScriptedConnection that counts logins,
// records what the client sends and lets the test answer, push and drop.
// By default it answers every hello with a welcome for the room it names.
import {DEFAULT_LIMITS, type ClientMessage, type ServerMessage} from '../../source/protocol/messages.js';
import {roomLabel} from '../../source/protocol/names.js';
import {CAPABILITY} from '../../source/protocol/versions.js';
import type {PooledTransport} from '../../source/client/tcp-connection-pool.js';
import {TcpConnectionPool} from '../../source/client/tcp-connection-pool.js';
import type {Login, TransportHandlers} from '../../source/client/transport.js';
import {RoomError} from '../../source/client/types.js';

export const V2_CAPS = [
	CAPABILITY.multiRoom,
	CAPABILITY.moderation,
	CAPABILITY.historyPaging,
	CAPABILITY.multiSession,
];

export class ScriptedServer {
	logins = 0;
	readonly connections: ScriptedConnection[] = [];
	caps: string[] = [...V2_CAPS];
	version = 2;
	defaultRoom = 'lobby';
	loginDelayMs = 20;
	/** Answers hellos with a welcome (set false to answer by hand). */
	autoWelcome = true;
	/** Extra fields for the next welcomes (topic, modes, role, read, members…). */
	welcomeExtra: Partial<Extract<ServerMessage, {t: 'welcome'}>> = {};
	readonly pool = new TcpConnectionPool({makeTransport: () => this.connect()});

	/** Every frame sent by clients, in order, over all connections. */
	get sent(): ClientMessage[] {
		return this.connections.flatMap((c) => c.sent);
	}

	get open(): ScriptedConnection[] {
		return this.connections.filter((c) => c.isOpen);
	}

	private connect(): ScriptedConnection {
		const connection = new ScriptedConnection(this);
		this.connections.push(connection);
		return connection;
	}

	welcome(hello: Extract<ClientMessage, {t: 'hello'}>): Extract<ServerMessage, {t: 'welcome'}> {
		const room = hello.room ?? this.defaultRoom;
		return {
			t: 'welcome',
			nick: hello.nick,
			room: this.version >= 2 ? roomLabel(room) : room,
			seq: 0,
			dseq: 0,
			members: [{nick: hello.nick}],
			limits: DEFAULT_LIMITS,
			v: this.version,
			caps: this.caps,
			...this.welcomeExtra,
		};
	}
}

export class ScriptedConnection implements PooledTransport {
	greeting: {versions: readonly number[]; caps: readonly string[]} | undefined;
	fingerprint: string | undefined;
	isOpen = false;
	closes = 0;
	/** What the client sent over this connection, across its sockets. */
	readonly sent: ClientMessage[] = [];
	private handlers: TransportHandlers | undefined;
	private saved: string | undefined;

	constructor(private readonly server: ScriptedServer) {}

	setHandlers(handlers: TransportHandlers): void {
		this.handlers = handlers;
	}

	async open(login: Login): Promise<void> {
		this.isOpen = false;
		if (login.password === undefined && this.saved !== login.nick)
			throw new RoomError('auth-failed', 'a password is needed for this room');
		this.server.logins++;
		await new Promise((resolve) => setTimeout(resolve, this.server.loginDelayMs));
		this.saved = login.nick;
		this.greeting = {versions: [1, this.server.version], caps: this.server.caps};
		this.isOpen = true;
	}

	async checkHost(): Promise<void> {}

	send(message: ClientMessage): void {
		if (!this.isOpen) return;
		this.sent.push(message);
		if (message.t === 'hello' && this.server.autoWelcome) {
			const welcome = this.server.welcome(message);
			queueMicrotask(() => this.push(welcome));
		}
	}

	close(): void {
		if (this.isOpen) this.closes++;
		this.isOpen = false;
	}

	/** A frame from the server. */
	push(message: ServerMessage): void {
		if (this.isOpen) this.handlers?.message(message);
	}

	/** The socket breaks. */
	drop(reason = 'connection reset'): void {
		this.isOpen = false;
		this.handlers?.closed(reason, false);
	}
}
