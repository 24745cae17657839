// `parley tail ROOM`: prints the room as it happens, one line per event —
// readable text, or JSON lines with --json for scripts — until SIGINT/SIGTERM
// (status 0) or until the room is gone for good (status 3).

import meow from 'meow';
import {presenceSentence} from '../client/presence-text.js';
import type {RoomEvent} from '../client/types.js';
import {sanitizeText} from '../protocol/messages.js';
import {
	checkInvocation,
	chooseLogin,
	choosePassword,
	COMMON_FLAGS,
	commonOptions,
	EXIT,
	EXIT_STATUS_HELP,
	ExitError,
	joinRoom,
	readLines,
	resolveRoomArgument,
	scriptIo,
	type ScriptIo,
} from './room-script.js';
import {SELF_REPORTING} from './subcommand-options.js';

const COMMAND = 'tail';
const DEFAULT_TIMEOUT_SECONDS = 60;

const help = `
	Usage
	  $ parley tail ROOM [options]

	Joins the room and prints what happens there as it arrives, until Ctrl+C,
	SIGINT or SIGTERM. ROOM is udp://HOST:PORT, tcp://HOST:PORT or a name from
	rooms.json (see parley rooms --help). Standard input is not read (except for
	the password with --password-stdin).

	Output, one line per event (times are local):
	  12:03:04 alice: hello               a message
	  12:03:05 * alice waves              an action (/me)
	  12:03:06 -- bob joined              presence: joined, left, timed out, renamed
	  12:03:07 [dm] alice → you: psst     a direct message to you
	Lines of a multi-line message after the first are indented by 9 spaces.
	Lost messages, reconnects and warnings go to stderr.

	With --json, one JSON object per line:
	  {"seq":12,"time":"2025-01-02T12:03:04.000Z","nick":"alice","text":"hello","kind":"message"}
	kind is message, action, direct (with "to"), join, leave, nick (with "old"),
	expire or kick (with "reason" when given); seq is null for events without a
	room sequence number (direct messages, presence in TCP rooms); replayed
	history carries "history":true.

	Options
	  --json             JSON lines instead of text
	  --history N        first print up to N recent messages the server replays on
	                     joining (TCP rooms replay up to 50; UDP rooms none) (default 0)
	  --nick NAME        your nick in a UDP room (default: the room's "nick" in rooms.json)
	  --user NAME        your account in a TCP room (default: the room's "user" in rooms.json);
	                     use a different account from any \`parley send\` running at the same
	                     time: an account is in a room once, and a new login replaces the old
	  --password-stdin   TCP rooms: read the password from the first line of standard input
	                     (without it the password comes from PARLEY_PASSWORD)
	  --accept-new       trust a TCP room's certificate the first time (it is pinned in
	                     known_hosts); without it an unknown server is refused (status 6)
	  --insecure-plaintext  connect to a TCP room that runs without TLS
	  --timeout SECONDS  after losing the connection, keep trying to get back this long
	                     before giving up with status 3 (default ${DEFAULT_TIMEOUT_SECONDS}; 0 = for ever)
	  --help             this help
${EXIT_STATUS_HELP}

	Examples
	  $ parley tail udp://127.0.0.1:7667 --nick watcher
	  $ PARLEY_PASSWORD=… parley tail work --json | jq -r 'select(.kind=="message") | .text'
`;

const KNOWN_FLAGS = new Set([...Object.keys(COMMON_FLAGS), 'h', 'json', 'history']);
const INDENT = ' '.repeat('HH:MM:SS '.length);

type Shown = Extract<RoomEvent, {type: 'message' | 'presence' | 'direct'}>;

