// TEST ONLY: N `parley serve` processes side by side, each on a free TCP port
// with its own data directory (its local journal, certificate and secrets),
// given the same flags (a shared --db): servers of one room for a client that
// moves between them. With a broker between them, see cluster-nodes.ts.
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {ServeProcess, freePort} from './tcp-serve-process.js';

export interface ServerGroupOptions {
	nodes: number;
	/** The shared store (--db), e.g. a MariaDB URL; absent: each node its own SQLite. */
	db?: string;
	/** The default room (--room). */
	room?: string;
	/** Flags for every node, or per node (its index). */
	args?: string[] | ((node: number) => string[]);
	/** Listen address (default 127.0.0.1). */
	host?: string;
}

export class ServerGroup {
	private constructor(
		readonly nodes: ServeProcess[],
		readonly ports: number[],
		private readonly dirs: string[],
		private readonly options: ServerGroupOptions,
	) {}

	static async start(options: ServerGroupOptions): Promise<ServerGroup> {
		const ports: number[] = [];
		const dirs: string[] = [];
		for (let i = 0; i < options.nodes; i++) {
			ports.push(await freePort());
			dirs.push(await mkdtemp(path.join(tmpdir(), `parley-node${i}-`)));
		}
		const cluster = new ServerGroup([], ports, dirs, options);
		try {
			for (let i = 0; i < options.nodes; i++) cluster.nodes.push(await cluster.startNode(i));
		} catch (error) {
			await cluster.close();
			throw error;
		}
		return cluster;
	}

	/** Starts node `i` (again) on its port and data directory; the old process must be gone. */
	async restart(i: number): Promise<ServeProcess> {
		const node = await this.startNode(i);
		this.nodes[i] = node;
		return node;
	}

	private startNode(i: number): Promise<ServeProcess> {
		const {db, room, args, host} = this.options;
		return ServeProcess.start({
			tcpPort: this.ports[i]!,
			dataDir: this.dirs[i]!,
			...(db ? {db} : {}),
			...(room ? {room} : {}),
			...(host ? {host} : {}),
			extraArgs: typeof args === 'function' ? args(i) : (args ?? []),
		});
	}

	/** The nodes' addresses as one room URL: tcp://h:p1,h:p2/#room. */
	url(room?: string): string {
		const host = this.options.host ?? '127.0.0.1';
		const servers = this.ports.map((port) => `${host}:${port}`).join(',');
		return `tcp://${servers}${room === undefined ? '' : `/${room}`}`;
	}

	/** The data directory of node `i` (its certificate is there). */
	dataDir(i: number): string {
		return this.dirs[i]!;
	}

	/** Stops every node still running (SIGTERM, then SIGKILL) and removes their data. */
	async close(): Promise<void> {
		await Promise.all(this.nodes.map((node) => node.stop()));
		await Promise.all(this.dirs.map((dir) => rm(dir, {recursive: true, force: true})));
	}
}
