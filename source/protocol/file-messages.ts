// File transfer in TCP rooms (capability `files`): the frames that offer,
// carry, announce and fetch a file. They travel on the same logged-in
// connection as chat; chunks are base64 in ordinary frames, small enough
// (FILE_CHUNK_BYTES) that a chat frame never waits long behind one.

import * as v from 'valibot';
import {Nick, Ref, RoomName, Seq, Timestamp, parseWith, typesOf} from './schema-kit.js';

/** Raw bytes per chunk: 24 KiB, 32 KiB as base64, well inside the 64 KiB frame limit. */
export const FILE_CHUNK_BYTES = 24 * 1024;

const room = {room: v.optional(RoomName)};
/** A file's name as its sender called it: shown, never used as a path by the server. */
const FileName = v.pipe(v.string(), v.minLength(1), v.maxLength(255));
/** Lower-case hex SHA-256 of the whole file. */
const Sha256 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/));
/** A shared file's id, chosen by the server. */
const FileId = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,40}$/));
/** An upload in progress, chosen by the server. */
const UploadId = FileId;
const Data = v.pipe(
	v.string(),
	v.maxLength(Math.ceil(FILE_CHUNK_BYTES / 3) * 4),
	v.regex(/^[A-Za-z0-9+/]*={0,2}$/),
);

const fileClientEntries = {
	/** Offers a file for the room (or, with `to`, one member). Answered by `file-ready` or an error with the ref. */
	'file-offer': {
		t: v.literal('file-offer'),
		ref: Ref,
		name: FileName,
		size: Seq,
		sha256: Sha256,
		to: v.optional(Nick),
		...room,
	},
	/** The bytes at `offset` of an upload; chunks arrive in order. */
	'file-chunk': {t: v.literal('file-chunk'), upload: UploadId, offset: Seq, data: Data},
	/** All bytes sent: the server checks size and SHA-256, stores and announces. */
	'file-end': {t: v.literal('file-end'), upload: UploadId},
	/** Asks for a shared file's bytes from `offset` (default 0). */
	'file-get': {t: v.literal('file-get'), ref: Ref, id: FileId, offset: v.optional(Seq), ...room},
	/** Stops an upload (`upload`) or a download (`id`); the server forgets its partial data. */
	'file-cancel': {t: v.literal('file-cancel'), upload: v.optional(UploadId), id: v.optional(FileId)},
	/** The files shared in the room (those sent to this account included). */
	'file-list': {t: v.literal('file-list'), ...room},
} as const;

const c = fileClientEntries;
export const FileClientMessageSchema = v.variant('t', [
	v.strictObject(c['file-offer']),
	v.strictObject(c['file-chunk']),
	v.strictObject(c['file-end']),
	v.strictObject(c['file-get']),
	v.strictObject(c['file-cancel']),
	v.strictObject(c['file-list']),
]);
export type FileClientMessage = v.InferOutput<typeof FileClientMessageSchema>;
export const FILE_CLIENT_MESSAGE_TYPES = typesOf(FileClientMessageSchema);

export const SharedFileSchema = v.object({
	id: FileId,
	name: FileName,
	size: Seq,
	sha256: Sha256,
	from: Nick,
	/** Shared with one member only. */
	to: v.optional(Nick),
	ts: Timestamp,
});
export type SharedFile = v.InferOutput<typeof SharedFileSchema>;

export const FileServerMessageSchema = v.variant('t', [
	/** Answers `file-offer`: send chunks from `offset` (more than 0 when an earlier upload is resumed). */
	v.object({t: v.literal('file-ready'), ...room, ref: Ref, upload: UploadId, offset: Seq}),
	/** How far an upload has arrived: the client keeps at most a window of bytes beyond it in flight. */
	v.object({t: v.literal('file-ack'), upload: UploadId, offset: Seq}),
	/** The upload is stored: `file` is what was announced. */
	v.object({t: v.literal('file-done'), ...room, upload: UploadId, file: SharedFileSchema}),
	/** A file was shared in the room (or with this member). */
	v.object({t: v.literal('file'), ...room, file: SharedFileSchema}),
	/** Answers `file-get`: the file's metadata; `file-data` frames follow from `offset`. */
	v.object({t: v.literal('file-meta'), ...room, ref: Ref, file: SharedFileSchema, offset: Seq}),
	/** The bytes at `offset` of a download. */
	v.object({t: v.literal('file-data'), id: FileId, offset: Seq, data: Data}),
	/** The last `file-data` of a download has been sent. */
	v.object({t: v.literal('file-sent'), id: FileId}),
	/** The server ended an upload (`upload`) or a download (`id`): why. */
	v.object({
		t: v.literal('file-cancelled'),
		upload: v.optional(UploadId),
		id: v.optional(FileId),
		reason: v.pipe(v.string(), v.maxLength(1024)),
	}),
	/** Answers `file-list`: oldest first, at most the newest 200. */
	v.object({t: v.literal('files'), ...room, files: v.pipe(v.array(SharedFileSchema), v.maxLength(200))}),
]);
export type FileServerMessage = v.InferOutput<typeof FileServerMessageSchema>;
export const FILE_SERVER_MESSAGE_TYPES = typesOf(FileServerMessageSchema);

/** True for a frame that belongs to file transfer (its `t` starts with `file`). */
export function isFileFrame(value: unknown): boolean {
	if (typeof value !== 'object' || value === null) return false;
	const t = (value as {t?: unknown}).t;
	return typeof t === 'string' && t.startsWith('file');
}

export function parseFileClientMessage(value: unknown): FileClientMessage {
	return parseWith(FileClientMessageSchema, value);
}

export function parseFileServerMessage(value: unknown): FileServerMessage {
	return parseWith(FileServerMessageSchema, value);
}
