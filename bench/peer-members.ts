// Lean clients for the fan-out benchmark, one per kind of server: a Parley
// TCP room (TLS or plaintext, SCRAM login), an IRC server and Redis pub/sub.
// Each sets up with the server the ordinary way (parsing what it gets), then
// only scans: a delivery is a line or frame whose text ends in the benchmark
// tail (bench/delivery-scan.ts), read where it lies in the buffer. So a member
// process costs little per delivery and the generator is not what limits the
// servers it measures. Sends queue in say() and go out in one write per
// sender per tick (flush), as a client pipelining its lines would.

import net from 'node:net';
import tls from 'node:tls';
import {encodeFrame} from '../source/protocol/framing.js';
import {SCRAM_PLUS_MECHANISM, ScramClient, tlsExporterChannelBinding} from '../source/protocol/scram.js';
import {PROTOCOL_VERSIONS} from '../source/protocol/versions.js';
import {
	FrameScanner,
	LineScanner,
	RespScanner,
	TailReader,
	startsWith,
	type RecordHandler,
} from './delivery-scan.js';
import type {TargetSpec} from './protocol.js';
import {clock} from './util.js';

/** Where a member's deliveries and troubles are counted (bench/member-child.ts). */
export interface DeliverySink {
	/** One delivery of a message of `step` scheduled at `scheduledUs`, read at `nowUs` (clock() in µs). */
	delivered(step: number, scheduledUs: number, nowUs: number): void;
	/** The server closed a member's connection. */
	disconnected(): void;
	/** The server refused something (a Parley `error`, a Redis -ERR, an IRC error numeric). */
	error(): void;
}

export interface BenchMember {
	/** Queues one line; `ref` is the send's id where the protocol has one. */
	say(text: string, ref: string): void;
	/** Writes what say() queued. */
	flush(): void;
	close(): Promise<void>;
}

export interface Connector {
	/** A member that is in the room; `sender` members may say(). */
	join(nick: string, sender: boolean): Promise<BenchMember>;
	/** Authenticates and disconnects at once; only for targets with a login. */
	login?(user: string): Promise<void>;
}

const SETUP_TIMEOUT_MS = 20_000;

/**
 * One read buffer for every plaintext socket of this process: reads go
 * straight into it (net's `onread`), with no Buffer and no stream event per
 * read, and the scanners copy out only a record split between two reads.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

/** A socket whose records (lines or frames) go to a handler that set-up swaps for the scanning one. */
class Link {
	/** clock() in µs when the chunk being scanned was read: one reading per chunk, not per record. */
	nowUs = 0;
	handle: RecordHandler = () => {};
	#closing = false;
	readonly #pending: string[] = [];

	private constructor(
		readonly socket: net.Socket,
		sink: DeliverySink,
	) {
		socket.on('error', () => {});
		socket.on('close', () => {
			if (!this.#closing) sink.disconnected();
		});
	}

	static open(
		target: {host: string; port: number},
		secure: boolean,
		framing: 'lines' | 'frames' | 'resp',
		sink: DeliverySink,
	): Promise<Link> {
		let link: Link | undefined;
		const onRecord: RecordHandler = (buf, start, end) => link!.handle(buf, start, end);
		const scanner =
			framing === 'lines'
				? new LineScanner(onRecord)
				: framing === 'frames'
					? new FrameScanner(onRecord)
					: new RespScanner(onRecord);
		const read = (chunk: Buffer) => {
			link!.nowUs = clock() * 1000;
			scanner.push(chunk);
		};
		const {host, port} = target;
		return new Promise((resolve, reject) => {
			// TLS sockets have no `onread`: their decrypted data comes as events.
			const socket = secure
				? tls.connect({host, port, minVersion: 'TLSv1.3', rejectUnauthorized: false})
				: net.connect({
						host,
						port,
						onread: {
							buffer: READ_BUFFER,
							callback: (n: number) => {
								read(READ_BUFFER.subarray(0, n));
								return true;
							},
						},
					});
			if (secure) socket.on('data', read);
			const timer = setTimeout(
				() => fail(new Error(`connecting to ${host}:${port} timed out`)),
				SETUP_TIMEOUT_MS,
			);
			const fail = (error: Error) => {
				clearTimeout(timer);
				socket.destroy();
				reject(error);
			};
			socket.once('error', fail);
			socket.once(secure ? 'secureConnect' : 'connect', () => {
				clearTimeout(timer);
				socket.off('error', fail);
				socket.setNoDelay(true);
				link = new Link(socket, sink);
				resolve(link);
			});
		});
	}

	queue(text: string): void {
		this.#pending.push(text);
	}

	/** Benchmark lines are ASCII, so latin1 writes a frame header's bytes as they are. */
	flush(): void {
		if (this.#pending.length === 0) return;
		this.socket.write(this.#pending.join(''), 'latin1');
		this.#pending.length = 0;
	}

	close(): Promise<void> {
		this.#closing = true;
		return new Promise((resolve) => {
			if (this.socket.destroyed) return resolve();
			this.socket.once('close', () => resolve());
			this.socket.end();
			setTimeout(() => this.socket.destroy(), 1000).unref();
		});
	}
}

/** Set-up replies, one at a time, until the member switches to scanning. */
class Inbox<T> {
	readonly #items: T[] = [];
	#waiter: ((item: T) => void) | undefined;
	#failure: Error | undefined;
	#failWaiter: ((error: Error) => void) | undefined;

	put(item: T): void {
		const waiter = this.#waiter;
		this.#waiter = undefined;
		if (waiter) waiter(item);
		else this.#items.push(item);
	}

	fail(error: Error): void {
		this.#failure ??= error;
		this.#failWaiter?.(error);
	}

	/** The next item `accept` takes (others are dropped); rejects on close or after the set-up timeout. */
	async until(accept: (item: T) => boolean, what: string): Promise<T> {
		for (;;) {
			const item = await this.#next(what);
			if (accept(item)) return item;
		}
	}

	#next(what: string): Promise<T> {
		if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
		if (this.#failure) return Promise.reject(this.#failure);
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#waiter = undefined;
				reject(new Error(`no ${what} within ${SETUP_TIMEOUT_MS / 1000} s`));
			}, SETUP_TIMEOUT_MS);
			this.#waiter = (item) => {
				clearTimeout(timer);
				resolve(item);
			};
			this.#failWaiter = (error) => {
				clearTimeout(timer);
				reject(error);
			};
		});
	}
}

