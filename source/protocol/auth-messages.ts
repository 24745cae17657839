// The login exchange of TCP rooms: SCRAM messages carried in frames before
// the connection may join. Registration sends a SCRAM verifier derived on the
// client, so the server never sees the password even once.

import {ProtocolError, type ErrorCode} from './messages.js';
import {MAX_PASSWORD_MIN} from './password-policy.js';

export type AuthClientMessage =
	| {t: 'auth'; mech: string; data: string}
	| {t: 'auth-final'; data: string}
	| {
			t: 'register';
			user: string;
			salt: string;
			iterations: number;
			storedKey: string;
			serverKey: string;
			/** The password minimum the client held the password to (see password-policy.ts); absent from older clients. */
			password_min?: number;
	  }
	| AuthTokenMessage;

export type AuthServerMessage =
	/** `password_min`: the shortest password a registration may use (with `register`). */
	| {t: 'auth-mechs'; mechs: string[]; register: boolean; password_min?: number}
	| {t: 'auth-challenge'; data: string}
	/** `data` is SCRAM's server-final; a token login has none. */
	| {t: 'auth-ok'; data?: string; user: string}
	| {t: 'registered'; user: string}
	| {t: 'error'; code: ErrorCode; message: string; retry_after_ms?: number};

// ---- token login (bots) ----------------------------------------------------
// A bot presents an access token (see `parley token`) instead of SCRAM, in one
// step: {t:'auth-token', token} is answered by {t:'auth-ok', user} or by the
// same generic auth-failed error as a wrong password (throttled alike). Only
// over TLS: the token itself crosses the wire, protected by TLS alone.

export interface AuthTokenMessage {
	t: 'auth-token';
	token: string;
}

/** Far longer than a real token (parley_ + 12 + 1 + 43 characters); anything longer is refused unread. */
export const MAX_AUTH_TOKEN_LENGTH = 128;

function parseAuthToken(value: Json): AuthTokenMessage {
	if (!str(value.token, MAX_AUTH_TOKEN_LENGTH)) fail('auth-token needs a token');
	return {t: 'auth-token', token: value.token};
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max: number): v is string =>
	typeof v === 'string' && v.length > 0 && v.length <= max;
const b64 = (v: unknown): v is string => str(v, 256) && /^[A-Za-z0-9+/]+={0,2}$/.test(v);

/** A password minimum as sent on the wire: a whole number 0–MAX_PASSWORD_MIN, else ignored. */
function passwordMin(value: unknown): number | undefined {
	return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_PASSWORD_MIN
		? (value as number)
		: undefined;
}

function fail(message: string): never {
	throw new ProtocolError('bad-request', message);
}

/** Returns undefined for messages that are not part of the login exchange. */
export function parseAuthClientMessage(value: unknown): AuthClientMessage | undefined {
	if (!isObject(value)) fail('message must be a JSON object');
	switch (value.t) {
		case 'auth':
			if (!str(value.mech, 64) || !str(value.data, 2048)) fail('auth needs mech and data');
			return {t: 'auth', mech: value.mech, data: value.data};
		case 'auth-final':
			if (!str(value.data, 2048)) fail('auth-final needs data');
			return {t: 'auth-final', data: value.data};
		case 'auth-token':
			return parseAuthToken(value);
		case 'register':
			if (!str(value.user, 64) || !Number.isSafeInteger(value.iterations))
				fail('register needs user and iterations');
			if (!b64(value.salt) || !b64(value.storedKey) || !b64(value.serverKey))
				fail('register needs a verifier');
			return {
				t: 'register',
				user: value.user,
				salt: value.salt,
				iterations: value.iterations as number,
				storedKey: value.storedKey,
				serverKey: value.serverKey,
				...(passwordMin(value.password_min) === undefined
					? {}
					: {password_min: value.password_min as number}),
			};
		default:
			return undefined;
	}
}

export function parseAuthServerMessage(value: unknown): AuthServerMessage | undefined {
	if (!isObject(value)) fail('message must be a JSON object');
	switch (value.t) {
		case 'auth-mechs':
			if (!Array.isArray(value.mechs) || !value.mechs.every((m) => str(m, 64))) fail('bad auth-mechs');
			return {
				t: 'auth-mechs',
				mechs: value.mechs as string[],
				register: value.register === true,
				...(passwordMin(value.password_min) === undefined
					? {}
					: {password_min: value.password_min as number}),
			};
		case 'auth-challenge':
			if (!str(value.data, 2048)) fail('bad auth-challenge');
			return {t: 'auth-challenge', data: value.data};
		case 'auth-ok':
			if ((value.data !== undefined && !str(value.data, 2048)) || !str(value.user, 64)) fail('bad auth-ok');
			return {t: 'auth-ok', ...(value.data === undefined ? {} : {data: value.data}), user: value.user};
		case 'registered':
			if (!str(value.user, 64)) fail('bad registered');
			return {t: 'registered', user: value.user};
		case 'error':
			if (!str(value.code, 64) || typeof value.message !== 'string') fail('bad error');
			return {
				t: 'error',
				code: value.code as ErrorCode,
				message: value.message.slice(0, 4096),
				...(Number.isSafeInteger(value.retry_after_ms)
					? {retry_after_ms: value.retry_after_ms as number}
					: {}),
			};
		default:
			return undefined;
	}
}
