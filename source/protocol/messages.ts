// Wire messages shared by every transport, defined once as valibot schemas:
// the TypeScript types, the runtime checks on both sides and the generated
// JSON Schema (protocol/parley.schema.json) all come from here. Each transport
// only decides how a message object becomes bytes (UDP datagrams, TCP frames).
// PROTOCOL.md describes every message; a test keeps it in step with this file.

import * as v from 'valibot';
import {
	Capabilities,
	ErrorMessageSchema,
	Nick,
	PresenceKind as PresenceKindSchema,
	ProtocolError,
	Ref,
	Seq,
	Stream,
	Text,
	Timestamp,
	Version,
	Versions,
	parseWith,
	typesOf,
} from './schema-kit.js';

export {ProtocolError, type ErrorCode} from './schema-kit.js';

export type PresenceKind = v.InferOutput<typeof PresenceKindSchema>;

// ---- client → server (checked strictly: unknown keys are refused) -------------

const clientEntries = {
	/** UDP only: asks for an address-proving cookie; `pad` makes room for the answer. */
	join: {
		t: v.literal('join'),
		pad: v.optional(v.pipe(v.string(), v.maxLength(1200))),
		versions: v.optional(Versions),
	},
	hello: {
		t: v.literal('hello'),
		nick: Nick,
		/** The last room sequence number the client has: the server resends what came after. */
		since: v.optional(Seq),
		/** The protocol versions the client speaks. */
		versions: v.optional(Versions),
		/** Deprecated single-version form of `versions` (clients before version negotiation send 1). */
		v: v.optional(Version),
	},
	say: {t: v.literal('say'), ref: Ref, text: Text, action: v.optional(v.boolean())},
	dm: {t: v.literal('dm'), ref: Ref, to: Nick, text: Text},
	nick: {t: v.literal('nick'), nick: Nick},
	who: {t: v.literal('who')},
	resend: {t: v.literal('resend'), s: Stream, from: Seq, to: Seq},
	ping: {t: v.literal('ping'), ts: Timestamp},
	leave: {t: v.literal('leave')},
	/** Away with `text`, or back without it (servers with the `away` capability). */
	away: {t: v.literal('away'), text: v.optional(v.pipe(v.string(), v.maxLength(1024)))},
} as const;

/** The client messages as a strict variant, each with `extra` entries (the UDP envelope adds `k`). */
export function clientMessageVariant<E extends v.ObjectEntries>(extra: E) {
	const c = clientEntries;
	return v.variant('t', [
		v.strictObject({...c.join, ...extra}),
		v.strictObject({...c.hello, ...extra}),
		v.strictObject({...c.say, ...extra}),
		v.strictObject({...c.dm, ...extra}),
		v.strictObject({...c.nick, ...extra}),
		v.strictObject({...c.who, ...extra}),
		v.strictObject({...c.resend, ...extra}),
		v.strictObject({...c.ping, ...extra}),
		v.strictObject({...c.leave, ...extra}),
		v.strictObject({...c.away, ...extra}),
	]);
}

export const ClientMessageSchema = clientMessageVariant({});
export type ClientMessage = v.InferOutput<typeof ClientMessageSchema>;
export const CLIENT_MESSAGE_TYPES = typesOf(ClientMessageSchema);

// ---- server → client (checked leniently: unknown keys are ignored) -------------

export const MemberInfoSchema = v.object({
	nick: Nick,
	/** Set while the member is away: why (capability `away`). */
	away: v.optional(v.pipe(v.string(), v.maxLength(1024))),
});
export type MemberInfo = v.InferOutput<typeof MemberInfoSchema>;

const DEFAULTS = {maxTextBytes: 8 * 1024, ratePerSecond: 5, burst: 10};
export const ServerLimitsSchema = v.object({
	maxTextBytes: v.optional(Seq, DEFAULTS.maxTextBytes),
	ratePerSecond: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0)), DEFAULTS.ratePerSecond),
	burst: v.optional(Seq, DEFAULTS.burst),
});
export type ServerLimits = v.InferOutput<typeof ServerLimitsSchema>;

