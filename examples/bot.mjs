#!/usr/bin/env node
// A Parley bot in plain Node.js: node:tls and nothing else, no Parley code.
//
//   PARLEY_TOKEN=parley_... node bot.mjs tcp://HOST:PORT --fingerprint SHA256:... < lines
//   PARLEY_TOKEN=parley_... node bot.mjs tcp://HOST:PORT --fingerprint SHA256:... --listen
//
// Posts each line of standard input to a Parley TLS room as one message and
// waits for the server to acknowledge it; with --listen it also prints what
// the others say ("nick: text"), until stopped. It logs in with an access
// token (`parley token create USER`) in one step: {"t":"auth-token","token"}.
// The token is sent only after the certificate has been checked:
//
//   --fingerprint SHA256:...     SAFE: the certificate must have this fingerprint
//                                (`parley serve` prints it); otherwise nothing is sent.
//   --insecure-accept-any-cert   UNSAFE: whoever intercepts the connection gets
//                                the token. Only for a server on your own machine.
//
// Frames (see PROTOCOL.md): a 4-byte big-endian length, then UTF-8 JSON.
// Exit status: 0 done, 2 usage, 3 connection, 4 not let in, 5 a line refused, 6 certificate.

import {createHash} from 'node:crypto';
import {createInterface} from 'node:readline';
import tls from 'node:tls';

const EXIT = {ok: 0, usage: 2, connect: 3, auth: 4, rejected: 5, cert: 6};
const MAX_FRAME = 64 * 1024;
const PING_EVERY_MS = 10_000;
const ACK_TIMEOUT_MS = 30_000;
// Control characters a hostile message could use to repaint the terminal.
const UNPRINTABLE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

class BotError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

function parseArgs(argv) {
	const options = {url: undefined, fingerprint: undefined, acceptAny: false, listen: false};
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		if (arg === '--fingerprint') options.fingerprint = argv[++i];
		else if (arg === '--insecure-accept-any-cert') options.acceptAny = true;
		else if (arg === '--listen') options.listen = true;
		else if (arg.startsWith('-')) throw new BotError(EXIT.usage, `unknown option ${arg}`);
		else if (options.url === undefined) options.url = arg;
		else throw new BotError(EXIT.usage, `unexpected argument ${arg}`);
	}
	const match = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(options.url ?? '');
	if (!match) throw new BotError(EXIT.usage, 'expected a room URL tcp://HOST:PORT');
	if (options.fingerprint === undefined && !options.acceptAny)
		throw new BotError(
			EXIT.usage,
			'give --fingerprint SHA256:... (or, unsafely, --insecure-accept-any-cert)',
		);
	if (options.fingerprint !== undefined && options.acceptAny)
		throw new BotError(EXIT.usage, '--fingerprint and --insecure-accept-any-cert exclude each other');
	return {...options, host: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2])};
}

