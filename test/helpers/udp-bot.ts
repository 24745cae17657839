// A raw UDP room member for hostile tests: binds to a chosen loopback address
// (127.0.0.2 is another host as far as the server can tell), joins with the
// cookie handshake, sends whatever it is told, and counts bytes both ways.
import dgram from 'node:dgram';
import {DatagramEncoder, Reassembler} from '../../source/protocol/datagram.js';
import {waitFor} from './wait.js';

type Received = Record<string, unknown> & {t: string};

export class UdpBot {
	readonly received: Received[] = [];
	bytesIn = 0;
	bytesOut = 0;
	sid = '';
	cookie = '';
	private readonly encoder = new DatagramEncoder();
	private readonly reassembler = new Reassembler();

	private constructor(
		private readonly socket: dgram.Socket,
		private readonly serverPort: number,
	) {
		socket.on('message', (datagram) => {
			this.bytesIn += datagram.length;
			try {
				const value = this.reassembler.push('server', datagram) as Received | undefined;
				if (value === undefined) return;
				if (value.t === 'welcome' && typeof value.sid === 'string') this.sid = value.sid;
				this.received.push(value);
			} catch {
				// not ours to judge
			}
		});
	}

	static async open(serverPort: number, address = '127.0.0.1'): Promise<UdpBot> {
		const socket = dgram.createSocket('udp4');
		await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
		socket.setRecvBufferSize(4 * 1024 * 1024); // floods come back at us too; keep what arrives
		return new UdpBot(socket, serverPort);
	}

	sendRaw(datagram: Buffer): void {
		this.bytesOut += datagram.length;
		this.socket.send(datagram, this.serverPort, '127.0.0.1');
	}

	/** Encodes (fragmenting if need be) and sends; a member's messages carry its session id unless they bring a k. */
	send(message: Record<string, unknown>): Buffer[] {
		// Hostile tests send whatever they like: the codec is not the thing under test.
		const datagrams = this.encoder.encode((this.sid ? {k: this.sid, ...message} : message) as never);
		for (const datagram of datagrams) this.sendRaw(datagram);
		return datagrams;
	}

	/** The encoded datagrams of a member message, without sending them. */
	encode(message: Record<string, unknown>): Buffer[] {
		return this.encoder.encode({...message, k: this.sid} as never);
	}

	find(predicate: (m: Received) => boolean): Received | undefined {
		return this.received.find(predicate);
	}

	async waitFor(predicate: (m: Received) => boolean, what: string, timeout = 3000): Promise<Received> {
		return waitFor(() => this.find(predicate), {what, timeout});
	}

	/** Cookie, then hello: resolves with the welcome, or the error the server answered. */
	async join(nick: string, extra: Record<string, unknown> = {}): Promise<Received> {
		if (!this.cookie) {
			this.sendRaw(
				Buffer.concat([Buffer.of(0x01), Buffer.from(JSON.stringify({t: 'join', pad: 'x'.repeat(80)}))]),
			);
			this.cookie = String((await this.waitFor((m) => m.t === 'cookie', 'a cookie')).c);
		}
		const start = this.received.length;
		this.sid = '';
		this.send({t: 'hello', nick, k: this.cookie, ...extra});
		return waitFor(() => this.received.slice(start).find((m) => m.t === 'welcome' || m.t === 'error'), {
			what: `a welcome or an error for ${nick}`,
		});
	}

	close(): Promise<void> {
		return new Promise((resolve) => this.socket.close(() => resolve()));
	}
}
