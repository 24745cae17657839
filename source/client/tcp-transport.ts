// TCP transport: TLS 1.3 with the server's certificate pinned on first use
// (like ssh's known_hosts), length-prefixed JSON frames, and a SCRAM-SHA-256
// login bound to the TLS channel, in which the server proves it too knows the
// password's verifier before we trust it with anything.
//
// Several servers (a cluster's nodes, or a name with several addresses) are
// tried in turn: a connection that fails, or a server that goes away (a lost
// socket, a `bye` with `retry`), moves the next login on to the next one.
// Certificates stay pinned per host:port as typed (a name's pin covers every
// address it resolves to), and each new one is asked about on first use.

import {lookup} from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import {
	parseAuthServerMessage,
	type AuthClientMessage,
	type AuthServerMessage,
} from '../protocol/auth-messages.js';
import {fingerprintOf} from '../protocol/fingerprint.js';
import {FrameDecoder, encodeFrame} from '../protocol/framing.js';
import {DEFAULT_PASSWORD_POLICY, passwordProblem} from '../protocol/password-policy.js';
import {
	ProtocolError,
	decodeJson,
	encodeJson,
	parseServerMessage,
	type ClientMessage,
} from '../protocol/messages.js';
import {
	SCRAM_PLUS_MECHANISM,
	ScramClient,
	ScramError,
	deriveVerifier,
	type ScramClientKeys,
	tlsExporterChannelBinding,
} from '../protocol/scram.js';
import {PROTOCOL_VERSIONS, chooseVersion, unsupportedVersionText} from '../protocol/versions.js';
import {isFileFrame, parseFileServerMessage, type FileClientMessage} from '../protocol/file-messages.js';
import {FILE_REF_PREFIX, type FileFrame, type FileLink} from './file-link.js';
import {KnownHosts} from './known-hosts.js';
import {describeNetworkError} from './network-error.js';
import {formatServer, type ServerAddress} from './room-url.js';
import type {Login, Transport, TransportHandlers} from './transport.js';
import {RoomError} from './types.js';

export interface TcpTransportOptions {
	host: string;
	port: number;
	/** The same cluster's other servers, tried in turn after host:port. */
	alternates?: ServerAddress[];
	/** A name's addresses, each tried in turn (default: dns.lookup, all of them). */
	resolve?: (host: string) => Promise<string[]>;
	/** Plaintext instead of TLS: only behind an explicit flag, with a warning. */
	insecurePlaintext?: boolean;
	knownHosts?: KnownHosts;
	/**
	 * Asked about a server seen for the first time. Resolve true to trust and
	 * remember its fingerprint. Without it, first-seen servers are refused.
	 */
	confirmNewHost?: (hostPort: string, fingerprint: string) => Promise<boolean>;
	maxFrameBytes?: number;
	connectTimeoutMs?: number;
	/** How long to wait for each server reply during login (default 10 s). */
	loginReplyTimeoutMs?: number;
}

type Phase = 'closed' | 'login' | 'room';

/** Login failures that are one server's, not the account's: the next server may do. */
const NEXT_SERVER_ON = new Set<string>(['network', 'auth-unavailable', 'host-changed', 'host-rejected']);

