// Wire messages shared by every transport. Each transport only decides how a
// message object becomes bytes (UDP datagrams, TCP frames); the shapes, limits
// and validation live here so the server room core and the client core agree.

/** A stream a sequence number belongs to: the room broadcast or one member's direct messages. */
export type StreamName = 'room' | 'direct';

export type PresenceKind = 'join' | 'leave' | 'nick' | 'expire' | 'kick';

export interface MemberInfo {
	nick: string;
}

// ---- client → server -------------------------------------------------------

export type ClientMessage =
	| {t: 'join'; pad?: string} // UDP only: asks for an address-proving cookie
	| {t: 'hello'; nick: string; since?: number; v?: number}
	| {t: 'say'; ref: string; text: string; action?: boolean}
	| {t: 'dm'; ref: string; to: string; text: string}
	| {t: 'nick'; nick: string}
	| {t: 'who'}
	| {t: 'resend'; s: StreamName; from: number; to: number}
	| {t: 'ping'; ts: number}
	| {t: 'leave'};

// ---- server → client -------------------------------------------------------

export interface ChatMessage {
	t: 'msg';
	seq: number;
	ts: number;
	from: string;
	text: string;
	action?: boolean;
	ref?: string;
}

export interface PresenceMessage {
	t: 'presence';
	/** Absent in rooms whose sequence is the persisted message log (TCP): the welcome resyncs members. */
	seq?: number;
	ts: number;
	kind: PresenceKind;
	nick: string;
	old?: string;
	reason?: string;
}

export interface DirectMessage {
	t: 'dm';
	dseq: number;
	ts: number;
	from: string;
	to: string;
	text: string;
	ref?: string;
}

/** Messages that carry a room sequence number. */
export type RoomEventMessage = ChatMessage | PresenceMessage;
/** A room event before the room has given it a sequence number. */
export type UnsequencedRoomEvent = Omit<ChatMessage, 'seq'> | Omit<PresenceMessage, 'seq'>;

export type ErrorCode =
	| 'bad-request'
	| 'not-joined'
	| 'nick-invalid'
	| 'nick-taken'
	| 'not-allowed'
	| 'no-such-nick'
	| 'rate-limited'
	| 'room-full'
	| 'too-long'
	| 'auth-failed'
	| 'auth-unavailable'
	| 'throttled'
	| 'too-slow'
	| 'server-error';

export type ServerMessage =
	| {t: 'cookie'; c: string}
	| {
			t: 'welcome';
			nick: string;
			room: string;
			seq: number;
			dseq: number;
			members: MemberInfo[];
			sid?: string;
			limits: ServerLimits;
	  }
	| ChatMessage
	| PresenceMessage
	| DirectMessage
	| {t: 'history'; messages: RoomEventMessage[]}
	| {t: 'who'; members: MemberInfo[]}
	| {t: 'pong'; ts: number; seq: number; dseq: number}
	| {t: 'lost'; s: StreamName; from: number; to: number}
	| {t: 'error'; code: ErrorCode; message: string; ref?: string}
	| {t: 'bye'; reason: string; retry?: boolean};

export interface ServerLimits {
	maxTextBytes: number;
	ratePerSecond: number;
	burst: number;
}

// ---- limits and validation -------------------------------------------------

export const DEFAULT_LIMITS: ServerLimits = {
	maxTextBytes: 8 * 1024,
	ratePerSecond: 5,
	burst: 10,
};