export function peerConnector(target: Exclude<TargetSpec, {kind: 'udp'}>, sink: DeliverySink): Connector {
	switch (target.kind) {
		case 'parley':
			return parleyConnector(target, sink);
		case 'irc':
			return ircConnector(target, sink);
		case 'redis':
			return redisConnector(target, sink);
	}
}

// ---- Parley: length-prefixed JSON frames, SCRAM login, then the room's `msg` frames ----

type Json = Record<string, unknown> & {t?: unknown};
const MSG_FRAME = Buffer.from('{"t":"msg"');

function parleyConnector(target: Extract<TargetSpec, {kind: 'parley'}>, sink: DeliverySink): Connector {
	/** A logged-in link and its set-up inbox. */
	const open = async (user: string) => {
		const link = await Link.open(target, target.tls, 'frames', sink);
		const {socket} = link;
		const inbox = new Inbox<Json>();
		link.handle = (buf, start, end) => inbox.put(JSON.parse(buf.toString('utf8', start, end)) as Json);
		socket.once('close', () => inbox.fail(new Error(`${user}: connection closed during set-up`)));
		const write = (message: Json) => socket.write(encodeFrame(Buffer.from(JSON.stringify(message))));
		const expect = async (type: string) => {
			const message = await inbox.until(() => true, type);
			if (message.t !== type) throw new Error(`${user}: expected ${type}, got ${JSON.stringify(message)}`);
			return message;
		};
		try {
			const greeting = await expect('auth-mechs');
			const secure = socket instanceof tls.TLSSocket;
			const scram = new ScramClient({
				username: user,
				password: target.password,
				...(secure
					? {
							channelBinding: tlsExporterChannelBinding(socket),
							serverOffersPlus: (greeting.mechs as string[]).includes(SCRAM_PLUS_MECHANISM),
						}
					: {}),
			});
			write({t: 'auth', mech: scram.mechanism, data: scram.first()});
			const challenge = await expect('auth-challenge');
			write({t: 'auth-final', data: await scram.final(String(challenge.data))});
			const ok = await expect('auth-ok');
			scram.verifyServer(String(ok.data ?? ''));
		} catch (error) {
			socket.destroy();
			throw error;
		}
		return {link, inbox, write};
	};
	const tail = new TailReader();
	return {
		async login(user) {
			const {link} = await open(user);
			await link.close();
		},
		async join(nick) {
			const {link, inbox, write} = await open(nick);
			write({t: 'hello', nick, versions: [...PROTOCOL_VERSIONS]});
			const answer = await inbox.until((m) => m.t === 'welcome' || m.t === 'error', 'welcome');
			if (answer.t !== 'welcome') throw new Error(`${nick}: ${JSON.stringify(answer)}`);
			link.handle = (buf, start, end) => {
				if (startsWith(buf, start, end, MSG_FRAME) && tail.read(buf, start, end))
					return sink.delivered(tail.step, tail.scheduledUs, link.nowUs);
				// Anything else is rare (presence, notices): worth parsing.
				const message = JSON.parse(buf.toString('utf8', start, end)) as Json;
				if (message.t === 'error') sink.error();
			};
			const header = Buffer.alloc(4);
			return {
				say(text, ref) {
					const body = `{"t":"say","ref":"${ref}","text":"${text}"}`;
					header.writeUInt32BE(Buffer.byteLength(body), 0);
					link.queue(header.toString('latin1') + body);
				},
				flush: () => link.flush(),
				close: () => link.close(),
			};
		},
	};
}

