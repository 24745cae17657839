// Builds the room client for an address: the same session over whichever transport.
import {RoomSession, type RoomSessionOptions} from './room-session.js';
import {parseRoomUrl} from './room-url.js';
import {TcpTransport, type TcpTransportOptions} from './tcp-transport.js';
import type {Transport} from './transport.js';
import type {RoomClient} from './types.js';
import {UdpTransport} from './udp-transport.js';

export interface CreateRoomClientOptions extends RoomSessionOptions {
	/** TLS, trust-on-first-use and framing settings for tcp:// rooms. */
	tcp?: Omit<TcpTransportOptions, 'host' | 'port'>;
}

export function createTransport(url: string, options: CreateRoomClientOptions = {}): Transport {
	const {transport, host, port} = parseRoomUrl(url);
	return transport === 'udp'
		? new UdpTransport({host, port})
		: new TcpTransport({...options.tcp, host, port});
}

export function createRoomClient(url: string, options: CreateRoomClientOptions = {}): RoomClient {
	return new RoomSession(createTransport(url, options), options);
}
