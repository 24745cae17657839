// The UDP room: a datagram socket in front of the room core. It verifies
// source addresses with stateless cookies before anything else, never answers
// an unverified source with more bytes than it sent, checks each member's
// session id on every datagram, and expires members that fall silent.

import dgram from 'node:dgram';
import {randomBytes, timingSafeEqual} from 'node:crypto';
import {isIP} from 'node:net';
import {
	DatagramEncoder,
	MAX_DATAGRAM,
	Reassembler,
	parseUdpClientDatagram,
} from '../../source/protocol/datagram.js';
import {
	type ClientMessage,
	ProtocolError,
	decodeJson,
	type ServerLimits,
	type ServerMessage,
} from '../../source/protocol/messages.js';
import {
	CAPABILITY,
	PROTOCOL_VERSIONS,
	chooseVersion,
	offeredVersions,
	unsupportedVersionText,
} from '../../source/protocol/versions.js';
import {FloodControl} from '../room/flood-control.js';
import {Room, type Member, type RoomOutput} from '../room/room.js';
import {TokenBucket} from '../room/token-bucket.js';
import {CookieJar} from './cookie.js';

export interface UdpRoomServerOptions {
	host?: string;
	port?: number;
	roomName?: string;
	maxMembers?: number;
	/** Members one IP address may hold (they are keyed by address and port). */
	maxMembersPerAddress?: number;
	/** The socket's receive buffer (default 4 MiB; the kernel may cap it lower). */
	recvBufferBytes?: number;
	/** Bytes of unfinished fragmented messages held for everyone, and for one address. */
	reassemblyBytes?: number;
	reassemblyBytesPerAddress?: number;
	/** Messages one address may have replayed per minute by rejoining with `since`. */
	replayPerMinute?: number;
	/** Hellos (joins and rejoins, each announced to everyone) one address may send per minute. */
	helloPerMinute?: number;
	limits?: Partial<ServerLimits>;
	/** Lines held for a member over the rate before it is kicked for flooding (default 50). */
	floodQueue?: number;
	/** A member silent this long is dropped (clients ping every few seconds). */
	expireAfterMs?: number;
	historySize?: number;
	/** Each member's resend budget: messages a second and saved up (see RoomOptions). */
	resendRate?: number;
	resendBurst?: number;
	log?: (line: string) => void;
}

interface UdpLink {
	address: string;
	port: number;
	key: string;
	sid: Buffer;
}

export interface UdpServerStats {
	received: number;
	receivedBytes: number;
	sentDatagrams: number;
	sentBytes: number;
	/** Datagrams dropped, by reason: malformed, invalid-utf8, oversized, unknown-type, spoofed, unverified … */
	dropped: Record<string, number>;
}

export interface UdpRoomServer {
	readonly host: string;
	readonly port: number;
	readonly room: Room<UdpLink>;
	readonly stats: UdpServerStats;
	close(): Promise<void>;
}

