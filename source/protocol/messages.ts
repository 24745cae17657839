// Wire messages shared by every transport, defined once as valibot schemas:
// the TypeScript types, the runtime checks on both sides and the generated
// JSON Schema (protocol/parley.schema.json) all come from here. Each transport
// only decides how a message object becomes bytes (UDP datagrams, TCP frames).
// PROTOCOL.md describes every message; a test keeps it in step with this file.

import * as v from 'valibot';
import {
	Capabilities,
	DurationMs,
	ErrorMessageSchema,
	ModeChange,
	Role,
	RoomName,
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

/** Version 2: the room a message is about; absent, the connection's first (or only) room. */
const room = {room: v.optional(RoomName)};
const reason = v.optional(v.pipe(v.string(), v.maxLength(512)));

const clientEntries = {
	/** UDP only: asks for an address-proving cookie; `pad` makes room for the answer. */
	join: {
		t: v.literal('join'),
		pad: v.optional(v.pipe(v.string(), v.maxLength(1200))),
		versions: v.optional(Versions),
	},
	/** Joins a room. Version 2: one hello per room on the same connection, each naming its `room`. */
	hello: {
		t: v.literal('hello'),
		nick: Nick,
		/** The last room sequence number the client has: the server resends what came after. */
		since: v.optional(Seq),
		/** The protocol versions the client speaks. */
		versions: v.optional(Versions),
		/** Deprecated single-version form of `versions` (clients before version negotiation send 1). */
		v: v.optional(Version),
		...room,
	},
	say: {t: v.literal('say'), ref: Ref, text: Text, action: v.optional(v.boolean()), ...room},
	dm: {t: v.literal('dm'), ref: Ref, to: Nick, text: Text, ...room},
	nick: {t: v.literal('nick'), nick: Nick, ...room},
	who: {t: v.literal('who'), ...room},
	resend: {t: v.literal('resend'), s: Stream, from: Seq, to: Seq, ...room},
	ping: {t: v.literal('ping'), ts: Timestamp, ...room},
	/** Leaves the room. `part` (version 2): for good, so the account's next session does not reopen it. */
	leave: {t: v.literal('leave'), part: v.optional(v.boolean()), ...room},
	/** Away with `text`, or back without it (servers with the `away` capability). */
	away: {t: v.literal('away'), text: v.optional(v.pipe(v.string(), v.maxLength(1024))), ...room},
	// ---- version 2 -------------------------------------------------------------
	/** The server's public rooms (and the private ones the account is in). */
	list: {t: v.literal('list')},
	/** Sets the topic (ops); an empty text clears it. */
	topic: {t: v.literal('topic'), text: v.pipe(v.string(), v.maxLength(512)), ...room},
	mode: {t: v.literal('mode'), mode: ModeChange, ...room},
	/** Gives a member a role: `op` (owners only), `voice`, or `member` to take it away. */
	role: {t: v.literal('role'), nick: Nick, role: v.picklist(['op', 'voice', 'member']), ...room},
	kick: {t: v.literal('kick'), nick: Nick, reason, ...room},
	/** Bans an account (not a nick): it cannot join again until lifted or `duration_ms` is over. */
	ban: {t: v.literal('ban'), account: Nick, duration_ms: v.optional(DurationMs), reason, ...room},
	unban: {t: v.literal('unban'), account: Nick, ...room},
	bans: {t: v.literal('bans'), ...room},
	mute: {t: v.literal('mute'), nick: Nick, duration_ms: v.optional(DurationMs), ...room},
	unmute: {t: v.literal('unmute'), nick: Nick, ...room},
	/** Lets an account into an invite-only room. */
	invite: {t: v.literal('invite'), nick: Nick, ...room},
	/** The newest message this account has read in the room (its other sessions are told). */
	read: {t: v.literal('read'), seq: Seq, ...room},
	/** A page of stored history: the newest `limit` events before `before`. */
	history: {
		t: v.literal('history'),
		before: Seq,
		limit: v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(500)),
		...room,
	},
	/** Searches the room's stored messages (case-insensitive), newest first, before `before` when given. */
	search: {
		t: v.literal('search'),
		text: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
		before: v.optional(Seq),
		...room,
	},
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
		v.strictObject({...c.list, ...extra}),
		v.strictObject({...c.topic, ...extra}),
		v.strictObject({...c.mode, ...extra}),
		v.strictObject({...c.role, ...extra}),
		v.strictObject({...c.kick, ...extra}),
		v.strictObject({...c.ban, ...extra}),
		v.strictObject({...c.unban, ...extra}),
		v.strictObject({...c.bans, ...extra}),
		v.strictObject({...c.mute, ...extra}),
		v.strictObject({...c.unmute, ...extra}),
		v.strictObject({...c.invite, ...extra}),
		v.strictObject({...c.read, ...extra}),
		v.strictObject({...c.history, ...extra}),
		v.strictObject({...c.search, ...extra}),
	]);
}

