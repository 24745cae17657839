// SCRAM-SHA-256 (RFC 5802, RFC 7677) with optional tls-exporter channel
// binding (RFC 9266), shared by the client and the server. Pure: it turns
// strings into strings and never touches a socket, so both ends and the tests
// drive the same code.
//
// Only StoredKey/ServerKey are ever kept by a server; neither lets anyone log
// in without first brute-forcing the password through PBKDF2.

import {createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual} from 'node:crypto';
import {promisify} from 'node:util';
import saslprep from '@mongodb-js/saslprep';

export const SCRAM_MECHANISM = 'SCRAM-SHA-256';
export const SCRAM_PLUS_MECHANISM = 'SCRAM-SHA-256-PLUS';
export const CHANNEL_BINDING_TYPE = 'tls-exporter';
/** RFC 9266: the label a TLS 1.3 exporter uses for SCRAM channel binding (32 bytes, empty context). */
export const TLS_EXPORTER_LABEL = 'EXPORTER-Channel-Binding';
export const TLS_EXPORTER_LENGTH = 32;

/** The one method of tls.TLSSocket that channel binding needs; keeps this module socket-free. */
export interface KeyingMaterialSource {
	getProtocol(): string | null;
	exportKeyingMaterial(length: number, label: string, context?: Buffer): Buffer;
}

/**
 * RFC 9266 tls-exporter data for one connection; client and server each call
 * it on their own end and get the same bytes unless someone sits in between.
 * TLS 1.3 only: under TLS 1.2 the exporter is unsafe without extended master
 * secret, which Node does not let us check.
 */
export function tlsExporterChannelBinding(socket: KeyingMaterialSource): Buffer {
	const protocol = socket.getProtocol();
	if (protocol !== 'TLSv1.3')
		throw new ScramError('channel-binding-not-supported', `tls-exporter needs TLS 1.3, not ${protocol}`);
	return socket.exportKeyingMaterial(TLS_EXPORTER_LENGTH, TLS_EXPORTER_LABEL, Buffer.alloc(0));
}

/** RFC 7677 asks for at least 4096; higher is better but slows tests and logins alike. */
export const MIN_ITERATIONS = 4096;
export const DEFAULT_ITERATIONS = 4096;
/** A hostile server could otherwise pin a client's CPU with a huge count. */
export const MAX_ITERATIONS = 10_000_000;
export const SALT_BYTES = 16;
const NONCE_BYTES = 24;
const KEY_BYTES = 32;

const pbkdf2Async = promisify(pbkdf2);

/** What a server stores per account: enough to verify a proof, never enough to produce one. */
export interface ScramCredential {
	salt: Buffer;
	iterations: number;
	storedKey: Buffer;
	serverKey: Buffer;
}

/** The server-error values of RFC 5802 section 7 that this implementation produces. */
export type ScramFailure =
	| 'invalid-encoding'
	| 'extensions-not-supported'
	| 'invalid-proof'
	| 'channel-bindings-dont-match'
	| 'server-does-support-channel-binding'
	| 'channel-binding-not-supported'
	| 'unsupported-channel-binding-type'
	| 'invalid-username-encoding'
	| 'other-error';

export class ScramError extends Error {
	constructor(
		readonly reason: ScramFailure,
		message: string,
	) {
		super(message);
		this.name = 'ScramError';
	}
}

// ---- SASLprep -------------------------------------------------------------

/** What each of the library's refusals means, said so a user can act on it. */
const SASLPREP_PROBLEMS: ReadonlyArray<[RegExp, string]> = [
	[/^Prohibited/, 'contains a prohibited character (a control, private-use or formatting character)'],
	[/RandALCat/, 'mixes right-to-left and left-to-right text in a way SASLprep forbids'],
];

/**
 * SASLprep (RFC 4013) by @mongodb-js/saslprep: the RFC 3454 mappings, NFKC,
 * the prohibited-character tables and the bidi rule, on user names and
 * passwords at both ends, so any conforming SCRAM implementation derives the
 * same keys. Code points unassigned in Unicode 3.2 (emoji, for one) are
 * allowed, as RFC 4013 allows for queries: refusing them would lock out
 * passwords people already have.
 */
