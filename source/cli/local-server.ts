// The local room server of `parley` without arguments (and `npm start`): a
// `parley serve` started in the background, detached from the terminal (its
// own session, output to server.log in the data directory), so the room
// outlives whoever started it. Later chats find it by its pid file and join;
// `parley serve --stop` ends it.

import {spawn} from 'node:child_process';
import {open} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {
	isListening,
	isServeProcess,
	type ListeningRecord,
	readServerRecord,
	SERVE_EXIT,
	type ServerRecord,
} from './server-record.js';

export interface LocalServerOptions {
	readonly dataDir: string;
	readonly host: string;
	/** 0 lets the server pick; the pid file says what it bound. */
	readonly udpPort: number;
	readonly tcpPort: number;
	/** Milliseconds to wait for a new server to listen (default 20 s). */
	readonly timeoutMs?: number;
}

export type LocalServer =
	| {readonly kind: 'running'; readonly record: ListeningRecord; readonly started: boolean}
	/** Something without a pid file here holds the ports (e.g. a `parley serve` of another data directory). */
	| {readonly kind: 'ports-taken'};

const ENTRY = fileURLToPath(new URL('../../parley.js', import.meta.url));
const POLL_MS = 50;

export function serverLogPath(dataDir: string): string {
	return path.join(dataDir, 'server.log');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The running local server, started in the background first if none runs. */
export async function ensureLocalServer(options: LocalServerOptions): Promise<LocalServer> {
	const deadline = Date.now() + (options.timeoutMs ?? 20_000);
	while (Date.now() < deadline) {
		const record = await readServerRecord(options.dataDir);
		if (record !== undefined) {
			if (isListening(record)) return {kind: 'running', record, started: false};
			await sleep(POLL_MS); // another chat's server is starting: wait for it
			continue;
		}
		const outcome = await startInBackground(options, deadline);
		if (outcome !== 'lost-race') return outcome;
	}
	throw new Error(`the local room server did not start in time (see ${serverLogPath(options.dataDir)})`);
}

async function startInBackground(
	options: LocalServerOptions,
	deadline: number,
): Promise<LocalServer | 'lost-race'> {
	const log = serverLogPath(options.dataDir);
	const output = await open(log, 'a', 0o600);
	let exit: number | null | undefined;
	let pid: number | undefined;
	try {
		const child = spawn(
			process.execPath,
			[
				ENTRY,
				'serve',
				'--host',
				options.host,
				'--udp-port',
				String(options.udpPort),
				'--tcp-port',
				String(options.tcpPort),
				'--data-dir',
				options.dataDir,
				// Loopback only, so a new user can create an account from the login form.
				'--allow-register',
			],
			// Its own session: closing this terminal sends it no SIGHUP.
			{detached: true, stdio: ['ignore', output.fd, output.fd]},
		);
		pid = child.pid;
		child.once('exit', (code) => {
			exit = code;
		});
		child.unref();
	} finally {
		await output.close();
	}
	while (Date.now() < deadline) {
		const record = await readServerRecord(options.dataDir);
		if (record !== undefined && record.pid === pid && isListening(record))
			return {kind: 'running', record, started: true};
		if (exit !== undefined) {
			if (exit === SERVE_EXIT.addressInUse) return {kind: 'ports-taken'};
			if (exit === SERVE_EXIT.alreadyRunning) return 'lost-race';
			throw new Error(`the local room server stopped at start (status ${exit}; its log: ${log})`);
		}
		await sleep(POLL_MS);
	}
	if (pid !== undefined && isServeProcess({pid})) process.kill(pid, 'SIGTERM'); // ours, and too slow
	throw new Error(`the local room server did not start in time (see ${log})`);
}

/** Stops the server of `record` with SIGTERM (it tells every member); false if it outlived `timeoutMs`. */
export async function stopServer(record: ServerRecord, timeoutMs = 10_000): Promise<boolean> {
	try {
		process.kill(record.pid, 'SIGTERM');
	} catch {
		return true; // gone already
	}
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (!isServeProcess(record)) return true;
		await sleep(POLL_MS);
	}
	return false;
}
