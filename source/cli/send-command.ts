// `parley send ROOM`: every line of standard input becomes one message, in
// order, each acknowledged by the server (say() resolves with the message's
// sequence number) before the next goes out. Sends are paced under
// the room's advertised rate limit, so a long pipe arrives whole instead of
// getting the sender kicked for flooding.

import meow from 'meow';
import {parseChatLine, type MessageLine} from '../client/chat-line.js';
import type {RoomSession} from '../client/room-session.js';
import {RoomError} from '../client/types.js';
import {DEFAULT_LIMITS, textProblem, type ErrorCode, type ServerLimits} from '../protocol/messages.js';
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
	type InputLine,
	type ScriptIo,
} from './room-script.js';
import {sleep} from '../util/sleep.js';
import {SELF_REPORTING} from './subcommand-options.js';

const COMMAND = 'send';
const DEFAULT_TIMEOUT_SECONDS = 30;
/** Longer than any room's limit; beyond it a line is only counted, not kept (bounded memory). */
const MAX_LINE_CHARS = 1024 * 1024;
/** The server kicks after 20 rate-limit strikes; give up well before that. */
const MAX_RATE_LIMITED = 12;
const MAX_SERVER_ERRORS = 3;
/** A server asking for a longer pause than this is not believed; we ask again after it. */
const MAX_RETRY_AFTER_MS = 60_000;

const help = `
	Usage
	  $ parley send ROOM [options] < lines

	Sends each line of standard input to the room as one message, in order, then
	leaves. ROOM is udp://HOST:PORT, tcp://HOST:PORT or a name from rooms.json
	(see parley rooms --help).

	Each message is acknowledged by the server before the next is sent, and sends
	are paced under the room's rate limit, so long input is slow but arrives whole.
	Empty (blank) lines are skipped. Lines are read as the chat reads them:
	"/me TEXT" is an action, "/msg NICK TEXT" a direct message only NICK sees, and
	a line starting with "//" is sent with one "/" less; any other "/command" is
	refused. A line the room would refuse (longer than its limit, usually 8 KiB,
	with control characters, a command, or a direct message to someone who is not
	there) is reported on stderr and skipped; the rest are still sent and the exit
	status is 5.

	In a TCP room an account is present once: logging in as an account that is
	already in the room (your open chat, say) replaces that session. Give scripts
	an account of their own.

	Options
	  --nick NAME        your nick in a UDP room (default: the room's "nick" in rooms.json)
	  --user NAME        your account in a TCP room (default: the room's "user" in rooms.json)
	  --password-stdin   TCP rooms: the FIRST line of standard input is the password;
	                     the lines after it are the messages
	                     (without it the password comes from PARLEY_PASSWORD)
	  --accept-new       trust a TCP room's certificate the first time (it is pinned in
	                     known_hosts); without it an unknown server is refused (status 6)
	  --insecure-plaintext  connect to a TCP room that runs without TLS
	  --timeout SECONDS  give up when a message is not acknowledged this long, e.g.
	                     while the connection is lost and retried (default ${DEFAULT_TIMEOUT_SECONDS}; 0 = never)
	  --help             this help
${EXIT_STATUS_HELP}

	Examples
	  $ echo 'build finished' | parley send udp://127.0.0.1:7667 --nick ci
	  $ PARLEY_PASSWORD=… parley send work < notes.txt
	  $ { printf '%s\\n' "$PASSWORD"; cat report.txt; } | parley send tcp://chat.example:7668 --user ci --password-stdin
`;

const KNOWN_FLAGS = new Set([...Object.keys(COMMON_FLAGS), 'h']);

/** Time for the pacer; tests pass a fake one so pacing is checked without waiting. */
export interface PacerClock {
	now(): number;
	sleep(ms: number): Promise<void>;
}

/**
 * Mirrors the server's token bucket (rate per second, burst), a little
 * stricter, so normal pacing never trips the limit even with some jitter.
 */
export class Pacer {
	private tokens: number;
	private last: number;
	private intervalMs: number;
	private readonly burst: number;

	constructor(
		limits: ServerLimits,
		private readonly clock: PacerClock = {now: Date.now, sleep},
	) {
		this.last = clock.now();
		const rate = limits.ratePerSecond > 0 ? limits.ratePerSecond * 0.9 : DEFAULT_LIMITS.ratePerSecond;
		this.intervalMs = 1000 / rate;
		this.burst = Math.max(1, Math.floor(limits.burst) - 1);
		this.tokens = this.burst;
	}

