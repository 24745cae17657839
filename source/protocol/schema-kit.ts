// Building blocks shared by every message schema (room, login, datagram), the
// error codes, and the one place that turns a schema failure into a
// ProtocolError a person can read. Schemas come in two strictness rules:
// what a client sends is checked strictly by the server (an unknown key is an
// error: a typo must not be silently dropped), what a server sends is checked
// leniently by the client (unknown keys are ignored, so a newer server can add
// fields without breaking older clients).

import * as v from 'valibot';

export const ERROR_CODES = [
	'bad-request',
	'not-joined',
	'nick-invalid',
	'nick-taken',
	'not-allowed',
	'no-such-nick',
	'rate-limited',
	'room-full',
	'too-long',
	'auth-failed',
	'auth-unavailable',
	'throttled',
	'too-slow',
	'server-error',
	'unsupported-version',
	// Version 2 (many rooms, moderation, many sessions):
	'no-such-room',
	'banned',
	'invite-only',
	'muted',
	'too-many-rooms',
	'too-many-sessions',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class ProtocolError extends Error {
	constructor(
		readonly code: ErrorCode,
		message: string,
		/** For rate limits: how long until the same request would be accepted. */
		readonly retryAfterMs?: number,
	) {
		super(message);
		this.name = 'ProtocolError';
	}
}

// ---- field types -------------------------------------------------------------

const REF_PATTERN = /^[A-Za-z0-9:_-]{1,40}$/;
const BASE64_PATTERN = /^[A-Za-z0-9+/]+={0,2}$/;

/** A sequence number: a safe integer ≥ 0. */
export const Seq = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
/** Milliseconds since the Unix epoch (the client's clock for ping, the server's elsewhere). */
export const Timestamp = v.pipe(v.number(), v.finite());
/** The client's id for one send, echoed back with the result: 1–40 of A-Z a-z 0-9 : _ -. */
export const Ref = v.pipe(v.string(), v.regex(REF_PATTERN));
/** A nick on the wire; the room applies the nick rules (32 characters, letters, digits, _-.[]{}|^`). */
export const Nick = v.pipe(v.string(), v.maxLength(256));
/** Message text; the room applies the byte limit it announced (limits.maxTextBytes). */
export const Text = v.pipe(v.string(), v.maxLength(65_536));
export const Stream = v.picklist(['room', 'direct']);
/**
 * What a presence event tells. Version 1 knew the first six; the rest come
 * with many rooms (version 2): a part is a member leaving the room for good
 * (its other rooms and sessions stay), the others are moderation and settings.
 */
export const PRESENCE_KINDS = [
	'join',
	'leave',
	'nick',
	'expire',
	'kick',
	'away',
	'part',
	'topic',
	'mode',
	'role',
	'ban',
	'unban',
	'mute',
	'unmute',
	'invite',
] as const;
export const PresenceKind = v.picklist(PRESENCE_KINDS);
/** A room's name on the wire: `#name` (the `#` may be left out by clients); rules in names.ts. */
export const RoomName = v.pipe(v.string(), v.maxLength(128));
/** A member's standing in a room (version 2). Absent: an ordinary member. */
export const Role = v.picklist(['owner', 'op', 'voice']);
/** Room modes: `+i` invite-only, `+m` moderated (only ops and voiced members speak). */
export const ModeChange = v.picklist(['+i', '-i', '+m', '-m']);
/** A duration in milliseconds (bans, mutes); absent: until lifted. */
export const DurationMs = v.pipe(v.number(), v.safeInteger(), v.minValue(1));
/** A protocol version number. */
export const Version = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65_535));
/** The protocol versions one side speaks, any order. */
export const Versions = v.pipe(v.array(Version), v.minLength(1), v.maxLength(16));
/** Feature names a server announces; a client ignores names it does not know. */
export const Capabilities = v.pipe(v.array(v.pipe(v.string(), v.maxLength(64))), v.maxLength(64));
export const boundedString = (max: number) => v.pipe(v.string(), v.minLength(1), v.maxLength(max));
export const base64 = (max: number) => v.pipe(v.string(), v.maxLength(max), v.regex(BASE64_PATTERN));

/**
 * The error frame, in both phases (login and room). A client treats a code it
 * does not know like `server-error`: it shows the message.
 */
export const ErrorMessageSchema = v.object({
	t: v.literal('error'),
	code: v.fallback(v.picklist(ERROR_CODES), 'server-error'),
	message: v.pipe(v.string(), v.maxLength(4096)),
	/** The ref of the send this error answers. */
	ref: v.optional(Ref),
	/** How long to wait before trying again (rate limits, login throttling). */
	retry_after_ms: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(0))),
	/** With unsupported-version: the versions the server speaks. */
	versions: v.optional(Versions),
});

// ---- parsing -----------------------------------------------------------------

type AnySchema = v.GenericSchema<unknown, unknown>;

const short = (value: unknown): string => {
	const text = JSON.stringify(String(value)) ?? '""';
	return text.length > 42 ? `${text.slice(0, 40)}…"` : text;
};

/** A readable reason for the first problem valibot found, naming the message type and the field. */
function describe(value: unknown, issue: v.BaseIssue<unknown>): string {
	const type = (value as {t?: unknown}).t;
	const path = (issue.path ?? []).map((item) => String(item.key));
	if (path.length === 1 && path[0] === 't') {
		if (type === undefined) return 'a message needs a type (t)';
		return `unknown message type ${short(type)}`;
	}
	const field = path.join('.');
	if (issue.expected === 'never') return `${String(type)}: unknown field ${short(path.at(-1))}`;
	if (issue.received === 'undefined') return `${String(type)}: missing field ${field}`;
	return `${String(type)}: field ${field} must be ${issue.expected ?? 'valid'}`;
}

/**
 * Validates a decoded JSON value against a message schema. Throws
 * ProtocolError('bad-request') whose message names the type and the field,
 * without echoing the sender's values (they may be huge or hostile).
 */
export function parseWith<S extends AnySchema>(schema: S, value: unknown): v.InferOutput<S> {
	if (typeof value !== 'object' || value === null || Array.isArray(value))
		throw new ProtocolError('bad-request', 'a message must be a JSON object');
	const result = v.safeParse(schema, value, {abortEarly: true});
	if (result.success) return result.output;
	throw new ProtocolError('bad-request', describe(value, result.issues[0]));
}

/** The `t` values of a variant schema's options, for routing and for the documentation check. */
export function typesOf(schema: {options: readonly {entries: {t: {literal: string}}}[]}): string[] {
	return schema.options.map((option) => option.entries.t.literal);
}
