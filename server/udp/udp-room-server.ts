// The UDP rooms: a datagram socket in front of any number of rooms (the room
// hub, without a store: a room comes into being when joined and vanishes when
// empty). It verifies source addresses with stateless cookies before anything
// else, never answers an unverified source with more bytes than it sent,
// checks each member's session id on every datagram, and expires members that
// fall silent. One client socket may be in several rooms, each its own
// session (its own sid); members are keyed by address|port|room.

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
import {RoomHub} from '../hub/room-hub.js';
import {roomsMessage} from '../hub/room-listing.js';
import {roomKey} from '../../source/protocol/names.js';
import {FloodControl} from '../room/flood-control.js';
import {Room, type Member, type RoomOutput} from '../room/room.js';
import {TokenBucket} from '../room/token-bucket.js';
import type {Log} from '../log/log.js';
import type {UdpRoomRelay} from '../cluster/udp-relay.js';
import {CookieJar} from './cookie.js';
import {
	DEFAULT_RECEIVE_BUFFER_BYTES,
	DEFAULT_SEND_BUFFER_BYTES,
	reportSocketBuffers,
	type SocketBuffers,
} from './socket-buffers.js';

export interface UdpRoomServerOptions {
	host?: string;
	port?: number;
	/** The default room: where a hello without `room` goes (default lobby). */
	roomName?: string;
	/** Members one room admits. */
	maxMembers?: number;
	/** Rooms on the server at once (default 10,000). */
	maxRooms?: number;
	/** Members one IP address may hold, in all rooms together (they are keyed by address, port and room). */
	maxMembersPerAddress?: number;
	/** The socket's receive buffer (default 4 MiB; the kernel caps it at net.core.rmem_max). */
	recvBufferBytes?: number;
	/** The socket's send buffer (default 1 MiB; the kernel caps it at net.core.wmem_max). */
	sendBufferBytes?: number;
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
	/** Rooms span nodes through this (server/cluster/udp-relay.ts); absent: this server is the whole room. */
	relay?: UdpRoomRelay;
	log?: Log;
}

interface UdpLink {
	address: string;
	port: number;
	/** address|port: what fragments are reassembled by. */
	source: string;
	/** address|port|room key: the member's key. */
	key: string;
	sid: Buffer;
	room: Room<UdpLink>;
}

export interface UdpServerStats {
	received: number;
	receivedBytes: number;
	sentDatagrams: number;
	sentBytes: number;
	/** Datagrams dropped, by reason: malformed, invalid-utf8, oversized, unknown-type, spoofed, unverified … */
	dropped: Record<string, number>;
	/** Messages received (reassembled, parsed) and sent (one per recipient, however many datagrams). */
	messagesIn: number;
	messagesOut: number;
}

export interface UdpRoomServer {
	readonly host: string;
	readonly port: number;
	/** The default room. */
	readonly room: Room<UdpLink>;
	readonly hub: RoomHub<UdpLink>;
	readonly stats: UdpServerStats;
	/** Client sockets (address and port) in rooms now. */
	readonly sources: number;
	/** The socket's kernel buffers as the kernel reports them (Linux: twice the bytes granted). */
	readonly buffers: SocketBuffers;
	close(): Promise<void>;
}

/** A `rooms` answer stays well inside a datagram stream (24 fragments of 1,190 bytes). */
const LIST_BYTES = 20_000;