export const ChatMessageSchema = v.object({
	t: v.literal('msg'),
	seq: Seq,
	ts: Timestamp,
	from: Nick,
	text: Text,
	action: v.optional(v.boolean()),
	/** Only in the copy the sender gets: the ref of its say (the acknowledgement). */
	ref: v.optional(Ref),
});
export type ChatMessage = v.InferOutput<typeof ChatMessageSchema>;

export const PresenceMessageSchema = v.object({
	t: v.literal('presence'),
	/** Absent in rooms whose sequence is the persisted message log (TCP): the welcome resyncs members. */
	seq: v.optional(Seq),
	ts: Timestamp,
	kind: PresenceKindSchema,
	nick: Nick,
	/** With kind nick: the previous nick. With kind away: the away text (absent: back). */
	old: v.optional(Nick),
	reason: v.optional(v.pipe(v.string(), v.maxLength(1024))),
});
export type PresenceMessage = v.InferOutput<typeof PresenceMessageSchema>;

export const DirectMessageSchema = v.object({
	t: v.literal('dm'),
	dseq: Seq,
	ts: Timestamp,
	from: Nick,
	to: Nick,
	text: Text,
	ref: v.optional(Ref),
});
export type DirectMessage = v.InferOutput<typeof DirectMessageSchema>;

export const RoomEventSchema = v.variant('t', [ChatMessageSchema, PresenceMessageSchema]);
/** Messages that carry a room sequence number. */
export type RoomEventMessage = v.InferOutput<typeof RoomEventSchema>;
/** A room event before the room has given it a sequence number. */
export type UnsequencedRoomEvent = Omit<ChatMessage, 'seq'> | Omit<PresenceMessage, 'seq'>;

export const ServerMessageSchema = v.variant('t', [
	/** UDP only: the address-proving cookie, with what the server speaks when it fits. */
	v.object({
		t: v.literal('cookie'),
		c: v.pipe(v.string(), v.maxLength(256)),
		versions: v.optional(Versions),
		caps: v.optional(Capabilities),
	}),
	v.object({
		t: v.literal('welcome'),
		nick: Nick,
		room: v.optional(v.pipe(v.string(), v.maxLength(256)), ''),
		seq: Seq,
		dseq: Seq,
		members: v.array(MemberInfoSchema),
		/** UDP only: the session id to send as `k` from now on. */
		sid: v.optional(v.pipe(v.string(), v.maxLength(128))),
		limits: v.optional(ServerLimitsSchema, () => ({...DEFAULTS})),
		/** The protocol version the server chose (servers before negotiation: 1). */
		v: v.optional(Version, 1),
		/** The capabilities the server has; unknown names are ignored. */
		caps: v.optional(Capabilities, () => []),
		/** Identifies the server instance: a new epoch means the server restarted. */
		epoch: v.optional(v.pipe(v.string(), v.maxLength(64))),
	}),
	ChatMessageSchema,
	PresenceMessageSchema,
	DirectMessageSchema,
	v.object({t: v.literal('history'), messages: v.array(RoomEventSchema)}),
	v.object({t: v.literal('who'), members: v.array(MemberInfoSchema)}),
	v.object({t: v.literal('pong'), ts: Timestamp, seq: Seq, dseq: Seq}),
	v.object({t: v.literal('lost'), s: Stream, from: Seq, to: Seq}),
	ErrorMessageSchema,
	v.object({
		t: v.literal('bye'),
		reason: v.optional(v.pipe(v.string(), v.maxLength(4096)), 'disconnected'),
		/** True when the client should reconnect (e.g. a server restart). */
		retry: v.optional(v.boolean()),
	}),
]);
export type ServerMessage = v.InferOutput<typeof ServerMessageSchema>;
export const SERVER_MESSAGE_TYPES = typesOf(ServerMessageSchema);