export class TcpTransport implements Transport, FileLink {
	readonly kind = 'tcp' as const;
	/** File transfers on this connection (file-link.ts): they hear file frames and their refs' errors. */
	private readonly fileListeners = new Set<(frame: FileFrame) => void>();
	readonly reliable = true;
	readonly keepaliveMs = 10_000;
	private socket: net.Socket | undefined;
	private handlers: TransportHandlers | undefined;
	private phase: Phase = 'closed';
	/** During login, the next server frame goes here instead of to the room. */
	private loginWaiter: {resolve: (m: AuthServerMessage) => void; reject: (e: Error) => void} | undefined;
	/** Login messages that arrived before anyone asked for them. */
	private inbox: AuthServerMessage[] = [];
	private closedReason: string | undefined;
	/** Why the login cannot go on (a message we could not read, a goodbye); reported after what came before it. */
	private loginFailure: RoomError | undefined;
	/** The certificate fingerprint of the current connection (shown to the user). */
	fingerprint: string | undefined;
	/** What the server announced in its greeting on the last login (before any room is joined). */
	greeting: {versions: readonly number[]; caps: readonly string[]} | undefined;
	/**
	 * SCRAM's derived keys from the last successful login, for logging in again
	 * after a lost connection: the password itself is never kept.
	 */
	private saved: {user: string; keys: ScramClientKeys} | undefined;
	/** The servers to try, as typed: host:port first, then the alternates. */
	private readonly servers: readonly ServerAddress[];
	/** The server of the current (or last) connection. */
	private serverIndex = 0;
	/** The last connection ended with its server (lost, or a goodbye with retry): the next login starts with the next server. */
	private moveOn = false;
	/** The address of the current (or last) connection. */
	private address: string | undefined;
	/** Where the last login went (server and address), to say so when it changes. */
	private connectedTo: string | undefined;

	constructor(private readonly options: TcpTransportOptions) {
		this.servers = [{host: options.host, port: options.port}, ...(options.alternates ?? [])];
	}

	/** The server this transport is on (or tries next). */
	get server(): ServerAddress {
		return this.servers[this.serverIndex] ?? this.options;
	}

	get url(): string {
		return `tcp://${formatServer(this.server)}`;
	}

	/** The known_hosts key: the server as typed. */
	private get hostPort(): string {
		return `${this.server.host}:${this.server.port}`;
	}

	setHandlers(handlers: TransportHandlers): void {
		this.handlers = handlers;
	}

	/** True when open() can log in as `user` without a password (after a login over this transport). */
	private canReauthenticate(user: string): boolean {
		return this.saved?.user === user;
	}

	async open(login: Login): Promise<void> {
		this.close();
		if (login.password === undefined && !this.canReauthenticate(login.nick))
			throw new RoomError('auth-failed', 'a password is needed for this room');
		const first = this.serverIndex + (this.moveOn ? 1 : 0);
		// The address that went away is tried last (a name's other addresses first).
		const left = this.moveOn ? {server: this.serverIndex, address: this.address} : undefined;
		this.moveOn = false;
		let unreachable: RoomError | undefined;
		let refused: RoomError | undefined;
		for (let tried = 0; tried < this.servers.length; tried++) {
			this.serverIndex = (first + tried) % this.servers.length;
			const lastServer = tried === this.servers.length - 1;
			let addresses: string[];
			try {
				addresses = await this.addresses();
				if (left?.server === this.serverIndex) addresses = lastOf(addresses, left.address);
			} catch (error) {
				unreachable = error as RoomError;
				if (lastServer) break;
				this.handlers?.notice(`${unreachable.message}; trying the next server`);
				continue;
			}
			for (const [i, address] of addresses.entries()) {
				try {
					await this.openAt(address, login);
					this.address = address;
					this.announceServer(address, addresses.length);
					return;
				} catch (error) {
					const failure = error instanceof RoomError ? error : new RoomError('network', String(error));
					if (!NEXT_SERVER_ON.has(failure.code)) throw failure;
					if (failure.code === 'network' || failure.code === 'auth-unavailable') unreachable = failure;
					else refused ??= failure;
					const next = !lastServer || i < addresses.length - 1;
					// A certificate refused on the last try is told when the error thrown is another's (an unreachable one).
					if (next || (failure === refused && unreachable !== undefined))
						this.handlers?.notice(`${failure.message}${next ? '; trying the next server' : ''}`);
				}
			}
		}
		// A server that may come back is worth retrying; one we refused to trust is not.
		throw unreachable ?? refused ?? new RoomError('network', `cannot connect to ${this.url}`);
	}

