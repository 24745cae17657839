// `parley [ROOM]`: the chat TUI. ROOM is an address or a name from rooms.json.
// Without one it opens the local rooms, a tab each (UDP first, then TCP, so a
// new user meets both kinds), first starting embedded servers on loopback when
// none are running there. More rooms open at run time with /connect.

import {mkdir, open} from 'node:fs/promises';
import path from 'node:path';
import {runServers, type RunningServers} from '../../server/run-servers.js';
import {createRoomClient} from '../client/create-room-client.js';
import {HostTrustPrompter} from '../client/host-trust.js';
import {
	isRoomUrl,
	loadRoomConfigSync,
	resolveRoom,
	resolveRoomIn,
	type LoadRoomConfigOptions,
} from '../client/room-config.js';
import {DEFAULT_TCP_PORT, DEFAULT_UDP_PORT, formatRoomUrl, parseRoomUrl} from '../client/room-url.js';
import {attachRoomLog} from '../client/room-log.js';
import type {RoomClient} from '../client/types.js';
import type {RoomOpener, RoomSpec, RoomToOpen} from '../tui/ChatScreen.js';
import {renderChat} from '../tui/render-chat.js';
import {dataDir} from './paths.js';

export interface ChatCommandOptions {
	/** An address or a configured room name. */
	url?: string;
	/** The nick (UDP) or the user name to prefill (TCP). */
	nick?: string;
	scrollback: number;
	acceptNew: boolean;
	insecurePlaintext: boolean;
	/** For TCP rooms: log in without the form (PARLEY_PASSWORD). */
	password?: string;
	/** Ring the terminal bell on a mention or a direct message. */
	bell?: boolean;
	/** Append every open room's messages to a file in this directory (one per room). */
	logDir?: string;
}

const LOCAL_HOST = '127.0.0.1';
/** What the local TCP tab's login form says first: the embedded server lets anyone create an account. */
export const LOCAL_TCP_INTRO =
	'local TCP room: pick a user name and a password, then Ctrl+R creates your account';

interface StartRoom {
	readonly url: string;
	readonly nick?: string | undefined;
	readonly label?: string | undefined;
	readonly intro?: string | undefined;
}

export async function runChatCommand(options: ChatCommandOptions): Promise<number> {
	if (!process.stdin.isTTY || !process.stdout.isTTY) {
		process.stderr.write('parley: the chat needs a terminal (stdin and stdout must be a TTY)\n');
		return 2;
	}
	let start: StartRoom[];
	let embedded: RunningServers | undefined;
	if (options.url === undefined) {
		embedded = await startEmbeddedServers();
		start = [
			{url: `udp://${LOCAL_HOST}:${DEFAULT_UDP_PORT}`},
			{url: `tcp://${LOCAL_HOST}:${DEFAULT_TCP_PORT}`, intro: LOCAL_TCP_INTRO},
		];
	} else {
		try {
			const room = await resolveRoom(options.url);
			start = [{url: room.url, nick: room.login, label: room.name}];
		} catch (error) {
			process.stderr.write(`parley: ${(error as Error).message}\n`);
			return 2;
		}
	}
	const trust = new HostTrustPrompter();
	const localTcp = `${LOCAL_HOST}:${DEFAULT_TCP_PORT}`;
	const confirmNewHost = (hostPort: string, fingerprint: string): Promise<boolean> => {
		if (options.acceptNew) return Promise.resolve(true);
		// The server we started a moment ago: its certificate is known, no need to ask.
		if (embedded?.fingerprint !== undefined && hostPort === localTcp && fingerprint === embedded.fingerprint)
			return Promise.resolve(true);
		return trust.ask(hostPort, fingerprint);
	};
	const clients = new Set<RoomClient>();
	const create = (url: string): RoomClient => {
		const client = createRoomClient(url, {
			tcp: {insecurePlaintext: options.insecurePlaintext, confirmNewHost},
		});
		clients.add(client);
		return client;
	};
	// What each room is called in rooms.json, for its log file's name.
	const labels = new Map<string, string>();
	for (const room of start) if (room.label !== undefined) labels.set(room.url, room.label);
	const opener = roomOpener(create, {}, (room) => {
		if (room.label !== undefined) labels.set(room.url, room.label);
	});
	// --log-dir: every room the screen opens (/connect too) is logged; each
	// detach flushes and closes its file, and all are awaited before we return.
	const logs: Array<() => Promise<void>> = [];
	const {logDir} = options;
	const attachLog =
		logDir === undefined
			? undefined
			: (client: RoomClient, report: (error: Error) => void) => {
					const detach = attachRoomLog(client, logDir, report, {name: labels.get(client.url)});
					logs.push(detach);
					return detach;
				};
	const rooms: RoomSpec[] = start.map((room) => ({
		client: create(room.url),
		nick: options.nick ?? room.nick,
		password: options.password,
		label: room.label,
		intro: room.intro,
	}));
	try {
		const instance = renderChat(rooms, {
			trust,
			opener,
			scrollbackCap: options.scrollback,
			bell: options.bell === true,
			attachLog,
		});
		// A closed terminal (SIGHUP) or a kill (SIGTERM) leaves every room properly, as /quit does,
		// instead of the others seeing us time out.
		const stop = (): void => instance.unmount();
		process.once('SIGHUP', stop);
		process.once('SIGTERM', stop);
		try {
			await instance.waitUntilExit();
		} finally {
			process.off('SIGHUP', stop);
			process.off('SIGTERM', stop);
		}
	} finally {
		await Promise.all([...clients].map((client) => client.close().catch(() => undefined)));
		await Promise.all(logs.map((detach) => detach().catch(() => undefined)));
		await embedded?.close();
	}
	if (logDir !== undefined && logs.length > 0) process.stdout.write(`parley: room logs are in ${logDir}\n`);
	if (embedded)
		process.stdout.write(`parley: the local room servers stopped (their log: ${embeddedLogPath()})\n`);
	return 0;
}

/**
 * How /connect opens rooms: an address, or a name from rooms.json, read again
 * each time so an edit counts without a restart. A broken file only matters
 * to someone who uses a name.
 */
export function roomOpener(
	create: (url: string) => RoomClient,
	options: LoadRoomConfigOptions = {},
	resolved: (room: RoomToOpen) => void = () => {},
): RoomOpener {
	const resolve = (target: string): RoomToOpen => {
		let config: ReturnType<typeof loadRoomConfigSync>;
		try {
			config = loadRoomConfigSync(options);
		} catch (error) {
			if (!isRoomUrl(target)) throw error;
			return {url: formatRoomUrl(parseRoomUrl(target))};
		}
		const room = resolveRoomIn(config, target);
		return {url: room.url, nick: room.login, label: room.name};
	};
	return {
		create,
		resolve: (target) => {
			const room = resolve(target);
			resolved(room);
			return room;
		},
	};
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
