// What `parley send` and `parley tail` share: exit codes, the common flags,
// joining a room without asking anybody anything (no TTY, no prompts), and
// reading standard input line by line.

import {StringDecoder} from 'node:string_decoder';
import {createTransport} from '../client/create-room-client.js';
import {resolveRoom, RoomConfigError, UnknownRoomError, type ResolvedRoom} from '../client/room-config.js';
import {RoomSession} from '../client/room-session.js';
import {RoomUrlError} from '../client/room-url.js';
import {RoomError, type RoomErrorCode, type RoomListener} from '../client/types.js';

/** Exit statuses of `parley send` and `parley tail`; documented in their --help. */
export const EXIT = {
	ok: 0,
	/** Anything unexpected (a bug, an I/O error). */
	failure: 1,
	/** Bad flags or arguments, unknown room name, broken rooms.json, missing nick/user/password. */
	usage: 2,
	/** No server answered, the connection was refused or lost and did not come back in time, or we were disconnected. */
	connect: 3,
	/** The room would not let us in: wrong user or password, too many failed logins, nick taken or invalid, room full. */
	auth: 4,
	/** send only: at least one line was rejected (too long, control characters, refused by the server); the others were sent. */
	rejected: 5,
	/** The TCP server's certificate is new (and --accept-new was not given) or has changed. */
	hostKey: 6,
} as const;

/** Ends a command with this status; the message goes to stderr after "parley CMD: ". */
export class ExitError extends Error {
	constructor(
		readonly code: number,
		message: string,
	) {
		super(message);
		this.name = 'ExitError';
	}
}

export interface ScriptIo {
	stdin: NodeJS.ReadableStream & {isTTY?: boolean};
	stdout: NodeJS.WritableStream;
	stderr: NodeJS.WritableStream;
	env: NodeJS.ProcessEnv;
}

export function scriptIo(streams: Partial<ScriptIo> = {}): ScriptIo {
	return {
		stdin: streams.stdin ?? process.stdin,
		stdout: streams.stdout ?? process.stdout,
		stderr: streams.stderr ?? process.stderr,
		env: streams.env ?? process.env,
	};
}

/** The help text block both commands print about exit statuses. */
export const EXIT_STATUS_HELP = `
	Exit status
	  0  done (send: every line was acknowledged; tail: stopped by SIGINT/SIGTERM)
	  1  an unexpected error
	  2  usage: bad options, unknown room name, broken rooms.json, no nick/user/password
	  3  cannot connect: no server answered, the connection was refused, or it was
	     lost and did not come back within --timeout (or the server disconnected us)
	  4  not let in: wrong user or password, too many failed logins, nick taken or
	     invalid, room full
	  5  send: at least one line was rejected (too long, control characters, refused
	     by the server); every other line was still sent
	  6  the TCP server's certificate is not trusted: new (pass --accept-new after
	     checking its fingerprint) or CHANGED since it was first seen`;

/** Flags send and tail have in common (meow's camelCase names). */
export const COMMON_FLAGS = {
	nick: {type: 'string'},
	user: {type: 'string'},
	passwordStdin: {type: 'boolean', default: false},
	acceptNew: {type: 'boolean', default: false},
	insecurePlaintext: {type: 'boolean', default: false},
	timeout: {type: 'number'},
	help: {type: 'boolean', shortFlag: 'h', default: false},
} as const;

export interface CommonOptions {
	nick: string | undefined;
	user: string | undefined;
	passwordStdin: boolean;
	acceptNew: boolean;
	insecurePlaintext: boolean;
	/** Milliseconds; 0 means wait for ever. */
	timeoutMs: number;
}

