// File transfer on the TCP room server (capability `files`): uploads in
// chunks with resume, SHA-256 checked, size and quota limits checked before a
// byte is sent, announcements to the room (or one member), downloads paced so
// that chat frames never queue behind more than a little file data.

import {open} from 'node:fs/promises';
import {
	FILE_CHUNK_BYTES,
	type FileClientMessage,
	type FileServerMessage,
	type SharedFile,
} from '../../source/protocol/file-messages.js';
import {FORBIDDEN_TEXT_ALL, type ErrorCode} from '../../source/protocol/messages.js';
import {identityKey, roomKey, roomNameProblem} from '../../source/protocol/names.js';
import type {Connection, Joined} from '../tcp/connection.js';
import type {FileIndex, StoredFile} from './file-index.js';
import type {FileStore} from './file-store.js';
import {formatBytes} from '../../source/util/format-bytes.js';

export interface FileServiceOptions {
	index: FileIndex;
	store: FileStore;
	/** Largest file one upload may be (default 100 MiB). */
	maxFileBytes: number;
	/** Bytes one account may have shared in all (default 1 GiB). */
	quotaBytes: number;
	/** Send no more file data while this many bytes wait for a socket (chat goes ahead of the rest). */
	watermarkBytes?: number;
	/** An interrupted upload is kept this long for a resume (default 1 hour). */
	resumeMs?: number;
	log?: (line: string) => void;
}

interface Upload {
	id: string;
	key: string;
	user: string;
	room: string;
	label: string;
	name: string;
	size: number;
	sha256: string;
	to: string | undefined;
	received: number;
	/** The offset last acknowledged to the client. */
	acked: number;
	fd: number | undefined;
	owner: Connection | undefined;
	expiry: NodeJS.Timeout | undefined;
	finishing: boolean;
}

/** An upload is acknowledged every this many bytes (the client's window is a few of these). */
const ACK_EVERY = 64 * 1024;

type Send = (connection: Connection, message: FileServerMessage) => void;
const send: Send = (connection, message) => connection.link.send(message as never);

export class FileService {
	private readonly uploads = new Map<string, Upload>();
	private readonly byKey = new Map<string, Upload>();
	/** Downloads in progress per connection, by file id: set false to stop. */
	private readonly downloads = new Map<Connection, Map<string, {running: boolean}>>();
	private readonly watermark: number;

	constructor(private readonly options: FileServiceOptions) {
		this.watermark = options.watermarkBytes ?? 128 * 1024;
	}

	async handle(connection: Connection, message: FileClientMessage): Promise<void> {
		switch (message.t) {
			case 'file-offer':
				return this.offer(connection, message);
			case 'file-chunk':
				return this.chunk(connection, message);
			case 'file-end':
				return this.end(connection, message.upload);
			case 'file-get':
				return this.get(connection, message);
			case 'file-cancel':
				return this.cancel(connection, message);
			case 'file-list':
				return this.list(connection, message.room);
		}
	}

	/** The connection closed: its uploads wait for a resume, its downloads stop. */
	closed(connection: Connection): void {
		for (const upload of this.uploads.values())
			if (upload.owner === connection) {
				upload.owner = undefined;
				this.closeFd(upload);
				this.expireLater(upload);
			}
		for (const download of this.downloads.get(connection)?.values() ?? []) download.running = false;
		this.downloads.delete(connection);
	}

	close(): void {
		for (const upload of this.uploads.values()) {
			this.closeFd(upload);
			clearTimeout(upload.expiry);
		}
		this.uploads.clear();
		this.byKey.clear();
	}

	// ---- uploads ----

	private async offer(connection: Connection, message: Extract<FileClientMessage, {t: 'file-offer'}>) {
		const error = (code: ErrorCode, text: string) =>
			connection.link.send({
				t: 'error',
				code,
				message: text,
				ref: message.ref,
				...(message.room === undefined ? {} : {room: message.room}),
			});
		const joined = joinedFor(connection, message.room);
		if (!joined)
			return error('not-joined', message.room ? `you are not in ${message.room}` : 'join a room first');
		const {maxFileBytes, quotaBytes} = this.options;
		if (message.size > maxFileBytes)
			return error(
				'too-long',
				`${message.name} is ${formatBytes(message.size)}; files here are at most ${formatBytes(maxFileBytes)}`,
			);
		const user = connection.user!;
		let to: string | undefined;
		if (message.to !== undefined) {
			const member = [...joined.room.members()].find((m) => identityKey(m.nick) === identityKey(message.to!));
			if (!member) return error('no-such-nick', `${message.to} is not in ${joined.label}`);
			to = member.nick;
		}
		const name = cleanName(message.name);
		const key = [
			identityKey(user),
			roomKey(joined.room.name),
			to ?? '',
			message.sha256,
			message.size,
			name,
		].join('|');
		let upload = this.byKey.get(key);
		if (!upload) {
			const pending = [...this.uploads.values()].filter((u) => u.user === user);
			const used =
				(await this.options.index.uploadedBytes(user)) + pending.reduce((sum, u) => sum + u.size, 0);
			if (used + message.size > quotaBytes)
				return error(
					'not-allowed',
					`over your quota: you have shared ${formatBytes(used)} of ${formatBytes(quotaBytes)}; ${name} is ${formatBytes(message.size)}`,
				);
			if (pending.length >= 8) return error('rate-limited', 'at most 8 uploads at once');
			upload = {
				id: this.options.store.newUploadId(),
				key,
				user,
				room: roomKey(joined.room.name),
				label: joined.label,
				name,
				size: message.size,
				sha256: message.sha256,
				to,
				received: 0,
				acked: 0,
				fd: undefined,
				owner: undefined,
				expiry: undefined,
				finishing: false,
			};
			this.uploads.set(upload.id, upload);
			this.byKey.set(key, upload);
		}
		clearTimeout(upload.expiry);
		upload.expiry = undefined;
		this.closeFd(upload);
		const part = this.options.store.openPart(upload.id);
		upload.fd = part.fd;
		upload.received = Math.min(part.size, upload.size);
		upload.acked = upload.received;
		upload.owner = connection;
		send(connection, {
			t: 'file-ready',
			room: joined.label,
			ref: message.ref,
			upload: upload.id,
			offset: upload.received,
		});
	}