export function saslPrep(value: string): string {
	let prepared: string;
	try {
		prepared = saslprep(value, {allowUnassigned: true});
	} catch (error) {
		const text = (error as Error).message;
		const problem = SASLPREP_PROBLEMS.find(([pattern]) => pattern.test(text))?.[1] ?? text;
		throw new ScramError('invalid-encoding', problem);
	}
	if (prepared.length === 0) throw new ScramError('invalid-encoding', 'must not be empty');
	return prepared;
}

// ---- attribute encoding ---------------------------------------------------

/** RFC 5802 saslname: ',' and '=' would break the attribute syntax, so they are escaped. */
export function escapeUsername(name: string): string {
	return name.replaceAll('=', '=3D').replaceAll(',', '=2C');
}

export function unescapeUsername(saslname: string): string {
	if (/=(?!2C|3D)/.test(saslname))
		throw new ScramError('invalid-username-encoding', 'bad escape in username');
	return saslname.replaceAll('=2C', ',').replaceAll('=3D', '=');
}

// printable ASCII except ','
const NONCE_PATTERN = /^[\x21-\x2B\x2D-\x7E]+$/;
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(value: string, what: string): Buffer {
	if (!BASE64_PATTERN.test(value)) throw new ScramError('invalid-encoding', `${what} is not base64`);
	return Buffer.from(value, 'base64');
}

export function randomNonce(): string {
	return randomBytes(NONCE_BYTES).toString('base64');
}

function checkNonce(nonce: string): string {
	if (!NONCE_PATTERN.test(nonce)) throw new ScramError('invalid-encoding', 'bad nonce');
	return nonce;
}

/**
 * Splits "k=v,k=v" into ordered pairs. Values may contain '=' (base64) but
 * not ',' — the RFC's grammar guarantees that.
 */
function parseAttributes(message: string): Array<[string, string]> {
	if (message.length === 0) throw new ScramError('invalid-encoding', 'empty message');
	return message.split(',').map((part) => {
		if (!/^[A-Za-z]=/.test(part)) throw new ScramError('invalid-encoding', 'malformed attribute');
		return [part[0] as string, part.slice(2)];
	});
}

/** Checks that the attributes come exactly in the expected order; extensions are refused. */
function expectAttributes(pairs: Array<[string, string]>, names: string[]): string[] {
	const values: string[] = [];
	for (const [index, name] of names.entries()) {
		const pair = pairs[index];
		if (pair === undefined) throw new ScramError('invalid-encoding', `missing ${name}=`);
		if (pair[0] === 'm') throw new ScramError('extensions-not-supported', 'mandatory extension');
		if (pair[0] !== name) throw new ScramError('invalid-encoding', `expected ${name}=`);
		values.push(pair[1]);
	}
	// Optional extensions after the known attributes are allowed by the RFC; we ignore them.
	for (const [name] of pairs.slice(names.length)) {
		if (name === 'm') throw new ScramError('extensions-not-supported', 'mandatory extension');
	}
	return values;
}

// ---- messages -------------------------------------------------------------

/**
 * The gs2 channel-binding flag: 'n' = client cannot bind, 'y' = client could
 * but believes the server cannot, 'p' = client binds with tls-exporter.
 */
export type ChannelBindingFlag = 'n' | 'y' | 'p';

export interface ClientFirst {
	flag: ChannelBindingFlag;
	/** The gs2 header exactly as sent ("n,," etc.); it is echoed in c= of client-final. */
	gs2Header: string;
	username: string;
	nonce: string;
	/** client-first-message-bare, needed for AuthMessage. */
	bare: string;
}

function gs2HeaderFor(flag: ChannelBindingFlag): string {
	return flag === 'p' ? `p=${CHANNEL_BINDING_TYPE},,` : `${flag},,`;
}

function clientFirstBare(username: string, nonce: string): string {
	return `n=${escapeUsername(username)},r=${checkNonce(nonce)}`;
}

export function parseClientFirst(message: string): ClientFirst {
	const match = /^(?<flag>n|y|p=(?<cbType>[^,]*)),(?<authzid>a=[^,]*)?,(?<bare>.*)$/s.exec(message);
	const groups = match?.groups;
	if (groups === undefined) throw new ScramError('invalid-encoding', 'bad gs2 header');
	const {flag, cbType, authzid, bare = ''} = groups;
	// An authorization identity would let one account act as another; Parley has no use for it.
	if (authzid !== undefined) throw new ScramError('other-error', 'authorization identity not supported');
	if (cbType !== undefined && cbType !== CHANNEL_BINDING_TYPE)
		throw new ScramError('unsupported-channel-binding-type', 'only tls-exporter is supported');
	const [saslname, nonce] = expectAttributes(parseAttributes(bare), ['n', 'r']) as [string, string];
	const username = unescapeUsername(saslname);
	if (username.length === 0) throw new ScramError('invalid-username-encoding', 'empty username');
	return {
		flag: flag === 'n' ? 'n' : flag === 'y' ? 'y' : 'p',
		gs2Header: `${flag},,`,
		username,
		nonce: checkNonce(nonce),
		bare,
	};
}

