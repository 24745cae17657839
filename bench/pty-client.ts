// A real `parley` client in a pseudo-terminal (util-linux `script`) drawing
// into a headless xterm, as test/helpers/tui-process.ts does, plus what the
// client benchmark needs: a hook after every parsed chunk (to time when a
// typed key shows) and the client's CPU time and RSS from /proc.

import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process';
import {readFileSync} from 'node:fs';
import xterm from '@xterm/headless';
import {CLI, COLUMNS, ROWS} from '../test/helpers/tui-process.js';

const shellQuote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export class PtyClient {
	pid: number | undefined;
	/** Called after each chunk of output has been parsed into the screen. */
	onScreen: (() => void) | undefined;
	private raw = '';
	private readonly terminal = new xterm.Terminal({cols: COLUMNS, rows: ROWS, allowProposedApi: true});
	private readonly process: ChildProcessWithoutNullStreams;
	readonly exited: Promise<void>;

	constructor(args: readonly string[], env: NodeJS.ProcessEnv, nodeArgs: readonly string[] = []) {
		const command = [
			`stty cols ${COLUMNS} rows ${ROWS} 2>/dev/null`,
			'echo "PARLEY_PID=$$"',
			`exec ${[process.execPath, ...nodeArgs, CLI, ...args].map(shellQuote).join(' ')}`,
		].join('; ');
		this.process = spawn('script', ['-qfec', command, '/dev/null'], {stdio: ['pipe', 'pipe', 'pipe'], env});
		this.process.stdout.setEncoding('utf8');
		this.process.stdout.on('data', (chunk: string) => {
			if (this.pid === undefined) {
				this.raw += chunk;
				const match = /PARLEY_PID=(\d+)/.exec(this.raw);
				if (match) this.pid = Number(match[1]);
			}
			this.terminal.write(chunk, () => this.onScreen?.());
		});
		this.process.stderr.resume();
		this.process.stdin.on('error', () => {});
		this.exited = new Promise((resolve) => this.process.once('exit', () => resolve()));
	}

	line(row: number): string {
		const buffer = this.terminal.buffer.active;
		return buffer.getLine(buffer.viewportY + row)?.translateToString(true) ?? '';
	}

	text(): string {
		return Array.from({length: ROWS}, (_, row) => this.line(row)).join('\n');
	}

	statusLine(): string {
		return this.line(0);
	}

	inputLine(): string {
		return this.line(ROWS - 1);
	}

	write(keys: string): void {
		this.process.stdin.write(keys);
	}

	/** User + system CPU milliseconds of the client process so far. */
	cpuMs(): number {
		const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1000;
	}

	/** Resident set size in MB. */
	rssMb(): number {
		const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
		const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
		return kb / 1024;
	}

	async kill(): Promise<void> {
		// Ctrl+C quits cleanly (so a --cpu-prof gets written); SIGKILL if it does not.
		this.write('\x03');
		await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
		for (const pid of [this.pid, this.process.pid]) {
			if (pid === undefined) continue;
			try {
				process.kill(pid, 'SIGKILL');
			} catch {
				// Already gone.
			}
		}
		await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
		this.terminal.dispose();
	}
}