/**
 * Checks an already-parsed JSON value from a client. Throws ProtocolError with
 * a reason a human can read; content limits (text size, nick rules) are the
 * room's business and are checked there.
 */
export function parseClientMessage(value: unknown): ClientMessage {
	return checkRange(parseWith(ClientMessageSchema, value));
}

/** Cross-field rules the schema cannot say: a resend range runs forwards. */
export function checkRange<M extends {t: string}>(message: M): M {
	const range = message as unknown as {t: string; from: number; to: number};
	if (range.t === 'resend' && range.to < range.from)
		throw new ProtocolError('bad-request', 'resend: field to must not be below from');
	return message;
}

/** The client's check of what a server sent; a hostile server must not crash the TUI either. */
export function parseServerMessage(value: unknown): ServerMessage {
	return parseWith(ServerMessageSchema, value);
}

// ---- limits and validation -------------------------------------------------

export const DEFAULT_LIMITS: ServerLimits = DEFAULTS;

export const MAX_NICK_LENGTH = 32;
/** Letters and digits of any script plus a few IRC-style punctuation marks. */
const NICK_PATTERN = /^[\p{L}\p{N}_\-.[\]{}|^`]+$/u;
// C0 controls except tab and newline, DEL, C1 controls, bidi overrides and
// marks (U+200E/F, U+061C), the zero-width space and the line and paragraph
// separators: any of these could repaint, disguise or shift another user's
// terminal (U+2028 moved the member panel's border). The zero-width joiner and
// non-joiner stay: emoji sequences and Persian spelling need them.
const FORBIDDEN_TEXT =
	/[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200B\u200E\u200F\u2028-\u202E\u2066-\u2069]/u;

/**
 * Every character `textProblem` refuses, all occurrences: what a client strips before sending.
 * Compiled once (the TUI sanitizes every span it lays out); only for replace(), which resets lastIndex.
 */
export const FORBIDDEN_TEXT_ALL = new RegExp(FORBIDDEN_TEXT.source, 'gu');

export function nickProblem(nick: string): string | undefined {
	if (nick.length === 0) return 'a nick cannot be empty';
	if ([...nick].length > MAX_NICK_LENGTH) return `a nick is at most ${MAX_NICK_LENGTH} characters`;
	if (!NICK_PATTERN.test(nick)) return 'a nick may use letters, digits and _-.[]{}|^` only';
	return undefined;
}

export function textProblem(text: string, maxBytes: number): ProtocolError | undefined {
	if (text.trim().length === 0) return new ProtocolError('bad-request', 'empty message');
	if (FORBIDDEN_TEXT.test(text))
		return new ProtocolError('bad-request', 'message contains control characters');
	const bytes = Buffer.byteLength(text, 'utf8');
	if (bytes > maxBytes)
		return new ProtocolError('too-long', `message is ${bytes} bytes; the limit is ${maxBytes}`);
	return undefined;
}

/** Strips what `textProblem` forbids, for text from a source we must display anyway. */
export function sanitizeText(text: string): string {
	return text.replace(FORBIDDEN_TEXT_ALL, '\uFFFD');
}

const utf8 = new TextDecoder('utf-8', {fatal: true});

/** Decodes strict UTF-8 JSON; invalid UTF-8 and bad JSON become ProtocolErrors. */
export function decodeJson(bytes: Uint8Array): unknown {
	let text: string;
	try {
		text = utf8.decode(bytes);
	} catch {
		throw new ProtocolError('bad-request', 'invalid UTF-8');
	}
	try {
		return JSON.parse(text);
	} catch {
		throw new ProtocolError('bad-request', 'invalid JSON');
	}
}

export function encodeJson(message: ClientMessage | ServerMessage | Record<string, unknown>): Buffer {
	return Buffer.from(JSON.stringify(message), 'utf8');
}
