// TEST ONLY: `parley serve` as a separate OS process, so a test can kill it
// with SIGKILL (no shutdown code runs) and start it again on the same port
// and data directory.
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {waitFor} from './wait.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../cli.js');

/** A TCP port nobody listens on right now (bound to port 0, then released). */
export async function freePort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
	const {port} = server.address() as net.AddressInfo;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return port;
}

export interface ServeOptions {
	tcpPort: number;
	/** The address to listen on (default 127.0.0.1). */
	host?: string;
	dataDir: string;
	db?: string;
	room?: string;
	extraArgs?: string[];
}

export class ServeProcess {
	private output = '';
	private readonly child: ChildProcessWithoutNullStreams;
	readonly exited: Promise<NodeJS.Signals | number | null>;

	constructor(options: ServeOptions) {
		const args = [
			CLI,
			'serve',
			'--host',
			options.host ?? '127.0.0.1',
			'--udp-port',
			'0',
			'--tcp-port',
			String(options.tcpPort),
			'--data-dir',
			options.dataDir,
			...(options.db ? ['--db', options.db] : []),
			...(options.room ? ['--room', options.room] : []),
			...(options.extraArgs ?? []),
		];
		this.child = spawn(process.execPath, args, {stdio: ['pipe', 'pipe', 'pipe']});
		for (const stream of [this.child.stdout, this.child.stderr]) {
			stream.setEncoding('utf8');
			stream.on('data', (chunk: string) => (this.output += chunk));
		}
		this.exited = new Promise((resolve) =>
			this.child.once('exit', (code, signal) => resolve(signal ?? code)),
		);
	}

	static async start(options: ServeOptions): Promise<ServeProcess> {
		const serve = new ServeProcess(options);
		await serve.waitForLine(/tcp room ".*" listening on/, 15_000);
		return serve;
	}

	/** Everything the server printed so far (stdout and stderr). */
	get log(): string {
		return this.output;
	}

	/** The UDP port it bound (it is started with --udp-port 0), from its log. */
	get udpPort(): number {
		const found = /udp room ".*" listening on .*:(\d+)/.exec(this.output);
		if (!found) throw new Error(`parley serve has not said its UDP port yet:\n${this.output}`);
		return Number(found[1]);
	}

	get pid(): number | undefined {
		return this.child.pid;
	}

	async waitForLine(pattern: RegExp, timeout = 5000): Promise<string> {
		try {
			return await waitFor(
				() => {
					if (this.child.exitCode !== null || this.child.signalCode !== null)
						throw new Error('parley serve exited');
					return this.output.split('\n').find((line) => pattern.test(line));
				},
				{timeout, what: `a server log line matching ${pattern}`},
			);
		} catch (error) {
			throw new Error(`${(error as Error).message}\n--- parley serve output ---\n${this.output}`);
		}
	}

	/** SIGKILL: no shutdown code runs, sockets are torn down by the kernel. */
	async kill9(): Promise<void> {
		this.child.kill('SIGKILL');
		await this.exited;
	}

	/** SIGTERM (a clean shutdown), SIGKILL if it takes too long. */
	async stop(): Promise<void> {
		if (this.child.exitCode !== null || this.child.signalCode !== null) return;
		this.child.kill('SIGTERM');
		const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
		await this.exited;
		clearTimeout(timer);
	}
}