	private chunk(connection: Connection, message: Extract<FileClientMessage, {t: 'file-chunk'}>): void {
		const upload = this.uploads.get(message.upload);
		if (!upload || upload.owner !== connection || upload.fd === undefined || upload.finishing) return; // cancelled meanwhile
		const data = Buffer.from(message.data, 'base64');
		if (message.offset !== upload.received)
			return void this.abort(upload, `chunk at ${message.offset}, expected ${upload.received}`);
		if (upload.received + data.length > upload.size)
			return void this.abort(upload, `more than the ${upload.size} bytes offered`);
		this.options.store.append(upload.fd, data);
		upload.received += data.length;
		// The client keeps only a window beyond our acks in flight: what queues ahead of its chat stays small.
		if (upload.received - upload.acked >= ACK_EVERY || upload.received === upload.size) {
			upload.acked = upload.received;
			send(connection, {t: 'file-ack', upload: upload.id, offset: upload.received});
		}
	}

	private async end(connection: Connection, id: string): Promise<void> {
		const upload = this.uploads.get(id);
		if (!upload || upload.owner !== connection || upload.finishing) return;
		if (upload.received !== upload.size)
			return this.abort(upload, `only ${upload.received} of ${upload.size} bytes arrived`);
		upload.finishing = true;
		this.closeFd(upload);
		const {store, index} = this.options;
		const actual = await store.hashPart(upload.id);
		if (actual !== upload.sha256)
			return this.abort(upload, 'SHA-256 mismatch: the file was corrupted on the way');
		await store.keep(upload.id, upload.sha256);
		this.forget(upload);
		const stored: StoredFile = {
			id: store.newFileId(),
			room: upload.room,
			name: upload.name,
			size: upload.size,
			sha256: upload.sha256,
			from: upload.user,
			...(upload.to === undefined ? {} : {to: upload.to}),
			ts: Date.now(),
		};
		await index.addFile(stored);
		const file = toShared(stored);
		send(connection, {t: 'file-done', room: upload.label, upload: upload.id, file});
		this.options.log?.(`${upload.user} shared ${stored.id} (${formatBytes(stored.size)}) in ${upload.label}`);
		this.announce(connection, upload, file);
	}

	/** Tells the room (every session of every member), or the sender and the one recipient. */
	private announce(from: Connection, upload: Upload, file: SharedFile): void {
		const joined = from.rooms.get(upload.room);
		if (!joined) return;
		const toKey = upload.to === undefined ? undefined : identityKey(upload.to);
		for (const member of joined.room.members()) {
			if (toKey !== undefined && member.account !== toKey && member.account !== identityKey(upload.user))
				continue;
			send(member.link, {t: 'file', room: upload.label, file});
		}
	}

	private async cancel(connection: Connection, message: Extract<FileClientMessage, {t: 'file-cancel'}>) {
		if (message.upload !== undefined) {
			const upload = this.uploads.get(message.upload);
			if (upload && upload.user === connection.user && !upload.finishing)
				await this.abort(upload, 'cancelled by the sender', false);
		}
		if (message.id !== undefined) {
			const download = this.downloads.get(connection)?.get(message.id);
			if (download) download.running = false;
		}
	}

	/** Ends an upload and removes its partial data; the owner hears why unless it asked. */
	private async abort(upload: Upload, reason: string, tell = true): Promise<void> {
		const owner = upload.owner;
		this.forget(upload);
		await this.options.store.removePart(upload.id);
		if (owner && tell) send(owner, {t: 'file-cancelled', upload: upload.id, reason});
	}

	private forget(upload: Upload): void {
		this.closeFd(upload);
		clearTimeout(upload.expiry);
		this.uploads.delete(upload.id);
		if (this.byKey.get(upload.key) === upload) this.byKey.delete(upload.key);
	}

