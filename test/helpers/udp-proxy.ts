// A real UDP relay between one client and a server that can drop datagrams
// in either direction, to test loss handling over actual sockets.
import dgram from 'node:dgram';

export type Direction = 'up' | 'down';
export type DropRule = (datagram: Buffer, direction: Direction) => boolean;

export interface UdpProxy {
	port: number;
	drop: DropRule;
	dropped: number;
	close(): Promise<void>;
}

export async function startUdpProxy(serverPort: number, drop: DropRule = () => false): Promise<UdpProxy> {
	const front = dgram.createSocket('udp4');
	const back = dgram.createSocket('udp4');
	let client: dgram.RemoteInfo | undefined;
	const proxy: UdpProxy = {
		port: 0,
		drop,
		dropped: 0,
		close: async () => {
			await Promise.all([
				new Promise<void>((resolve) => front.close(() => resolve())),
				new Promise<void>((resolve) => back.close(() => resolve())),
			]);
		},
	};
	front.on('message', (datagram, rinfo) => {
		client = rinfo;
		if (proxy.drop(datagram, 'up')) proxy.dropped++;
		else back.send(datagram, serverPort, '127.0.0.1');
	});
	back.on('message', (datagram) => {
		if (!client) return;
		if (proxy.drop(datagram, 'down')) proxy.dropped++;
		else front.send(datagram, client.port, client.address);
	});
	await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', () => resolve()));
	await new Promise<void>((resolve) => back.bind(0, '127.0.0.1', () => resolve()));
	proxy.port = front.address().port;
	return proxy;
}

/** Parses a whole (unfragmented) Parley datagram for inspection in tests. */
export function peek(datagram: Buffer): Record<string, unknown> | undefined {
	if (datagram[0] !== 0x01) return undefined;
	try {
		return JSON.parse(datagram.subarray(1).toString('utf8')) as Record<string, unknown>;
	} catch {
		return undefined;
	}
}
