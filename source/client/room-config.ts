// Named rooms: `$XDG_CONFIG_HOME/parley/rooms.json` maps short names to room
// addresses and the nick (UDP) or account (TCP) to use there, so people can
// type `parley work`, `/join work` or `parley send work` instead of a URL.
//
//   {
//     "rooms": {
//       "lobby": {"url": "udp://127.0.0.1:7667", "nick": "alice"},
//       "work":  {"url": "tcp://chat.example:7668", "user": "alice"}
//     }
//   }
//
// Passwords are deliberately not accepted here: they come from the login form,
// PARLEY_PASSWORD or --password-stdin.

import {readFileSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {configDir} from '../cli/paths.js';
import {nickProblem} from '../protocol/messages.js';
import {usernameProblem} from '../protocol/names.js';
import {formatRoomUrl, parseRoomUrl, type RoomAddress, RoomUrlError} from './room-url.js';
import type {TransportKind} from './types.js';

export const ROOM_CONFIG_FILE = 'rooms.json';

/** Names `parley NAME` could never reach, because they are subcommands. */
export const RESERVED_ROOM_NAMES: readonly string[] = ['serve', 'user', 'send', 'tail', 'rooms', 'help'];

const ROOM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const ROOM_KEYS = new Set(['url', 'nick', 'user']);

/** One configured room, as written in the file (url normalised). */
export interface RoomEntry {
	readonly name: string;
	/** Normalised: `udp://HOST:PORT` or `tcp://HOST:PORT`, always with the port. */
	readonly url: string;
	readonly transport: TransportKind;
	readonly nick?: string;
	readonly user?: string;
}

export interface RoomConfig {
	/** The file this came from (it need not exist: a missing file is an empty config). */
	readonly path: string;
	/** In the file's order. */
	readonly rooms: readonly RoomEntry[];
}

/** What to connect to, whether the user typed a URL or a configured name. */
export interface ResolvedRoom {
	/** Normalised room URL, ready for createRoomClient(). */
	readonly url: string;
	readonly transport: TransportKind;
	/** The configured name, when the argument was one (or a URL configured under exactly one name). */
	readonly name?: string;
	readonly nick?: string;
	readonly user?: string;
	/**
	 * The identity to log in with for this transport, if configured: for UDP the
	 * nick (else the user), for TCP the user (else the nick).
	 */
	readonly login?: string;
}

/**
 * A problem with the config file. `message` is complete and names the file and
 * the line or field; `line`/`field` are there for callers that want them.
 */
export class RoomConfigError extends Error {
	constructor(
		message: string,
		readonly path: string,
		readonly details: {line?: number; column?: number; field?: string} = {},
	) {
		super(message);
		this.name = 'RoomConfigError';
	}
}

/** The argument is neither a room URL nor a configured name. */
export class UnknownRoomError extends Error {
	constructor(
		readonly room: string,
		readonly configured: readonly string[],
		readonly path: string,
	) {
		super(
			configured.length > 0
				? `no room named ${room} (configured: ${configured.join(', ')})`
				: `no room named ${room} (no rooms are configured; add them to ${path}, or give a udp:// or tcp:// address)`,
		);
		this.name = 'UnknownRoomError';
	}
}

export function roomConfigPath(env: NodeJS.ProcessEnv = process.env): string {
	return path.join(configDir(env), ROOM_CONFIG_FILE);
}

/** True when the argument should be parsed as an address rather than looked up by name. */
export function isRoomUrl(argument: string): boolean {
	return argument.includes('://');
}

/** Line and column (1-based) of a character offset. */
function position(text: string, offset: number): {line: number; column: number} {
	const before = text.slice(0, Math.max(0, offset));
	const line = before.split('\n').length;
	return {line, column: offset - before.lastIndexOf('\n')};
}

/** The line a room's key appears on, best effort, so field errors can point at it. */
function lineOfKey(text: string, key: string): number | undefined {
	const offset = text.indexOf(JSON.stringify(key));
	return offset === -1 ? undefined : position(text, offset).line;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses the file's text; throws RoomConfigError naming the line (syntax) or the field (content). */
export function parseRoomConfig(text: string, file: string): RoomConfig {
	let value: unknown;
	try {
		value = text.trim() === '' ? {} : JSON.parse(text);
	} catch (error) {
		const reason = (error as Error).message;
		const offset =
			/position (\d+)/.exec(reason)?.[1] ??
			(/end of JSON/i.test(reason) ? String(text.trimEnd().length) : undefined);
		const where = offset === undefined ? undefined : position(text, Number(offset));
		// V8 words it "… in JSON at position 42 (line 3 column 5)"; keep only the first part.
		const what = reason
			.replace(/\s*in JSON at position \d+.*$/s, '')
			.replace(/\s*\(line \d+ column \d+\)$/, '');
		throw new RoomConfigError(
			`${file}${where ? `:${where.line}:${where.column}` : ''}: not valid JSON: ${what}`,
			file,
			where ?? {},
		);
	}
	const fieldError = (field: string, problem: string, roomName?: string): RoomConfigError => {
		const line = roomName === undefined ? undefined : lineOfKey(text, roomName);
		return new RoomConfigError(`${file}${line ? `:${line}` : ''}: ${field}: ${problem}`, file, {
			field,
			...(line ? {line} : {}),
		});
	};
	if (!isObject(value)) throw fieldError('(top level)', 'expected an object like {"rooms": {…}}');
	for (const key of Object.keys(value)) {
		if (key !== 'rooms') throw fieldError(key, 'unknown setting (the file holds only "rooms")');
	}
	const rooms = value.rooms ?? {};
	if (!isObject(rooms)) throw fieldError('rooms', 'expected an object mapping names to rooms');
	const entries: RoomEntry[] = [];
	for (const [name, raw] of Object.entries(rooms)) {
		const field = `rooms.${name}`;
		if (!ROOM_NAME_PATTERN.test(name))
			throw fieldError(
				field,
				'room names are 1-64 letters, digits, _ . - and start with a letter or digit',
				name,
			);
		if (RESERVED_ROOM_NAMES.includes(name))
			throw fieldError(
				field,
				`"${name}" is a parley subcommand, so \`parley ${name}\` could never open this room; pick another name`,
				name,
			);
		if (typeof raw === 'string')
			throw fieldError(field, `expected an object like {"url": ${JSON.stringify(raw)}}`, name);
		if (!isObject(raw)) throw fieldError(field, 'expected an object with "url" (and "nick" or "user")', name);
		for (const key of Object.keys(raw)) {
			if (key === 'password')
				throw fieldError(
					`${field}.password`,
					'passwords are not kept in this file; use PARLEY_PASSWORD, --password-stdin or the login form',
					name,
				);
			if (!ROOM_KEYS.has(key))
				throw fieldError(`${field}.${key}`, 'unknown setting (expected url, nick, user)', name);
		}
		if (typeof raw.url !== 'string')
			throw fieldError(`${field}.url`, 'missing (expected "udp://HOST:PORT" or "tcp://HOST:PORT")', name);
		let address: RoomAddress;
		try {
			address = parseRoomUrl(raw.url);
		} catch (error) {
			if (error instanceof RoomUrlError) throw fieldError(`${field}.url`, error.message, name);
			throw error;
		}
		for (const key of ['nick', 'user'] as const) {
			const given = raw[key];
			if (given === undefined) continue;
			if (typeof given !== 'string') throw fieldError(`${field}.${key}`, 'expected a string', name);
			// Check each against the rules of the room type it is used for.
			const problem = key === 'nick' ? nickProblem(given) : usernameProblem(given);
			if (problem) throw fieldError(`${field}.${key}`, problem, name);
		}
		entries.push({
			name,
			url: formatRoomUrl(address),
			transport: address.transport,
			...(typeof raw.nick === 'string' ? {nick: raw.nick} : {}),
			...(typeof raw.user === 'string' ? {user: raw.user} : {}),
		});
	}
	return {path: file, rooms: entries};
}

export interface LoadRoomConfigOptions {
	/** The file to read; default roomConfigPath(env). */
	path?: string;
	env?: NodeJS.ProcessEnv;
}

/** Reads the config file; a missing file is an empty config, anything else wrong throws RoomConfigError. */
export async function loadRoomConfig(options: LoadRoomConfigOptions = {}): Promise<RoomConfig> {
	const file = options.path ?? roomConfigPath(options.env);
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch (error) {
		return unreadable(file, error);
	}
	return parseRoomConfig(text, file);
}

/** loadRoomConfig for the TUI's /connect, which reads the (small) file again every time it resolves a name. */
export function loadRoomConfigSync(options: LoadRoomConfigOptions = {}): RoomConfig {
	const file = options.path ?? roomConfigPath(options.env);
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		return unreadable(file, error);
	}
	return parseRoomConfig(text, file);
}

function unreadable(file: string, error: unknown): RoomConfig {
	if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {path: file, rooms: []};
	throw new RoomConfigError(`cannot read ${file}: ${(error as Error).message}`, file);
}

function resolved(url: string, transport: TransportKind, entry: RoomEntry | undefined): ResolvedRoom {
	if (entry === undefined) return {url, transport};
	const login = transport === 'udp' ? (entry.nick ?? entry.user) : (entry.user ?? entry.nick);
	return {
		url,
		transport,
		name: entry.name,
		...(entry.nick === undefined ? {} : {nick: entry.nick}),
		...(entry.user === undefined ? {} : {user: entry.user}),
		...(login === undefined ? {} : {login}),
	};
}

/**
 * Resolves against an already-loaded config (synchronous, for the TUI). A URL
 * is validated and normalised, and picks up the nick/user of the one configured
 * room with that address, if there is exactly one. A name must be configured.
 * Throws RoomUrlError (bad address) or UnknownRoomError.
 */
export function resolveRoomIn(config: RoomConfig, argument: string): ResolvedRoom {
	if (isRoomUrl(argument)) {
		const address = parseRoomUrl(argument);
		const url = formatRoomUrl(address);
		// Host names are case-insensitive (and URL keeps the case of tcp:// and udp:// hosts).
		const matches = config.rooms.filter((room) => room.url.toLowerCase() === url.toLowerCase());
		return resolved(url, address.transport, matches.length === 1 ? matches[0] : undefined);
	}
	const entry = config.rooms.find((room) => room.name === argument);
	if (entry === undefined)
		throw new UnknownRoomError(
			argument,
			config.rooms.map((room) => room.name),
			config.path,
		);
	return resolved(entry.url, entry.transport, entry);
}

/**
 * `resolveRoom('work')` or `resolveRoom('tcp://host:7668')`: loads the config
 * (only when needed for a name, or to match a URL) and resolves. Throws
 * RoomUrlError, UnknownRoomError or RoomConfigError, each with a message fit
 * to print after "parley: ".
 */
export async function resolveRoom(
	argument: string,
	options: LoadRoomConfigOptions = {},
): Promise<ResolvedRoom> {
	if (isRoomUrl(argument)) {
		// A broken config file must not stop someone who typed a full address.
		const config = await loadRoomConfig(options).catch(() => undefined);
		if (config === undefined) {
			const address = parseRoomUrl(argument);
			return resolved(formatRoomUrl(address), address.transport, undefined);
		}
		return resolveRoomIn(config, argument);
	}
	return resolveRoomIn(await loadRoomConfig(options), argument);
}
