// Parses the room addresses users type: udp://HOST:PORT and tcp://HOST:PORT.
import type {TransportKind} from './types.js';

export interface RoomAddress {
	transport: TransportKind;
	host: string;
	port: number;
}

export const DEFAULT_UDP_PORT = 7667;
export const DEFAULT_TCP_PORT = 7668;

export class RoomUrlError extends Error {}

export function parseRoomUrl(text: string): RoomAddress {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new RoomUrlError(`not a room address: ${text} (expected udp://HOST:PORT or tcp://HOST:PORT)`);
	}
	const transport = url.protocol.replace(/:$/, '');
	if (transport !== 'udp' && transport !== 'tcp')
		throw new RoomUrlError(`unknown room type ${url.protocol} in ${text} (use udp:// or tcp://)`);
	if (!url.hostname) throw new RoomUrlError(`missing host in ${text}`);
	const port = url.port ? Number(url.port) : transport === 'udp' ? DEFAULT_UDP_PORT : DEFAULT_TCP_PORT;
	// URL keeps IPv6 literals in brackets; sockets want them bare.
	const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
	return {transport, host, port};
}

export function formatRoomUrl(address: RoomAddress): string {
	const host = address.host.includes(':') ? `[${address.host}]` : address.host;
	return `${address.transport}://${host}:${address.port}`;
}
