// Optional logging of a room to a file (--log-dir): one line per message,
// presence change or connection change, appended to <dir>/<room>.log (the
// room's name from rooms.json, else its host and port: lobby.log, 127.0.0.1-7667.log).
//
//   2026-01-01T12:00:00.000Z 42 alice: hello
//   2026-01-01T12:00:01.000Z 43 * bob waves
//   2026-01-01T12:00:02.000Z 44 carol: a pasted
//                                      multi-line message
//   2026-01-01T12:00:03.000Z - [dm] bob → me: psst
//   2026-01-01T12:00:04.000Z 45 -- dave joined
//
// The second field is the room's sequence number ("-" where there is none).
// Continuation lines start with spaces, so every line that starts with a
// digit starts an entry. Files are created 0600 (chat is private) in a 0700
// directory. Writes are buffered and batched; nothing here ever throws into
// the UI: the first error goes to `onError` and logging stops.

import {createHash} from 'node:crypto';
import {constants, type promises as fsPromises} from 'node:fs';
import {mkdir, open} from 'node:fs/promises';
import path from 'node:path';
import stringWidth from 'string-width';
import {sanitizeText} from '../protocol/messages.js';
import {presenceSentence} from './presence-text.js';
import type {RoomClient, RoomEvent} from './types.js';

type FileHandle = fsPromises.FileHandle;

export interface RoomLogOptions {
	/** Milliseconds lines wait before being written together (default 1000). */
	readonly flushMs?: number;
	/** Buffered bytes that trigger a write at once (default 64 KiB). */
	readonly maxBufferBytes?: number;
	/** Also log history replayed on join (default false: it is not what was seen live, and is often in the log already). */
	readonly includeHistory?: boolean;
	/** The clock for lines without a server time (tests). */
	readonly now?: () => number;
	/** The room's name from rooms.json, which names the file; else its host and port do. */
	readonly name?: string | undefined;
}

const MAX_NAME_LENGTH = 120;

/**
 * File-name-safe text: letters, digits, ".", "_" and "-" stay (but not a
 * leading "."); everything else, "/" and "%" included, becomes %XX of its
 * UTF-8 bytes, so no name escapes the directory or hides as a dot file.
 */
function safeName(text: string): string {
	let out = '';
	for (const character of text) {
		if (/^[\p{L}\p{N}._-]$/u.test(character) && !(out === '' && character === '.')) out += character;
		else
			for (const byte of Buffer.from(character, 'utf8'))
				out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
	}
	return out;
}

/**
 * What a room's log file is called (without ".log"): its name from rooms.json
 * when it has one ("lobby"), else its host and port ("127.0.0.1-7667", plus
 * any room path: "localhost-7667-lobby"), made safe by safeName. Long names
 * are shortened with a hash.
 */
export function roomLogId(url: string, name?: string): string {
	let parts: string[];
	if (name !== undefined && name !== '') parts = [name];
	else
		try {
			const parsed = new URL(url);
			const transport = parsed.protocol.replace(/:$/, '');
			const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
			const port =
				parsed.port === '' ? (transport === 'tcp' ? '7668' : transport === 'udp' ? '7667' : '') : parsed.port;
			// Split before decoding: an escaped "%2F" belongs to its segment.
			const room = parsed.pathname
				.split('/')
				.filter(Boolean)
				.map((segment) => decodeURIComponent(segment));
			parts = [host, port, ...room].filter((part) => part !== '');
		} catch {
			parts = [url];
		}
	const id = parts.map(safeName).join('-') || 'room';
	if (id.length <= MAX_NAME_LENGTH) return id;
	const hash = createHash('sha256')
		.update(`${name ?? ''} ${url}`)
		.digest('hex')
		.slice(0, 12);
	return `${id.slice(0, MAX_NAME_LENGTH - 13)}-${hash}`;
}

export function roomLogPath(dir: string, url: string, name?: string): string {
	return path.join(dir, `${roomLogId(url, name)}.log`);
}

const stateText: Partial<Record<string, string>> = {
	connected: 'connected',
	reconnecting: 'connection lost; reconnecting',
	closed: 'disconnected',
};

function isoTime(ts: number): string {
	const date = new Date(ts);
	return Number.isFinite(date.getTime()) ? date.toISOString() : new Date(0).toISOString();
}

/** A log line's prefix and text, continuation lines hung under the text. */
function entry(prefix: string, text: string): string[] {
	const [first = '', ...rest] = sanitizeText(text).split('\n');
	const hang = ' '.repeat(Math.max(1, stringWidth(prefix)));
	return [prefix + first, ...rest.map((line) => hang + line)];
}

/**
 * The log lines for one event (none for events that are not logged: pending
 * sends, errors, lag, member lists). Pure, for tests and other sinks.
 */
