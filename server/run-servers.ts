// Starts the room servers `parley serve` (or the embedded local default) runs:
// the UDP broadcast rooms and the TLS-authenticated TCP rooms with their store.
import {randomBytes} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import {hostname} from 'node:os';
import {ClusterNode} from './cluster/cluster-node.js';
import {RedisBroker} from './cluster/redis-broker.js';
import {UdpRelay} from './cluster/udp-relay.js';
import {LoginThrottle, type LoginThrottleOptions} from './auth/login-throttle.js';
import {loadOrCreateServerSecret} from './auth/server-secret.js';
import {ensurePrivateDataDir} from './data-dir.js';
import type {AccountStore} from './store/account-store.js';
import {describeDatabaseUrl, openStore} from './store/open-store.js';
import {
	startTcpRoomServer,
	type TcpCloseOptions,
	type TcpRoomServer,
	type TcpRoomServerOptions,
} from './tcp/tcp-room-server.js';
import type {Log} from './log/log.js';
import {loadOrCreateCertificate} from './tls/certificate.js';
import {fingerprintOf} from '../source/protocol/fingerprint.js';
import {startUdpRoomServer, type UdpRoomServer} from './udp/udp-room-server.js';

export interface ServersOptions {
	host: string;
	udpPort: number;
	tcpPort: number;
	dataDir: string;
	log: Log;
	/** Wraps the store the servers use (the metrics time every call). */
	observeStore?: (store: AccountStore) => AccountStore;
	/** mysql://USER:PASS@HOST:PORT/DB; the embedded node:sqlite store when absent. */
	db?: string;
	tlsCert?: string;
	tlsKey?: string;
	insecurePlaintext?: boolean;
	allowRegister?: boolean;
	/** Shortest password a registration may use (default 8). */
	passwordMin?: number;
	/** The default room (where clients that name none land); it always exists. */
	roomName?: string;
	/** Members one room admits. */
	maxMembers?: number;
	/** Messages a second per member, and the burst (a paste) that may go at once; both rooms. */
	rateLimit?: number;
	rateBurst?: number;
	/** Lines held for a member over the rate before it is kicked for flooding (server/room/flood-control.ts). */
	floodQueue?: number;
	/** Who may create TCP rooms by joining them (default any logged-in user). */
	roomCreation?: 'any' | 'admin';
	/** Rooms on each transport (default 10,000). */
	maxRooms?: number;
	/** TCP rooms one account may be in (default 100). */
	maxRoomsPerUser?: number;
	/** TCP sessions one account may hold at once (default 10). */
	maxSessionsPerAccount?: number;
	/** Largest file one upload may be (default 100 MiB). */
	maxFileBytes?: number;
	/** Bytes of files one account may share in all (default 1 GiB). */
	fileQuotaBytes?: number;
	/** Give up waiting for the database after this many attempts (default: keep waiting). */
	dbAttempts?: number;
	/** A MySQL query unanswered this long counts as an outage. */
	dbTimeoutMs?: number;
	/** UDP limits against one hostile host (see UdpRoomServerOptions). */
	maxMembersPerAddress?: number;
	reassemblyBytes?: number;
	reassemblyBytesPerAddress?: number;
	replayPerMinute?: number;
	helloPerMinute?: number;
	/** UDP: messages a second a member may have resent, and how many it may save up. */
	resendRate?: number;
	resendBurst?: number;
	/** UDP: the receive buffer the server asks the kernel for (bytes). */
	udpReceiveBufferBytes?: number;
	/** UDP: the send buffer the server asks the kernel for (bytes). */
	udpSendBufferBytes?: number;
	/** The TCP room's abuse limits; each undefined keeps startTcpRoomServer's default. */
	tcpLimits?: TcpLimits;
	/** Cluster mode: the broker between the nodes (needs `db`). */
	cluster?: ClusterSettings;
}

export interface ClusterSettings {
	/** redis://HOST:PORT */
	redis: string;
	prefix?: string;
	/** This node's id (default: hostname:port and a random suffix). */
	nodeName?: string;
	gapMs?: number;
	pollMs?: number;
	nodeTimeoutMs?: number;
	/** Each broker hop (publish → receive), in seconds: the metrics' histogram. */
	onHop?: (seconds: number) => void;
}

export interface TcpLimits {
	maxConnectionsPerAddress?: number | undefined;
	maxConnections?: number | undefined;
	/** Bytes queued for one connection before it is cut off as too slow. */
	maxSendQueueBytes?: number | undefined;
	loginTimeoutMs?: number | undefined;
	joinTimeoutMs?: number | undefined;
	queriesPerSecond?: number | undefined;
	strangerLogPerSecond?: number | undefined;
	/** Failed logins a minute from one address at one account. */
	loginAttempts?: number | undefined;
	/** Failed logins a minute from one address at any accounts. */
	loginAttemptsPerAddress?: number | undefined;
	/** Failed logins an hour at one account from anywhere. */
	loginAttemptsPerAccount?: number | undefined;
}