// ---- IRC: NICK/USER, JOIN, then PRIVMSG lines ----

const ircLine = (buf: Buffer, start: number, end: number) => buf.toString('utf8', start, end);
const PING = Buffer.from('PING ');

function ircConnector(target: Extract<TargetSpec, {kind: 'irc'}>, sink: DeliverySink): Connector {
	const tail = new TailReader();
	return {
		async join(nick) {
			const link = await Link.open(target, false, 'lines', sink);
			const {socket} = link;
			const inbox = new Inbox<string>();
			const pong = (line: string) => socket.write(`PONG ${line.slice(PING.length)}\r\n`);
			link.handle = (buf, start, end) => {
				const line = ircLine(buf, start, end);
				if (line.startsWith('PING ')) pong(line);
				else inbox.put(line);
			};
			socket.once('close', () => inbox.fail(new Error(`${nick}: connection closed during set-up`)));
			// "<prefix> <numeric> …": registered (001), in the channel (366: end of its names), or refused.
			const numeric = (line: string) => line.split(' ', 3)[1] ?? '';
			const refused = (line: string) => line.startsWith('ERROR') || /^[45]\d\d$/.test(numeric(line));
			try {
				socket.write(`NICK ${nick}\r\nUSER ${nick} 0 * :bench\r\n`);
				let line = await inbox.until((l) => numeric(l) === '001' || refused(l), 'IRC welcome (001)');
				if (refused(line)) throw new Error(`${nick}: ${line}`);
				socket.write(`JOIN ${target.channel}\r\n`);
				line = await inbox.until((l) => numeric(l) === '366' || refused(l), 'end of NAMES (366)');
				if (refused(line)) throw new Error(`${nick}: ${line}`);
			} catch (error) {
				socket.destroy();
				throw error;
			}
			link.handle = (buf, start, end) => {
				if (tail.read(buf, start, end)) return sink.delivered(tail.step, tail.scheduledUs, link.nowUs);
				if (startsWith(buf, start, end, PING)) return pong(ircLine(buf, start, end));
				if (/^\S+ [45]\d\d /.test(ircLine(buf, start, end))) sink.error();
			};
			const prefix = `PRIVMSG ${target.channel} :`;
			return {
				say: (text) => link.queue(`${prefix}${text}\r\n`),
				flush: () => link.flush(),
				async close() {
					socket.write('QUIT\r\n');
					await link.close();
				},
			};
		},
	};
}

// ---- Redis: SUBSCRIBE on one connection, PUBLISH on another (RESP2 allows no PUBLISH while subscribed) ----

function redisConnector(target: Extract<TargetSpec, {kind: 'redis'}>, sink: DeliverySink): Connector {
	const tail = new TailReader();
	const {channel} = target;
	const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
	const publishHead = `*3\r\n${bulk('PUBLISH')}${bulk(channel)}`;
	const refusal = (buf: Buffer, start: number, end: number) => end > start && buf[start] === 0x2d; // "-ERR …"
	return {
		async join(_nick, sender) {
			const link = await Link.open(target, false, 'resp', sink);
			const {socket} = link;
			const inbox = new Inbox<string>();
			link.handle = (buf, start, end) => inbox.put(buf.toString('utf8', start, end));
			socket.once('close', () => inbox.fail(new Error('redis: connection closed during set-up')));
			try {
				socket.write(`*2\r\n${bulk('SUBSCRIBE')}${bulk(channel)}`);
				// The confirmation ends with the count of channels: ":1".
				const line = await inbox.until((l) => l.startsWith(':') || l.startsWith('-'), 'SUBSCRIBE reply');
				if (line.startsWith('-')) throw new Error(`redis: ${line}`);
			} catch (error) {
				socket.destroy();
				throw error;
			}
			link.handle = (buf, start, end) => {
				if (tail.read(buf, start, end)) sink.delivered(tail.step, tail.scheduledUs, link.nowUs);
				else if (refusal(buf, start, end)) sink.error();
			};
			const publisher = sender ? await Link.open(target, false, 'resp', sink) : undefined;
			if (publisher)
				publisher.handle = (buf, start, end) => {
					if (refusal(buf, start, end)) sink.error();
				};
			return {
				say(text) {
					publisher?.queue(publishHead + bulk(text));
				},
				flush: () => publisher?.flush(),
				async close() {
					await Promise.all([link.close(), publisher?.close()]);
				},
			};
		},
	};
}