const flagName = (key: string): string =>
	key.length === 1 ? `-${key}` : `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;

/** Checks meow's result: one room argument, no unknown flags, sane numbers. Throws ExitError(usage). */
export function checkInvocation(
	command: string,
	input: readonly string[],
	flags: Record<string, unknown>,
	known: ReadonlySet<string>,
): string {
	const unknown = Object.keys(flags).filter((key) => !known.has(key));
	if (unknown.length > 0) throw usage(command, `unknown option ${unknown.map(flagName).join(', ')}`);
	if (input.length !== 1)
		throw usage(
			command,
			input.length === 0
				? 'expected a room: a name from rooms.json or udp://HOST:PORT or tcp://HOST:PORT'
				: `expected one room, got: ${input.join(' ')}`,
		);
	for (const [key, value] of Object.entries(flags)) {
		if (typeof value === 'number' && !(Number.isFinite(value) && value >= 0))
			throw usage(command, `${flagName(key)} needs a number of 0 or more`);
		if ((key === 'nick' || key === 'user') && value === '')
			throw usage(command, `${flagName(key)} needs a name`);
	}
	return input[0]!;
}

export function usage(command: string, message: string): ExitError {
	return new ExitError(EXIT.usage, `${message} (see parley ${command} --help)`);
}

export function commonOptions(flags: Record<string, unknown>, defaultTimeoutSeconds: number): CommonOptions {
	const seconds = typeof flags.timeout === 'number' ? flags.timeout : defaultTimeoutSeconds;
	return {
		nick: typeof flags.nick === 'string' ? flags.nick : undefined,
		user: typeof flags.user === 'string' ? flags.user : undefined,
		passwordStdin: flags.passwordStdin === true,
		acceptNew: flags.acceptNew === true,
		insecurePlaintext: flags.insecurePlaintext === true,
		timeoutMs: seconds * 1000,
	};
}

/** The room argument as a URL plus the configured nick/user; config and URL mistakes are usage errors. */
export async function resolveRoomArgument(argument: string, env: NodeJS.ProcessEnv): Promise<ResolvedRoom> {
	try {
		return await resolveRoom(argument, {env});
	} catch (error) {
		if (
			error instanceof RoomUrlError ||
			error instanceof UnknownRoomError ||
			error instanceof RoomConfigError
		)
			throw new ExitError(EXIT.usage, error.message);
		throw error;
	}
}

/** Who to be in the room: flags first, then rooms.json. Throws a usage ExitError when nothing says. */
export function chooseLogin(command: string, room: ResolvedRoom, options: CommonOptions): string {
	const login = room.transport === 'udp' ? (options.nick ?? options.user) : (options.user ?? options.nick);
	const chosen = login ?? room.login;
	if (chosen !== undefined) return chosen;
	throw usage(
		command,
		room.transport === 'udp'
			? `${room.url} is a UDP room: pass --nick NAME (or set "nick" for it in rooms.json)`
			: `${room.url} is a TCP room: pass --user NAME (or set "user" for it in rooms.json)`,
	);
}

/**
 * The password for a TCP room: the first line of stdin with --password-stdin,
 * else PARLEY_PASSWORD. `firstLine` reads that line from the caller's reader so
 * the rest of stdin stays with the caller (send's messages).
 */
export async function choosePassword(
	command: string,
	room: ResolvedRoom,
	options: CommonOptions,
	env: NodeJS.ProcessEnv,
	firstLine: () => Promise<string | undefined>,
): Promise<string | undefined> {
	if (room.transport === 'udp') {
		if (options.passwordStdin)
			throw usage(command, '--password-stdin is only for tcp:// rooms (UDP rooms have no passwords)');
		return undefined;
	}
	if (options.passwordStdin) {
		const line = await firstLine();
		if (line === undefined || line === '')
			throw new ExitError(EXIT.usage, 'no password on standard input (its first line is empty)');
		return line;
	}
	const password = env.PARLEY_PASSWORD;
	if (password !== undefined && password !== '') return password;
	throw usage(
		command,
		`${room.url} is a TCP room and needs a password: pipe it as the first line of standard input with --password-stdin, or set PARLEY_PASSWORD`,
	);
}

const AUTH_CODES: ReadonlySet<RoomErrorCode> = new Set<RoomErrorCode>([
	'auth-failed',
	'throttled',
	'nick-taken',
	'nick-invalid',
	'room-full',
	'not-allowed',
]);

/** The exit status for a failure to join (or stay in) a room. */
export function exitCodeFor(error: RoomError): number {
	if (error.code === 'host-rejected' || error.code === 'host-changed') return EXIT.hostKey;
	if (AUTH_CODES.has(error.code)) return EXIT.auth;
	return EXIT.connect;
}

export interface JoinedRoom {
	session: RoomSession;
}

export interface JoinOptions {
	room: ResolvedRoom;
	login: string;
	password: string | undefined;
	options: CommonOptions;
	stderr: NodeJS.WritableStream;
	command: string;
	/** Passed to the session: send resends unacknowledged messages until its own deadline. */
	maxSendTries?: number;
	/** Subscribed before joining, so nothing that arrives with the welcome (history) is missed. */
	listener?: RoomListener;
}

/** Joins without any prompt. An unknown server certificate is refused unless --accept-new. */
export async function joinRoom({
	room,
	login,
	password,
	options,
	stderr,
	command,
	maxSendTries,
	listener,
}: JoinOptions): Promise<JoinedRoom> {
	const transport = createTransport(room.url, {
		tcp: {
			insecurePlaintext: options.insecurePlaintext,
			// Scripts have nobody to ask: trusting a new key needs the explicit flag, and is said out loud.
			confirmNewHost: async (hostPort, fingerprint) => {
				if (!options.acceptNew) return false;
				stderr.write(
					`parley ${command}: trusting the new server ${hostPort}, certificate ${fingerprint} (--accept-new)\n`,
				);
				return true;
			},
		},
	});
	const session = new RoomSession(transport, maxSendTries === undefined ? {} : {maxSendTries});
	if (listener) session.subscribe(listener);
	// The session's own error can be vaguer ("closed") than the reason it gave for closing.
	const vague = (message: string): boolean => /^(connection )?closed$/.test(message);
	let closedDetail: string | undefined;
	const unsubscribe = session.subscribe((event) => {
		if (event.type === 'state' && event.state === 'closed' && event.detail && !vague(event.detail))
			closedDetail ??= event.detail;
	});
	try {
		await session.connect(login, password);
		return {session};
	} catch (error) {
		await session.close().catch(() => {});
		if (!(error instanceof RoomError)) throw error;
		const message =
			error.code === 'network' && vague(error.message) && closedDetail ? closedDetail : error.message;
		throw new ExitError(exitCodeFor(error), joinFailure(room, error.code, message));
	} finally {
		unsubscribe();
	}
}

function joinFailure(room: ResolvedRoom, code: RoomErrorCode, message: string): string {
	if (code === 'host-rejected' && message.includes('not trusted'))
		return (
			`${message}. Check that fingerprint with the server's operator (\`parley serve\` logs it at start), ` +
			`then run again with --accept-new to pin it in known_hosts`
		);
	if (code === 'network' && !message.includes(room.url)) return `cannot join ${room.url}: ${message}`;
	return message;
}

