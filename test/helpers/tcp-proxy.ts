// A real TCP relay that records every byte in both directions and can cut
// all connections: to read what crosses the wire, and to take a backend away.
import net from 'node:net';

export interface TcpProxy {
	port: number;
	/** Everything that passed, both directions. */
	bytes(): Buffer;
	/** Refuse new connections and drop the current ones. */
	cut(): void;
	restore(): void;
	/**
	 * While on, bytes from the target are held back instead of relayed, and
	 * dropped if their connection dies first: replies that never arrive.
	 * Turning it off delivers what is still held.
	 */
	holdReplies(on: boolean): void;
	close(): Promise<void>;
}

interface Relay {
	client: net.Socket;
	held: Buffer[];
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
	const chunks: Buffer[] = [];
	const sockets = new Set<net.Socket>();
	const relays = new Set<Relay>();
	let down = false;
	let holding = false;
	const server = net.createServer((client) => {
		if (down) {
			client.destroy();
			return;
		}
		const upstream = net.connect(targetPort, targetHost);
		const relay: Relay = {client, held: []};
		relays.add(relay);
		for (const socket of [client, upstream]) {
			sockets.add(socket);
			socket.on('close', () => {
				sockets.delete(socket);
				relays.delete(relay);
			});
			socket.on('error', () => {
				client.destroy();
				upstream.destroy();
			});
		}
		client.on('data', (chunk) => {
			chunks.push(chunk);
			upstream.write(chunk);
		});
		upstream.on('data', (chunk) => {
			if (holding) {
				relay.held.push(chunk);
				return;
			}
			chunks.push(chunk);
			client.write(chunk);
		});
		client.on('end', () => upstream.end());
		upstream.on('end', () => {
			relay.held = []; // the target is gone: what it wrote but we held back is lost
			client.end();
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
	return {
		port: (server.address() as net.AddressInfo).port,
		bytes: () => Buffer.concat(chunks),
		cut() {
			down = true;
			for (const socket of sockets) socket.destroy();
		},
		restore() {
			down = false;
		},
		holdReplies(on) {
			holding = on;
			if (on) return;
			for (const relay of relays) {
				for (const chunk of relay.held) {
					chunks.push(chunk);
					relay.client.write(chunk);
				}
				relay.held = [];
			}
		},
		async close() {
			for (const socket of sockets) socket.destroy();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
