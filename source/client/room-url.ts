// Parses the room addresses users type: udp://HOST:PORT and tcp://HOST:PORT,
// optionally naming a room on that server: tcp://HOST:PORT/#name (also
// /%23name, as URL encoders write it, and /name). No room: the server's default.
// A tcp:// address may name several servers of one cluster, comma-separated in
// the authority (tcp://h1:7668,h2:7669/#room): the client tries them in turn.
import {roomLabel, roomNameProblem} from '../protocol/names.js';
import type {TransportKind} from './types.js';

export interface ServerAddress {
	host: string;
	port: number;
}

export interface RoomAddress {
	transport: TransportKind;
	host: string;
	port: number;
	/** tcp://: the cluster's other servers after host:port, in the order typed (tried in turn on failure). */
	alternates?: ServerAddress[];
	/** The room as typed, with its `#` (e.g. "#Dev"); absent: the server's default room. */
	room?: string;
}

export const DEFAULT_UDP_PORT = 7667;
export const DEFAULT_TCP_PORT = 7668;

export class RoomUrlError extends Error {}

export function parseRoomUrl(text: string): RoomAddress {
	const several = /^([a-z]+:\/\/)([^/?#]*,[^/?#]*)(.*)$/i.exec(text);
	if (!several) return parseOne(text);
	const [, scheme = '', authority = '', rest = ''] = several;
	const [first, ...others] = authority.split(',').map((server) => {
		if (server === '') throw new RoomUrlError(`empty server in ${text}`);
		return parseOne(`${scheme}${server}${rest}`);
	});
	if (!first) throw new RoomUrlError(`missing host in ${text}`);
	if (first.transport !== 'tcp')
		throw new RoomUrlError(`several servers in one address are for tcp:// rooms only: ${text}`);
	return {...first, alternates: others.map(({host, port}) => ({host, port}))};
}

function parseOne(text: string): RoomAddress {
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
	const servers = [address, ...(address.alternates ?? [])].map(formatServer).join(',');
	const room = address.room === undefined ? '' : `/${roomLabel(address.room)}`;
	return `${address.transport}://${servers}${room}`;
}

/** host:port, an IPv6 literal in brackets. */
export function formatServer({host, port}: ServerAddress): string {
	return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
