// TEST ONLY: the built `parley` CLI as a child process with pipes (never a
// TTY), a private XDG home, and helpers to wait on what it prints.
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {waitFor} from '../helpers/wait.js';

export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../cli.js');

/** The parent's environment minus test-runner and password variables, with XDG dirs under `home`. */
export function cliEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (key.startsWith('NODE_TEST') || key === 'NODE_OPTIONS' || key === 'PARLEY_PASSWORD') continue;
		env[key] = value;
	}
	return {
		...env,
		XDG_CONFIG_HOME: path.join(home, 'config'),
		XDG_DATA_HOME: path.join(home, 'data'),
		...extra,
	};
}

export interface CliResult {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
}

export class CliProcess {
	stdout = '';
	stderr = '';
	readonly exited: Promise<CliResult>;
	private readonly child: ChildProcessWithoutNullStreams;

	constructor(args: readonly string[], env: NodeJS.ProcessEnv, {killAfterMs = 20_000} = {}) {
		this.child = spawn(process.execPath, [CLI, ...args], {env, stdio: ['pipe', 'pipe', 'pipe']});
		this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
		this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
		this.child.stdin.on('error', () => {}); // it may exit before reading everything
		// A hung child must fail the test, not hang the run.
		const timer = setTimeout(() => this.child.kill('SIGKILL'), killAfterMs);
		this.exited = new Promise((resolve, reject) => {
			this.child.on('error', reject);
			this.child.on('close', (code, signal) => {
				clearTimeout(timer);
				resolve({code, signal, stdout: this.stdout, stderr: this.stderr});
			});
		});
	}

	get pid(): number | undefined {
		return this.child.pid;
	}

	write(text: string): void {
		this.child.stdin.write(text);
	}

	end(text = ''): void {
		this.child.stdin.end(text);
	}

	kill(signal: NodeJS.Signals): void {
		this.child.kill(signal);
	}

	lines(): string[] {
		return this.stdout.split('\n').filter((line) => line !== '');
	}

	/** Waits until stdout's complete lines satisfy `probe`; a timeout shows both streams. */
	async waitForLines<T>(
		probe: (lines: string[]) => T | undefined | false,
		what: string,
		timeout = 15_000,
	): Promise<T> {
		try {
			return await waitFor(() => probe(this.lines()), {timeout, interval: 20, what});
		} catch (error) {
			throw new Error(
				`${(error as Error).message}\n--- stdout ---\n${this.stdout.slice(-2000)}\n--- stderr ---\n${this.stderr}`,
			);
		}
	}
}

/** Runs `parley ARGS` to completion with `stdin` piped in. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<CliResult> {
	const child = new CliProcess(args, env);
	child.end(stdin);
	return child.exited;
}

/** A local TCP port nothing listens on (bound, then released). */
export async function unusedTcpPort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const {port} = server.address() as net.AddressInfo;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return port;
}

/** A local UDP port nothing listens on (bound, then released). */
export async function unusedUdpPort(): Promise<number> {
	const socket = dgram.createSocket('udp4');
	await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
	const {port} = socket.address();
	await new Promise<void>((resolve) => socket.close(() => resolve()));
	return port;
}

export interface JsonEvent {
	seq: number | null;
	time: string | null;
	nick: string;
	text: string;
	kind: string;
	history?: boolean;
	to?: string;
	old?: string;
	reason?: string;
}

export const parseJsonLines = (lines: readonly string[]): JsonEvent[] =>
	lines.map((line) => JSON.parse(line) as JsonEvent);
