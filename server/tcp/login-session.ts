// One connection's login, before it may join: a SCRAM exchange bound to the
// TLS channel, or a registration carrying a verifier derived on the client.

import {Buffer} from 'node:buffer';
import tls from 'node:tls';
import type {AuthClientMessage} from '../../source/protocol/auth-messages.js';
import type {ErrorCode} from '../../source/protocol/messages.js';
import {
	MAX_ITERATIONS,
	MIN_ITERATIONS,
	ScramError,
	ScramServer,
	parseClientFirst,
	tlsExporterChannelBinding,
} from '../../source/protocol/scram.js';
import type {LoginThrottle} from '../auth/login-throttle.js';
import {UserExistsError, usernameKey, usernameProblem, type AccountStore} from '../store/account-store.js';
import type {FramedLink} from './framed-link.js';

export interface LoginSettings {
	store: AccountStore;
	serverSecret: Buffer;
	throttle: LoginThrottle;
	allowRegister: boolean;
	log: (line: string) => void;
	stats: {logins: number; failedLogins: number};
}

const GENERIC_FAILURE = 'invalid user name or password';

export class LoginSession {
	#scram: ScramServer | undefined;
	#user: string | undefined;

	constructor(
		private readonly link: FramedLink,
		private readonly address: string,
		private readonly settings: LoginSettings,
	) {}

	/** The name the client is logging in as, once it said so (for log lines). */
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
		return this.finish(message);
	}

	private fail(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): void {
		this.link.close({t: 'error', code, message, ...extra});
	}

	private async start(message: Extract<AuthClientMessage, {t: 'auth'}>): Promise<void> {
		const {throttle, log, store, serverSecret} = this.settings;
		if (this.#scram) return this.fail('bad-request', 'login already started');
		let username: string;
		try {
			username = parseClientFirst(message.data).username;
		} catch {
			return this.fail('auth-failed', GENERIC_FAILURE);
		}
		const decision = throttle.check(username, this.address);
		if (!decision.allowed) {
			const seconds = Math.ceil(decision.retryAfterMs / 1000);
			log(`login throttled for ${JSON.stringify(username)} from ${this.address}`);
			return this.fail('throttled', `too many failed logins; try again in ${seconds} s`, {
				retryAfterMs: decision.retryAfterMs,
			});
		}
		const socket = this.link.socket;
		const channelBinding = socket instanceof tls.TLSSocket ? tlsExporterChannelBinding(socket) : undefined;
		const scram = new ScramServer({
			lookup: (name) => store.getVerifier(name),
			serverSecret,
			canonicalName: (name) => (usernameProblem(name) ? name : usernameKey(name)),
			...(channelBinding ? {channelBinding, requireChannelBinding: true} : {}),
		});
		this.#scram = scram;
		this.#user = username;
		try {
			this.link.send({t: 'auth-challenge', data: await scram.first(message.data)});
		} catch (error) {
			if (error instanceof ScramError) {
				throttle.recordFailure(username, this.address);
				return this.fail('auth-failed', `${GENERIC_FAILURE} (${error.message})`);
			}
			log(`authentication backend unavailable: ${(error as Error).message}`);
			return this.fail('auth-unavailable', 'authentication backend unavailable; try again shortly');
		}
	}

	private async finish(message: Extract<AuthClientMessage, {t: 'auth-final'}>): Promise<string | undefined> {
		const {throttle, log, stats} = this.settings;
		const scram = this.#scram;
		const user = this.#user;
		if (!scram || !user) {
			this.fail('bad-request', 'login not started');
			return undefined;
		}
		const outcome = await scram.final(message.data);
		if (!outcome.ok) {
			stats.failedLogins++;
			throttle.recordFailure(user, this.address);
			log(`failed login for ${JSON.stringify(user)} from ${this.address}`);
			this.fail('auth-failed', GENERIC_FAILURE);
			return undefined;
		}
		throttle.recordSuccess(user);
		stats.logins++;
		this.#scram = undefined;
		this.link.send({t: 'auth-ok', data: outcome.serverFinal, user});
		return user;
	}

	private async register(message: Extract<AuthClientMessage, {t: 'register'}>): Promise<void> {
		const {throttle, log, store} = this.settings;
		if (!this.settings.allowRegister)
			return this.fail('not-allowed', 'this server does not allow registration');
		const problem = usernameProblem(message.user);
		if (problem) return this.link.send({t: 'error', code: 'bad-request', message: problem});
		const decision = throttle.check(message.user, this.address);
		if (!decision.allowed) return this.fail('throttled', 'too many attempts; try again later');
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
			await store.createUser(message.user, {salt, storedKey, serverKey, iterations: message.iterations});
			log(`registered ${message.user}`);
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