/** The serve flags as startTcpRoomServer options; a flag not given keeps the option's default. */
function tcpLimitOptions(limits: TcpLimits = {}): Partial<TcpRoomServerOptions> {
	const rule = (maxFailures: number | undefined, windowMs: number) =>
		maxFailures === undefined ? undefined : {maxFailures, windowMs};
	const throttle: LoginThrottleOptions = {};
	const perAddressAccount = rule(limits.loginAttempts, 60_000);
	const perAddress = rule(limits.loginAttemptsPerAddress, 60_000);
	const perAccount = rule(limits.loginAttemptsPerAccount, 3_600_000);
	if (perAddressAccount) throttle.perAddressAccount = perAddressAccount;
	if (perAddress) throttle.perAddress = perAddress;
	if (perAccount) throttle.perAccount = perAccount;
	const options: Partial<TcpRoomServerOptions> = {throttle: new LoginThrottle(throttle)};
	if (limits.maxConnectionsPerAddress !== undefined)
		options.maxConnectionsPerAddress = limits.maxConnectionsPerAddress;
	if (limits.maxConnections !== undefined) options.maxConnections = limits.maxConnections;
	if (limits.maxSendQueueBytes !== undefined) options.maxQueueBytes = limits.maxSendQueueBytes;
	if (limits.loginTimeoutMs !== undefined) options.authTimeoutMs = limits.loginTimeoutMs;
	if (limits.joinTimeoutMs !== undefined) options.joinTimeoutMs = limits.joinTimeoutMs;
	if (limits.queriesPerSecond !== undefined) options.queriesPerSecond = limits.queriesPerSecond;
	if (limits.strangerLogPerSecond !== undefined) options.strangerLogPerSecond = limits.strangerLogPerSecond;
	return options;
}

export interface RunningServers {
	udp: UdpRoomServer;
	tcp: TcpRoomServer;
	store: AccountStore;
	/** This server as a cluster node (--redis), else undefined. */
	cluster: ClusterNode | undefined;
	/** The TLS certificate fingerprint clients will be shown (undefined in plaintext mode). */
	fingerprint: string | undefined;
	/** Stops accepting, tells every member to reconnect elsewhere, lets the database catch up (bounded), closes. */
	close(options?: TcpCloseOptions): Promise<void>;
}

async function loadTls(options: ServersOptions): Promise<{cert: string; key: string} | undefined> {
	if (options.insecurePlaintext) return undefined;
	if (options.tlsCert || options.tlsKey) {
		if (!options.tlsCert || !options.tlsKey) throw new Error('--tls-cert and --tls-key go together');
		return {cert: await readFile(options.tlsCert, 'utf8'), key: await readFile(options.tlsKey, 'utf8')};
	}
	return loadOrCreateCertificate(options.dataDir);
}

/** The rate limits both rooms enforce and announce in every welcome. */
function rateOptions(options: ServersOptions): {
	limits?: {ratePerSecond?: number; burst?: number};
	floodQueue?: number;
} {
	const limits = {
		...(options.rateLimit ? {ratePerSecond: options.rateLimit} : {}),
		...(options.rateBurst ? {burst: options.rateBurst} : {}),
	};
	return {
		...(Object.keys(limits).length > 0 ? {limits} : {}),
		...(options.floodQueue ? {floodQueue: options.floodQueue} : {}),
	};
}

