// The TCP authenticated server: TLS 1.3, length-prefixed JSON frames, a SCRAM
// login bound to the TLS channel, then any number of rooms over the one
// connection (the room hub), each the same room core as the UDP room with a
// persistent journal behind it. This file wires the parts together:
// admission (accept-time limits, TLS), the login session, the hub, the room link.

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
import {DEFAULT_PASSWORD_POLICY} from '../../source/protocol/password-policy.js';
import {
	CAPABILITY,
	MULTI_ROOM_VERSION,
	PROTOCOL_VERSIONS,
	chooseVersion,
	offeredVersions,
	unsupportedVersionText,
} from '../../source/protocol/versions.js';
import {ConnectionLimiter} from '../auth/connection-limiter.js';
import {LoginThrottle} from '../auth/login-throttle.js';
import {parseFileClientMessage, isFileFrame} from '../../source/protocol/file-messages.js';
import {fileIndexOf} from '../files/file-index.js';
import {FileService} from '../files/file-service.js';
import {FileStore} from '../files/file-store.js';
import type {ClusterNode} from '../cluster/cluster-node.js';
import {type HubJournal, RoomHub} from '../hub/room-hub.js';
import {Room} from '../room/room.js';
import type {AccountStore} from '../store/account-store.js';
import {LocalJournal} from '../store/local-journal.js';
import type {Log} from '../log/log.js';
import {rateLimitedLog} from '../log/rate-limited-log.js';
import {createAdmission, type Admitted} from './admission.js';
import type {Connection} from './connection.js';
import {FramedLink} from './framed-link.js';
import {LoginSession, offeredMechanism} from './login-session.js';
import {RoomLink, framedRoomOutput} from './room-link.js';
import {StoreJournal, type StoreJournalOptions} from './store-journal.js';

export type {Connection};

export interface TcpRoomServerOptions {
	host?: string;
	port?: number;
	store: AccountStore;
	/** Stable across restarts: seeds the fake salts of unknown users. */
	serverSecret: Buffer;
	/** TLS certificate and key; undefined runs plaintext (only behind an explicit flag). */
	tls: {cert: string; key: string} | undefined;
	/** The default room: where a hello without `room` goes (default lobby). */
	roomName?: string;
	/** Who may create rooms by joining them (default any logged-in user). */
	roomCreation?: 'any' | 'admin';
	/** Rooms on the server (default 10,000). */
	maxRooms?: number;
	/** Rooms one account may be in (default 100; admins unlimited). */
	maxRoomsPerUser?: number;
	/** Connections one account may hold logged in and joined at once (default 10). */
	maxSessionsPerAccount?: number;
	allowRegister?: boolean;
	/** Shortest password a registration may use, announced to clients (default DEFAULT_PASSWORD_POLICY). */
	passwordMin?: number;
	maxFrameBytes?: number;
	maxQueueBytes?: number;
	/** Members one room admits (default 256). */
	maxMembers?: number;
	limits?: Partial<ServerLimits>;
	/** Lines held for a member over the rate before it is kicked for flooding (default 50). */
	floodQueue?: number;
	/** Sockets one address (an IPv6 /64) may hold open; more are dropped at accept, before TLS (default 16). */
	maxConnectionsPerAddress?: number;
	/** Sockets in all; when full, the oldest connection not yet logged in yields to a newcomer (default 2048). */
	maxConnections?: number;
	/** From accept to a finished login, TLS handshake included (default 5 s). */
	authTimeoutMs?: number;
	/** From login to `hello` (default 10 s). */
	joinTimeoutMs?: number;
	/** `ping`/`who` frames a member may send per second (default 2, twice that as a burst). */
	queriesPerSecond?: number;
	/** Log lines a second about things strangers cause at will (failed logins, violations) (default 20). */
	strangerLogPerSecond?: number;
	/** Holds the local message journal (acknowledged = on disk here); in memory without it (tests only). */
	dataDir?: string;
	/** Messages shown to a member on first join. */
	historyOnJoin?: number;
	/** Largest file one upload may be (default 100 MiB). */
	maxFileBytes?: number;
	/** Bytes of files one account may share in all (default 1 GiB). */
	fileQuotaBytes?: number;
	throttle?: LoginThrottle;
	/** This server as a node of a cluster: rooms shared with other servers over the broker and the shared database. */
	cluster?: ClusterNode;
	log?: Log;
}

