// The TCP authenticated room: TLS 1.3, length-prefixed JSON frames, a SCRAM
// login bound to the TLS channel, then the same room core as the UDP room
// with a persistent journal behind it.

import net from 'node:net';
import tls from 'node:tls';
import {Buffer} from 'node:buffer';
import {parseAuthClientMessage, type AuthClientMessage} from '../../source/protocol/auth-messages.js';
import {encodeFrame} from '../../source/protocol/framing.js';
import {
	ProtocolError,
	encodeJson,
	parseClientMessage,
	type ErrorCode,
	type ServerLimits,
} from '../../source/protocol/messages.js';
import {
	MAX_ITERATIONS,
	MIN_ITERATIONS,
	ScramError,
	ScramServer,
	parseClientFirst,
	tlsExporterChannelBinding,
} from '../../source/protocol/scram.js';
import {ConnectionLimiter} from '../auth/connection-limiter.js';
import {LoginThrottle} from '../auth/login-throttle.js';
import {Room, type Member, type RoomOutput} from '../room/room.js';
import {UserExistsError, usernameKey, usernameProblem, type AccountStore} from '../store/account-store.js';
import {FramedLink} from './framed-link.js';
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
	/** Holds the local message journal (acknowledged = on disk here); in memory without it (tests only). */
	dataDir?: string;
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
	user?: string;
	member?: Member<Connection>;
	scram?: ScramServer;
	/** Login is async (PBKDF2, database); frames arriving meanwhile wait their turn. */
	busy: Promise<void>;
}

const GENERIC_FAILURE = 'invalid user name or password';