	private expireLater(upload: Upload): void {
		clearTimeout(upload.expiry);
		upload.expiry = setTimeout(() => void this.abort(upload, 'expired'), this.options.resumeMs ?? 3_600_000);
		upload.expiry.unref();
	}

	private closeFd(upload: Upload): void {
		if (upload.fd === undefined) return;
		this.options.store.closeFd(upload.fd);
		upload.fd = undefined;
	}

	// ---- downloads and listing ----

	private async get(connection: Connection, message: Extract<FileClientMessage, {t: 'file-get'}>) {
		const joined = joinedFor(connection, message.room);
		const stored = await this.options.index.getFile(message.id);
		const user = identityKey(connection.user!);
		const visible =
			stored !== undefined &&
			joined !== undefined &&
			stored.room === roomKey(joined.room.name) &&
			(stored.to === undefined || identityKey(stored.to) === user || identityKey(stored.from) === user);
		if (!visible || !(await this.options.store.hasBlob(stored.sha256, stored.size))) {
			connection.link.send({
				t: 'error',
				code: 'bad-request',
				message: `no file ${message.id} here`,
				ref: message.ref,
				...(message.room === undefined ? {} : {room: message.room}),
			});
			return;
		}
		const offset = Math.min(message.offset ?? 0, stored.size);
		send(connection, {t: 'file-meta', room: joined.label, ref: message.ref, file: toShared(stored), offset});
		const mine = this.downloads.get(connection) ?? new Map<string, {running: boolean}>();
		this.downloads.set(connection, mine);
		const previous = mine.get(stored.id);
		if (previous) previous.running = false;
		const state = {running: true};
		mine.set(stored.id, state);
		this.stream(connection, stored, offset, state)
			.catch((error) => this.options.log?.(`download of ${stored.id} failed: ${(error as Error).message}`))
			.finally(() => {
				if (mine.get(stored.id) === state) mine.delete(stored.id);
			});
	}

	private async stream(connection: Connection, file: StoredFile, from: number, state: {running: boolean}) {
		const handle = await open(this.options.store.blobPath(file.sha256), 'r');
		try {
			let offset = from;
			while (state.running && connection.link.isOpen && offset < file.size) {
				if (connection.link.backlogBytes >= this.watermark) {
					await drained(connection);
					continue;
				}
				const buffer = Buffer.alloc(Math.min(FILE_CHUNK_BYTES, file.size - offset));
				const {bytesRead} = await handle.read(buffer, 0, buffer.length, offset);
				if (bytesRead === 0 || !state.running) break; // cancelled while reading: not one frame more
				send(connection, {
					t: 'file-data',
					id: file.id,
					offset,
					data: buffer.subarray(0, bytesRead).toString('base64'),
				});
				offset += bytesRead;
			}
			if (state.running && connection.link.isOpen) send(connection, {t: 'file-sent', id: file.id});
		} finally {
			await handle.close();
		}
	}

	private async list(connection: Connection, room: string | undefined): Promise<void> {
		const joined = joinedFor(connection, room);
		if (!joined) {
			connection.link.send({t: 'error', code: 'not-joined', message: 'join a room first'});
			return;
		}
		const user = identityKey(connection.user!);
		const files = (await this.options.index.roomFiles(roomKey(joined.room.name), 200)).filter(
			(f) => f.to === undefined || identityKey(f.to) === user || identityKey(f.from) === user,
		);
		send(connection, {t: 'files', room: joined.label, files: files.map(toShared)});
	}
}

function joinedFor(connection: Connection, room: string | undefined): Joined | undefined {
	const joined =
		room === undefined
			? connection.rooms.values().next().value
			: roomNameProblem(room)
				? undefined
				: connection.rooms.get(roomKey(room));
	return joined?.room.isMember(joined.member) ? joined : undefined;
}

/** Waits until the socket drained (or a moment passed: our own queue flushes on the next turn). */
function drained(connection: Connection): Promise<void> {
	return new Promise((resolve) => {
		const socket = connection.link.socket;
		const done = () => {
			clearTimeout(timer);
			socket.off('drain', done);
			socket.off('close', done);
			resolve();
		};
		const timer = setTimeout(done, 10);
		socket.once('drain', done);
		socket.once('close', done);
	});
}

function toShared(file: StoredFile): SharedFile {
	return {
		id: file.id,
		name: file.name,
		size: file.size,
		sha256: file.sha256,
		from: file.from,
		...(file.to === undefined ? {} : {to: file.to}),
		ts: file.ts,
	};
}

/** A name fit to show: its last path part, without control characters (newlines and tabs included). */
export function cleanName(name: string): string {
	const last =
		name
			.replace(FORBIDDEN_TEXT_ALL, '_')
			.replace(/[\t\n]/g, '_')
			.split(/[/\\]/)
			.filter(Boolean)
			.pop() ?? '';
	const trimmed = last.trim().replace(/^\.+$/, '');
	return trimmed === '' ? 'file' : trimmed.slice(0, 255);
}