/** A room's journal as the server keeps it: the local one (one server) or the cluster's. */
type ServerJournal = HubJournal & {readonly pendingWrites: number};

export interface TcpCloseOptions {
	/** After telling everyone goodbye, wait this long at most for the database to catch up with the journal. */
	flushWithinMs?: number;
}

export interface TcpRoomServer {
	readonly host: string;
	readonly port: number;
	/** The default room. */
	readonly room: Room<Connection>;
	/** The default room's journal. */
	readonly journal: ServerJournal;
	readonly hub: RoomHub<Connection>;
	readonly stats: {
		connections: number;
		logins: number;
		failedLogins: number;
		violations: number;
		/** Refused at accept time, over a connection limit. */
		refused: number;
		/** Cut off before login to make room for a newcomer. */
		evicted: number;
		/** Frames received and sent, on every connection. */
		messagesIn: number;
		messagesOut: number;
		/** Connections cut off as too slow (their send queue overflowed). */
		overflows: number;
	};
	/** Connections open now (past admission, logged in or not). */
	readonly openConnections: number;
	/** Connections logged in and in rooms. */
	readonly sessions: number;
	/** Messages acknowledged but not yet copied to the database, in all rooms. */
	readonly pendingWrites: number;
	/** The local journal's group commits (each one fsync) and the appends they carried, failed ones apart. */
	readonly journalStats: Readonly<LocalJournal['stats']>;
	/** Raw sockets held open for an address (its /64 for IPv6). */
	socketsFrom(address: string): number;
	/** Stops accepting, tells everyone to reconnect elsewhere, lets the journals catch up (bounded), closes. */
	close(options?: TcpCloseOptions): Promise<void>;
}