function clock(ts: number): string {
	const date = new Date(ts);
	if (!Number.isFinite(date.getTime())) return '--:--:--';
	const pad = (value: number): string => String(value).padStart(2, '0');
	return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** One event as text: `HH:MM:SS nick: text`; continuation lines of the text are indented. */
export function formatPlain(event: Shown): string {
	const time = clock(event.ts);
	// Names come from the server: strip anything that could drive the terminal.
	const name = (nick: string): string => sanitizeText(nick);
	const body = (text: string): string => text.split('\n').join(`\n${INDENT}`);
	switch (event.type) {
		case 'message':
			return event.action
				? `${time} * ${name(event.from)} ${body(event.text)}`
				: `${time} ${name(event.from)}: ${body(event.text)}`;
		case 'direct':
			return `${time} [dm] ${name(event.from)} → ${name(event.to)}: ${body(event.text)}`;
		case 'presence':
			return `${time} -- ${sanitizeText(presenceSentence(event))}`;
	}
}

/** One event as a JSON object (no newline). */
export function formatJson(event: Shown): string {
	const time = Number.isFinite(event.ts) ? new Date(event.ts).toISOString() : null;
	switch (event.type) {
		case 'message':
			return JSON.stringify({
				seq: event.seq,
				time,
				nick: event.from,
				text: event.text,
				kind: event.action ? 'action' : 'message',
				...(event.history ? {history: true} : {}),
			});
		case 'direct':
			return JSON.stringify({
				seq: null,
				time,
				nick: event.from,
				text: event.text,
				kind: 'direct',
				to: event.to,
			});
		case 'presence':
			return JSON.stringify({
				seq: event.seq ?? null,
				time,
				nick: event.nick,
				text: presenceSentence(event),
				kind: event.kind,
				...(event.old === undefined ? {} : {old: event.old}),
				...(event.reason === undefined ? {} : {reason: event.reason}),
			});
	}
}

async function run(argv: string[], io: ScriptIo): Promise<number> {
	const cli = meow(help, {
		importMeta: import.meta,
		argv,
		...SELF_REPORTING,
		flags: {
			...COMMON_FLAGS,
			json: {type: 'boolean', default: false},
			history: {type: 'number', default: 0},
		},
	});
	if (cli.flags.help) {
		io.stdout.write(cli.help);
		return EXIT.ok;
	}
	const argument = checkInvocation(COMMAND, cli.input, cli.flags, KNOWN_FLAGS);
	const options = commonOptions(cli.flags, DEFAULT_TIMEOUT_SECONDS);
	const historyWanted = Math.floor(cli.flags.history);
	const format = cli.flags.json ? formatJson : formatPlain;
	const room = await resolveRoomArgument(argument, io.env);
	const login = chooseLogin(COMMAND, room, options);
	const password = await choosePassword(COMMAND, room, options, io.env, async () => {
		const lines = readLines(io.stdin, 64 * 1024);
		const first = await lines.next();
		await lines.return(); // stop reading: the rest of stdin is not ours
		return first.done ? undefined : first.value.text;
	});

	let myNick: string | undefined;
	let joinedOnce = false;
	let finishing = false;
	let settle: (code: number) => void = () => {};
	const finished = new Promise<number>((resolve) => (settle = resolve));
	let reconnectTimer: NodeJS.Timeout | undefined;
	const finish = (code: number, message?: string): void => {
		if (finishing) return;
		finishing = true;
		clearTimeout(reconnectTimer);
		if (message !== undefined) io.stderr.write(`parley tail: ${message}\n`);
		settle(code);
	};

	const print = (event: Shown): void => {
		if (!finishing) io.stdout.write(`${format(event)}\n`);
	};
	// The server replays history as one batch: keep its last N, print them after the batch.
	let history: Shown[] | undefined;
	const onHistory = (event: Shown): void => {
		if (history === undefined) {
			history = [];
			queueMicrotask(() => {
				for (const held of historyWanted > 0 ? (history ?? []).slice(-historyWanted) : []) print(held);
				history = undefined;
			});
		}
		history.push(event);
	};

	const onEvent = (event: RoomEvent): void => {
		if (finishing) return;
		switch (event.type) {
			case 'message':
				if (event.history) onHistory(event);
				else print(event);
				return;
			case 'direct':
				print(event);
				return;
			case 'presence':
				// Our own arrival is not news to the person running tail; --history counts messages only.
				if (event.history || (event.kind === 'join' && event.nick === myNick)) return;
				print(event);
				return;
			case 'lost':
				io.stderr.write(
					`parley tail: ${event.count} ${event.count === 1 ? 'message was' : 'messages were'} lost (the server no longer had them)\n`,
				);
				return;
			case 'error':
				io.stderr.write(`parley tail: warning: ${event.text}\n`);
				return;
			case 'nick':
				myNick = event.nick; // the welcome's, before any presence
				return;
			case 'state':
				if (event.state === 'reconnecting') {
					if (reconnectTimer === undefined) {
						io.stderr.write(
							`parley tail: lost the connection (${event.detail ?? 'no answer'}); reconnecting…\n`,
						);
						if (options.timeoutMs > 0)
							reconnectTimer = setTimeout(
								() =>
									finish(
										EXIT.connect,
										`could not get back into ${room.url} within ${options.timeoutMs / 1000} s`,
									),
								options.timeoutMs,
							);
					}
				} else if (event.state === 'connected') {
					joinedOnce = true;
					if (reconnectTimer === undefined) return;
					clearTimeout(reconnectTimer);
					reconnectTimer = undefined;
					io.stderr.write('parley tail: reconnected\n');
				} else if (event.state === 'closed' && joinedOnce) {
					finish(EXIT.connect, `lost the connection to ${room.url} for good: ${event.detail ?? 'closed'}`);
				}
				return;
			default:
				return;
		}
	};

	// Listening before the join: a signal while it is under way still ends tail cleanly.
	const onSignal = (): void => finish(EXIT.ok);
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);
	let joined: Awaited<ReturnType<typeof joinRoom>>;
	try {
		joined = await joinRoom({
			room,
			login,
			password,
			options,
			stderr: io.stderr,
			command: COMMAND,
			listener: onEvent,
		});
	} catch (error) {
		process.off('SIGINT', onSignal);
		process.off('SIGTERM', onSignal);
		throw error;
	}

	// `parley tail … | head` closing the pipe is a normal way to stop.
	const onOutputError = (error: NodeJS.ErrnoException): void =>
		finish(
			error.code === 'EPIPE' ? EXIT.ok : EXIT.failure,
			error.code === 'EPIPE' ? undefined : `cannot write: ${error.message}`,
		);
	io.stdout.on('error', onOutputError);
	try {
		return await finished;
	} finally {
		process.off('SIGINT', onSignal);
		process.off('SIGTERM', onSignal);
		await joined.session.close();
		io.stdout.off('error', onOutputError);
	}
}

export async function runTailCommand(argv: string[], streams: Partial<ScriptIo> = {}): Promise<number> {
	const io = scriptIo(streams);
	try {
		return await run(argv, io);
	} catch (error) {
		if (error instanceof ExitError) {
			io.stderr.write(`parley tail: ${error.message}\n`);
			return error.code;
		}
		io.stderr.write(`parley tail: ${error instanceof Error ? error.message : String(error)}\n`);
		return EXIT.failure;
	}
}
