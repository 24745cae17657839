// Builds the room client for an address: the same session over whichever transport.
import {RoomSession, type RoomSessionOptions} from './room-session.js';
import {parseRoomUrl} from './room-url.js';
import type {Transport} from './transport.js';
import type {RoomClient} from './types.js';
import {UdpTransport} from './udp-transport.js';

export interface CreateRoomClientOptions extends RoomSessionOptions {
	/** Builds the TCP transport; supplied by the caller so UDP-only tools need no TLS setup. */
	tcpTransport?: (host: string, port: number) => Transport;
}

export function createRoomClient(url: string, options: CreateRoomClientOptions = {}): RoomClient {
	const address = parseRoomUrl(url);
	let transport: Transport;
	if (address.transport === 'udp') transport = new UdpTransport({host: address.host, port: address.port});
	else if (options.tcpTransport) transport = options.tcpTransport(address.host, address.port);
	else throw new Error('TCP rooms are not available in this build');
	return new RoomSession(transport, options);
}