	/** The server's addresses: an IP as it is, a name's every address (each node of a round-robin name). */
	private async addresses(): Promise<string[]> {
		const {host} = this.server;
		if (net.isIP(host)) return [host];
		try {
			const found = this.options.resolve
				? await this.options.resolve(host)
				: (await lookup(host, {all: true})).map((entry) => entry.address);
			if (found.length === 0) throw new Error(`no address for ${host}`);
			return [...new Set(found)];
		} catch (error) {
			throw new RoomError('network', `cannot connect to ${this.url}: ${describe(error as Error)}`);
		}
	}

	/** Says which server the login went to, when there is a choice and it changed. */
	private announceServer(address: string, addressCount: number): void {
		const server = formatServer(this.server);
		const where = address === this.server.host ? server : `${server} (${address})`;
		if (where === this.connectedTo) return;
		const first = this.connectedTo === undefined;
		this.connectedTo = where;
		if (this.servers.length === 1 && addressCount === 1) return;
		this.handlers?.notice(
			`${first ? 'connected to' : 'moved to'} server ${where}` +
				(this.servers.length > 1 ? ` (${this.serverIndex + 1} of ${this.servers.length})` : ''),
		);
	}

	/** Connects to one address of the current server, checks its certificate and logs in. */
	private async openAt(address: string, login: Login): Promise<void> {
		this.close();
		const socket = await this.connect(address);
		this.socket = socket;
		this.inbox = [];
		this.closedReason = undefined;
		this.loginFailure = undefined;
		this.phase = 'login';
		this.attach(socket);
		try {
			const asked = await this.verifyHost(socket);
			// A person may take longer to answer than the server waits for a login:
			// the certificate is pinned now, so a fresh connection goes straight through.
			if (asked && this.closedReason !== undefined) return await this.openAt(address, login);
			await this.login(socket, login.nick, login.password, login.register === true);
		} catch (error) {
			this.close();
			throw error;
		}
		this.phase = 'room';
	}

	/**
	 * Checks every server's certificate (asking about new ones) before the
	 * password is typed, so a failover later asks nothing; a server that does
	 * not answer now is checked, and asked about, when first used. Fails when
	 * no server answers, or at once for a certificate not trusted.
	 */
	async checkHost(): Promise<void> {
		if (this.options.insecurePlaintext) return; // nothing to verify; open() warns
		const start = this.serverIndex;
		let answered = false;
		let unreachable: Error | undefined;
		try {
			for (let i = 0; i < this.servers.length; i++) {
				this.serverIndex = (start + i) % this.servers.length;
				try {
					const [address] = await this.addresses();
					await this.checkAt(address ?? this.server.host);
					answered = true;
				} catch (error) {
					if (!(error instanceof RoomError) || error.code !== 'network') throw error;
					unreachable ??= error;
				}
			}
		} finally {
			this.serverIndex = start;
		}
		if (!answered && unreachable) throw unreachable;
	}

	private async checkAt(address: string): Promise<void> {
		const socket = await this.connect(address);
		socket.on('error', () => {});
		try {
			await this.verifyHost(socket);
		} finally {
			socket.destroy();
		}
	}

	send(message: ClientMessage): void {
		if (this.phase !== 'room' || !this.socket) return;
		this.socket.write(encodeFrame(encodeJson(message), this.options.maxFrameBytes));
	}

	// ---- file transfer (file-link.ts) ----

	get isOpen(): boolean {
		return this.phase === 'room' && this.socket !== undefined;
	}

	sendFile(message: FileClientMessage): void {
		if (this.phase !== 'room' || !this.socket) return;
		this.socket.write(encodeFrame(encodeJson(message), this.options.maxFrameBytes));
	}

	/** Bytes written but not yet taken by the kernel: file chunks wait while this is high, chat never does. */
	get backlogBytes(): number {
		return this.socket?.writableLength ?? 0;
	}

	whenDrained(): Promise<void> {
		const socket = this.socket;
		if (!socket || socket.writableLength === 0) return Promise.resolve();
		return new Promise((resolve) => {
			const done = () => {
				socket.off('drain', done);
				socket.off('close', done);
				resolve();
			};
			socket.once('drain', done);
			socket.once('close', done);
		});
	}

