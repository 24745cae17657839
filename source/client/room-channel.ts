// One room over a shared TCP connection (see tcp-connection-pool.ts): the
// Transport a RoomSession uses for a tcp:// room. It stamps its room on what
// it sends, hears only its room's frames, and closing it leaves the room only.

import type {ClientMessage, ServerMessage} from '../protocol/messages.js';
import {formatRoomUrl} from './room-url.js';
import type {SharedTcpConnection, TcpConnectionPool, TcpEndpoint} from './tcp-connection-pool.js';
import type {Login, Transport, TransportHandlers} from './transport.js';
import {RoomError} from './types.js';

export class RoomChannel implements Transport {
	readonly kind = 'tcp' as const;
	readonly reliable = true;
	readonly keepaliveMs = 10_000;
	/** True while the server has us in the room (welcomed; no leave, bye or lost socket since). */
	joinedOnServer = false;
	/** The room's name as the server's welcome gave it, for channels opened without one. */
	learnedRoom: string | undefined;
	private handlers: TransportHandlers | undefined;
	private connection: SharedTcpConnection | undefined;
	private opening = false;
	private closedDuringOpen = false;

	constructor(
		private readonly pool: TcpConnectionPool,
		private readonly endpoint: TcpEndpoint,
		/** `#name`; absent: the server's default room. */
		readonly room?: string,
	) {}

	get url(): string {
		const {host, port, alternates} = this.endpoint;
		return formatRoomUrl({
			transport: 'tcp',
			host,
			port,
			...(alternates?.length ? {alternates} : {}),
			...(this.room === undefined ? {} : {room: this.room}),
		});
	}

	/** The shared connection this channel is on (or was last on). */
	get shared(): SharedTcpConnection | undefined {
		return this.connection;
	}

	/** True when close() was called while open() waited for the login. */
	get closedWhileOpening(): boolean {
		return this.closedDuringOpen;
	}

	setHandlers(handlers: TransportHandlers): void {
		this.handlers = handlers;
	}

	async open(login: Login): Promise<void> {
		this.close();
		const connection = this.pool.connection(this.endpoint, login.nick);
		this.connection = connection;
		this.opening = true;
		this.closedDuringOpen = false;
		try {
			await connection.attach(this, login);
		} catch (error) {
			throw error instanceof RoomError ? error : new RoomError('network', (error as Error).message);
		} finally {
			this.opening = false;
		}
	}

	checkHost(): Promise<void> {
		return this.pool.checkHost(this.endpoint, (text) => this.handlers?.notice(text));
	}

	send(message: ClientMessage): void {
		this.connection?.sendFrom(this, message);
	}

	close(): void {
		if (this.opening) this.closedDuringOpen = true;
		this.connection?.detach(this);
	}

	sibling(room: string): Transport {
		return this.pool.channel(this.endpoint, room);
	}

	// ---- from the shared connection ----

	deliver(message: ServerMessage): void {
		this.handlers?.message(message);
	}

	lost(reason: string): void {
		this.handlers?.closed(reason, false);
	}

	notice(text: string): void {
		this.handlers?.notice(text);
	}

	problem(reason: string): void {
		this.handlers?.problem(reason);
	}
}