export function formatLogLines(
	event: RoomEvent,
	now: number,
	options: {includeHistory?: boolean} = {},
): string[] {
	const clean = (text: string): string => sanitizeText(text).replace(/\n/g, ' ');
	switch (event.type) {
		case 'message': {
			if (event.history && options.includeHistory !== true) return [];
			const head = `${isoTime(event.ts)} ${event.seq} `;
			return event.action
				? entry(`${head}* ${clean(event.from)} `, event.text)
				: entry(`${head}${clean(event.from)}: `, event.text);
		}
		case 'direct':
			return entry(`${isoTime(event.ts)} - [dm] ${clean(event.from)} → ${clean(event.to)}: `, event.text);
		case 'presence': {
			const text = presenceSentence({
				kind: event.kind,
				nick: clean(event.nick),
				old: event.old === undefined ? undefined : clean(event.old),
				reason: event.reason === undefined ? undefined : clean(event.reason),
			});
			return [`${isoTime(event.ts)} ${event.seq ?? '-'} -- ${text}`];
		}
		case 'lost':
			return [`${isoTime(now)} - !! ${event.count} ${event.count === 1 ? 'message' : 'messages'} lost`];
		case 'state': {
			const text = stateText[event.state];
			if (text === undefined) return [];
			const detail = event.detail === undefined || event.detail === '' ? '' : ` (${clean(event.detail)})`;
			return [`${isoTime(now)} - -- ${text}${detail}`];
		}
		default:
			return [];
	}
}

/** An append-only log file with batched writes. Errors are reported once, then it goes quiet. */
export class RoomLogFile {
	private buffer: string[] = [];
	private bufferedBytes = 0;
	private timer: NodeJS.Timeout | undefined;
	private chain: Promise<void> = Promise.resolve();
	private failed = false;
	private closing: Promise<void> | undefined;
	private readonly handle: Promise<FileHandle | undefined>;
	private readonly flushMs: number;
	private readonly maxBufferBytes: number;

	constructor(
		readonly path: string,
		private readonly onError: (error: Error) => void,
		options: RoomLogOptions = {},
	) {
		this.flushMs = options.flushMs ?? 1000;
		this.maxBufferBytes = options.maxBufferBytes ?? 64 * 1024;
		this.handle = this.openFile().catch((error: unknown) => {
			this.fail(error);
			return undefined;
		});
	}

	private async openFile(): Promise<FileHandle> {
		await mkdir(path.dirname(this.path), {recursive: true, mode: 0o700});
		// O_NOFOLLOW: a symlink planted at the log's path must not redirect our chat elsewhere.
		const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | (constants.O_NOFOLLOW ?? 0);
		return open(this.path, flags, 0o600);
	}

	private fail(error: unknown): void {
		if (this.failed) return;
		this.failed = true;
		this.buffer = [];
		this.bufferedBytes = 0;
		const wrapped = error instanceof Error ? error : new Error(String(error));
		try {
			this.onError(new Error(`cannot write the room log ${this.path}: ${wrapped.message}`, {cause: wrapped}));
		} catch {
			// The reporter failing is not our problem to surface.
		}
	}

	/** Queues lines (without their newline); written within `flushMs`. */
	write(lines: readonly string[]): void {
		if (this.failed || this.closing !== undefined || lines.length === 0) return;
		for (const line of lines) {
			this.buffer.push(line);
			this.bufferedBytes += Buffer.byteLength(line) + 1;
		}
		if (this.bufferedBytes >= this.maxBufferBytes) void this.flush();
		else this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
	}

	/** Writes what is buffered; resolves when it is on disk (never rejects). */
	flush(): Promise<void> {
		if (this.timer !== undefined) {
			clearTimeout(this.timer);
			this.timer = undefined;
		}
		if (this.buffer.length === 0) return this.chain;
		const data = `${this.buffer.join('\n')}\n`;
		this.buffer = [];
		this.bufferedBytes = 0;
		// One write at a time, in order: appends from two writes must not interleave.
		this.chain = this.chain.then(async () => {
			const handle = await this.handle;
			if (handle === undefined || this.failed) return;
			try {
				await handle.appendFile(data, 'utf8');
			} catch (error) {
				this.fail(error);
			}
		});
		return this.chain;
	}

	/** Flushes and closes; later writes are dropped. Safe to call twice. */
	close(): Promise<void> {
		this.closing ??= this.flush().then(async () => {
			const handle = await this.handle;
			await handle?.close().catch((error: unknown) => this.fail(error));
		});
		return this.closing;
	}
}

/**
 * Logs `client`'s room to `<dir>/<room>.log` (see roomLogId) from now on. Returns detach:
 * it stops listening, writes a closing line, flushes and closes the file
 * (await it before the process exits, or the last second of chat is lost).
 */
export function attachRoomLog(
	client: RoomClient,
	dir: string,
	onError: (error: Error) => void,
	options: RoomLogOptions = {},
): () => Promise<void> {
	const now = options.now ?? Date.now;
	let reported = false;
	const reportOnce = (error: Error): void => {
		if (reported) return;
		reported = true;
		onError(error);
	};
	const file = new RoomLogFile(roomLogPath(dir, client.url, options.name), reportOnce, options);
	file.write([`${isoTime(now())} - --- log opened for ${sanitizeText(client.url)}`]);
	const unsubscribe = client.subscribe((event) => {
		try {
			file.write(formatLogLines(event, now(), {includeHistory: options.includeHistory ?? false}));
		} catch (error) {
			try {
				reportOnce(error instanceof Error ? error : new Error(String(error)));
			} catch {
				// A throwing reporter must not break the client's other listeners.
			}
		}
	});
	let detached: Promise<void> | undefined;
	return () => {
		detached ??= (() => {
			unsubscribe();
			file.write([`${isoTime(now())} - --- log closed`]);
			return file.close();
		})();
		return detached;
	};
}