export async function startUdpRoomServer(options: UdpRoomServerOptions = {}): Promise<UdpRoomServer> {
	const host = options.host ?? '127.0.0.1';
	const log = options.log ?? (() => {});
	const expireAfterMs = options.expireAfterMs ?? 30_000;
	// A deep receive queue (the kernel caps it at net.core.rmem_max): under a flood the
	// members' datagrams wait behind the junk instead of being dropped with it, and
	// what arrives while a fan-out burst is being sent waits for the loop to come back.
	const wantedBuffers = {
		receive: options.recvBufferBytes ?? DEFAULT_RECEIVE_BUFFER_BYTES,
		send: options.sendBufferBytes ?? DEFAULT_SEND_BUFFER_BYTES,
	};
	const socket = dgram.createSocket({
		type: isIP(host) === 6 ? 'udp6' : 'udp4',
		recvBufferSize: wantedBuffers.receive,
		sendBufferSize: wantedBuffers.send,
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
	/** Members by source (address|port): one socket may be in several rooms. */
	const bySource = new Map<string, Set<Member<UdpLink>>>();
	const stats: UdpServerStats = {
		received: 0,
		receivedBytes: 0,
		sentDatagrams: 0,
		sentBytes: 0,
		dropped: {},
		messagesIn: 0,
		messagesOut: 0,
	};
	const drop = (reason: string) => {
		stats.dropped[reason] = (stats.dropped[reason] ?? 0) + 1;
	};

	// No callback per datagram: a broadcast is one send per member, and a closure
	// and its completion for each was a good part of the fan-out's cost. A send
	// that fails is a lost datagram like any other: the client asks for it again.
	const sendRaw = (datagrams: Buffer[], link: {address: string; port: number}) => {
		stats.messagesOut++;
		for (const datagram of datagrams) {
			stats.sentDatagrams++;
			stats.sentBytes += datagram.length;
			socket.send(datagram, link.port, link.address);
		}
	};
	const remember = (member: Member<UdpLink>) => {
		members.set(member.link.key, member);
		let at = bySource.get(member.link.source);
		if (!at) {
			at = new Set();
			bySource.set(member.link.source, at);
		}
		at.add(member);
	};
	/** The member is out of its room: forget it, and the room when it emptied. */
	const forget = (member: Member<UdpLink>) => {
		if (members.get(member.link.key) === member) members.delete(member.link.key);
		const at = bySource.get(member.link.source);
		at?.delete(member);
		if (!at || at.size === 0) {
			bySource.delete(member.link.source);
			reassembler.forgetSource(member.link.source);
		}
		const room = member.link.room;
		release(room);
		if (room.size === 0) floods.delete(room);
	};
	/** The hub forgets an emptied room (not the default one); so does the relay. */
	const release = (room: Room<UdpLink>) => {
		hub?.release(room);
		const key = roomKey(room.name);
		if (room.size === 0 && hub && key !== hub.defaultKey) options.relay?.closed(key);
	};
	/** One flood control per room: a member over the rate is slowed, not refused (flood-control.ts). */
	const floods = new Map<Room<UdpLink>, FloodControl<UdpLink>>();
	const floodFor = (room: Room<UdpLink>): FloodControl<UdpLink> => {
		let flood = floods.get(room);
		if (!flood) {
			flood = new FloodControl<UdpLink>({
				room,
				...(options.floodQueue ? {maxQueue: options.floodQueue} : {}),
				afterHandle: (member) => {
					if (!room.isMember(member)) forget(member);
				},
			});
			floods.set(room, flood);
		}
		return flood;
	};

	/** One room's output: every message names the room (`label`), as in TCP. */
	const outputFor = (label: string): RoomOutput<UdpLink> => {
		const stamp = (message: ServerMessage) => ({...message, room: label}) as ServerMessage;
		return {
			broadcast(message, to) {
				const datagrams = encoder.encode(stamp(message)); // once, the same bytes for everyone
				for (const member of to) sendRaw(datagrams, member.link);
			},
			send(member, message) {
				sendRaw(encoder.encode(stamp(message)), member.link);
			},
			disconnect(member, reason, retry) {
				sendRaw(encoder.encode({t: 'bye', room: label, reason, ...(retry ? {retry} : {})}), member.link);
				forget(member);
			},
		};
	};

	const capabilities = [
		CAPABILITY.dm,
		CAPABILITY.action,
		CAPABILITY.nick,
		CAPABILITY.away,
		CAPABILITY.multiRoom,
		CAPABILITY.historyPaging,
	];
	// Assigned before any datagram can arrive; forget() runs only after.
	let hub: RoomHub<UdpLink> | undefined;
	hub = await RoomHub.start<UdpLink>({
		defaultRoom: options.roomName ?? 'lobby',
		...(options.maxRooms ? {maxRooms: options.maxRooms} : {}),
		createRoom: (spec) => {
			const relay = options.relay;
			const made = new Room<UdpLink>({
				name: spec.name,
				output: outputFor(spec.label),
				...(relay ? {onEvent: (event) => relay.sent(spec.key, event), peers: relay.peersFor(spec.key)} : {}),
				...(options.limits ? {limits: options.limits} : {}),
				...(options.maxMembers ? {maxMembers: options.maxMembers} : {}),
				...(options.historySize ? {historySize: options.historySize} : {}),
				capabilities,
				...(options.resendRate ? {resendRate: options.resendRate} : {}),
				...(options.resendBurst ? {resendBurst: options.resendBurst} : {}),
				...(options.replayPerMinute ? {replayPerMinute: options.replayPerMinute} : {}),
				...spec.options,
				log,
			});
			relay?.opened(spec.key, made);
			return made;
		},
		log,
	});
	const rooms = hub;
	const room = rooms.defaultRoom;
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

	/**
	 * The member a datagram from `source` is for: the one in the room it names,
	 * else the one its session id belongs to (each room gives its own sid).
	 */
	const memberFor = (
		at: Set<Member<UdpLink>>,
		source: string,
		roomName: string | undefined,
		credential: string,
	): Member<UdpLink> | undefined => {
		if (roomName !== undefined) return members.get(`${source}|${roomKey(roomName)}`);
		if (at.size === 1) return at.values().next().value;
		const given = Buffer.from(credential, 'base64url');
		for (const member of at)
			if (given.length === member.link.sid.length && timingSafeEqual(given, member.link.sid)) return member;
		return undefined;
	};

	const onDatagram = (datagram: Buffer, rinfo: dgram.RemoteInfo) => {
		stats.received++;
		stats.receivedBytes += datagram.length;
		const link = {address: rinfo.address, port: rinfo.port};
		const source = `${rinfo.address}|${rinfo.port}`;
		const at = bySource.get(source);
		if (datagram.length > MAX_DATAGRAM) return drop('oversized');
		let value: unknown;
		try {
			// Unverified sources get no reassembly state: whole datagrams only.
			if (at) value = reassembler.push(source, datagram);
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
			stats.messagesIn++;
		} catch (error) {
			drop(classify(error));
			// A member hears what was wrong (its address is proven); which room's member does not matter.
			const anyMember = at?.values().next().value;
			if (anyMember && error instanceof ProtocolError)
				anyMember.link.room.sendError(anyMember, error.code, error.message);
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
			const refuse = (code: ProtocolError['code'], text: string, extra: Record<string, unknown> = {}) =>
				// The cookie proved the address, so a full-size answer is safe now.
				sendRaw(
					encoder.encode({
						t: 'error',
						code,
						message: text,
						...(message.room === undefined ? {} : {room: message.room}),
						...extra,
					} as ServerMessage),
					link,
				);
			if (!takeHello(rinfo.address)) {
				drop('hello-throttled');
				const retry = Math.ceil(60_000 / helloPerMinute);
				return refuse(
					'rate-limited',
					`too many joins from your address; try again in ${Math.ceil(retry / 1000)} s`,
					{retry_after_ms: retry},
				);
			}
			const offered = offeredVersions(message);
			const version = chooseVersion(offered);
			if (version === undefined) {
				drop('unsupported-version');
				// No membership follows.
				return refuse('unsupported-version', unsupportedVersionText(offered, PROTOCOL_VERSIONS), {
					versions: [...PROTOCOL_VERSIONS],
				});
			}
			try {
				// A hello from a current member of that room at this address is the same client starting over
				// (first, so that a room it empties is made afresh below, not left behind).
				const key = `${source}|${message.room === undefined ? rooms.defaultKey : roomKey(message.room)}`;
				const previous = members.get(key);
				if (previous) {
					previous.link.room.leave(previous, 'leave', 'rejoined');
					forget(previous);
				}
				// Many ports of one host must not fill the rooms for everyone else.
				if (membersAt(rinfo.address) >= maxMembersPerAddress)
					throw new ProtocolError(
						'room-full',
						`too many members from your address (at most ${maxMembersPerAddress})`,
					);
				const target = rooms.openNow(message.room);
				const sid = randomBytes(12);
				const fresh: UdpLink = {...link, source, key, sid, room: target};
				try {
					remember(
						target.join(fresh, message.nick, {
							sid: sid.toString('base64url'),
							version,
							replayKey: rinfo.address,
							...(message.since === undefined ? {} : {since: message.since}),
						}),
					);
				} finally {
					release(target); // a room made for a refused join does not stay
				}
			} catch (error) {
				if (!(error instanceof ProtocolError)) throw error;
				refuse(error.code, error.message);
			}
			return;
		}
		const member = at
			? memberFor(at, source, 'room' in message ? message.room : undefined, credential)
			: undefined;
		if (!member) {
			drop('not-joined');
			// Short enough to answer a keepalive ping: a client the server forgot (a restart) learns it at once.
			return answerSmall({t: 'error', code: 'not-joined', message: 'join'}, datagram.length, link);
		}
		const given = Buffer.from(credential, 'base64url');
		if (given.length !== member.link.sid.length || !timingSafeEqual(given, member.link.sid))
			return drop('spoofed');
		if (message.t === 'list') {
			// Only a proven, joined member is answered, so the answer amplifies nothing.
			member.lastSeen = Date.now();
			if (!member.bucket.take(member.lastSeen)) return drop('list-throttled');
			void rooms.list().then((listing) => sendRaw(encoder.encode(roomsMessage(listing, LIST_BYTES)), link));
			return;
		}
		// The room gets it now, or at the member's rate when it sends faster (flood-control.ts).
		floodFor(member.link.room).submit(member, message);
	};

	socket.on('message', (datagram, rinfo) => {
		try {
			onDatagram(datagram, rinfo);
		} catch (error) {
			// A bug must cost one datagram, not the server.
			drop('internal-error');
			log(`error handling datagram from ${rinfo.address}:${rinfo.port}: ${(error as Error).stack ?? error}`, {
				level: 'error',
				address: rinfo.address,
			});
		}
	});
	socket.on('error', (error) => log(`udp socket error: ${error.message}`, {level: 'error'}));

	const sweeper = setInterval(
		() => {
			const cutoff = Date.now() - expireAfterMs;
			for (const member of [...members.values()]) {
				if (member.lastSeen < cutoff) {
					member.link.room.leave(member, 'expire', `silent for ${Math.round(expireAfterMs / 100) / 10} s`);
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
	const buffers = reportSocketBuffers(socket, wantedBuffers, log);

	return {
		host,
		port: bound.port,
		room,
		hub: rooms,
		stats,
		get sources() {
			return bySource.size;
		},
		buffers,
		async close() {
			clearInterval(sweeper);
			for (const flood of floods.values()) flood.clear();
			options.relay?.close();
			rooms.close('server shutting down');
			members.clear();
			bySource.clear();
			// Let the goodbyes leave before the socket closes.
			await new Promise((resolve) => setImmediate(resolve));
			await new Promise<void>((resolve) => socket.close(() => resolve()));
		},
	};
}