export async function startTcpRoomServer(options: TcpRoomServerOptions): Promise<TcpRoomServer> {
	const host = options.host ?? '127.0.0.1';
	const log = options.log ?? (() => {});
	const maxFrameBytes = options.maxFrameBytes ?? 64 * 1024;
	const maxQueueBytes = options.maxQueueBytes ?? 1024 * 1024;
	const authTimeoutMs = options.authTimeoutMs ?? 15_000;
	const MAX_REFUSING = 64;
	const historyOnJoin = options.historyOnJoin ?? 50;
	const limiter = new ConnectionLimiter({
		maxPerAddress: options.maxConnectionsPerAddress ?? 16,
		maxTotal: options.maxConnections ?? 2048,
	});
	const throttle = options.throttle ?? new LoginThrottle();
	const stats = {connections: 0, logins: 0, failedLogins: 0, violations: 0};
	const roomName = options.roomName ?? 'lobby';
	const journal = await StoreJournal.open(options.store, roomName, {
		log,
		...(options.dataDir ? {dir: options.dataDir} : {}),
	});

	const output: RoomOutput<Connection> = {
		broadcast(message, members) {
			const frame = encodeFrame(encodeJson(message), maxFrameBytes); // once for everyone
			for (const member of members) member.link.link.enqueue(frame);
		},
		send(member, message) {
			member.link.link.send(message);
		},
		disconnect(member, reason, retry) {
			member.link.link.close({t: 'bye', reason, ...(retry ? {retry} : {})});
		},
	};
	const room = new Room<Connection>({
		name: roomName,
		output,
		journal,
		log,
		historyPageBytes: Math.floor(maxFrameBytes / 2), // pages well inside a frame
		...(options.limits ? {limits: options.limits} : {}),
		...(options.maxMembers ? {maxMembers: options.maxMembers} : {}),
	});

	const fail = (
		connection: Connection,
		code: ErrorCode,
		message: string,
		extra: Record<string, unknown> = {},
	) => {
		connection.link.close({t: 'error', code, message, ...extra});
	};

	const handleAuth = async (connection: Connection, message: AuthClientMessage): Promise<void> => {
		if (message.t === 'register') return register(connection, message);
		if (message.t === 'auth') {
			if (connection.scram) return fail(connection, 'bad-request', 'login already started');
			let username: string;
			try {
				username = parseClientFirst(message.data).username;
			} catch {
				return fail(connection, 'auth-failed', GENERIC_FAILURE);
			}
			const decision = throttle.check(username, connection.address);
			if (!decision.allowed) {
				const seconds = Math.ceil(decision.retryAfterMs / 1000);
				log(`login throttled for ${JSON.stringify(username)} from ${connection.address}`);
				return fail(connection, 'throttled', `too many failed logins; try again in ${seconds} s`, {
					retryAfterMs: decision.retryAfterMs,
				});
			}
			const socket = connection.link.socket;
			const channelBinding = socket instanceof tls.TLSSocket ? tlsExporterChannelBinding(socket) : undefined;
			const scram = new ScramServer({
				lookup: (name) => options.store.getVerifier(name),
				serverSecret: options.serverSecret,
				canonicalName: (name) => (usernameProblem(name) ? name : usernameKey(name)),
				...(channelBinding ? {channelBinding, requireChannelBinding: true} : {}),
			});
			connection.scram = scram;
			connection.user = username;
			try {
				connection.link.send({t: 'auth-challenge', data: await scram.first(message.data)});
			} catch (error) {
				if (error instanceof ScramError) {
					throttle.recordFailure(username, connection.address);
					return fail(connection, 'auth-failed', `${GENERIC_FAILURE} (${error.message})`);
				}
				log(`authentication backend unavailable: ${(error as Error).message}`);
				return fail(connection, 'auth-unavailable', 'authentication backend unavailable; try again shortly');
			}
			return;
		}
		// auth-final
		if (!connection.scram || !connection.user) return fail(connection, 'bad-request', 'login not started');
		const outcome = await connection.scram.final(message.data);
		if (!outcome.ok) {
			stats.failedLogins++;
			throttle.recordFailure(connection.user, connection.address);
			log(`failed login for ${JSON.stringify(connection.user)} from ${connection.address}`);
			return fail(connection, 'auth-failed', GENERIC_FAILURE);
		}
		throttle.recordSuccess(connection.user);
		stats.logins++;
		connection.phase = 'authed';
		connection.scram = undefined;
		connection.link.send({t: 'auth-ok', data: outcome.serverFinal, user: connection.user});
	};

	const register = async (connection: Connection, message: Extract<AuthClientMessage, {t: 'register'}>) => {
		if (!options.allowRegister)
			return fail(connection, 'not-allowed', 'this server does not allow registration');
		const problem = usernameProblem(message.user);
		if (problem) return connection.link.send({t: 'error', code: 'bad-request', message: problem});
		const decision = throttle.check(message.user, connection.address);
		if (!decision.allowed) return fail(connection, 'throttled', 'too many attempts; try again later');
		const salt = Buffer.from(message.salt, 'base64');
		const storedKey = Buffer.from(message.storedKey, 'base64');
		const serverKey = Buffer.from(message.serverKey, 'base64');
		if (salt.length < 16 || storedKey.length !== 32 || serverKey.length !== 32)
			return fail(connection, 'bad-request', 'malformed verifier');
		if (message.iterations < MIN_ITERATIONS || message.iterations > MAX_ITERATIONS)
			return fail(connection, 'bad-request', `iterations must be ${MIN_ITERATIONS}–${MAX_ITERATIONS}`);
		// Registrations count against the address like failures: no account spraying.
		throttle.recordFailure(`register:${message.user}`, connection.address);
		try {
			await options.store.createUser(message.user, {
				salt,
				storedKey,
				serverKey,
				iterations: message.iterations,
			});
			log(`registered ${message.user}`);
			connection.link.send({t: 'registered', user: message.user});
		} catch (error) {
			if (error instanceof UserExistsError)
				return connection.link.send({
					t: 'error',
					code: 'nick-taken',
					message: `the user name ${message.user} is taken`,
				});
			return fail(connection, 'auth-unavailable', 'authentication backend unavailable; try again shortly');
		}
	};

	const onMessage = async (connection: Connection, value: unknown): Promise<void> => {
		if (connection.phase === 'auth') {
			const message = parseAuthClientMessage(value);
			if (!message) return fail(connection, 'not-allowed', 'log in first');
			return handleAuth(connection, message);
		}
		const message = parseClientMessage(value);
		if (connection.phase === 'authed') {
			if (message.t !== 'hello') return fail(connection, 'not-joined', 'say hello first');
			try {
				// The account name is the nick: identity in this room is proven, not claimed.
				connection.member = room.join(connection, connection.user!, {
					...(message.since === undefined ? {history: historyOnJoin} : {since: message.since}),
				});
				connection.phase = 'joined';
			} catch (error) {
				if (!(error instanceof ProtocolError)) throw error;
				// Already here from another connection: the newer one wins (a reconnect).
				const previous = error.code === 'nick-taken' ? room.findMember(connection.user!) : undefined;
				if (!previous) return fail(connection, error.code, error.message);
				room.leave(previous, 'leave', 'reconnected');
				previous.link.link.close({t: 'bye', reason: 'logged in from elsewhere'});
				connection.member = room.join(connection, connection.user!, {
					...(message.since === undefined ? {history: historyOnJoin} : {since: message.since}),
				});
				connection.phase = 'joined';
			}
			return;
		}
		if (message.t === 'nick') {
			return room.sendError(connection.member!, 'not-allowed', 'nicks are account names in this room');
		}
		room.handle(connection.member!, message);
		if (!room.isMember(connection.member!)) connection.link.close();
	};

	const open = new Set<Connection>();
	const accept = (socket: net.Socket, admission: {release: () => void}) => {
		const address = socket.remoteAddress ?? 'unknown';
		stats.connections++;
		const connection: Connection = {address, phase: 'auth', busy: Promise.resolve()} as Connection;
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
				log(`disconnected ${connection.user ?? address}: ${reason}`);
			},
			onClose: () => {
				open.delete(connection);
				clearTimeout(authTimer);
				admission.release();
				// The others see why a member was dropped ("too slow: …"), not just that it left.
				if (connection.member) room.leave(connection.member, 'leave', dropReason);
			},
		});
		connection.link.send({
			t: 'auth-mechs',
			mechs: socket instanceof tls.TLSSocket ? ['SCRAM-SHA-256-PLUS'] : ['SCRAM-SHA-256'],
			register: options.allowRegister === true,
		});
	};

	const secureContext = options.tls
		? tls.createSecureContext({cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.3'})
		: undefined;
	/** Over-limit clients still hear why, but only this many at once: beyond it they are cut off without a word. */
	let refusing = 0;
	const refuse = (socket: net.Socket, reason: string) => {
		refusing++;
		socket.once('close', () => refusing--);
		socket.on('error', () => socket.destroy());
		socket.end(encodeFrame(encodeJson({t: 'error', code: 'throttled', message: reason})));
		setTimeout(() => socket.destroy(), 1000).unref();
	};
	// Connections are counted on the raw socket, before any TLS work, so a
	// client that never finishes (or never starts) a handshake still uses a slot.
	// noDelay: chat frames are small and latency-bound; with Nagle on, a frame
	// written while the previous one is unacknowledged waits for the client's
	// delayed ACK (up to ~40 ms on Linux).
	const server = net.createServer({noDelay: true}, (raw) => {
		raw.on('error', () => raw.destroy()); // a reset before we take over is no error of ours
		const address = raw.remoteAddress ?? 'unknown';
		const admission = limiter.tryAcquire(address);
		if (!admission.ok && refusing >= MAX_REFUSING) {
			raw.destroy();
			return;
		}
		const reason = admission.ok
			? undefined
			: admission.reason === 'per-address'
				? 'too many connections from your address'
				: 'the server is full, try again later';
		if (secureContext === undefined) {
			if (admission.ok) accept(raw, admission);
			else refuse(raw, reason!);
			return;
		}
		const socket = new tls.TLSSocket(raw, {isServer: true, secureContext});
		const handshakeTimer = setTimeout(() => socket.destroy(), authTimeoutMs);
		handshakeTimer.unref();
		const onEarlyError = () => socket.destroy(); // a failed handshake is the client's problem, not ours
		socket.on('error', onEarlyError);
		let accepted = false;
		socket.once('close', () => {
			clearTimeout(handshakeTimer);
			if (admission.ok && !accepted) admission.release();
		});
		socket.once('secure', () => {
			clearTimeout(handshakeTimer);
			socket.off('error', onEarlyError);
			if (!admission.ok) return refuse(socket, reason!);
			accepted = true;
			accept(socket, admission);
		});
	});
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