export async function startUdpRoomServer(options: UdpRoomServerOptions = {}): Promise<UdpRoomServer> {
	const host = options.host ?? '127.0.0.1';
	const log = options.log ?? (() => {});
	const expireAfterMs = options.expireAfterMs ?? 30_000;
	// A deep receive queue (the kernel caps it at net.core.rmem_max): under a flood the
	// members' datagrams wait behind the junk instead of being dropped with it.
	const socket = dgram.createSocket({
		type: isIP(host) === 6 ? 'udp6' : 'udp4',
		recvBufferSize: options.recvBufferBytes ?? 4 * 1024 * 1024,
	});
	const encoder = new DatagramEncoder();
	const maxMembersPerAddress = options.maxMembersPerAddress ?? 8;
	const helloPerMinute = options.helloPerMinute ?? 60;
	const helloBuckets = new Map<string, TokenBucket>();
	/** Charges one hello to its address; bounded map, and a reset only forgives. */
	const takeHello = (address: string): boolean => {
		const now = Date.now();
		let bucket = helloBuckets.get(address);
		if (!bucket) {
			if (helloBuckets.size >= 4096) helloBuckets.clear();
			bucket = new TokenBucket(helloPerMinute / 60, helloPerMinute, now);
			helloBuckets.set(address, bucket);
		}
		return bucket.take(now);
	};
	const reassembler = new Reassembler({
		...(options.reassemblyBytes ? {maxBytes: options.reassemblyBytes} : {}),
		...(options.reassemblyBytesPerAddress ? {maxGroupBytes: options.reassemblyBytesPerAddress} : {}),
		groupOf: (key) => key.slice(0, key.lastIndexOf('|')), // address|port → address
	});
	const cookies = new CookieJar();
	const members = new Map<string, Member<UdpLink>>();
	const stats: UdpServerStats = {received: 0, receivedBytes: 0, sentDatagrams: 0, sentBytes: 0, dropped: {}};
	const drop = (reason: string) => {
		stats.dropped[reason] = (stats.dropped[reason] ?? 0) + 1;
	};

	const sendRaw = (datagrams: Buffer[], link: {address: string; port: number}) => {
		for (const datagram of datagrams) {
			stats.sentDatagrams++;
			stats.sentBytes += datagram.length;
			socket.send(datagram, link.port, link.address, (error) => {
				if (error) drop('send-failed');
			});
		}
	};
	const forget = (member: Member<UdpLink>) => {
		if (members.get(member.link.key) === member) members.delete(member.link.key);
		reassembler.forgetSource(member.link.key);
	};

	const output: RoomOutput<UdpLink> = {
		broadcast(message, to) {
			const datagrams = encoder.encode(message); // once, the same bytes for everyone
			for (const member of to) sendRaw(datagrams, member.link);
		},
		send(member, message) {
			sendRaw(encoder.encode(message), member.link);
		},
		disconnect(member, reason, retry) {
			sendRaw(encoder.encode({t: 'bye', reason, ...(retry ? {retry} : {})}), member.link);
			forget(member);
		},
	};

	const capabilities = [CAPABILITY.dm, CAPABILITY.action, CAPABILITY.nick, CAPABILITY.away];
	const room = new Room<UdpLink>({
		name: options.roomName ?? 'lobby',
		output,
		...(options.limits ? {limits: options.limits} : {}),
		...(options.maxMembers ? {maxMembers: options.maxMembers} : {}),
		...(options.historySize ? {historySize: options.historySize} : {}),
		capabilities,
		...(options.resendRate ? {resendRate: options.resendRate} : {}),
		...(options.resendBurst ? {resendBurst: options.resendBurst} : {}),
		...(options.replayPerMinute ? {replayPerMinute: options.replayPerMinute} : {}),
		log,
	});
	// Over the rate, a member's lines wait and go out at the rate (server/room/flood-control.ts).
	const flood = new FloodControl<UdpLink>({
		room,
		...(options.floodQueue ? {maxQueue: options.floodQueue} : {}),
		afterHandle: (member) => {
			if (!room.isMember(member)) forget(member);
		},
	});
	const membersAt = (address: string): number => {
		let count = 0;
		for (const member of members.values()) if (member.link.address === address) count++;
		return count;
	};

	/** Answers an unverified source only when the answer is no larger than what it sent. */
	const answerSmall = (message: ServerMessage, size: number, link: {address: string; port: number}) => {
		const datagrams = encoder.encode(message);
		if (datagrams.length === 1 && datagrams[0]!.length <= size) sendRaw(datagrams, link);
		else drop('reply-too-large');
	};

	const classify = (error: unknown): string => {
		if (!(error instanceof ProtocolError)) return 'malformed';
		if (error.message === 'invalid UTF-8') return 'invalid-utf8';
		if (error.code === 'too-long') return 'oversized';
		if (error.message.startsWith('unknown message type')) return 'unknown-type';
		return 'malformed';
	};

	const onDatagram = (datagram: Buffer, rinfo: dgram.RemoteInfo) => {
		stats.received++;
		stats.receivedBytes += datagram.length;
		const link = {address: rinfo.address, port: rinfo.port};
		const key = `${rinfo.address}|${rinfo.port}`;
		const member = members.get(key);
		if (datagram.length > MAX_DATAGRAM) return drop('oversized');
		let value: unknown;
		try {
			// Unverified sources get no reassembly state: whole datagrams only.
			if (member) value = reassembler.push(key, datagram);
			else if (datagram[0] === 0x01) value = decodeJson(datagram.subarray(1));
			else return drop('unverified');
		} catch (error) {
			return drop(classify(error));
		}
		if (value === undefined) return; // more fragments to come
		let message: ClientMessage;
		let credential: string;
		try {
			({message, credential} = parseUdpClientDatagram(value));
		} catch (error) {
			drop(classify(error));
			if (member && error instanceof ProtocolError) room.sendError(member, error.code, error.message);
			return;
		}

		if (message.t === 'join') {
			if (message.versions && chooseVersion(message.versions) === undefined) {
				const text = unsupportedVersionText(message.versions, PROTOCOL_VERSIONS);
				const refusal = {t: 'error', code: 'unsupported-version', message: text} as const;
				return answerSmall({...refusal, versions: [...PROTOCOL_VERSIONS]}, datagram.length, link);
			}
			const c = cookies.issue(rinfo.address, rinfo.port);
			// What the server speaks rides along when the join left room for it (old clients pad less).
			const full: ServerMessage = {t: 'cookie', c, versions: [...PROTOCOL_VERSIONS], caps: capabilities};
			const fits = encoder.encode(full)[0]!.length <= datagram.length;
			return answerSmall(fits ? full : {t: 'cookie', c}, datagram.length, link);
		}
		if (message.t === 'hello') {
			if (!cookies.verify(rinfo.address, rinfo.port, credential)) return drop('bad-cookie');
			if (!takeHello(rinfo.address)) {
				drop('hello-throttled');
				const retry = Math.ceil(60_000 / helloPerMinute);
				return sendRaw(
					encoder.encode({
						t: 'error',
						code: 'rate-limited',
						message: `too many joins from your address; try again in ${Math.ceil(retry / 1000)} s`,
						retry_after_ms: retry,
					}),
					link,
				);
			}
			const offered = offeredVersions(message);
			const version = chooseVersion(offered);
			if (version === undefined) {
				drop('unsupported-version');
				// The cookie proved the address, so a full-size answer is safe; no membership follows.
				const text = unsupportedVersionText(offered, PROTOCOL_VERSIONS);
				const refusal = {t: 'error', code: 'unsupported-version', message: text} as const;
				return sendRaw(encoder.encode({...refusal, versions: [...PROTOCOL_VERSIONS]}), link);
			}
			// A hello from a current member's address is the same client starting over.
			if (member) {
				room.leave(member, 'leave', 'rejoined');
				forget(member);
			}
			const sid = randomBytes(12);
			const fresh: UdpLink = {...link, key, sid};
			try {
				// Many ports of one host must not fill the room for everyone else.
				if (membersAt(rinfo.address) >= maxMembersPerAddress)
					throw new ProtocolError(
						'room-full',
						`too many members from your address (at most ${maxMembersPerAddress})`,
					);
				const joined = room.join(fresh, message.nick, {
					sid: sid.toString('base64url'),
					version,
					replayKey: rinfo.address,
					...(message.since === undefined ? {} : {since: message.since}),
				});
				members.set(key, joined);
			} catch (error) {
				if (!(error instanceof ProtocolError)) throw error;
				// The cookie proved the address, so a full-size answer is safe now.
				sendRaw(encoder.encode({t: 'error', code: error.code, message: error.message}), link);
			}
			return;
		}
		if (!member) {
			drop('not-joined');
			// Short enough to answer a keepalive ping: a client the server forgot (a restart) learns it at once.
			return answerSmall({t: 'error', code: 'not-joined', message: 'join'}, datagram.length, link);
		}
		const given = Buffer.from(credential, 'base64url');
		if (given.length !== member.link.sid.length || !timingSafeEqual(given, member.link.sid))
			return drop('spoofed');
		flood.submit(member, message);
	};

	socket.on('message', (datagram, rinfo) => {
		try {
			onDatagram(datagram, rinfo);
		} catch (error) {
			// A bug must cost one datagram, not the server.
			drop('internal-error');
			log(`error handling datagram from ${rinfo.address}:${rinfo.port}: ${(error as Error).stack ?? error}`);
		}
	});
	socket.on('error', (error) => log(`udp socket error: ${error.message}`));

	const sweeper = setInterval(
		() => {
			const cutoff = Date.now() - expireAfterMs;
			for (const member of [...members.values()]) {
				if (member.lastSeen < cutoff) {
					room.leave(member, 'expire', `silent for ${Math.round(expireAfterMs / 100) / 10} s`);
					forget(member);
				}
			}
			reassembler.sweep();
		},
		Math.max(50, Math.min(5000, expireAfterMs / 3)),
	);
	sweeper.unref();

	await new Promise<void>((resolve, reject) => {
		socket.once('error', reject);
		socket.bind(options.port ?? 0, host, () => {
			socket.off('error', reject);
			resolve();
		});
	});
	const bound = socket.address();
	log(`udp room "${room.name}" listening on ${host}:${bound.port}`);

	return {
		host,
		port: bound.port,
		room,
		stats,
		async close() {
			clearInterval(sweeper);
			flood.clear();
			room.closeAll('server shutting down');
			members.clear();
			// Let the goodbyes leave before the socket closes.
			await new Promise((resolve) => setImmediate(resolve));
			await new Promise<void>((resolve) => socket.close(() => resolve()));
		},
	};
}