	addFileListener(listener: (frame: FileFrame) => void): () => void {
		this.fileListeners.add(listener);
		return () => this.fileListeners.delete(listener);
	}

	close(): void {
		const socket = this.socket;
		this.socket = undefined;
		this.phase = 'closed';
		this.loginWaiter?.reject(new RoomError('network', 'connection closed'));
		this.loginWaiter = undefined;
		if (socket) {
			socket.removeAllListeners('data');
			socket.removeAllListeners('close');
			socket.on('error', () => {});
			socket.end();
			setTimeout(() => socket.destroy(), 1000).unref();
		}
	}

	/** A socket to `address` (one of the current server's) with the server's name for TLS. */
	private connect(address: string): Promise<net.Socket> {
		const {host, port} = this.server;
		const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
		return new Promise((resolve, reject) => {
			const socket = this.options.insecurePlaintext
				? net.connect({host: address, port})
				: tls.connect({
						host: address,
						port,
						...(net.isIP(host) ? {} : {servername: host}),
						minVersion: 'TLSv1.3',
						// Self-signed server certificates are pinned by fingerprint instead (verifyHost).
						rejectUnauthorized: false,
					});
			const ready = this.options.insecurePlaintext ? 'connect' : 'secureConnect';
			const timer = setTimeout(() => fail(new Error('timed out')), timeoutMs);
			const fail = (error: Error) => {
				clearTimeout(timer);
				socket.destroy();
				reject(new RoomError('network', `cannot connect to ${this.url}: ${describe(error)}`));
			};
			socket.once('error', fail);
			socket.once(ready, () => {
				clearTimeout(timer);
				socket.off('error', fail);
				socket.setNoDelay(true);
				resolve(socket);
			});
		});
	}

	/** Checks the server's certificate against known_hosts; true when someone was asked about a new one. */
	private async verifyHost(socket: net.Socket): Promise<boolean> {
		if (!(socket instanceof tls.TLSSocket)) {
			this.handlers?.notice(
				`WARNING: ${this.url} runs without TLS: anyone on the network can read the chat (the password stays protected by SCRAM)`,
			);
			return false;
		}
		const certificate = socket.getPeerX509Certificate();
		if (!certificate) throw new RoomError('host-rejected', 'the server presented no certificate');
		const fingerprint = fingerprintOf(certificate);
		// Said once per certificate: the check before the login form and every reconnect find the same one.
		const announced = this.fingerprint === fingerprint;
		this.fingerprint = fingerprint;
		const knownHosts = this.options.knownHosts ?? new KnownHosts();
		const check = await knownHosts.check(this.hostPort, fingerprint);
		if (!announced)
			this.handlers?.notice(
				`${this.url}: TLS 1.3, server certificate ${fingerprint}${check === 'known' ? ' (known)' : ''}`,
			);
		if (check === 'known') return false;
		if (check === 'new') {
			const trusted = (await this.options.confirmNewHost?.(this.hostPort, fingerprint)) ?? false;
			if (!trusted)
				throw new RoomError(
					'host-rejected',
					`${this.hostPort} is a new server with certificate ${fingerprint}; not trusted (use --accept-new to trust it)`,
				);
			await knownHosts.remember(this.hostPort, fingerprint);
			this.handlers?.notice(`remembered ${this.hostPort} in ${knownHosts.path}`);
			return true;
		}
		throw new RoomError(
			'host-changed',
			`WARNING: the certificate of ${this.hostPort} has CHANGED (was ${check.changed}, now ${fingerprint}). ` +
				`Someone may be intercepting the connection. If the server really got a new certificate, remove its line from ${knownHosts.path}.`,
		);
	}

