// `parley [ROOM]`: the chat TUI. ROOM is an address or a name from rooms.json.
// Without one it opens the local rooms, a tab each (UDP first, then TCP, so a
// new user meets both kinds), first starting the local server in the
// background when none runs (local-server.ts): it outlives this chat, so the
// others in the room stay. More rooms open at run time with /connect.

import {mkdir} from 'node:fs/promises';
import {homedir} from 'node:os';
import path from 'node:path';
import {configFile, noColorWanted} from '../client/config.js';
import {ConfigStore, type ConfigOverrides} from '../client/config-store.js';
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
import {LastNicks} from '../client/last-nicks.js';
import {attachRoomLog} from '../client/room-log.js';
import type {RoomClient} from '../client/types.js';
import type {RoomOpener, RoomSpec, RoomToOpen} from '../tui/ChatScreen.js';
import type {NotifyOptions} from '../tui/notify.js';
import {renderChat} from '../tui/render-chat.js';
import {ensureLocalServer, type LocalServer} from './local-server.js';
import {loadSession, saveSession, type SessionRoom} from './session-file.js';
import {configDir, dataDir} from './paths.js';

export interface ChatCommandOptions {
	/** An address or a configured room name. */
	url?: string;
	/** The nick (UDP) or the user name to prefill (TCP). */
	nick?: string;
	/** Each flag left out (undefined) takes its value from config.toml. */
	scrollback?: number | undefined;
	acceptNew?: boolean | undefined;
	insecurePlaintext?: boolean | undefined;
	/** For TCP rooms: log in without the form (PARLEY_PASSWORD). */
	password?: string;
	/** Ring the terminal bell on a mention or a direct message. */
	bell?: boolean;
	/** Desktop notifications for highlights and direct messages (config `[notify]`; off by default). */
	notify?: NotifyOptions;
	/** Wheel scrolls the log, a click on a tab shows it (default true; config `mouse`). */
	mouse?: boolean;
	/** Without a room: reopen the rooms open at the last quit, after the local ones (default true; --no-restore). */
	restore?: boolean;
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

/** The flags given on the command line, which win over config.toml (after /reload too). */
export function configOverrides(options: ChatCommandOptions): ConfigOverrides {
	return {
		nick: options.nick,
		scrollback: options.scrollback,
		acceptNew: options.acceptNew,
		insecurePlaintext: options.insecurePlaintext,
		bell: options.bell,
		logDir: options.logDir,
	};
}

/** log_dir from the config: "~/" is the home directory, a relative path is taken from the config directory. */
function configuredDir(dir: string): string {
	if (dir === '~' || dir.startsWith('~/')) return path.join(homedir(), dir.slice(1));
	return path.resolve(configDir(), dir);
}

export async function runChatCommand(options: ChatCommandOptions): Promise<number> {
	if (!process.stdin.isTTY || !process.stdout.isTTY) {
		process.stderr.write('parley: the chat needs a terminal (stdin and stdout must be a TTY)\n');
		return 2;
	}
	let config: ConfigStore;
	try {
		config = new ConfigStore(configFile(configDir()), configOverrides(options), {noColor: noColorWanted()});
	} catch (error) {
		process.stderr.write(`parley: ${(error as Error).message}\n`);
		return 2;
	}
	const settings = config.current;
	// The account name for TCP rooms, the nick elsewhere, when neither a flag nor the room has one.
	const defaultName = (url: string): string | undefined =>
		url.startsWith('tcp') ? (settings.user ?? settings.nick) : (settings.nick ?? settings.user);
	let start: StartRoom[];
	let local: LocalServer | undefined;
	let localTcp = `${LOCAL_HOST}:${DEFAULT_TCP_PORT}`;
	if (options.url === undefined) {
		try {
			local = await startLocalServer();
		} catch (error) {
			process.stderr.write(`parley: ${(error as Error).message}\n`);
			return 1;
		}
		const ports =
			local.kind === 'running'
				? {udp: local.record.udpPort, tcp: local.record.tcpPort}
				: {udp: localPort('UDP', DEFAULT_UDP_PORT), tcp: localPort('TCP', DEFAULT_TCP_PORT)};
		// A foreground `parley serve --host 192.0.2.1` of this data directory is reached there.
		const host = local.kind === 'running' ? reachableHost(local.record.host) : LOCAL_HOST;
		localTcp = `${host}:${ports.tcp}`;
		start = [{url: `udp://${host}:${ports.udp}`}, {url: `tcp://${localTcp}`, intro: LOCAL_TCP_INTRO}];
		if (options.restore !== false) start = withSession(start, await loadSession());
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
	// The local server's pid file (in our own data directory) names its certificate: no need to ask.
	const localFingerprint = local?.kind === 'running' ? local.record.fingerprint : undefined;
	const confirmNewHost = (hostPort: string, fingerprint: string): Promise<boolean> => {
		if (settings.acceptNew) return Promise.resolve(true);
		if (localFingerprint !== undefined && hostPort === localTcp && fingerprint === localFingerprint)
			return Promise.resolve(true);
		return trust.ask(hostPort, fingerprint);
	};
	// The nick each room was last joined with: used when none is given, kept as it changes.
	await mkdir(configDir(), {recursive: true, mode: 0o700}).catch(() => undefined);
	const lastNicks = new LastNicks();
	const clients = new Set<RoomClient>();
	const create = (url: string): RoomClient => {
		const client = createRoomClient(url, {
			tcp: {insecurePlaintext: settings.insecurePlaintext, confirmNewHost},
		});
		clients.add(client);
		lastNicks.follow(client);
		return client;
	};
	// What each room is called in rooms.json, for its log file's name.
	const labels = new Map<string, string>();
	for (const room of start) if (room.label !== undefined) labels.set(room.url, room.label);
	const opener = roomOpener(create, {}, (room) => {
		if (room.label !== undefined) labels.set(room.url, room.label);
		return room.nick === undefined ? {...room, nick: lastNicks.get(room.url) ?? defaultName(room.url)} : room;
	});
	// --log-dir: every room the screen opens (/connect too) is logged; each
	// detach flushes and closes its file, and all are awaited before we return.
	const logs: Array<() => Promise<void>> = [];
	const logDir = settings.logDir === undefined ? undefined : configuredDir(settings.logDir);
	// log_name = "address": files named after host and port even for rooms with a name in rooms.json.
	const logName = (url: string): string | undefined =>
		settings.logName === 'address' ? undefined : labels.get(url);
	const attachLog =
		logDir === undefined
			? undefined
			: (client: RoomClient, report: (error: Error) => void) => {
					const detach = attachRoomLog(client, logDir, report, {name: logName(client.url)});
					logs.push(detach);
					return detach;
				};
	const rooms: RoomSpec[] = start.map((room) => ({
		client: create(room.url),
		nick: options.nick ?? room.nick ?? lastNicks.get(room.url) ?? defaultName(room.url),
		password: options.password,
		label: room.label,
		intro: room.intro,
	}));
	// Written on every quit (with --no-restore too): the next plain `parley` reopens what this one had.
	let session: readonly SessionRoom[] | undefined;
	try {
		const instance = renderChat(rooms, {
			onClose: (open) => {
				session = open;
			},
			trust,
			opener,
			scrollbackCap: settings.scrollback,
			notify: options.notify ?? settings.notify,
			mouse: options.mouse,
			attachLog,
			config,
			noColor: noColorWanted(),
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
		await lastNicks.flush();
		if (session !== undefined) await saveSession(session);
	}
	if (logDir !== undefined && logs.length > 0) process.stdout.write(`parley: room logs are in ${logDir}\n`);
	if (local?.kind === 'running')
		process.stdout.write(
			`parley: the local room server keeps running (pid ${local.record.pid}); \`parley serve --stop\` stops it\n`,
		);
	return 0;
}

/** The local rooms, then those of the last session not among them (in the order they had). */
function withSession(local: StartRoom[], saved: readonly SessionRoom[]): StartRoom[] {
	const urls = new Set(local.map((room) => room.url));
	const extra = saved.filter((room) => {
		if (urls.has(room.url) || !isRoomUrl(room.url)) return false;
		urls.add(room.url);
		return true;
	});
	return [...local, ...extra.map((room) => ({url: room.url, nick: room.nick, label: room.label}))];
}

/** Where to reach a server listening on `host`: loopback for the wildcard addresses (and IPv6, to keep URLs simple). */
function reachableHost(host: string): string {
	return host === '0.0.0.0' || host === '' || host.includes(':') ? LOCAL_HOST : host;
}

/** PARLEY_LOCAL_UDP_PORT / PARLEY_LOCAL_TCP_PORT move the local rooms (0: any free port; tests, a second setup). */
function localPort(transport: 'UDP' | 'TCP', fallback: number): number {
	const text = process.env[`PARLEY_LOCAL_${transport}_PORT`];
	if (text === undefined || text === '') return fallback;
	const port = Number(text);
	if (!Number.isInteger(port) || port < 0 || port > 65_535)
		throw new Error(`PARLEY_LOCAL_${transport}_PORT must be a port number, not ${JSON.stringify(text)}`);
	return port;
}

/** The local rooms' server: the one running in the background, or a new one started there. */
async function startLocalServer(): Promise<LocalServer> {
	await mkdir(dataDir(), {recursive: true, mode: 0o700});
	return ensureLocalServer({
		dataDir: dataDir(),
		host: LOCAL_HOST,
		udpPort: localPort('UDP', DEFAULT_UDP_PORT),
		tcpPort: localPort('TCP', DEFAULT_TCP_PORT),
	});
}

/**
 * How /connect opens rooms: an address, or a name from rooms.json, read again
 * each time so an edit counts without a restart. A broken file only matters
 * to someone who uses a name.
 */
export function roomOpener(
	create: (url: string) => RoomClient,
	options: LoadRoomConfigOptions = {},
	/** Sees (and may complete) every room resolved, e.g. with the nick last used there. */
	adjust: (room: RoomToOpen) => RoomToOpen = (room) => room,
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
		resolve: (target) => adjust(resolve(target)),
	};
}
