// Builds the room client for an address: the same session over whichever transport.
// tcp:// rooms go through a connection pool, so rooms of one server opened by
// one account share one connection and one login.
import {RoomSession, type RoomSessionOptions} from './room-session.js';
import {parseRoomUrl} from './room-url.js';
import {TcpConnectionPool} from './tcp-connection-pool.js';
import type {TcpTransportOptions} from './tcp-transport.js';
import type {Transport} from './transport.js';
import type {RoomClient} from './types.js';
import {UdpTransport} from './udp-transport.js';

export interface CreateRoomClientOptions extends RoomSessionOptions {
	/** TLS, trust-on-first-use and framing settings for tcp:// rooms. */
	tcp?: Omit<TcpTransportOptions, 'host' | 'port'>;
	/** Where tcp:// rooms find their shared connections (default: one pool for the process). */
	pool?: TcpConnectionPool;
}

/** The process's pool: every tcp:// client made without its own shares it. */
export const defaultTcpPool = new TcpConnectionPool();

export function createTransport(url: string, options: CreateRoomClientOptions = {}): Transport {
	const {transport, host, port, room, alternates} = parseRoomUrl(url);
	return transport === 'udp'
		? new UdpTransport({host, port, ...(room === undefined ? {} : {room})})
		: (options.pool ?? defaultTcpPool).channel(
				{...options.tcp, host, port, ...(alternates?.length ? {alternates} : {})},
				room,
			);
}

export function createRoomClient(url: string, options: CreateRoomClientOptions = {}): RoomClient {
	return new RoomSession(createTransport(url, options), options);
}