	private async login(
		socket: net.Socket,
		user: string,
		password: string | undefined,
		register: boolean,
	): Promise<void> {
		const greeting = await this.next();
		if (greeting.t !== 'auth-mechs') throw this.unexpected(greeting);
		this.greeting = {versions: greeting.versions, caps: greeting.caps};
		// Hang up before sending any credential to a server we could not talk to after the login.
		if (chooseVersion(greeting.versions) === undefined)
			throw new RoomError(
				'unsupported-version',
				unsupportedVersionText(PROTOCOL_VERSIONS, greeting.versions),
			);
		if (register) {
			if (!greeting.register) throw new RoomError('not-allowed', 'this server does not allow registration');
			if (password === undefined) throw new RoomError('auth-failed', 'a password is needed to register');
			// The server cannot see the password, so its policy is ours to apply, before anything is sent.
			const policy = {minLength: greeting.password_min ?? DEFAULT_PASSWORD_POLICY.minLength};
			const problem = passwordProblem(password, policy);
			if (problem !== undefined) throw new RoomError('bad-request', problem);
			const verifier = await deriveVerifier(password);
			this.write({
				t: 'register',
				password_min: policy.minLength,
				user,
				salt: verifier.salt.toString('base64'),
				iterations: verifier.iterations,
				storedKey: verifier.storedKey.toString('base64'),
				serverKey: verifier.serverKey.toString('base64'),
			});
			const answer = await this.next();
			if (answer.t !== 'registered') throw this.unexpected(answer);
			this.handlers?.notice(`created the account ${answer.user}`);
		}
		const tlsSocket = socket instanceof tls.TLSSocket ? socket : undefined;
		const saved = this.saved?.user === user ? this.saved.keys : undefined;
		const scram = new ScramClient({
			username: user,
			...(password === undefined ? {} : {password}),
			...(saved === undefined ? {} : {keys: saved}),
			...(tlsSocket
				? {
						channelBinding: tlsExporterChannelBinding(tlsSocket),
						serverOffersPlus: greeting.mechs.includes(SCRAM_PLUS_MECHANISM),
					}
				: {}),
		});
		this.write({t: 'auth', mech: scram.mechanism, data: scram.first()});
		const challenge = await this.next();
		if (challenge.t !== 'auth-challenge') throw this.unexpected(challenge);
		let final: string;
		try {
			final = await scram.final(challenge.data);
		} catch (error) {
			throw new RoomError('auth-failed', `login failed: ${(error as Error).message}`);
		}
		this.write({t: 'auth-final', data: final});
		const ok = await this.next();
		if (ok.t !== 'auth-ok') throw this.unexpected(ok);
		try {
			scram.verifyServer(ok.data ?? ''); // no server-final: the server proved nothing
		} catch (error) {
			const reason = error instanceof ScramError ? error.message : String(error);
			throw new RoomError('auth-failed', `the server could not prove it knows your account (${reason})`);
		}
		const keys = scram.keys;
		if (keys) this.saved = {user, keys};
	}

	private write(message: AuthClientMessage): void {
		this.socket?.write(encodeFrame(encodeJson(message), this.options.maxFrameBytes));
	}

	private next(): Promise<AuthServerMessage> {
		const queued = this.inbox.shift();
		if (queued) return Promise.resolve(queued);
		if (this.loginFailure) return Promise.reject(this.loginFailure);
		if (this.closedReason) return Promise.reject(new RoomError('network', this.closedReason));
		const timeoutMs = this.options.loginReplyTimeoutMs ?? 10_000;
		return new Promise((resolve, reject) => {
			// A server that accepts but never answers must not stall the login (or a reconnect) forever.
			const timer = setTimeout(() => {
				this.loginWaiter = undefined;
				reject(
					new RoomError(
						'network',
						`${this.url} did not answer the login within ${timeoutMs / 1000} s` +
							(this.options.insecurePlaintext
								? ' (if it is a TLS server, connect without --insecure-plaintext)'
								: ''),
					),
				);
			}, timeoutMs);
			this.loginWaiter = {
				resolve: (message) => {
					clearTimeout(timer);
					resolve(message);
				},
				reject: (error) => {
					clearTimeout(timer);
					reject(error);
				},
			};
		});
	}

