// The login exchange of TCP rooms: SCRAM messages carried in frames before
// the connection may join. Registration sends a SCRAM verifier derived on the
// client, so the server never sees the password even once. Same rules as
// messages.ts: strict on what clients send, lenient on what servers send.

import * as v from 'valibot';
import {CLIENT_MESSAGE_TYPES} from './messages.js';
import {MAX_PASSWORD_MIN} from './password-policy.js';
import {
	Capabilities,
	ErrorMessageSchema,
	ProtocolError,
	Versions,
	base64,
	boundedString,
	parseWith,
	typesOf,
} from './schema-kit.js';

/** Far longer than a real token (parley_ + 12 + 1 + 43 characters); anything longer is refused unread. */
export const MAX_AUTH_TOKEN_LENGTH = 128;

export const AuthClientMessageSchema = v.variant('t', [
	/** The SCRAM client-first message for the chosen mechanism. */
	v.strictObject({t: v.literal('auth'), mech: boundedString(64), data: boundedString(2048)}),
	/** The SCRAM client-final message. */
	v.strictObject({t: v.literal('auth-final'), data: boundedString(2048)}),
	v.strictObject({
		t: v.literal('register'),
		user: boundedString(64),
		salt: base64(256),
		iterations: v.pipe(v.number(), v.safeInteger()),
		storedKey: base64(256),
		serverKey: base64(256),
		/** The password minimum the client held the password to (see password-policy.ts); absent from older clients. */
		password_min: v.optional(
			v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(MAX_PASSWORD_MIN)),
		),
	}),
	/** One-step login with an access token (bots); only where the server announces token-login. */
	v.strictObject({t: v.literal('auth-token'), token: boundedString(MAX_AUTH_TOKEN_LENGTH)}),
]);
export type AuthClientMessage = v.InferOutput<typeof AuthClientMessageSchema>;
export const AUTH_CLIENT_MESSAGE_TYPES = typesOf(AuthClientMessageSchema);

export const AuthServerMessageSchema = v.variant('t', [
	/** The server's first frame: how to log in, and what this server speaks and has. */
	v.object({
		t: v.literal('auth-mechs'),
		mechs: v.array(boundedString(64)),
		register: v.optional(v.boolean(), false),
		/** Servers before version negotiation leave it out: they speak version 1. */
		versions: v.optional(Versions, () => [1]),
		caps: v.optional(Capabilities, () => []),
		/** With `register`: the shortest password a registration may use. */
		password_min: v.optional(
			v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(MAX_PASSWORD_MIN)),
		),
	}),
	v.object({t: v.literal('auth-challenge'), data: boundedString(2048)}),
	/** Login done; `data` is the SCRAM server-final message proving the server knows the verifier (a token login has none). */
	v.object({
		t: v.literal('auth-ok'),
		data: v.optional(v.pipe(v.string(), v.maxLength(2048))),
		user: boundedString(64),
	}),
	v.object({t: v.literal('registered'), user: boundedString(64)}),
	ErrorMessageSchema,
]);
export type AuthServerMessage = v.InferOutput<typeof AuthServerMessageSchema>;
export const AUTH_SERVER_MESSAGE_TYPES = typesOf(AuthServerMessageSchema);

const typeOf = (value: unknown): unknown =>
	typeof value === 'object' && value !== null ? (value as {t?: unknown}).t : undefined;

/**
 * Returns undefined for room messages (they wait until the login is done);
 * throws ProtocolError for bad login messages and for unknown types.
 */
export function parseAuthClientMessage(value: unknown): AuthClientMessage | undefined {
	const t = typeOf(value);
	if (typeof t === 'string' && CLIENT_MESSAGE_TYPES.includes(t)) return undefined;
	return parseWith(AuthClientMessageSchema, value);
}

/** Returns undefined for messages that are not part of the login exchange. */
export function parseAuthServerMessage(value: unknown): AuthServerMessage | undefined {
	const t = typeOf(value);
	if (typeof t !== 'string' || !AUTH_SERVER_MESSAGE_TYPES.includes(t)) {
		if (typeof value !== 'object' || value === null || Array.isArray(value))
			throw new ProtocolError('bad-request', 'a message must be a JSON object');
		return undefined;
	}
	return parseWith(AuthServerMessageSchema, value);
}