	async take(): Promise<void> {
		for (;;) {
			const now = this.clock.now();
			this.tokens = Math.min(this.burst, this.tokens + (now - this.last) / this.intervalMs);
			this.last = now;
			if (this.tokens >= 1) {
				this.tokens -= 1;
				return;
			}
			await this.clock.sleep(Math.ceil((1 - this.tokens) * this.intervalMs));
		}
	}

	/**
	 * The server said slow down anyway (another client on the same account, or
	 * limits it did not announce): empty the bucket and go slower. Its
	 * retry_after_ms is when its own bucket has a token again, so at least
	 * its interval between messages: the pace never drops below that.
	 */
	slowDown(retryAfterMs: number | undefined): void {
		this.tokens = 0;
		this.last = Date.now();
		this.intervalMs = Math.max(this.intervalMs * 1.5, retryAfterMs ?? 0);
	}
}

type Outcome =
	| {kind: 'acked'; seq: number}
	| {kind: 'failed'; code: ErrorCode; text: string; retryAfterMs: number | undefined};

/**
 * Posts one message and waits for the server's answer: say() resolves with the
 * acknowledgement or rejects with the room's error. Losing the connection
 * for good, or no answer within timeoutMs, throws an ExitError.
 */
async function sayAndWait(session: RoomSession, message: MessageLine, timeoutMs: number): Promise<Outcome> {
	if (session.state === 'closed') throw lostConnection(session, 'closed');
	let timer: NodeJS.Timeout | undefined;
	const deadline = new Promise<never>((_, reject) => {
		if (timeoutMs > 0)
			timer = setTimeout(() => {
				const state =
					session.state === 'reconnecting' ? ' (the connection was lost and is being retried)' : '';
				reject(
					new ExitError(
						EXIT.connect,
						`no acknowledgement from ${session.url} within ${timeoutMs / 1000} s${state}`,
					),
				);
			}, timeoutMs);
	});
	try {
		const posted =
			message.kind === 'direct'
				? session.direct(message.nick, message.text)
				: session.say(message.text, {action: message.kind === 'action'});
		const ack = await Promise.race([posted, deadline]);
		return {kind: 'acked', seq: ack.seq};
	} catch (error) {
		if (!(error instanceof RoomError)) throw error;
		// 'network': the session gave up on the connection, not the room refusing the line.
		if (error.code === 'network') throw lostConnection(session, error.message.replace(/^not sent: /, ''));
		return {
			kind: 'failed',
			code: error.code as ErrorCode,
			text: error.message,
			retryAfterMs: error.retryAfterMs,
		};
	} finally {
		clearTimeout(timer);
	}
}

function lostConnection(session: RoomSession, reason: string): ExitError {
	return new ExitError(EXIT.connect, `lost the connection to ${session.url}: ${reason}`);
}

/**
 * A line of input as the chat would read it: the message to post, why it
 * cannot be posted (a command, a usage error, text the room would refuse), or
 * undefined for a blank line.
 */
function messageOf(line: InputLine, maxTextBytes: number): MessageLine | {problem: string} | undefined {
	if (line.tooLong)
		return {
			problem: `the line is longer than ${MAX_LINE_CHARS} characters; the limit is ${maxTextBytes} bytes`,
		};
	const parsed = parseChatLine(line.text);
	switch (parsed.kind) {
		case 'none':
			return undefined;
		case 'command':
			return {
				problem: `/${parsed.name} is a chat command; send posts messages only (/me TEXT, /msg NICK TEXT; start the line with // to send it as it is)`,
			};
		case 'invalid':
			return {problem: parsed.message};
		default: {
			const problem = textProblem(parsed.text, maxTextBytes);
			return problem === undefined ? parsed : {problem: problem.message};
		}
	}
}

interface Tally {
	sent: number;
	rejected: number;
}