export interface ServerFirst {
	nonce: string;
	salt: Buffer;
	iterations: number;
}

export function buildServerFirst({nonce, salt, iterations}: ServerFirst): string {
	return `r=${checkNonce(nonce)},s=${salt.toString('base64')},i=${iterations}`;
}

export function parseServerFirst(message: string): ServerFirst {
	const [nonce, salt, iterations] = expectAttributes(parseAttributes(message), ['r', 's', 'i']) as [
		string,
		string,
		string,
	];
	if (!/^[1-9][0-9]{0,9}$/.test(iterations)) throw new ScramError('invalid-encoding', 'bad iteration count');
	const decodedSalt = decodeBase64(salt, 'salt');
	if (decodedSalt.length === 0) throw new ScramError('invalid-encoding', 'empty salt');
	return {nonce: checkNonce(nonce), salt: decodedSalt, iterations: Number(iterations)};
}

export interface ClientFinal {
	/** base64 of the gs2 header followed by the channel-binding data, if any. */
	channelBinding: string;
	nonce: string;
	proof: Buffer;
	/** client-final-message-without-proof, needed for AuthMessage. */
	withoutProof: string;
}

function clientFinalWithoutProof(channelBinding: string, nonce: string): string {
	return `c=${channelBinding},r=${checkNonce(nonce)}`;
}

export function parseClientFinal(message: string): ClientFinal {
	const proofAt = message.lastIndexOf(',p=');
	if (proofAt < 0) throw new ScramError('invalid-encoding', 'missing proof');
	const withoutProof = message.slice(0, proofAt);
	const [channelBinding, nonce] = expectAttributes(parseAttributes(withoutProof), ['c', 'r']) as [
		string,
		string,
	];
	decodeBase64(channelBinding, 'channel binding');
	const proof = decodeBase64(message.slice(proofAt + 3), 'proof');
	return {channelBinding, nonce: checkNonce(nonce), proof, withoutProof};
}

export type ServerFinal = {ok: true; signature: Buffer} | {ok: false; error: string};

export function buildServerFinal(result: ServerFinal): string {
	return result.ok ? `v=${result.signature.toString('base64')}` : `e=${result.error}`;
}

export function parseServerFinal(message: string): ServerFinal {
	if (message.startsWith('e=')) return {ok: false, error: message.slice(2).split(',')[0] ?? ''};
	const [signature] = expectAttributes(parseAttributes(message), ['v']) as [string];
	return {ok: true, signature: decodeBase64(signature, 'server signature')};
}

// ---- key derivation -------------------------------------------------------

const hmac = (key: Buffer, data: string | Buffer): Buffer => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

function xor(a: Buffer, b: Buffer): Buffer {
	const out = Buffer.alloc(a.length);
	for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number);
	return out;
}

function checkIterations(iterations: number): number {
	if (!Number.isSafeInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS)
		throw new ScramError(
			'other-error',
			`iteration count must be between ${MIN_ITERATIONS} and ${MAX_ITERATIONS}`,
		);
	return iterations;
}

/** Hi() of RFC 5802 is PBKDF2-HMAC; the async form keeps the event loop free while it grinds. */
export async function saltedPassword(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
	return pbkdf2Async(saslPrep(password), salt, checkIterations(iterations), KEY_BYTES, 'sha256');
}

function keysFrom(salted: Buffer): {clientKey: Buffer; storedKey: Buffer; serverKey: Buffer} {
	const clientKey = hmac(salted, 'Client Key');
	return {clientKey, storedKey: sha256(clientKey), serverKey: hmac(salted, 'Server Key')};
}