export const MAX_NICK_LENGTH = 32;
/** Letters and digits of any script plus a few IRC-style punctuation marks. */
const NICK_PATTERN = /^[\p{L}\p{N}_\-.[\]{}|^`]+$/u;
// C0 controls except tab and newline, DEL, C1 controls, and bidi overrides:
// any of these could repaint or disguise another user's terminal.
const FORBIDDEN_TEXT = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/u;
const REF_PATTERN = /^[A-Za-z0-9:_-]{1,40}$/;

export class ProtocolError extends Error {
	constructor(
		readonly code: ErrorCode,
		message: string,
	) {
		super(message);
		this.name = 'ProtocolError';
	}
}

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
	return text.replace(new RegExp(FORBIDDEN_TEXT.source, 'gu'), '\uFFFD');
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isString = (v: unknown, max = 65_536): v is string => typeof v === 'string' && v.length <= max;
const isRef = (v: unknown): v is string => typeof v === 'string' && REF_PATTERN.test(v);

function fail(message: string): never {
	throw new ProtocolError('bad-request', message);
}

/**
 * Checks an already-parsed JSON value from a client. Throws ProtocolError with
 * a reason a human can read; content limits (text size, nick rules) are the
 * room's business and are checked there.
 */
export function parseClientMessage(value: unknown): ClientMessage {
	if (!isObject(value)) fail('message must be a JSON object');
	switch (value.t) {
		case 'join':
			return {t: 'join'};
		case 'hello': {
			if (!isString(value.nick, 256)) fail('hello needs a nick');
			if (value.since !== undefined && !isSeq(value.since)) fail('since must be a sequence number');
			return {
				t: 'hello',
				nick: value.nick,
				...(value.since === undefined ? {} : {since: value.since}),
				...(typeof value.v === 'number' ? {v: value.v} : {}),
			};
		}
		case 'say':
			if (!isRef(value.ref)) fail('say needs a ref');
			if (!isString(value.text)) fail('say needs text');
			return {t: 'say', ref: value.ref, text: value.text, ...(value.action === true ? {action: true} : {})};
		case 'dm':
			if (!isRef(value.ref)) fail('dm needs a ref');
			if (!isString(value.to, 256)) fail('dm needs a recipient');
			if (!isString(value.text)) fail('dm needs text');
			return {t: 'dm', ref: value.ref, to: value.to, text: value.text};
		case 'nick':
			if (!isString(value.nick, 256)) fail('nick needs a nick');
			return {t: 'nick', nick: value.nick};
		case 'who':
			return {t: 'who'};
		case 'resend':
			if (value.s !== 'room' && value.s !== 'direct') fail('resend needs a stream');
			if (!isSeq(value.from) || !isSeq(value.to) || value.to < value.from) fail('resend needs a range');
			return {t: 'resend', s: value.s, from: value.from, to: value.to};
		case 'ping':
			if (typeof value.ts !== 'number' || !Number.isFinite(value.ts)) fail('ping needs ts');
			return {t: 'ping', ts: value.ts};
		case 'leave':
			return {t: 'leave'};
		default:
			fail(`unknown message type ${JSON.stringify(String(value.t)).slice(0, 40)}`);
	}
}

function parseRoomEvent(v: unknown): RoomEventMessage {
	if (!isObject(v) || typeof v.ts !== 'number') fail('bad room event');
	if (v.t === 'msg') {
		if (!isSeq(v.seq) || !isString(v.from, 256) || !isString(v.text)) fail('bad msg');
		return {
			t: 'msg',
			seq: v.seq,
			ts: v.ts,
			from: v.from,
			text: v.text,
			...(v.action === true ? {action: true} : {}),
			...(isRef(v.ref) ? {ref: v.ref} : {}),
		};
	}
	if (v.t === 'presence') {
		const kinds: PresenceKind[] = ['join', 'leave', 'nick', 'expire', 'kick'];
		if (!kinds.includes(v.kind as PresenceKind) || !isString(v.nick, 256)) fail('bad presence');
		return {
			t: 'presence',
			...(isSeq(v.seq) ? {seq: v.seq} : {}),
			ts: v.ts,
			kind: v.kind as PresenceKind,
			nick: v.nick,
			...(isString(v.old, 256) ? {old: v.old} : {}),
			...(isString(v.reason, 1024) ? {reason: v.reason} : {}),
		};
	}
	fail('bad room event');
}

function parseMembers(v: unknown): MemberInfo[] {
	if (!Array.isArray(v)) fail('members must be a list');
	return v.map((m) => {
		if (!isObject(m) || !isString(m.nick, 256)) fail('bad member');
		return {nick: m.nick};
	});
}

/** The client's check of what a server sent; a hostile server must not crash the TUI either. */
export function parseServerMessage(value: unknown): ServerMessage {
	if (!isObject(value)) fail('message must be a JSON object');
	switch (value.t) {
		case 'cookie':
			if (!isString(value.c, 256)) fail('bad cookie');
			return {t: 'cookie', c: value.c};
		case 'welcome': {
			const limits = isObject(value.limits) ? value.limits : {};
			if (!isString(value.nick, 256) || !isSeq(value.seq) || !isSeq(value.dseq)) fail('bad welcome');
			return {
				t: 'welcome',
				nick: value.nick,
				room: isString(value.room, 256) ? value.room : '',
				seq: value.seq,
				dseq: value.dseq,
				members: parseMembers(value.members),
				...(isString(value.sid, 128) ? {sid: value.sid} : {}),
				limits: {
					maxTextBytes: isSeq(limits.maxTextBytes) ? limits.maxTextBytes : DEFAULT_LIMITS.maxTextBytes,
					ratePerSecond:
						typeof limits.ratePerSecond === 'number' ? limits.ratePerSecond : DEFAULT_LIMITS.ratePerSecond,
					burst: isSeq(limits.burst) ? limits.burst : DEFAULT_LIMITS.burst,
				},
			};
		}
		case 'msg':
		case 'presence':
			return parseRoomEvent(value);
		case 'dm':
			if (!isSeq(value.dseq) || typeof value.ts !== 'number') fail('bad dm');
			if (!isString(value.from, 256) || !isString(value.to, 256) || !isString(value.text)) fail('bad dm');
			return {
				t: 'dm',
				dseq: value.dseq,
				ts: value.ts,
				from: value.from,
				to: value.to,
				text: value.text,
				...(isRef(value.ref) ? {ref: value.ref} : {}),
			};
		case 'history':
			if (!Array.isArray(value.messages)) fail('bad history');
			return {t: 'history', messages: value.messages.map(parseRoomEvent)};
		case 'who':
			return {t: 'who', members: parseMembers(value.members)};
		case 'pong':
			if (typeof value.ts !== 'number' || !isSeq(value.seq) || !isSeq(value.dseq)) fail('bad pong');
			return {t: 'pong', ts: value.ts, seq: value.seq, dseq: value.dseq};
		case 'lost':
			if ((value.s !== 'room' && value.s !== 'direct') || !isSeq(value.from) || !isSeq(value.to))
				fail('bad lost');
			return {t: 'lost', s: value.s, from: value.from, to: value.to};
		case 'error':
			if (!isString(value.code, 64) || !isString(value.message, 4096)) fail('bad error');
			return {
				t: 'error',
				code: value.code as ErrorCode,
				message: value.message,
				...(isRef(value.ref) ? {ref: value.ref} : {}),
			};
		case 'bye':
			return {
				t: 'bye',
				reason: isString(value.reason, 4096) ? value.reason : 'disconnected',
				...(value.retry === true ? {retry: true} : {}),
			};
		default:
			fail(`unknown message type ${JSON.stringify(String(value.t)).slice(0, 40)}`);
	}
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