	private failLogin(reason: string, code: 'bad-request' | 'network' = 'bad-request'): void {
		this.loginFailure ??= new RoomError(code, reason);
		const waiter = this.loginWaiter;
		this.loginWaiter = undefined;
		waiter?.reject(this.loginFailure);
	}

	private unexpected(message: AuthServerMessage): RoomError {
		if (message.t === 'error') return new RoomError(message.code, message.message);
		return new RoomError('bad-request', `unexpected ${message.t} from the server during login`);
	}

	private attach(socket: net.Socket): void {
		const decoder = new FrameDecoder(
			this.options.maxFrameBytes === undefined ? {} : {maxFrameBytes: this.options.maxFrameBytes},
		);
		const lost = (reason: string) => {
			if (this.socket !== socket) return;
			if (this.phase === 'login') {
				// Messages already queued (e.g. the server's reason) stay readable; open() cleans up.
				this.closedReason ??= reason;
				const waiter = this.loginWaiter;
				this.loginWaiter = undefined;
				waiter?.reject(new RoomError('network', reason));
				return;
			}
			this.close();
			this.moveOn = true; // the server went away: the next login tries the others first
			for (const listener of [...this.fileListeners]) listener({t: 'link-lost'});
			this.handlers?.closed(reason, false);
		};
		socket.on('data', (chunk) => {
			let frames: Buffer[];
			try {
				frames = decoder.push(chunk);
			} catch (error) {
				lost(`bad data from the server: ${(error as Error).message}`);
				return;
			}
			for (const frame of frames) {
				if (this.socket !== socket) return;
				try {
					this.onFrame(decodeJson(frame));
				} catch (error) {
					const reason = error instanceof ProtocolError ? error.message : String(error);
					// A login cannot go on past a message it could not read: fail it now, with the reason.
					if (this.phase === 'login') this.failLogin(`the server sent a bad login message: ${reason}`);
					else this.handlers?.problem(`dropped a bad message from the server: ${reason}`);
				}
			}
		});
		socket.on('error', (error) => lost(describe(error)));
		socket.on('close', () => lost('connection closed by the server'));
	}

	private onFrame(value: unknown): void {
		if (this.phase === 'login') {
			const message = parseAuthServerMessage(value);
			if (!message) {
				const other = parseServerMessage(value);
				if (other.t === 'bye') return this.failLogin(`the server said goodbye: ${other.reason}`, 'network');
				throw new ProtocolError('bad-request', `unexpected ${other.t} during login`);
			}
			const waiter = this.loginWaiter;
			this.loginWaiter = undefined;
			if (waiter) waiter.resolve(message);
			else this.inbox.push(message);
			return;
		}
		if (isFileFrame(value)) {
			const frame = parseFileServerMessage(value);
			for (const listener of [...this.fileListeners]) listener(frame);
			return;
		}
		const message = parseServerMessage(value);
		// A goodbye with retry: this server is going away (a shutdown); the next login goes elsewhere.
		if (message.t === 'bye' && message.retry === true) this.moveOn = true;
		// Errors answering a file request (refs made by file-transfer.ts) are the transfer's, not the room's.
		if (message.t === 'error' && message.ref?.startsWith(FILE_REF_PREFIX)) {
			for (const listener of [...this.fileListeners]) listener(message);
			return;
		}
		this.handlers?.message(message);
	}
}

/** The list with `item` (if there) moved to the end. */
function lastOf(list: string[], item: string | undefined): string[] {
	return item !== undefined && list.includes(item) ? [...list.filter((x) => x !== item), item] : list;
}

function describe(error: Error): string {
	const code = (error as NodeJS.ErrnoException).code;
	// A plaintext server answers our ClientHello with its greeting frame, which
	// OpenSSL reports as a record-layer error nobody could act on.
	if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG')
		return 'the server does not speak TLS (it may run with --insecure-plaintext; refusing to log in without encryption)';
	return describeNetworkError(error);
}
