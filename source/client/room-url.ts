// Parses the room addresses users type: udp://HOST:PORT and tcp://HOST:PORT,
// optionally naming a room on that server: tcp://HOST:PORT/#name (also
// /%23name, as URL encoders write it, and /name). No room: the server's default.
import {roomLabel, roomNameProblem} from '../protocol/names.js';
import type {TransportKind} from './types.js';

export interface RoomAddress {
	transport: TransportKind;
	host: string;
	port: number;
	/** The room as typed, with its `#` (e.g. "#Dev"); absent: the server's default room. */
	room?: string;
}

export const DEFAULT_UDP_PORT = 7667;
export const DEFAULT_TCP_PORT = 7668;

export class RoomUrlError extends Error {}

export function parseRoomUrl(text: string): RoomAddress {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new RoomUrlError(
			`not a room address: ${text} (expected udp://HOST:PORT or tcp://HOST:PORT, optionally /#room)`,
		);
	}
	const transport = url.protocol.replace(/:$/, '');
	if (transport !== 'udp' && transport !== 'tcp')
		throw new RoomUrlError(`unknown room type ${url.protocol} in ${text} (use udp:// or tcp://)`);
	if (!url.hostname) throw new RoomUrlError(`missing host in ${text}`);
	const port = url.port ? Number(url.port) : transport === 'udp' ? DEFAULT_UDP_PORT : DEFAULT_TCP_PORT;
	// URL keeps IPv6 literals in brackets; sockets want them bare.
	const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
	const room = roomOf(url, text);
	return room === undefined ? {transport, host, port} : {transport, host, port, room};
}

/** The room named after the host: `/#name`, `#name`, `/%23name` or `/name`. */
function roomOf(url: URL, text: string): string | undefined {
	if (url.search) throw new RoomUrlError(`unexpected ${url.search} in ${text}`);
	const path = decode(url.pathname.replace(/^\//, ''), text);
	const hash = decode(url.hash.replace(/^#/, ''), text);
	if (path !== '' && hash !== '') throw new RoomUrlError(`two room names in ${text}`);
	const typed = path !== '' ? path : hash;
	if (typed === '' || typed === '#') return undefined;
	const problem = roomNameProblem(typed);
	if (problem !== undefined) throw new RoomUrlError(`${problem}: ${text}`);
	return roomLabel(typed);
}

function decode(part: string, text: string): string {
	try {
		return decodeURIComponent(part);
	} catch {
		throw new RoomUrlError(`not a room address: ${text} (bad %-escape)`);
	}
}

export function formatRoomUrl(address: RoomAddress): string {
	const host = address.host.includes(':') ? `[${address.host}]` : address.host;
	const room = address.room === undefined ? '' : `/${roomLabel(address.room)}`;
	return `${address.transport}://${host}:${address.port}${room}`;
}
