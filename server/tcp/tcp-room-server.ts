// The TCP authenticated room: TLS 1.3, length-prefixed JSON frames, a SCRAM
// login bound to the TLS channel, then the same room core as the UDP room
// with a persistent journal behind it. This file wires the parts together:
// admission (accept-time limits, TLS), the login session, the room link.

import net from 'node:net';
import tls from 'node:tls';
import type {Buffer} from 'node:buffer';
import {parseAuthClientMessage} from '../../source/protocol/auth-messages.js';
import {
	ProtocolError,
	parseClientMessage,
	type ErrorCode,
	type ServerLimits,
} from '../../source/protocol/messages.js';
import {ConnectionLimiter} from '../auth/connection-limiter.js';
import {LoginThrottle} from '../auth/login-throttle.js';
import {Room, type Member} from '../room/room.js';
import type {AccountStore} from '../store/account-store.js';
import {admitConnections} from './admission.js';
import {FramedLink} from './framed-link.js';
import {LoginSession} from './login-session.js';
import {RoomLink, framedRoomOutput} from './room-link.js';
import {StoreJournal} from './store-journal.js';

export interface TcpRoomServerOptions {
	host?: string;
	port?: number;
	store: AccountStore;
	/** Stable across restarts: seeds the fake salts of unknown users. */
	serverSecret: Buffer;
	/** TLS certificate and key; undefined runs plaintext (only behind an explicit flag). */
	tls: {cert: string; key: string} | undefined;
	roomName?: string;
	allowRegister?: boolean;
	maxFrameBytes?: number;
	maxQueueBytes?: number;
	maxMembers?: number;
	limits?: Partial<ServerLimits>;
	maxConnectionsPerAddress?: number;
	maxConnections?: number;
	authTimeoutMs?: number;
	/** Messages shown to a member on first join. */
	historyOnJoin?: number;
	throttle?: LoginThrottle;
	log?: (line: string) => void;
}

export interface TcpRoomServer {
	readonly host: string;
	readonly port: number;
	readonly room: Room<Connection>;
	readonly journal: StoreJournal;
	readonly stats: {connections: number; logins: number; failedLogins: number; violations: number};
	close(): Promise<void>;
}

type Phase = 'auth' | 'authed' | 'joined';

interface Connection {
	link: FramedLink;
	address: string;
	phase: Phase;
	login: LoginSession;
	user?: string;
	member?: Member<Connection>;
	/** Login is async (PBKDF2, database); frames arriving meanwhile wait their turn. */
	busy: Promise<void>;
}