/** Sends one line until it is acknowledged or refused; pacing and rate-limit retries happen here. */
async function sendLine(
	line: InputLine,
	message: MessageLine,
	joined: {session: RoomSession},
	pacer: Pacer,
	timeoutMs: number,
	strikes: {rateLimited: number},
	io: ScriptIo,
): Promise<boolean> {
	let serverErrors = 0;
	for (;;) {
		await pacer.take();
		const outcome = await sayAndWait(joined.session, message, timeoutMs);
		if (outcome.kind === 'acked') return true;
		if (outcome.code === 'rate-limited') {
			if (++strikes.rateLimited > MAX_RATE_LIMITED)
				throw new ExitError(
					EXIT.connect,
					`the room keeps refusing messages as too fast (${outcome.text}); stopped before being kicked`,
				);
			// The server says how long until its bucket has room again: wait that, not a guess.
			const retryAfterMs =
				outcome.retryAfterMs === undefined ? undefined : Math.min(outcome.retryAfterMs, MAX_RETRY_AFTER_MS);
			pacer.slowDown(retryAfterMs);
			continue;
		}
		if (outcome.code === 'server-error' && ++serverErrors <= MAX_SERVER_ERRORS) {
			await sleep(500 * serverErrors);
			continue;
		}
		io.stderr.write(`parley send: line ${line.number} not sent: ${outcome.text}\n`);
		return false;
	}
}

async function run(argv: string[], io: ScriptIo): Promise<number> {
	const cli = meow(help, {
		importMeta: import.meta,
		argv,
		...SELF_REPORTING,
		flags: COMMON_FLAGS,
	});
	if (cli.flags.help) {
		io.stdout.write(cli.help);
		return EXIT.ok;
	}
	const argument = checkInvocation(COMMAND, cli.input, cli.flags, KNOWN_FLAGS);
	const options = commonOptions(cli.flags, DEFAULT_TIMEOUT_SECONDS);
	const room = await resolveRoomArgument(argument, io.env);
	const login = chooseLogin(COMMAND, room, options);

	const lines = readLines(io.stdin, MAX_LINE_CHARS);
	const password = await choosePassword(COMMAND, room, options, io.env, async () => {
		const first = await lines.next();
		return first.done ? undefined : first.value.text;
	});
	const joined = await joinRoom({
		room,
		login,
		password,
		options,
		stderr: io.stderr,
		command: COMMAND,
		// Unacknowledged lines are resent (same ref, so the server keeps one) until our own deadline.
		maxSendTries: Number.MAX_SAFE_INTEGER,
	});
	const stopOnSignal = (signal: NodeJS.Signals, code: number) => {
		// Leave properly, so the room sees "left" rather than a time-out later.
		const handler = () => void joined.session.close().finally(() => process.exit(code));
		process.once(signal, handler);
		return () => process.off(signal, handler);
	};
	const unhook =
		io.stdin === process.stdin ? [stopOnSignal('SIGINT', 130), stopOnSignal('SIGTERM', 143)] : [];

	const tally: Tally = {sent: 0, rejected: 0};
	const strikes = {rateLimited: 0};
	const pacer = new Pacer(joined.session.limits);
	let current: InputLine | undefined;
	try {
		for await (const line of lines) {
			current = line;
			const message = messageOf(line, joined.session.limits.maxTextBytes);
			if (message === undefined) continue;
			if ('problem' in message) {
				io.stderr.write(`parley send: line ${line.number} not sent: ${message.problem}\n`);
				tally.rejected++;
				continue;
			}
			if (await sendLine(line, message, joined, pacer, options.timeoutMs, strikes, io)) tally.sent++;
			else tally.rejected++;
		}
		current = undefined;
	} catch (error) {
		if (error instanceof ExitError && current !== undefined)
			throw new ExitError(
				error.code,
				`${error.message} (${tally.sent} lines were sent; line ${current.number} and after were not)`,
			);
		throw error;
	} finally {
		for (const off of unhook) off();
		await joined.session.close();
	}
	if (tally.rejected > 0) {
		io.stderr.write(`parley send: ${tally.rejected} of ${tally.sent + tally.rejected} lines not sent\n`);
		return EXIT.rejected;
	}
	return EXIT.ok;
}

export async function runSendCommand(argv: string[], streams: Partial<ScriptIo> = {}): Promise<number> {
	const io = scriptIo(streams);
	try {
		return await run(argv, io);
	} catch (error) {
		if (error instanceof ExitError) {
			io.stderr.write(`parley send: ${error.message}\n`);
			return error.code;
		}
		io.stderr.write(`parley send: ${error instanceof Error ? error.message : String(error)}\n`);
		return EXIT.failure;
	}
}