/** What to store for a new or changed password. A fresh random salt unless one is given (tests). */
export async function deriveVerifier(
	password: string,
	salt: Buffer = randomBytes(SALT_BYTES),
	iterations: number = DEFAULT_ITERATIONS,
): Promise<ScramCredential> {
	const {storedKey, serverKey} = keysFrom(await saltedPassword(password, salt, iterations));
	return {salt, iterations, storedKey, serverKey};
}

/**
 * A stand-in credential for a user who does not exist. The salt depends only
 * on the server secret and the name, so asking twice gives the same answer,
 * exactly as it would for a real account; the keys match no password.
 * The secret must survive restarts, or a changing salt would give the game away.
 */
export function fakeCredential(
	serverSecret: Buffer,
	username: string,
	iterations = DEFAULT_ITERATIONS,
): ScramCredential {
	const derive = (label: string): Buffer => hmac(serverSecret, `parley-fake-${label}\0${username}`);
	return {
		salt: derive('salt').subarray(0, SALT_BYTES),
		iterations,
		storedKey: derive('stored-key'),
		serverKey: derive('server-key'),
	};
}

function authMessage(clientFirstBare: string, serverFirst: string, clientFinalWithoutProof: string): string {
	return `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
}

/** base64 of what c= must carry: the gs2 header, then the binding data when binding. */
function channelBindingField(gs2Header: string, flag: ChannelBindingFlag, data: Buffer | undefined): string {
	const header = Buffer.from(gs2Header, 'utf8');
	return (flag === 'p' && data !== undefined ? Buffer.concat([header, data]) : header).toString('base64');
}

function equalSecret(a: Buffer, b: Buffer): boolean {
	// timingSafeEqual throws on unequal lengths; a length mismatch reveals nothing secret.
	return a.length === b.length && timingSafeEqual(a, b);
}

// ---- client ---------------------------------------------------------------

/**
 * What a client keeps to log in again without the password: the keys SCRAM
 * derives from it for one salt and iteration count. They let this client
 * prove itself to this server (and check the server's proof), but they are
 * not the password: they open no other account that shares it, and they
 * stop working when the password, and so the salt, changes.
 */
export interface ScramClientKeys {
	salt: Buffer;
	iterations: number;
	clientKey: Buffer;
	serverKey: Buffer;
}

export interface ScramClientOptions {
	username: string;
	/** Needed unless `keys` match the salt and iteration count the server announces. */
	password?: string;
	/** Keys from an earlier login (ScramClient.keys), used instead of the password. */
	keys?: ScramClientKeys;
	/**
	 * tls-exporter keying material of this connection when it runs over TLS
	 * (tlsSocket.exportKeyingMaterial(32, TLS_EXPORTER_LABEL)).
	 */
	channelBinding?: Buffer;
	/** Whether the server offered SCRAM-SHA-256-PLUS; only matters when channelBinding is set. */
	serverOffersPlus?: boolean;
	/** Fixed client nonce, for test vectors only. */
	nonce?: string;
	maxIterations?: number;
}

type ClientState =
	| {step: 'initial'}
	| {step: 'sent-first'; bare: string}
	| {step: 'sent-final'; serverSignature: Buffer; keys: ScramClientKeys}
	| {step: 'done'};

export class ScramClient {
	readonly #username: string;
	#password: string | undefined;
	#keys: ScramClientKeys | undefined;
	#verifiedKeys: ScramClientKeys | undefined;
	readonly #nonce: string;
	readonly #flag: ChannelBindingFlag;
	readonly #channelBinding: Buffer | undefined;
	readonly #maxIterations: number;
	#state: ClientState = {step: 'initial'};

	constructor(options: ScramClientOptions) {
		this.#username = saslPrep(options.username);
		this.#password = options.password;
		this.#keys = options.keys;
		if (this.#password === undefined && this.#keys === undefined)
			throw new ScramError('other-error', 'a password or derived keys are needed');
		this.#nonce = checkNonce(options.nonce ?? randomNonce());
		this.#channelBinding = options.channelBinding;
		this.#flag = options.channelBinding === undefined ? 'n' : options.serverOffersPlus === false ? 'y' : 'p';
		this.#maxIterations = options.maxIterations ?? MAX_ITERATIONS;
	}

	/** The mechanism name to announce for the chosen binding. */
	get mechanism(): string {
		return this.#flag === 'p' ? SCRAM_PLUS_MECHANISM : SCRAM_MECHANISM;
	}

	first(): string {
		if (this.#state.step !== 'initial') throw new ScramError('other-error', 'first() called twice');
		const bare = clientFirstBare(this.#username, this.#nonce);
		this.#state = {step: 'sent-first', bare};
		return gs2HeaderFor(this.#flag) + bare;
	}

	async final(serverFirstMessage: string): Promise<string> {
		if (this.#state.step !== 'sent-first') throw new ScramError('other-error', 'final() out of order');
		const {bare} = this.#state;
		this.#state = {step: 'done'}; // a failure below leaves the exchange unusable
		const serverFirst = parseServerFirst(serverFirstMessage);
		if (!serverFirst.nonce.startsWith(this.#nonce) || serverFirst.nonce.length === this.#nonce.length)
			throw new ScramError('invalid-proof', 'server nonce does not extend ours');
		if (serverFirst.iterations > this.#maxIterations)
			throw new ScramError('other-error', 'server asks for too many iterations');
		const {clientKey, storedKey, serverKey} = await this.#keysFor(serverFirst);
		const cb = channelBindingField(gs2HeaderFor(this.#flag), this.#flag, this.#channelBinding);
		const withoutProof = clientFinalWithoutProof(cb, serverFirst.nonce);
		const auth = authMessage(bare, serverFirstMessage, withoutProof);
		const proof = xor(clientKey, hmac(storedKey, auth));
		const keys = {salt: serverFirst.salt, iterations: serverFirst.iterations, clientKey, serverKey};
		this.#state = {step: 'sent-final', serverSignature: hmac(serverKey, auth), keys};
		return `${withoutProof},p=${proof.toString('base64')}`;
	}

	/** Kept keys when they fit the server's salt and count; else PBKDF2 over the password. */
	async #keysFor(
		serverFirst: ServerFirst,
	): Promise<{clientKey: Buffer; storedKey: Buffer; serverKey: Buffer}> {
		const kept = this.#keys;
		if (kept && kept.iterations === serverFirst.iterations && equalSecret(kept.salt, serverFirst.salt))
			return {clientKey: kept.clientKey, storedKey: sha256(kept.clientKey), serverKey: kept.serverKey};
		const password = this.#password;
		// The password is needed once; forgetting it now keeps it out of memory dumps of this object.
		this.#password = undefined;
		if (password === undefined)
			throw new ScramError(
				'invalid-proof',
				'the server no longer accepts the saved login (was the password changed?); log in again',
			);
		return keysFrom(await saltedPassword(password, serverFirst.salt, serverFirst.iterations));
	}

	/** After verifyServer() succeeded: the keys to log in again without the password. */
	get keys(): ScramClientKeys | undefined {
		return this.#verifiedKeys;
	}

	/** Throws unless the server proved it knows our ServerKey (and so is the real server). */
	verifyServer(serverFinalMessage: string): void {
		if (this.#state.step !== 'sent-final') throw new ScramError('other-error', 'verifyServer() out of order');
		const {serverSignature: expected, keys} = this.#state;
		this.#state = {step: 'done'};
		const result = parseServerFinal(serverFinalMessage);
		if (!result.ok) throw new ScramError('invalid-proof', `server refused: ${result.error}`);
		if (!equalSecret(result.signature, expected))
			throw new ScramError('invalid-proof', 'server signature does not match');
		// Only keys the server has just accepted (and proved it shares) are worth keeping.
		this.#verifiedKeys = keys;
	}
}

// ---- server ---------------------------------------------------------------

export type CredentialLookup = (username: string) => Promise<ScramCredential | undefined>;

export interface ScramServerOptions {
	/** Finds the stored credential; undefined for an unknown user. Errors propagate (backend down). */
	lookup: CredentialLookup;
	/** Seeds the fake credentials of unknown users; must be stable across restarts. */
	serverSecret: Buffer;
	/** Iterations claimed for unknown users; should match what real accounts use. */
	fakeIterations?: number;
	/** Names that differ only in ways the account store ignores must get the same fake salt. */
	canonicalName?: (username: string) => string;
	/** tls-exporter keying material when this connection is TLS; enables -PLUS. */
	channelBinding?: Buffer;
	/** Refuse clients that do not bind to the TLS channel (flag 'n'). */
	requireChannelBinding?: boolean;
	/** Fixed server nonce suffix, for test vectors only. */
	nonce?: string;
}

export type ScramOutcome =
	| {ok: true; username: string; serverFinal: string}
	| {ok: false; reason: ScramFailure; serverFinal: string};

type ServerState =
	| {step: 'initial'}
	| {
			step: 'sent-first';
			first: ClientFirst;
			serverFirst: string;
			nonce: string;
			credential: ScramCredential;
			known: boolean;
	  }
	| {step: 'done'};

export class ScramServer {
	readonly #options: ScramServerOptions;
	#state: ServerState = {step: 'initial'};

	constructor(options: ScramServerOptions) {
		this.#options = options;
	}

	/** Mechanisms to advertise: -PLUS only when there is a TLS channel to bind to. */
	get mechanisms(): string[] {
		return this.#options.channelBinding === undefined
			? [SCRAM_MECHANISM]
			: [SCRAM_PLUS_MECHANISM, SCRAM_MECHANISM];
	}

	/** Answers client-first with server-first. Throws ScramError on a malformed or refused request. */
	async first(clientFirstMessage: string): Promise<string> {
		if (this.#state.step !== 'initial') throw new ScramError('other-error', 'first() called twice');
		this.#state = {step: 'done'};
		const first = parseClientFirst(clientFirstMessage);
		this.#checkBindingFlag(first.flag);
		const found = await this.#options.lookup(first.username);
		const credential =
			found ??
			fakeCredential(
				this.#options.serverSecret,
				(this.#options.canonicalName ?? ((name) => name))(first.username),
				this.#options.fakeIterations ?? DEFAULT_ITERATIONS,
			);
		const nonce = first.nonce + checkNonce(this.#options.nonce ?? randomNonce());
		const serverFirst = buildServerFirst({nonce, salt: credential.salt, iterations: credential.iterations});
		this.#state = {step: 'sent-first', first, serverFirst, nonce, credential, known: found !== undefined};
		return serverFirst;
	}

	#checkBindingFlag(flag: ChannelBindingFlag): void {
		const canBind = this.#options.channelBinding !== undefined;
		if (flag === 'p' && !canBind)
			throw new ScramError('channel-binding-not-supported', 'no TLS channel to bind to');
		// 'y' means the client saw no -PLUS offer although we made one: someone stripped it.
		if (flag === 'y' && canBind)
			throw new ScramError('server-does-support-channel-binding', 'channel binding downgrade');
		if (flag !== 'p' && canBind && this.#options.requireChannelBinding === true)
			throw new ScramError('channel-binding-not-supported', 'channel binding is required');
	}

	/**
	 * Checks client-final. Never throws for anything the client sent: the
	 * outcome carries the server-final to send either way. Unknown users and
	 * wrong passwords produce the same 'invalid-proof' after the same work.
	 */
	async final(clientFinalMessage: string): Promise<ScramOutcome> {
		const state = this.#state;
		if (state.step !== 'sent-first') throw new ScramError('other-error', 'final() out of order');
		this.#state = {step: 'done'};
		const refuse = (reason: ScramFailure): ScramOutcome => ({
			ok: false,
			reason,
			serverFinal: buildServerFinal({ok: false, error: reason}),
		});
		let final: ClientFinal;
		try {
			final = parseClientFinal(clientFinalMessage);
		} catch (error) {
			return refuse(error instanceof ScramError ? error.reason : 'invalid-encoding');
		}
		const expectedBinding = channelBindingField(
			state.first.gs2Header,
			state.first.flag,
			this.#options.channelBinding,
		);
		if (!equalSecret(Buffer.from(final.channelBinding), Buffer.from(expectedBinding)))
			return refuse('channel-bindings-dont-match');
		if (!equalSecret(Buffer.from(final.nonce), Buffer.from(state.nonce))) return refuse('other-error');

		const {storedKey, serverKey} = state.credential;
		const auth = authMessage(state.first.bare, state.serverFirst, final.withoutProof);
		const clientSignature = hmac(storedKey, auth);
		// The proof is ClientKey XOR ClientSignature; recover ClientKey and check its hash.
		const clientKey =
			final.proof.length === clientSignature.length ? xor(final.proof, clientSignature) : Buffer.alloc(0);
		const proofMatches = equalSecret(sha256(clientKey), storedKey);
		if (!proofMatches || !state.known) return refuse('invalid-proof');
		return {
			ok: true,
			username: state.first.username,
			serverFinal: buildServerFinal({ok: true, signature: hmac(serverKey, auth)}),
		};
	}
}
