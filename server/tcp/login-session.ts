// One connection's login, before it may join: a SCRAM exchange bound to the
// TLS channel, or a registration carrying a verifier derived on the client.

import {Buffer} from 'node:buffer';
import tls from 'node:tls';
import type {AuthClientMessage} from '../../source/protocol/auth-messages.js';
import type {ErrorCode} from '../../source/protocol/messages.js';
import {
	MAX_ITERATIONS,
	MIN_ITERATIONS,
	SCRAM_PLUS_MECHANISM,
	ScramError,
	ScramServer,
	parseClientFirst,
	tlsExporterChannelBinding,
} from '../../source/protocol/scram.js';
import type {LoginAttempt, LoginThrottle} from '../auth/login-throttle.js';
import {checkAccessToken} from '../auth/token-login.js';
import {escapeForLog} from '../log/escape.js';
import {identityKey, usernameProblem} from '../../source/protocol/names.js';
import {UserExistsError, type AccountStore} from '../store/account-store.js';
import {lookalikeAccount} from '../store/lookalike.js';
import type {Log} from '../log/log.js';
import type {FramedLink} from './framed-link.js';

export interface LoginSettings {
	store: AccountStore;
	serverSecret: Buffer;
	throttle: LoginThrottle;
	allowRegister: boolean;
	/** For events a stranger can cause at will: rate-limited. */
	log: Log;
	/** For events only an account holder can cause (not rate-limited). */
	auditLog: Log;
	stats: {logins: number; failedLogins: number};
	/** Shortest password a registration may use; announced in auth-mechs, declared back by registering clients. */
	passwordMin: number;
}

const GENERIC_FAILURE = 'invalid user name or password';

/** The one mechanism offered: with channel binding over TLS, plain SCRAM on the plaintext flag. */
export function offeredMechanism(socket: FramedLink['socket']): string {
	return socket instanceof tls.TLSSocket ? SCRAM_PLUS_MECHANISM : 'SCRAM-SHA-256';
}

export class LoginSession {
	#scram: ScramServer | undefined;
	#user: string | undefined;
	#attempt: LoginAttempt | undefined;

	constructor(
		private readonly link: FramedLink,
		private readonly address: string,
		private readonly settings: LoginSettings,
	) {}

	/** The name the client is logging in as, once it said so and it is a valid name. */
	get user(): string | undefined {
		return this.#user;
	}

	/** Handles one login message; resolves to the account name once the login succeeded. */
	async handle(message: AuthClientMessage): Promise<string | undefined> {
		if (message.t === 'register') {
			await this.register(message);
			return undefined;
		}
		if (message.t === 'auth') {
			await this.start(message);
			return undefined;
		}
		if (message.t === 'auth-token') return this.tokenLogin(message.token);
		return this.finish(message);
	}

	/** The connection closed: an unfinished attempt stays counted, and the account's turn is free. */
	end(): void {
		this.#attempt?.finished();
	}

	private fail(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): void {
		this.#attempt?.finished();
		this.link.close({t: 'error', code, message, ...extra});
	}