export async function startTcpRoomServer(options: TcpRoomServerOptions): Promise<TcpRoomServer> {
	const host = options.host ?? '127.0.0.1';
	const log = options.log ?? (() => {});
	const maxFrameBytes = options.maxFrameBytes ?? 64 * 1024;
	const maxQueueBytes = options.maxQueueBytes ?? 1024 * 1024;
	const authTimeoutMs = options.authTimeoutMs ?? 15_000;
	const limiter = new ConnectionLimiter({
		maxPerAddress: options.maxConnectionsPerAddress ?? 16,
		maxTotal: options.maxConnections ?? 2048,
	});
	const stats = {connections: 0, logins: 0, failedLogins: 0, violations: 0};
	const roomName = options.roomName ?? 'lobby';
	const journal = await StoreJournal.open(options.store, roomName, log);
	const room = new Room<Connection>({
		name: roomName,
		output: framedRoomOutput<Connection>(maxFrameBytes),
		journal,
		log,
		...(options.limits ? {limits: options.limits} : {}),
		...(options.maxMembers ? {maxMembers: options.maxMembers} : {}),
	});
	const roomLink = new RoomLink({room, historyOnJoin: options.historyOnJoin ?? 50});
	const loginSettings = {
		store: options.store,
		serverSecret: options.serverSecret,
		throttle: options.throttle ?? new LoginThrottle(),
		allowRegister: options.allowRegister === true,
		log,
		stats,
	};

	const fail = (connection: Connection, code: ErrorCode, message: string) => {
		connection.link.close({t: 'error', code, message});
	};

	const onMessage = async (connection: Connection, value: unknown): Promise<void> => {
		if (connection.phase === 'auth') {
			const message = parseAuthClientMessage(value);
			if (!message) return fail(connection, 'not-allowed', 'log in first');
			const user = await connection.login.handle(message);
			if (user !== undefined) {
				connection.user = user;
				connection.phase = 'authed';
			}
			return;
		}
		const message = parseClientMessage(value);
		if (connection.phase === 'authed') {
			try {
				connection.member = roomLink.join(connection, connection.user!, message);
				connection.phase = 'joined';
			} catch (error) {
				if (!(error instanceof ProtocolError)) throw error;
				fail(connection, error.code, error.message);
			}
			return;
		}
		roomLink.handle(connection.member!, message);
	};

	const open = new Set<Connection>();
	const accept = (socket: net.Socket, release: () => void) => {
		const address = socket.remoteAddress ?? 'unknown';
		stats.connections++;
		const connection = {address, phase: 'auth', busy: Promise.resolve()} as Connection;
		open.add(connection);
		let dropReason: string | undefined;
		const authTimer = setTimeout(() => {
			if (connection.phase === 'auth') fail(connection, 'auth-failed', 'login timed out');
		}, authTimeoutMs);
		authTimer.unref();
		connection.link = new FramedLink(socket, {
			maxFrameBytes,
			maxQueueBytes,
			onMessage: (value) => {
				connection.busy = connection.busy
					.then(() => (connection.link.isOpen ? onMessage(connection, value) : undefined))
					.catch((error) => {
						if (error instanceof ProtocolError) {
							stats.violations++;
							if (connection.member && room.isMember(connection.member))
								room.sendError(connection.member, error.code, error.message);
							else fail(connection, error.code, error.message);
							return;
						}
						log(`error on connection from ${address}: ${(error as Error).stack ?? error}`);
						fail(connection, 'server-error', 'internal error');
					});
			},
			onViolation: (reason) => {
				stats.violations++;
				dropReason = reason;
				log(`disconnected ${connection.user ?? connection.login.user ?? address}: ${reason}`);
			},
			onClose: () => {
				open.delete(connection);
				clearTimeout(authTimer);
				release();
				// The others see why a member was dropped ("too slow: …"), not just that it left.
				if (connection.member) room.leave(connection.member, 'leave', dropReason);
			},
		});
		connection.login = new LoginSession(connection.link, address, loginSettings);
		connection.link.send({
			t: 'auth-mechs',
			mechs: socket instanceof tls.TLSSocket ? ['SCRAM-SHA-256-PLUS'] : ['SCRAM-SHA-256'],
			register: options.allowRegister === true,
		});
	};

	const secureContext = options.tls
		? tls.createSecureContext({cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.3'})
		: undefined;
	// noDelay: chat frames are small and latency-bound; with Nagle on, a frame
	// written while the previous one is unacknowledged waits for the client's
	// delayed ACK (up to ~40 ms on Linux).
	const server = net.createServer(
		{noDelay: true},
		admitConnections({limiter, secureContext, handshakeTimeoutMs: authTimeoutMs, maxRefusing: 64, accept}),
	);
	server.on('error', (error) => log(`tcp server error: ${error.message}`));
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 0, host, () => {
			server.off('error', reject);
			resolve();
		});
	});
	const port = (server.address() as net.AddressInfo).port;
	log(
		`tcp room "${roomName}" listening on ${host}:${port} (${options.tls ? 'TLS 1.3' : 'PLAINTEXT — insecure'})`,
	);

	return {
		host,
		port,
		room,
		journal,
		stats,
		async close() {
			room.closeAll('server shutting down');
			for (const connection of open)
				connection.link.close({t: 'bye', reason: 'server shutting down', retry: true});
			journal.close();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