/** SHA256:<base64 without padding> of the DER certificate, as parley shows it. */
const fingerprintOf = (der) =>
	`SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;

/** One TLS connection speaking length-prefixed JSON frames, read as an async queue. */
class Connection {
	#buffer = Buffer.alloc(0);
	#frames = [];
	#waiting = [];
	#closed;

	static open(host, port) {
		return new Promise((resolve, reject) => {
			// Parley servers use self-signed certificates, pinned by fingerprint instead of a CA.
			const socket = tls.connect({host, port, minVersion: 'TLSv1.3', rejectUnauthorized: false});
			socket.once('error', (error) =>
				reject(new BotError(EXIT.connect, `cannot connect to ${host}:${port}: ${error.message}`)),
			);
			socket.once('secureConnect', () => resolve(new Connection(socket)));
		});
	}

	constructor(socket) {
		this.socket = socket;
		this.fingerprint = fingerprintOf(socket.getPeerCertificate().raw);
		socket.on('data', (chunk) => this.#push(chunk));
		socket.on('error', (error) => this.#end(error.message));
		socket.on('close', () => this.#end('the server closed the connection'));
	}

	#push(chunk) {
		this.#buffer = Buffer.concat([this.#buffer, chunk]);
		while (this.#buffer.length >= 4) {
			const length = this.#buffer.readUInt32BE(0);
			if (length > MAX_FRAME) return this.#end(`the server sent a frame of ${length} bytes`);
			if (this.#buffer.length < 4 + length) return;
			const payload = this.#buffer.subarray(4, 4 + length);
			this.#buffer = this.#buffer.subarray(4 + length);
			let message;
			try {
				message = JSON.parse(payload.toString('utf8'));
			} catch {
				return this.#end('the server sent bad JSON');
			}
			if (typeof message !== 'object' || message === null) return this.#end('the server sent a non-object');
			const waiter = this.#waiting.shift();
			if (waiter) waiter.resolve(message);
			else this.#frames.push(message);
		}
	}

	#end(reason) {
		if (this.#closed !== undefined) return;
		this.#closed = reason;
		this.socket.destroy();
		for (const waiter of this.#waiting.splice(0)) waiter.reject(new BotError(EXIT.connect, reason));
	}

	/** The next frame from the server. */
	receive() {
		if (this.#frames.length > 0) return Promise.resolve(this.#frames.shift());
		if (this.#closed !== undefined) return Promise.reject(new BotError(EXIT.connect, this.#closed));
		return new Promise((resolve, reject) => this.#waiting.push({resolve, reject}));
	}

	send(message) {
		const payload = Buffer.from(JSON.stringify(message), 'utf8');
		const header = Buffer.alloc(4);
		header.writeUInt32BE(payload.length, 0);
		this.socket.write(Buffer.concat([header, payload]));
	}

	close() {
		this.socket.end();
	}
}

const refused = (message, status) =>
	new BotError(status, `${message.code ?? 'error'}: ${message.message ?? 'refused'}`);

/** auth-mechs, one auth-token frame, auth-ok, hello, welcome. */
async function logIn(connection, token) {
	const greeting = await connection.receive();
	if (greeting.t !== 'auth-mechs') throw refused(greeting, EXIT.connect);
	connection.send({t: 'auth-token', token});
	const answer = await connection.receive();
	if (answer.t !== 'auth-ok') throw refused(answer, EXIT.auth);
	connection.send({t: 'hello', nick: answer.user, v: 1});
	for (;;) {
		const message = await connection.receive();
		if (message.t === 'welcome') return {user: answer.user, limits: message.limits ?? {}};
		if (message.t === 'error') throw refused(message, EXIT.auth);
	}
}

/** Stays under the room's announced rate, a little stricter; the server's retry_after_ms corrects it. */
class Pacer {
	constructor(limits) {
		this.interval = 1000 / ((limits.ratePerSecond || 5) * 0.9);
		this.burst = Math.max(1, Math.floor(limits.burst || 10) - 1);
		this.tokens = this.burst;
		this.last = Date.now();
	}

	async take() {
		for (;;) {
			const now = Date.now();
			this.tokens = Math.min(this.burst, this.tokens + (now - this.last) / this.interval);
			this.last = now;
			if (this.tokens >= 1) {
				this.tokens -= 1;
				return;
			}
			await new Promise((resolve) => setTimeout(resolve, Math.ceil((1 - this.tokens) * this.interval)));
		}
	}

	slowDown(retryAfterMs) {
		this.tokens = 0;
		this.last = Date.now();
		this.interval = Math.max(this.interval * 1.5, retryAfterMs ?? 0);
	}
}

async function main() {
	const options = parseArgs(process.argv.slice(2));
	const token = process.env.PARLEY_TOKEN ?? '';
	if (token === '')
		throw new BotError(EXIT.usage, 'set PARLEY_TOKEN to an access token (parley token create USER)');
	const connection = await Connection.open(options.host, options.port);
	if (options.acceptAny)
		process.stderr.write(
			`bot.mjs: WARNING: accepting the certificate ${connection.fingerprint} unchecked (--insecure-accept-any-cert)\n`,
		);
	else if (connection.fingerprint !== options.fingerprint) {
		connection.close();
		throw new BotError(
			EXIT.cert,
			`certificate mismatch: the server shows ${connection.fingerprint}, expected ${options.fingerprint}; not sending the token`,
		);
	}
	const {user, limits} = await logIn(connection, token);
	process.stderr.write(`bot.mjs: joined ${options.url} as ${user}\n`);

	// One reader for every frame: acknowledgements go to their sender, the rest is printed with --listen.
	const answers = new Map();
	let lost;
	const reader = (async () => {
		for (;;) {
			const message = await connection.receive();
			if (
				(message.t === 'msg' || message.t === 'error') &&
				typeof message.ref === 'string' &&
				answers.has(message.ref)
			) {
				answers.get(message.ref)(message);
				answers.delete(message.ref);
			} else if (message.t === 'error')
				process.stderr.write(`bot.mjs: the server says: ${message.message}\n`);
			if (options.listen && message.t === 'msg' && message.from !== user) {
				const from = String(message.from).replace(UNPRINTABLE, '?');
				const text = String(message.text).replace(UNPRINTABLE, '?');
				process.stdout.write(message.action ? `* ${from} ${text}\n` : `${from}: ${text}\n`);
			}
			if (message.t === 'bye') throw new BotError(EXIT.connect, `the server said goodbye: ${message.reason}`);
		}
	})().catch((error) => {
		lost = error;
		for (const settle of answers.values()) settle(undefined);
		answers.clear();
		throw error;
	});
	reader.catch(() => {}); // awaited only with --listen; otherwise its end is no error
	const ping = setInterval(() => connection.send({t: 'ping', ts: Date.now()}), PING_EVERY_MS);
	ping.unref();

	const answerTo = (ref) =>
		new Promise((resolve, reject) => {
			if (lost) return reject(new BotError(EXIT.connect, `lost the connection: ${lost.message}`));
			const timer = setTimeout(
				() => reject(new BotError(EXIT.connect, 'no acknowledgement from the server')),
				ACK_TIMEOUT_MS,
			);
			answers.set(ref, (message) => {
				clearTimeout(timer);
				if (message === undefined)
					reject(new BotError(EXIT.connect, `lost the connection: ${lost?.message}`));
				else resolve(message);
			});
		});

	const pacer = new Pacer(limits);
	let rejected = 0;
	let number = 0;
	for await (const line of createInterface({input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY})) {
		number++;
		if (line.trim() === '') continue;
		const ref = `bot-${number}`;
		let attempts = 0;
		for (;;) {
			if (++attempts > 12) throw new BotError(EXIT.connect, 'the room keeps refusing messages as too fast');
			await pacer.take();
			const answer = answerTo(ref);
			connection.send({t: 'say', ref, text: line});
			const message = await answer;
			if (message.t === 'msg') break;
			if (message.code === 'rate-limited') {
				pacer.slowDown(message.retry_after_ms);
				continue;
			}
			process.stderr.write(`bot.mjs: line ${number} not sent: ${message.message}\n`);
			rejected++;
			break;
		}
	}
	if (options.listen) {
		await reader; // until the server goes away (or we are stopped)
		return EXIT.connect;
	}
	clearInterval(ping);
	connection.send({t: 'leave'});
	connection.close();
	return rejected > 0 ? EXIT.rejected : EXIT.ok;
}

main().then(
	(status) => {
		process.exitCode = status;
	},
	(error) => {
		process.stderr.write(`bot.mjs: ${error.message}\n`);
		// An open socket would keep the process alive after a failure.
		process.exit(error instanceof BotError ? error.status : 1);
	},
);