export async function runServers(options: ServersOptions): Promise<RunningServers> {
	const {log} = options;
	await ensurePrivateDataDir(options.dataDir, log);
	// Cluster mode: the broker first, so the UDP rooms span the nodes from their first member.
	const broker = options.cluster ? await connectBroker(options.cluster, options) : undefined;
	// The UDP room needs nothing else: bind it first so a busy port fails fast.
	const relay = broker ? new UdpRelay(broker, {log}) : undefined;
	const udp = await startUdpRoomServer({
		...(relay ? {relay} : {}),
		host: options.host,
		port: options.udpPort,
		log,
		...(options.roomName ? {roomName: options.roomName} : {}),
		...(options.maxMembers ? {maxMembers: options.maxMembers} : {}),
		...(options.maxRooms ? {maxRooms: options.maxRooms} : {}),
		...(options.maxMembersPerAddress ? {maxMembersPerAddress: options.maxMembersPerAddress} : {}),
		...(options.reassemblyBytes ? {reassemblyBytes: options.reassemblyBytes} : {}),
		...(options.reassemblyBytesPerAddress
			? {reassemblyBytesPerAddress: options.reassemblyBytesPerAddress}
			: {}),
		...(options.replayPerMinute ? {replayPerMinute: options.replayPerMinute} : {}),
		...(options.helloPerMinute ? {helloPerMinute: options.helloPerMinute} : {}),
		...(options.resendRate ? {resendRate: options.resendRate} : {}),
		...(options.resendBurst ? {resendBurst: options.resendBurst} : {}),
		...(options.udpReceiveBufferBytes ? {recvBufferBytes: options.udpReceiveBufferBytes} : {}),
		...(options.udpSendBufferBytes ? {sendBufferBytes: options.udpSendBufferBytes} : {}),
		...rateOptions(options),
	});
	try {
		log(
			options.db
				? `account store: ${describeDatabaseUrl(options.db)}`
				: `account store: ${options.dataDir} (node:sqlite)`,
		);
		const opened = await openStore({
			...(options.db ? {db: options.db} : {}),
			dataDir: options.dataDir,
			log,
			...(options.dbTimeoutMs ? {queryTimeoutMs: options.dbTimeoutMs} : {}),
			retry: {maxAttempts: options.dbAttempts ?? Number.POSITIVE_INFINITY, maxDelayMs: 10_000},
		});
		const store = options.observeStore ? options.observeStore(opened) : opened;
		try {
			const cluster = broker ? {node: clusterNode(broker, store, options)} : undefined;
			// The cluster node's heartbeats tell which nodes are gone: their UDP members leave too.
			if (relay) cluster?.node.onNodeGone((node) => relay.nodeGone(node));
			const tls = await loadTls(options);
			if (!tls)
				log(
					'WARNING: the TCP room runs WITHOUT TLS: passwords are safe (SCRAM) but chat is readable on the wire',
					{level: 'warn'},
				);
			const fingerprint = tls ? fingerprintOf(tls.cert) : undefined;
			if (fingerprint) log(`tls certificate ${fingerprint}`);
			const tcp = await startTcpRoomServer({
				host: options.host,
				port: options.tcpPort,
				store,
				serverSecret: await loadOrCreateServerSecret(options.dataDir),
				dataDir: options.dataDir,
				tls,
				log,
				allowRegister: options.allowRegister === true,
				...(options.passwordMin === undefined ? {} : {passwordMin: options.passwordMin}),
				...tcpLimitOptions(options.tcpLimits),
				...(options.roomName ? {roomName: options.roomName} : {}),
				...(options.maxMembers ? {maxMembers: options.maxMembers} : {}),
				...(options.roomCreation ? {roomCreation: options.roomCreation} : {}),
				...(options.maxRooms ? {maxRooms: options.maxRooms} : {}),
				...(options.maxRoomsPerUser ? {maxRoomsPerUser: options.maxRoomsPerUser} : {}),
				...(options.maxSessionsPerAccount ? {maxSessionsPerAccount: options.maxSessionsPerAccount} : {}),
				...(options.maxFileBytes ? {maxFileBytes: options.maxFileBytes} : {}),
				...(options.fileQuotaBytes ? {fileQuotaBytes: options.fileQuotaBytes} : {}),
				...rateOptions(options),
				...(cluster ? {cluster: cluster.node} : {}),
			});
			return {
				udp,
				tcp,
				store,
				cluster: cluster?.node,
				fingerprint,
				async close(closeOptions) {
					await Promise.all([udp.close(), tcp.close(closeOptions)]);
					await broker?.close();
					await store.close();
				},
			};
		} catch (error) {
			await store.close();
			throw error;
		}
	} catch (error) {
		await udp.close();
		await broker?.close();
		throw error;
	}
}

/** Connects to the broker between the nodes (waiting for it as for the database). */
async function connectBroker(settings: ClusterSettings, options: ServersOptions): Promise<RedisBroker> {
	const nodeId = settings.nodeName ?? `${hostname()}:${options.tcpPort}-${randomBytes(3).toString('hex')}`;
	options.log(`cluster node ${JSON.stringify(nodeId)}: broker ${describeRedisUrl(settings.redis)}`);
	return RedisBroker.connect({
		url: settings.redis,
		nodeId,
		...(settings.prefix ? {prefix: settings.prefix} : {}),
		log: options.log,
		...(settings.onHop ? {onHop: settings.onHop} : {}),
	});
}

/** Makes this server a node of the cluster: its TCP rooms numbered in the shared database. */
function clusterNode(broker: RedisBroker, store: AccountStore, options: ServersOptions): ClusterNode {
	const settings = options.cluster;
	if (!store.appendMessages)
		throw new Error('cluster mode (--redis) needs the shared MySQL/MariaDB store: give --db mysql://…');
	return new ClusterNode({
		store,
		broker,
		log: options.log,
		...(settings?.gapMs ? {gapMs: settings.gapMs} : {}),
		...(settings?.pollMs ? {pollMs: settings.pollMs} : {}),
		...(settings?.nodeTimeoutMs ? {nodeTimeoutMs: settings.nodeTimeoutMs} : {}),
	});
}

/** The URL without its password, for the log. */
function describeRedisUrl(url: string): string {
	try {
		const parsed = new URL(url);
		if (parsed.password) parsed.password = '***';
		return parsed.toString();
	} catch {
		return 'redis (unparsable URL)';
	}
}