export const ClientMessageSchema = clientMessageVariant({});
export type ClientMessage = v.InferOutput<typeof ClientMessageSchema>;
export const CLIENT_MESSAGE_TYPES = typesOf(ClientMessageSchema);

// ---- server → client (checked leniently: unknown keys are ignored) -------------

export const MemberInfoSchema = v.object({
	nick: Nick,
	/** Version 2: owner, op or voice; absent for an ordinary member. */
	role: v.optional(Role),
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
	...room,
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
	...room,
	/**
	 * The room's sequence number. Version 1 TCP rooms sent presence unsequenced;
	 * version 2 sequences it with the messages, so a replay has it in order.
	 * `away` stays unsequenced.
	 */
	seq: v.optional(Seq),
	ts: Timestamp,
	kind: PresenceKindSchema,
	/** Who it is about (the kicked, banned, muted, invited member; the one who set a topic or mode). */
	nick: Nick,
	/** With kind nick: the previous nick. */
	old: v.optional(Nick),
	/** With kind away: the away text (absent: back). With kick, ban, part…: why. */
	reason: v.optional(v.pipe(v.string(), v.maxLength(1024))),
	/** The op who did it (kick, ban, unban, mute, unmute, role, invite). */
	by: v.optional(Nick),
	/** With kind topic: the new topic ('' cleared). */
	text: v.optional(v.pipe(v.string(), v.maxLength(1024))),
	/** With kind mode: the change, e.g. "+i". */
	mode: v.optional(ModeChange),
	/** With kind role: the new role (absent: an ordinary member again). */
	role: v.optional(Role),
	/** With ban and mute: when it ends (ms since the epoch); absent: until lifted. */
	until: v.optional(Timestamp),
});
export type PresenceMessage = v.InferOutput<typeof PresenceMessageSchema>;

export const DirectMessageSchema = v.object({
	t: v.literal('dm'),
	...room,
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
		/** The room's name (version 2: `#name`, as the client's messages should name it). */
		room: v.optional(v.pipe(v.string(), v.maxLength(256)), ''),
		/** Version 2: the room's topic, when it has one. */
		topic: v.optional(v.pipe(v.string(), v.maxLength(1024))),
		/** Version 2: the room's modes, e.g. "im" (invite-only, moderated); absent or '' for none. */
		modes: v.optional(v.pipe(v.string(), v.maxLength(16))),
		/** Version 2: the joining account's role in the room. */
		role: v.optional(Role),
		/** Version 2, TCP: the newest message this account has read here (its read marker). */
		read: v.optional(Seq),
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
	v.object({
		t: v.literal('history'),
		...room,
		messages: v.array(RoomEventSchema),
		/** Version 2: set when this answers a `history` request: the `before` it asked with. */
		before: v.optional(Seq),
		/** Version 2: true when nothing older is stored. */
		complete: v.optional(v.boolean()),
	}),
	v.object({t: v.literal('who'), ...room, members: v.array(MemberInfoSchema)}),
	v.object({t: v.literal('pong'), ...room, ts: Timestamp, seq: Seq, dseq: Seq}),
	v.object({t: v.literal('lost'), ...room, s: Stream, from: Seq, to: Seq}),
	// ---- version 2 -------------------------------------------------------------
	/** Answers `list`: the rooms, with how many are in each. */
	v.object({
		t: v.literal('rooms'),
		rooms: v.pipe(
			v.array(
				v.object({
					name: RoomName,
					members: Seq,
					topic: v.optional(v.pipe(v.string(), v.maxLength(1024))),
					/** Invite-only: shown only to its members. */
					private: v.optional(v.boolean()),
				}),
			),
			v.maxLength(10_000),
		),
	}),
	/** Sent once after a session's first hello: the rooms the account is in, to reopen. */
	v.object({t: v.literal('session'), rooms: v.pipe(v.array(RoomName), v.maxLength(1000))}),
	/** Another session of this account read the room up to `seq`. */
	v.object({t: v.literal('read'), ...room, seq: Seq}),
	/** Answers `search`: matching stored messages, oldest first. */
	v.object({
		t: v.literal('found'),
		...room,
		text: v.pipe(v.string(), v.maxLength(200)),
		messages: v.array(ChatMessageSchema),
	}),
	/** Answers `bans`. */
	v.object({
		t: v.literal('bans'),
		...room,
		bans: v.array(
			v.object({
				account: Nick,
				by: v.optional(Nick),
				reason: v.optional(v.pipe(v.string(), v.maxLength(1024))),
				until: v.optional(Timestamp),
			}),
		),
	}),
	/** Someone let this account into an invite-only room. */
	v.object({t: v.literal('invited'), room: RoomName, by: Nick}),
	/** Something about the room itself for its members to read (e.g. its servers cannot reach each other). */
	v.object({t: v.literal('notice'), ...room, text: v.pipe(v.string(), v.maxLength(1024))}),
	v.object({...ErrorMessageSchema.entries, ...room}),
	v.object({
		t: v.literal('bye'),
		/** Version 2: only this room is closed for the client (kicked, banned); the connection stays. */
		...room,
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
