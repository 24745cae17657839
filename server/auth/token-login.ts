// Checks an access token a client presented in the auth phase. Knows no
// sockets: the TCP server asks, then answers auth-ok or the error returned.
// Failures look like a wrong password (same message, same throttle), and the
// hash comparison runs whether or not the token id exists.

import type {ErrorCode} from '../../source/protocol/messages.js';
import type {AccountStore} from '../store/account-store.js';
import {parseToken, tokenMatches} from './bot-tokens.js';
import type {Log} from '../log/log.js';
import type {LoginThrottle} from './login-throttle.js';

export type TokenLoginResult =
	| {ok: true; user: string}
	| {ok: false; code: ErrorCode; message: string; retryAfterMs?: number};

export interface TokenLoginContext {
	store: AccountStore;
	throttle: LoginThrottle;
	/** The client's address, for the per-address throttle. */
	address: string;
	/** The generic refusal also used for wrong passwords. */
	failure: string;
	log: Log;
	now?: () => number;
}

/** Compared against when the id is unknown, so that case costs the same comparison. */
const NO_HASH = Buffer.alloc(32);

export async function checkAccessToken(token: string, context: TokenLoginContext): Promise<TokenLoginResult> {
	const {store, throttle, address, failure, log} = context;
	const presented = parseToken(token);
	// Throttled like an account: per token id, and per address across all attempts.
	const key = `token:${presented?.id ?? '-'}`;
	// Reserved before the lookup: parallel guesses cannot slip in between a check and its count.
	const decision = throttle.reserve(key, address);
	if (!('attempt' in decision)) {
		const retryAfterMs = decision.allowed ? 0 : decision.retryAfterMs;
		log(`token login throttled from ${address}`, {level: 'warn', address});
		return {
			ok: false,
			code: 'throttled',
			message: `too many failed logins; try again in ${Math.ceil(retryAfterMs / 1000)} s`,
			retryAfterMs,
		};
	}
	const {attempt} = decision;
	const refuse = (): TokenLoginResult => {
		attempt.finished();
		log(`failed token login from ${address}`, {level: 'warn', address});
		return {ok: false, code: 'auth-failed', message: failure};
	};
	if (!presented) return refuse();
	let stored: Awaited<ReturnType<AccountStore['findToken']>>;
	try {
		stored = await store.findToken(presented.id);
	} catch (error) {
		attempt.finished();
		log(`authentication backend unavailable: ${(error as Error).message}`, {level: 'error'});
		return {
			ok: false,
			code: 'auth-unavailable',
			message: 'authentication backend unavailable; try again shortly',
		};
	}
	const matches = tokenMatches(presented.hash, stored?.hash ?? NO_HASH);
	if (!matches || stored === undefined) return refuse();
	attempt.succeeded();
	const at = (context.now ?? Date.now)();
	// Last-used is bookkeeping: a failure to record it must not refuse a valid login.
	store
		.touchToken(presented.id, at)
		.catch((error: Error) => log(`could not record a token's use: ${error.message}`));
	return {ok: true, user: stored.user};
}
