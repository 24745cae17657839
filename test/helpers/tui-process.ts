// TEST ONLY: a `parley` TUI as a separate OS process inside a pseudo-terminal
// made by util-linux `script`. Keystrokes go in through its stdin; what it
// draws comes back through its stdout into a headless xterm, so assertions are
// about the text a user would see on screen right now.
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import xterm from '@xterm/headless';
import {delay, waitFor} from './wait.js';

export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../cli.js');
export const COLUMNS = 100;
export const ROWS = 30;
const TIMEOUT = 10_000;

/** Resolves with the promise's value, or 'timeout' after `ms` (the timer does not keep the process alive). */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<'timeout'>((resolve) => {
		timer = setTimeout(() => resolve('timeout'), ms);
	});
	return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const shellQuote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/** Environment for a client: a private XDG home, a known terminal, no CI flags (Ink turns non-interactive under CI). */
export function clientEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (key === 'CI' || key === 'CONTINUOUS_INTEGRATION' || key.startsWith('CI_')) continue;
		if (key.startsWith('NODE_TEST') || key === 'NODE_OPTIONS') continue;
		env[key] = value;
	}
	return {
		...env,
		TERM: 'xterm-256color',
		COLUMNS: String(COLUMNS),
		LINES: String(ROWS),
		XDG_DATA_HOME: path.join(home, 'data'),
		XDG_CONFIG_HOME: path.join(home, 'config'),
		SHELL: '/bin/sh',
		...extra,
	};
}

export class TuiProcess {
	readonly exited: Promise<number | null>;
	/** The chat process itself (the shell `exec`s it, so its pid is the shell's). */
	pid: number | undefined;
	exitCode: number | null | undefined;
	private raw = '';
	private readonly terminal = new xterm.Terminal({cols: COLUMNS, rows: ROWS, allowProposedApi: true});
	private readonly process: ChildProcessWithoutNullStreams;

	constructor(
		readonly name: string,
		args: readonly string[],
		env: NodeJS.ProcessEnv,
	) {
		const command = [
			`stty cols ${COLUMNS} rows ${ROWS} 2>/dev/null`,
			'echo "PARLEY_PID=$$"',
			`exec ${[process.execPath, CLI, ...args].map(shellQuote).join(' ')}`,
		].join('; ');
		this.process = spawn('script', ['-qfec', command, '/dev/null'], {stdio: ['pipe', 'pipe', 'pipe'], env});
		this.process.stdout.setEncoding('utf8');
		this.process.stderr.setEncoding('utf8');
		this.process.stdout.on('data', (chunk: string) => {
			this.raw += chunk;
			if (this.pid === undefined) {
				const match = /PARLEY_PID=(\d+)/.exec(this.raw);
				if (match) this.pid = Number(match[1]);
			}
			this.terminal.write(chunk);
		});
		this.process.stderr.on('data', (chunk: string) => {
			this.raw += chunk;
		});
		this.process.stdin.on('error', () => {}); // writes after exit
		this.exited = new Promise((resolve) => {
			this.process.once('exit', (code) => {
				this.exitCode = code;
				resolve(code);
			});
		});
	}

	get running(): boolean {
		return this.exitCode === undefined;
	}

	/** The visible rows, trailing spaces trimmed. */
	lines(): string[] {
		const buffer = this.terminal.buffer.active;
		const rows: string[] = [];
		for (let y = 0; y < ROWS; y++)
			rows.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
		return rows;
	}

	text(): string {
		return this.lines().join('\n');
	}

	/** Types text, then (after a pause, as a person would) presses Enter when asked. */
	async type(text: string, {enter = false} = {}): Promise<void> {
		this.process.stdin.write(text);
		if (!enter) return;
		await delay(50);
		this.process.stdin.write('\r');
	}

	press(key: string): void {
		this.process.stdin.write(key);
	}

	/** Waits until the screen satisfies `probe`; a timeout shows the screen. */
	async waitForScreen(probe: (lines: string[]) => boolean, what: string, timeout = TIMEOUT): Promise<void> {
		try {
			await waitFor(() => probe(this.lines()), {timeout, interval: 20, what: `${this.name}: ${what}`});
		} catch (error) {
			throw new Error(`${(error as Error).message}\n--- ${this.name}'s screen ---\n${this.text()}\n---`);
		}
	}

	waitForText(text: string, timeout = TIMEOUT): Promise<void> {
		return this.waitForScreen(
			(lines) => lines.some((line) => line.includes(text)),
			`"${text}" on screen`,
			timeout,
		);
	}

	/** The status bar: the top row of the screen. */
	statusLine(): string {
		return this.lines()[0] ?? '';
	}

	/** The input line: the bottom row of the screen. */
	inputLine(): string {
		return this.lines()[ROWS - 1] ?? '';
	}

	async waitForExit(): Promise<number | null> {
		const code = await within(this.exited, TIMEOUT);
		if (code === 'timeout') throw new Error(`${this.name}'s client did not exit\n${this.text()}`);
		return code;
	}

	async kill(): Promise<void> {
		if (this.running) {
			for (const pid of [this.pid, this.process.pid]) {
				if (pid === undefined) continue;
				try {
					process.kill(pid, 'SIGKILL');
				} catch {
					// Already gone.
				}
			}
			await within(this.exited, 2000);
		}
		this.terminal.dispose();
	}
}
