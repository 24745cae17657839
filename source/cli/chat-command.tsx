// `parley [ROOM-URL]`: the chat TUI. Without a URL it opens the local room,
// first starting embedded servers on loopback when none are running there.

import {mkdir, open} from 'node:fs/promises';
import path from 'node:path';
import {runServers, type RunningServers} from '../../server/run-servers.js';
import {createRoomClient} from '../client/create-room-client.js';
import {HostTrustPrompter} from '../client/host-trust.js';
import {DEFAULT_TCP_PORT, DEFAULT_UDP_PORT} from '../client/room-url.js';
import {renderChat} from '../tui/render-chat.js';
import {dataDir} from './paths.js';

export interface ChatCommandOptions {
	url?: string;
	/** The nick (UDP) or the user name to prefill (TCP). */
	nick?: string;
	scrollback: number;
	acceptNew: boolean;
	insecurePlaintext: boolean;
	/** For TCP rooms: log in without the form (PARLEY_PASSWORD). */
	password?: string;
}

export async function runChatCommand(options: ChatCommandOptions): Promise<number> {
	if (!process.stdin.isTTY || !process.stdout.isTTY) {
		process.stderr.write('parley: the chat needs a terminal (stdin and stdout must be a TTY)\n');
		return 2;
	}
	let embedded: RunningServers | undefined;
	let url = options.url;
	if (url === undefined) {
		embedded = await startEmbeddedServers();
		url = `udp://127.0.0.1:${DEFAULT_UDP_PORT}`;
	}
	const trust = new HostTrustPrompter();
	const client = createRoomClient(url, {
		tcp: {
			insecurePlaintext: options.insecurePlaintext,
			confirmNewHost: options.acceptNew ? async () => true : trust.ask,
		},
	});
	try {
		const instance = renderChat(client, {
			...(options.nick ? {nick: options.nick} : {}),
			...(options.password ? {password: options.password} : {}),
			trust,
			scrollbackCap: options.scrollback,
		});
		await instance.waitUntilExit();
	} finally {
		await client.close();
		await embedded?.close();
	}
	if (embedded) process.stdout.write(`parley: the local room servers stopped (their log: ${embeddedLogPath()})\n`);
	return 0;
}

function embeddedLogPath(): string {
	return path.join(dataDir(), 'embedded-server.log');
}

/**
 * Starts the local servers unless something already listens on their ports
 * (another terminal's `npm start`, or `parley serve`): then we just join it.
 */
async function startEmbeddedServers(): Promise<RunningServers | undefined> {
	await mkdir(dataDir(), {recursive: true, mode: 0o700});
	const logFile = await open(embeddedLogPath(), 'a', 0o600);
	// The TUI owns the terminal: server events go to a file instead.
	const log = (line: string) => void logFile.write(`${new Date().toISOString()} ${line}\n`).catch(() => {});
	try {
		const servers = await runServers({
			host: '127.0.0.1',
			udpPort: DEFAULT_UDP_PORT,
			tcpPort: DEFAULT_TCP_PORT,
			dataDir: dataDir(),
			// Loopback only, so a new user can create an account from the login form.
			allowRegister: true,
			dbAttempts: 1,
			log,
		});
		const close = servers.close.bind(servers);
		servers.close = async () => {
			await close();
			await logFile.close();
		};
		return servers;
	} catch (error) {
		await logFile.close();
		if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') return undefined;
		throw error;
	}
}