	private async start(message: Extract<AuthClientMessage, {t: 'auth'}>): Promise<void> {
		const {throttle, log, store, serverSecret} = this.settings;
		if (this.#scram) return this.fail('bad-request', 'login already started');
		const mechanism = offeredMechanism(this.link.socket);
		if (message.mech !== mechanism)
			return this.fail(
				'not-allowed',
				`unsupported mechanism ${JSON.stringify(message.mech)}: use ${mechanism}`,
			);
		let username: string;
		try {
			username = parseClientFirst(message.data).username;
		} catch {
			return this.fail('auth-failed', GENERIC_FAILURE);
		}
		// Checked before anything logs or looks the name up: no account can have a malformed name.
		const problem = usernameProblem(username);
		if (problem) {
			log(`refused login from ${this.address}: bad user name ${escapeForLog(username)}`, {
				level: 'warn',
				address: this.address,
			});
			return this.fail('auth-failed', `${GENERIC_FAILURE} (${problem})`);
		}
		const decision = throttle.reserve(username, this.address);
		if (!('attempt' in decision)) {
			const retryAfterMs = decision.allowed ? 0 : decision.retryAfterMs;
			const seconds = Math.ceil(retryAfterMs / 1000);
			log(`login throttled for ${escapeForLog(username)} from ${this.address}`, {
				level: 'warn',
				user: username,
				address: this.address,
			});
			const why =
				!decision.allowed && decision.scope === 'in-flight'
					? 'another login for this account is in progress'
					: 'too many failed logins';
			return this.fail('throttled', `${why}; try again in ${seconds} s`, {retry_after_ms: retryAfterMs});
		}
		this.#attempt = decision.attempt;
		const channelBinding =
			this.link.socket instanceof tls.TLSSocket ? tlsExporterChannelBinding(this.link.socket) : undefined;
		const scram = new ScramServer({
			lookup: (name) => store.getVerifier(name),
			serverSecret,
			canonicalName: (name) => (usernameProblem(name) ? name : identityKey(name)),
			...(channelBinding ? {channelBinding, requireChannelBinding: true} : {}),
		});
		this.#scram = scram;
		this.#user = username;
		try {
			this.link.send({t: 'auth-challenge', data: await scram.first(message.data)});
		} catch (error) {
			if (error instanceof ScramError)
				return this.fail('auth-failed', `${GENERIC_FAILURE} (${error.message})`);
			this.settings.auditLog(`authentication backend unavailable: ${(error as Error).message}`, {
				level: 'error',
			});
			return this.fail('auth-unavailable', 'authentication backend unavailable; try again shortly');
		}
	}

	private async finish(message: Extract<AuthClientMessage, {t: 'auth-final'}>): Promise<string | undefined> {
		const {log, stats} = this.settings;
		const scram = this.#scram;
		const user = this.#user;
		if (!scram || !user) {
			this.fail('bad-request', 'login not started');
			return undefined;
		}
		const outcome = await scram.final(message.data);
		if (!outcome.ok) {
			stats.failedLogins++;
			log(`failed login for ${escapeForLog(user)} from ${this.address}`, {
				level: 'warn',
				user,
				address: this.address,
			});
			this.fail('auth-failed', GENERIC_FAILURE);
			return undefined;
		}
		this.#attempt?.succeeded();
		stats.logins++;
		// Done with: an idle session of a big server should not keep its login's state.
		this.#scram = undefined;
		this.#attempt = undefined;
		this.link.send({t: 'auth-ok', data: outcome.serverFinal, user});
		return user;
	}

	/** One step: a valid access token makes the connection its account's, like a finished SCRAM login. */
	private async tokenLogin(token: string): Promise<string | undefined> {
		const {stats} = this.settings;
		if (this.#scram) {
			this.fail('bad-request', 'login already started');
			return undefined;
		}
		// The token crosses the wire as it is: TLS is all that protects it.
		if (!(this.link.socket instanceof tls.TLSSocket)) {
			this.fail('not-allowed', 'token logins need a TLS server');
			return undefined;
		}
		const result = await checkAccessToken(token, {
			store: this.settings.store,
			throttle: this.settings.throttle,
			address: this.address,
			failure: GENERIC_FAILURE,
			log: this.settings.log,
		});
		if (!result.ok) {
			if (result.code === 'auth-failed') stats.failedLogins++;
			this.fail(
				result.code,
				result.message,
				result.retryAfterMs === undefined ? {} : {retry_after_ms: result.retryAfterMs},
			);
			return undefined;
		}
		stats.logins++;
		this.link.send({t: 'auth-ok', user: result.user});
		return result.user;
	}

	private async register(message: Extract<AuthClientMessage, {t: 'register'}>): Promise<void> {
		const {throttle, store} = this.settings;
		if (!this.settings.allowRegister)
			return this.fail('not-allowed', 'this server does not allow registration');
		const problem = usernameProblem(message.user);
		if (problem) return this.link.send({t: 'error', code: 'bad-request', message: problem});
		// The password never reaches us, so its length cannot be checked here: refuse clients
		// that do not say they held it to our minimum (older ones); a lying one gets past this.
		const {passwordMin} = this.settings;
		if (message.password_min === undefined || message.password_min < passwordMin)
			return this.fail(
				'bad-request',
				`this server needs passwords of at least ${passwordMin} characters and this client does not check that; update Parley`,
			);
		const decision = throttle.check(message.user, this.address);
		if (!decision.allowed)
			return this.fail('throttled', 'too many attempts; try again later', {
				retry_after_ms: decision.retryAfterMs,
			});
		const salt = Buffer.from(message.salt, 'base64');
		const storedKey = Buffer.from(message.storedKey, 'base64');
		const serverKey = Buffer.from(message.serverKey, 'base64');
		if (salt.length < 16 || storedKey.length !== 32 || serverKey.length !== 32)
			return this.fail('bad-request', 'malformed verifier');
		if (message.iterations < MIN_ITERATIONS || message.iterations > MAX_ITERATIONS)
			return this.fail('bad-request', `iterations must be ${MIN_ITERATIONS}–${MAX_ITERATIONS}`);
		// Registrations count against the address like failures: no account spraying.
		throttle.recordFailure(`register:${message.user}`, this.address);
		try {
			const lookalike = await lookalikeAccount(store, message.user);
			if (lookalike !== undefined)
				return this.link.send({
					t: 'error',
					code: 'nick-taken',
					message: `the user name ${message.user} looks too much like ${lookalike}`,
				});
			await store.createUser(message.user, {salt, storedKey, serverKey, iterations: message.iterations});
			this.settings.auditLog(`registered ${escapeForLog(message.user)}`);
			this.link.send({t: 'registered', user: message.user});
		} catch (error) {
			if (error instanceof UserExistsError)
				return this.link.send({
					t: 'error',
					code: 'nick-taken',
					message: `the user name ${message.user} is taken`,
				});
			return this.fail('auth-unavailable', 'authentication backend unavailable; try again shortly');
		}
	}
}