export async function startTcpRoomServer(options: TcpRoomServerOptions): Promise<TcpRoomServer> {
	const host = options.host ?? '127.0.0.1';
	const log = options.log ?? (() => {});
	const maxFrameBytes = options.maxFrameBytes ?? 64 * 1024;
	const maxQueueBytes = options.maxQueueBytes ?? 1024 * 1024;
	const joinTimeoutMs = options.joinTimeoutMs ?? 10_000;
	const strangerLog = rateLimitedLog(log, {perSecond: options.strangerLogPerSecond ?? 20});
	const limiter = new ConnectionLimiter({
		maxPerAddress: options.maxConnectionsPerAddress ?? 16,
		maxTotal: options.maxConnections ?? 2048,
	});
	const stats = {
		connections: 0,
		logins: 0,
		failedLogins: 0,
		violations: 0,
		refused: 0,
		evicted: 0,
		messagesIn: 0,
		messagesOut: 0,
		overflows: 0,
	};
	const roomName = options.roomName ?? 'lobby';
	// One local journal for every room: a thousand rooms must not open a thousand SQLite handles.
	const local = await LocalJournal.open(options.dataDir);
	const journals = new Map<string, ServerJournal>();
	const cluster = options.cluster;
	const openJournal = async (key: string): Promise<ServerJournal> => {
		if (cluster) {
			// The shared database is the journal: numbers from one place for every node.
			const journal = await cluster.openJournal(key);
			journals.set(key, journal);
			return journal;
		}
		// `local` is the shared journal (the store helper's StoreJournal takes it); `dir` opens its own.
		const journalOptions: StoreJournalOptions & {local: LocalJournal} = {
			log,
			local,
			...(options.dataDir ? {dir: options.dataDir} : {}),
		};
		const journal = await StoreJournal.open(options.store, key, journalOptions);
		journals.set(key, journal);
		return journal;
	};
	const passwordMin = options.passwordMin ?? DEFAULT_PASSWORD_POLICY.minLength;
	const capabilities: string[] = [
		CAPABILITY.dm,
		CAPABILITY.action,
		CAPABILITY.away,
		CAPABILITY.multiRoom,
		CAPABILITY.moderation,
		CAPABILITY.historyPaging,
		CAPABILITY.multiSession,
		CAPABILITY.files,
	];
	if (options.allowRegister) capabilities.push(CAPABILITY.register);
	if (options.tls) capabilities.push(CAPABILITY.tokenLogin);
	let hub: RoomHub<Connection>;
	try {
		hub = await RoomHub.start<Connection>({
			defaultRoom: roomName,
			store: options.store,
			openJournal,
			createRoom: (spec) => {
				const made = new Room<Connection>({
					name: spec.name,
					output: framedRoomOutput(maxFrameBytes, spec.key, spec.label),
					log,
					historyPageBytes: Math.floor(maxFrameBytes / 2), // pages well inside a frame
					...(options.limits ? {limits: options.limits} : {}),
					...(options.maxMembers ? {maxMembers: options.maxMembers} : {}),
					capabilities,
					...spec.options,
					...(cluster
						? {
								peers: cluster.peersFor(spec.key),
								onSettingsChange: (settings) => {
									spec.options.onSettingsChange?.(settings);
									cluster.settingsChanged(spec.key, settings);
								},
							}
						: {}),
				});
				cluster?.bind(spec.key, made as Room<unknown>);
				return made;
			},
			...(options.roomCreation ? {roomCreation: options.roomCreation} : {}),
			...(options.maxRooms ? {maxRooms: options.maxRooms} : {}),
			...(options.maxRoomsPerUser ? {maxRoomsPerUser: options.maxRoomsPerUser} : {}),
			...(options.maxSessionsPerAccount ? {maxSessionsPerAccount: options.maxSessionsPerAccount} : {}),
			notify: (connection, message) => connection.link.send(message),
			...(cluster
				? {sharedRooms: true, onInvite: (account, label, by) => cluster.invited(account, label, by)}
				: {}),
			log,
		});
	} catch (error) {
		for (const journal of journals.values()) journal.close();
		closeQuietly(local);
		throw error;
	}
	// Invites made on other nodes reach the invitee's sessions here.
	cluster?.onInvited((account, label, by) => hub.deliverInvite(account, label, by));
	const fileStore = await FileStore.open(options.dataDir);
	const files = new FileService({
		index: fileIndexOf(options.store),
		store: fileStore,
		maxFileBytes: options.maxFileBytes ?? 100 * 1024 * 1024,
		quotaBytes: options.fileQuotaBytes ?? 1024 * 1024 * 1024,
		log,
	});
	const room = hub.defaultRoom;
	const journal = journals.get(hub.defaultKey)!;
	const roomLink = new RoomLink({
		hub,
		historyOnJoin: options.historyOnJoin ?? 50,
		queriesPerSecond: options.queriesPerSecond ?? 2,
		maxFrameBytes,
		...(options.floodQueue ? {floodQueue: options.floodQueue} : {}),
	});
	const loginSettings = {
		store: options.store,
		serverSecret: options.serverSecret,
		throttle: options.throttle ?? new LoginThrottle(),
		allowRegister: options.allowRegister === true,
		log: strangerLog,
		auditLog: log,
		stats,
		passwordMin,
	};

	const fail = (
		connection: Connection,
		code: ErrorCode,
		message: string,
		extra: Record<string, unknown> = {},
	) => {
		connection.link.close({t: 'error', code, message, ...extra});
	};

	const onMessage = async (connection: Connection, value: unknown): Promise<void> => {
		if (connection.phase === 'auth') {
			const message = parseAuthClientMessage(value);
			if (!message) return fail(connection, 'not-allowed', 'log in first');
			const user = await connection.login.handle(message);
			if (user !== undefined) {
				connection.user = user;
				// Fetched once: a session keeps the standing it logged in with.
				connection.admin = await options.store.isAdmin(user).catch(() => false);
				connection.phase = 'authed';
				connection.admitted.loggedIn();
				// Logged in but never joining would hold a slot for good; cleared at the join.
				connection.joinTimer = setTimeout(() => {
					if (connection.phase === 'authed') fail(connection, 'not-joined', 'join timed out: say hello');
				}, joinTimeoutMs).unref();
			}
			return;
		}
		// File frames (capability `files`) once in a room; the file service checks them.
		// Not awaited: hashing a finished upload must not hold this connection's chat back.
		// Chunks are handled synchronously, so they stay in order all the same.
		if (connection.phase === 'joined' && isFileFrame(value)) {
			const message = parseFileClientMessage(value);
			files.handle(connection, message).catch((error) => {
				log(`file transfer error for ${connection.user}: ${(error as Error).stack ?? error}`);
				if (connection.link.isOpen)
					connection.link.send({
						t: 'error',
						code: 'server-error',
						message: 'file transfer failed on the server',
					});
			});
			return;
		}
		const message = parseClientMessage(value);
		if (connection.phase === 'authed') {
			if (message.t !== 'hello') return fail(connection, 'not-joined', 'say hello first');
			const offered = offeredVersions(message);
			const version = chooseVersion(offered);
			if (version === undefined)
				return fail(connection, 'unsupported-version', unsupportedVersionText(offered, PROTOCOL_VERSIONS), {
					versions: [...PROTOCOL_VERSIONS],
				});
			// The first hello settles the version for the whole connection.
			connection.version = version;
			const user = connection.user!;
			try {
				hub.openSession(user, connection);
				connection.phase = 'joined';
				clearTimeout(connection.joinTimer);
				connection.joinTimer = undefined;
				await roomLink.join(connection, message);
			} catch (error) {
				if (!(error instanceof ProtocolError)) throw error;
				fail(connection, error.code, error.message, message.room === undefined ? {} : {room: message.room});
				return;
			}
			// A new session (a second machine) reopens the rooms its account is in.
			if (version >= MULTI_ROOM_VERSION)
				connection.link.send({t: 'session', rooms: (await hub.memberships(user)).slice(0, 1000)});
			return;
		}
		await roomLink.handle(connection, message);
	};

	const open = new Set<Connection>();
	const accept = (socket: net.Socket, admitted: Admitted) => {
		const address = socket.remoteAddress ?? 'unknown';
		stats.connections++;
		const connection = {
			address,
			phase: 'auth',
			admitted,
			admin: false,
			version: 1,
			rooms: new Map(),
			busy: Promise.resolve(),
		} as unknown as Connection;
		open.add(connection);
		log(`connection from ${address}`, {level: 'debug', address});
		let dropReason: string | undefined;
		admitted.cutOff = (reason) => fail(connection, 'auth-failed', reason);
		connection.link = new FramedLink(socket, {
			maxFrameBytes,
			maxQueueBytes,
			onMessage: (value) => {
				connection.busy = connection.busy
					.then(() => (connection.link.isOpen ? onMessage(connection, value) : undefined))
					.catch((error) => {
						if (error instanceof ProtocolError) {
							stats.violations++;
							// A joined connection hears what was wrong and stays; before joining, it is closed.
							if (connection.phase === 'joined')
								connection.link.send({t: 'error', code: error.code, message: error.message});
							else fail(connection, error.code, error.message);
							return;
						}
						log(`error on connection from ${address}: ${(error as Error).stack ?? error}`, {
							level: 'error',
							address,
						});
						fail(connection, 'server-error', 'internal error');
					});
			},
			counters: stats,
			onViolation: (reason, code) => {
				stats.violations++;
				if (code === 'too-slow') stats.overflows++;
				dropReason = reason;
				// Names are kept only once they passed the name rules, so they are safe in a line as they are.
				const who = connection.user ?? connection.login.user;
				(connection.user ? log : strangerLog)(`disconnected ${who ?? address}: ${reason}`, {
					level: 'warn',
					address,
					...(who === undefined ? {} : {user: who}),
				});
			},
			onClose: () => {
				open.delete(connection);
				log(`connection from ${address} closed`, {
					level: 'debug',
					address,
					...(connection.user === undefined ? {} : {user: connection.user}),
				});
				connection.login.end();
				// The others see why a member was dropped ("too slow: …"), not just that it left.
				roomLink.leaveAll(connection, dropReason);
				files.closed(connection);
				if (connection.phase === 'joined' && connection.user !== undefined)
					hub.closeSession(connection.user, connection);
			},
		});
		connection.login = new LoginSession(connection.link, address, loginSettings);
		connection.link.send({
			t: 'auth-mechs',
			mechs: [offeredMechanism(socket)],
			register: options.allowRegister === true,
			...(options.allowRegister === true ? {password_min: passwordMin} : {}),
			versions: [...PROTOCOL_VERSIONS],
			caps: capabilities,
		});
	};

	const secureContext = options.tls
		? tls.createSecureContext({cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.3'})
		: undefined;
	// noDelay: chat frames are small and latency-bound; with Nagle on, a frame
	// written while the previous one is unacknowledged waits for the client's
	// delayed ACK (up to ~40 ms on Linux).
	const admission = createAdmission({
		limiter,
		secureContext,
		preLoginTimeoutMs: options.authTimeoutMs ?? 5000,
		stats,
		accept,
	});
	const server = net.createServer({noDelay: true}, admission.onConnection);
	server.on('error', (error) => log(`tcp server error: ${error.message}`, {level: 'error'}));
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
		hub,
		stats,
		get openConnections() {
			return open.size;
		},
		get sessions() {
			let joined = 0;
			for (const connection of open) if (connection.phase === 'joined') joined++;
			return joined;
		},
		get pendingWrites() {
			if (!local.isOpen) return 0;
			let pending = 0;
			for (const journal of journals.values()) pending += journal.pendingWrites;
			return pending;
		},
		journalStats: local.stats,
		socketsFrom: admission.heldFrom,
		async close({flushWithinMs = 0}: TcpCloseOptions = {}) {
			// Newcomers first: from here on they are refused by the kernel (another node takes them).
			const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
			roomLink.clearFloods();
			for (const openRoom of hub.all()) openRoom.closeAll('server shutting down'); // bye, retry: reconnect elsewhere
			for (const connection of open)
				connection.link.close({t: 'bye', reason: 'server shutting down', retry: true});
			admission.cutOffPreLogin('server shutting down'); // those still in their TLS handshake too
			// Acknowledged messages are on disk already; let the database copy finish if it can in time.
			// The other nodes hear this one go (its members' leaving is written there).
			await cluster?.close();
			const unstored = await journalsFlushed(local, [...journals.values()], flushWithinMs);
			if (unstored > 0)
				log(
					`${unstored} acknowledged messages wait in the local journal for the database; they are stored at the next start`,
					{level: 'warn'},
				);
			hub.close('server shutting down');
			closeQuietly(local);
			files.close();
			await listenerClosed;
			await fileStore.close();
		},
	};
}

/** Waits until no journal has messages waiting for the database, at most `withinMs`; resolves to those still waiting. */
async function journalsFlushed(
	local: LocalJournal,
	journals: ServerJournal[],
	withinMs: number,
): Promise<number> {
	const deadline = Date.now() + withinMs;
	// A local journal closed already (a second close) has nothing more to hand over.
	const waiting = () =>
		local.isOpen ? journals.reduce((sum, journal) => sum + journal.pendingWrites, 0) : 0;
	while (waiting() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
	return waiting();
}

/** The shared local journal may already be closed by the journals using it. */
function closeQuietly(local: LocalJournal): void {
	try {
		local.close();
	} catch {
		// already closed
	}
}