export interface InputLine {
	/** 1-based line number in the input. */
	number: number;
	/** Without the line end (LF or CRLF); cut short when tooLong. */
	text: string;
	/** The line was longer than the reader keeps; its text is only the beginning. */
	tooLong: boolean;
}

/**
 * Lines of a stream, read lazily so a slow consumer applies backpressure (a
 * huge pipe is never read into memory at once). A line over maxChars is cut
 * and flagged, the rest of it skipped, so one runaway line cannot fill memory.
 */
export async function* readLines(
	input: NodeJS.ReadableStream,
	maxChars: number,
): AsyncGenerator<InputLine, void, undefined> {
	const decoder = new StringDecoder('utf8');
	let current = '';
	let tooLong = false;
	let number = 0;
	const take = (): InputLine => {
		const text = current.endsWith('\r') ? current.slice(0, -1) : current;
		current = '';
		const line = {number: ++number, text, tooLong};
		tooLong = false;
		return line;
	};
	const append = (piece: string): void => {
		if (tooLong) return;
		current += piece;
		if (current.length > maxChars) {
			current = current.slice(0, maxChars);
			tooLong = true;
		}
	};
	for await (const chunk of input) {
		const text = typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
		let start = 0;
		for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
			append(text.slice(start, newline));
			start = newline + 1;
			yield take();
		}
		append(text.slice(start));
	}
	append(decoder.end());
	if (current !== '' || tooLong) yield take();
}
