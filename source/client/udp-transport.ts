// UDP transport: a connected datagram socket, the cookie handshake that
// proves our address to the server, fragmentation, and the session id the
// server hands out (sent with every datagram so nobody can speak for us).

import dgram from 'node:dgram';
import {lookup} from 'node:dns/promises';
import {isIP} from 'node:net';
import {DatagramEncoder, Reassembler} from '../protocol/datagram.js';
import {
	ProtocolError,
	parseServerMessage,
	type ClientMessage,
	type ServerMessage,
} from '../protocol/messages.js';
import {PROTOCOL_VERSIONS, chooseVersion, unsupportedVersionText} from '../protocol/versions.js';
import {describeNetworkError as describe} from './network-error.js';
import {formatRoomUrl} from './room-url.js';
import {stampRoom, type Login, type Transport, type TransportHandlers} from './transport.js';
import {RoomError} from './types.js';

export interface UdpTransportOptions {
	host: string;
	port: number;
	/** Handshake attempts (one a second) before giving up. */
	joinTries?: number;
	/** Version 2: the room to join (`#name`), named in every message; absent, the server's default room. */
	room?: string;
}

// The server never answers an unverified source with more bytes than it sent,
// so the join request is padded to leave room for the cookie and the
// versions and capabilities that come with it.
const JOIN_PADDING = 'x'.repeat(200);

type HandshakeAnswer = Extract<ServerMessage, {t: 'cookie'}> | Extract<ServerMessage, {t: 'error'}>;

export class UdpTransport implements Transport {
	readonly kind = 'udp' as const;
	readonly reliable = false;
	readonly keepaliveMs = 5000;
	private socket: dgram.Socket | undefined;
	private localPort = 0;
	private handlers: TransportHandlers | undefined;
	private readonly encoder = new DatagramEncoder();
	private readonly reassembler = new Reassembler({perSource: 8});
	/** The cookie until we are a member, then the session id. */
	private credential = '';
	private cookieWaiter: ((answer: HandshakeAnswer) => void) | undefined;

	constructor(private readonly options: UdpTransportOptions) {}

	get url(): string {
		const {host, port, room} = this.options;
		return formatRoomUrl({transport: 'udp', host, port, ...(room === undefined ? {} : {room})});
	}

	get room(): string | undefined {
		return this.options.room;
	}

	/** Another room on the same server: its own socket and session (each UDP room has its own sid). */
	sibling(room: string): Transport {
		return new UdpTransport({...this.options, room});
	}

	setHandlers(handlers: TransportHandlers): void {
		this.handlers = handlers;
	}

	async open(_login: Login): Promise<void> {
		this.close();
		const address = isIP(this.options.host)
			? this.options.host
			: (
					await lookup(this.options.host).catch((error: unknown) => {
						throw new RoomError('network', describe(error, this.options.host));
					})
				).address;
		const type = isIP(address) === 6 ? 'udp6' : 'udp4';
		// Reuse the previous local port on reconnect: the server knows us by it.
		const socket = await bound(type, this.localPort).catch(() => bound(type, 0));
		this.socket = socket;
		this.localPort = socket.address().port;
		socket.on('message', (datagram) => this.onDatagram(datagram));
		socket.on('error', (error) => {
			// A connected UDP socket learns of "port unreachable": the server is not there.
			if (this.socket === socket) this.handlers?.closed(describe(error), false);
		});
		await new Promise<void>((resolve, reject) => {
			socket.once('error', reject);
			socket.connect(this.options.port, address, () => {
				socket.off('error', reject);
				resolve();
			});
		}).catch((error) => {
			throw new RoomError('network', describe(error));
		});
		this.credential = await this.handshake(socket);
	}

	send(message: ClientMessage): void {
		const socket = this.socket;
		if (!socket) return;
		for (const datagram of this.encoder.encode({
			...stampRoom(message, this.options.room),
			k: this.credential,
		})) {
			socket.send(datagram, (error) => {
				if (error && this.socket === socket) this.handlers?.problem(`send failed: ${describe(error)}`);
			});
		}
	}

	close(): void {
		const socket = this.socket;
		this.socket = undefined;
		this.cookieWaiter = undefined;
		if (socket) {
			socket.removeAllListeners('message');
			try {
				socket.close();
			} catch {
				// Already closed.
			}
		}
	}

	private async handshake(socket: dgram.Socket): Promise<string> {
		const tries = this.options.joinTries ?? 5;
		for (let attempt = 0; attempt < tries; attempt++) {
			const answer = new Promise<HandshakeAnswer | undefined>((resolve) => {
				const timer = setTimeout(() => resolve(undefined), 1000);
				this.cookieWaiter = (value) => {
					clearTimeout(timer);
					resolve(value);
				};
			});
			socket.send(this.encoder.encode({t: 'join', pad: JOIN_PADDING, versions: [...PROTOCOL_VERSIONS]})[0]!);
			const value = await answer;
			if (this.socket !== socket) throw new RoomError('network', 'closed');
			if (value?.t === 'error') throw new RoomError(value.code, value.message);
			if (value?.versions && chooseVersion(value.versions) === undefined)
				throw new RoomError('unsupported-version', unsupportedVersionText(PROTOCOL_VERSIONS, value.versions));
			if (value) return value.c;
		}
		throw new RoomError('network', `no answer from ${this.url} (is a Parley server running there?)`);
	}

	private onDatagram(datagram: Buffer): void {
		let value: unknown;
		try {
			value = this.reassembler.push('server', datagram);
			if (value === undefined) return;
			const message = parseServerMessage(value);
			const waiter = this.cookieWaiter;
			if (
				message.t === 'cookie' ||
				(waiter && message.t === 'error' && message.code === 'unsupported-version')
			) {
				this.cookieWaiter = undefined;
				waiter?.(message);
				return;
			}
			if (message.t === 'welcome' && message.sid) this.credential = message.sid;
			this.handlers?.message(message);
		} catch (error) {
			const reason = error instanceof ProtocolError ? error.message : String(error);
			this.handlers?.problem(`dropped a bad datagram from the server: ${reason}`);
		}
	}
}

/**
 * A busy room arrives in bursts (one datagram per message, all of them for us),
 * and a client busy drawing does not read for a while: the kernel's default
 * queue (~208 KiB, ~200 datagrams on Linux) overflows in about 100 ms at
 * 2,000 messages a second, and every overflow costs a resend round trip.
 * Only what is queued takes memory; the kernel caps it at net.core.rmem_max.
 */
export const CLIENT_RECEIVE_BUFFER_BYTES = 2 * 1024 * 1024;

function bound(type: 'udp4' | 'udp6', port: number): Promise<dgram.Socket> {
	const socket = dgram.createSocket({type, recvBufferSize: CLIENT_RECEIVE_BUFFER_BYTES});
	return new Promise((resolve, reject) => {
		socket.once('error', (error) => {
			socket.close();
			reject(error);
		});
		socket.bind(port, () => {
			socket.removeAllListeners('error');
			resolve(socket);
		});
	});
}
