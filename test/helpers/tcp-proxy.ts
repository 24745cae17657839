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
	close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
	const chunks: Buffer[] = [];
	const sockets = new Set<net.Socket>();
	let down = false;
	const server = net.createServer(client => {
		if (down) {
			client.destroy();
			return;
		}
		const upstream = net.connect(targetPort, targetHost);
		for (const socket of [client, upstream]) {
			sockets.add(socket);
			socket.on('close', () => sockets.delete(socket));
			socket.on('error', () => {
				client.destroy();
				upstream.destroy();
			});
		}
		client.on('data', chunk => {
			chunks.push(chunk);
			upstream.write(chunk);
		});
		upstream.on('data', chunk => {
			chunks.push(chunk);
			client.write(chunk);
		});
		client.on('end', () => upstream.end());
		upstream.on('end', () => client.end());
	});
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()));
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
		async close() {
			for (const socket of sockets) socket.destroy();
			await new Promise<void>(resolve => server.close(() => resolve()));
		},
	};
}
