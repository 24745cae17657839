// Client side of file transfer in one TCP room (capability `files`): uploads
// stream in chunks that go out only while little is waiting in the socket
// (chat frames, written at once, never queue behind more than that), resume
// from the server's offset after a reconnect, and downloads are checked
// (SHA-256) in a temporary file renamed into place only when complete.

import {createHash, randomBytes} from 'node:crypto';
import {createReadStream, closeSync, openSync, writeSync} from 'node:fs';
import {open, rename, rm, stat} from 'node:fs/promises';
import path from 'node:path';
import {
	FILE_CHUNK_BYTES,
	type FileClientMessage,
	type FileServerMessage,
	type SharedFile,
} from '../protocol/file-messages.js';
import {sanitizeText} from '../protocol/messages.js';
import {roomKey} from '../protocol/names.js';
import {FILE_REF_PREFIX, type FileFrame, type FileLink} from './file-link.js';
import {formatBytes} from '../util/format-bytes.js';

export interface TransferProgress {
	done: number;
	total: number;
	/** Bytes a second over the last few seconds. */
	rate: number;
	/** Estimated time left; undefined while the rate is unknown. */
	etaMs: number | undefined;
}

export interface Transfer<T> {
	readonly kind: 'upload' | 'download';
	/** The file's name as shown. */
	readonly name: string;
	readonly progress: TransferProgress;
	/** Settles when the transfer is complete (or rejects: failed, cancelled). */
	readonly result: Promise<T>;
	cancel(): void;
	onProgress(listener: (progress: TransferProgress) => void): () => void;
}

export class TransferError extends Error {
	constructor(
		message: string,
		readonly code: string = 'failed',
	) {
		super(message);
		this.name = 'TransferError';
	}
}

export interface RoomFilesOptions {
	/** The room's name for the frames (`#name`); undefined: the connection's first room. */
	room: () => string | undefined;
	/** Don't send another chunk while more than this is waiting to be written (default 64 KiB). */
	watermarkBytes?: number;
	/** Bytes of an upload in flight beyond the server's last `file-ack` (default 256 KiB). */
	windowBytes?: number;
	chunkBytes?: number;
	/** How long an interrupted transfer waits for the connection to come back (default 60 s). */
	resumeWithinMs?: number;
}

/** What /get does when the target exists: overwrite (true), refuse (false), or ask. */
export type OverwritePolicy = boolean | ((target: string) => Promise<boolean>);

type Waiter = {match: (frame: FileFrame) => boolean; resolve: (frame: FileFrame) => void};

class LinkLost extends Error {}

export class RoomFiles {
	private readonly waiters = new Set<Waiter>();
	private readonly announceListeners = new Set<(file: SharedFile) => void>();
	/** Frames for running transfers, by upload or file id (chunks, cancellations). */
	private readonly streams = new Map<string, (frame: FileFrame) => void>();
	private readonly unsubscribe: () => void;
	private counter = 0;

	constructor(
		private readonly link: FileLink,
		private readonly options: RoomFilesOptions,
	) {
		this.unsubscribe = link.addFileListener((frame) => this.onFrame(frame));
	}

	dispose(): void {
		this.unsubscribe();
	}

	/** Files shared in this room, as the server announces them. */
	onFile(listener: (file: SharedFile) => void): () => void {
		this.announceListeners.add(listener);
		return () => this.announceListeners.delete(listener);
	}

	async list(): Promise<SharedFile[]> {
		const waiting = this.next((f) => f.t === 'files' && this.isMine(f.room));
		this.link.sendFile({t: 'file-list', ...this.roomField()});
		const frame = await waiting;
		return frame.t === 'files' ? frame.files : [];
	}

	upload(filePath: string, options: {to?: string; name?: string} = {}): Transfer<SharedFile> {
		const name = options.name ?? path.basename(filePath);
		const transfer = new RunningTransfer<SharedFile>('upload', name);
		transfer.start(() => this.runUpload(transfer, filePath, name, options.to));
		return transfer;
	}

	/** Downloads into `dest`: a directory (the file's sanitised name in it) or a file path. */
	download(id: string, dest: string, overwrite: OverwritePolicy = false): Transfer<string> {
		const transfer = new RunningTransfer<string>('download', id);
		transfer.start(() => this.runDownload(transfer, id, dest, overwrite));
		return transfer;
	}

	// ---- uploads ----

	private async runUpload(
		transfer: RunningTransfer<SharedFile>,
		filePath: string,
		name: string,
		to: string | undefined,
	): Promise<SharedFile> {
		const info = await stat(filePath);
		if (!info.isFile()) throw new TransferError(`${filePath} is not a file`);
		transfer.total = info.size;
		const sha256 = await hashOf(filePath);
		const handle = await open(filePath, 'r');
		let upload: string | undefined;
		try {
			for (;;) {
				transfer.throwIfCancelled();
				await this.whenOpen(transfer);
				try {
					const ready = await this.request(
						{
							t: 'file-offer',
							ref: '',
							name,
							size: info.size,
							sha256,
							...(to ? {to} : {}),
							...this.roomField(),
						},
						'file-ready',
					);
					upload = ready.upload;
					transfer.cancelWith = () => this.link.sendFile({t: 'file-cancel', upload: ready.upload});
					return await this.sendChunks(transfer, handle, ready.upload, ready.offset, info.size);
				} catch (error) {
					if (!(error instanceof LinkLost)) throw error;
					// The connection dropped: offer again once it is back; the server says where to go on.
					await sleep(200);
				}
			}
		} finally {
			if (upload !== undefined) this.streams.delete(upload);
			await handle.close();
		}
	}

	private async sendChunks(
		transfer: RunningTransfer<SharedFile>,
		handle: Awaited<ReturnType<typeof open>>,
		upload: string,
		from: number,
		size: number,
	): Promise<SharedFile> {
		let problem: FileFrame | undefined;
		let acked = from;
		let wakeAck: () => void = () => {};
		this.streams.set(upload, (frame) => {
			if (frame.t === 'file-ack') acked = Math.max(acked, frame.offset);
			else problem = frame;
			wakeAck();
		});
		const outcome = this.next(
			(f) => (f.t === 'file-done' || f.t === 'file-cancelled') && f.upload === upload,
		);
		outcome.catch(() => {});
		const watermark = this.options.watermarkBytes ?? 64 * 1024;
		const window = this.options.windowBytes ?? 256 * 1024;
		const chunk = Buffer.alloc(this.options.chunkBytes ?? FILE_CHUNK_BYTES);
		let offset = from;
		transfer.report(offset);
		while (offset < size) {
			transfer.throwIfCancelled();
			if (problem?.t === 'file-cancelled') throw new TransferError(problem.reason);
			if (!this.link.isOpen) throw new LinkLost();
			// Chat is written at once; chunks only while little waits, so chat never queues behind much.
			if (this.link.backlogBytes >= watermark) {
				await this.link.whenDrained();
				continue;
			}
			// Nor more than a window beyond what the server has taken: kernel buffers would hold
			// megabytes otherwise, and a chat frame would wait behind all of them.
			if (offset - acked >= window) {
				await new Promise<void>((resolve) => {
					wakeAck = resolve;
					transfer.wake = resolve;
				});
				continue;
			}
			const {bytesRead} = await handle.read(chunk, 0, Math.min(chunk.length, size - offset), offset);
			if (bytesRead === 0) throw new TransferError('the file got shorter while it was being sent');
			this.link.sendFile({
				t: 'file-chunk',
				upload,
				offset,
				data: chunk.subarray(0, bytesRead).toString('base64'),
			});
			offset += bytesRead;
			transfer.report(offset);
		}
		transfer.throwIfCancelled();
		this.link.sendFile({t: 'file-end', upload});
		const answer = await outcome;
		if (answer.t === 'file-cancelled') throw new TransferError(answer.reason);
		if (answer.t !== 'file-done') throw new TransferError(`unexpected ${answer.t}`);
		return answer.file;
	}

	// ---- downloads ----

	private async runDownload(
		transfer: RunningTransfer<string>,
		id: string,
		dest: string,
		overwrite: OverwritePolicy,
	): Promise<string> {
		let part: {path: string; fd: number} | undefined;
		let target: string | undefined;
		let meta: SharedFile | undefined;
		const hash = createHash('sha256');
		let received = 0;
		// Data frames may arrive before file-meta's answer is acted on: held until the part file is open.
		let accepting = false;
		const early: Extract<FileFrame, {t: 'file-data'}>[] = [];
		let sent = false;
		let problem: string | undefined;
		let wake: () => void = () => {};
		const write = (frame: Extract<FileFrame, {t: 'file-data'}>) => {
			if (frame.offset !== received) {
				problem ??= `data at ${frame.offset}, expected ${received}`;
				return;
			}
			const data = Buffer.from(frame.data, 'base64');
			writeSync(part!.fd, data);
			hash.update(data);
			received += data.length;
			transfer.report(received);
		};
		this.streams.set(id, (frame) => {
			if (frame.t === 'file-meta') accepting = true;
			else if (!accepting) return;
			else if (frame.t === 'file-data') part ? write(frame) : early.push(frame);
			else if (frame.t === 'file-sent') sent = true;
			else if (frame.t === 'file-cancelled') problem ??= frame.reason;
			wake();
		});
		transfer.cancelWith = () => this.link.sendFile({t: 'file-cancel', id});
		transfer.wake = () => wake();
		try {
			for (;;) {
				transfer.throwIfCancelled();
				await this.whenOpen(transfer);
				try {
					const answer = await this.request(
						{t: 'file-get', ref: '', id, ...(received > 0 ? {offset: received} : {}), ...this.roomField()},
						'file-meta',
					);
					if (!meta) {
						meta = answer.file;
						transfer.rename(meta.name);
						transfer.total = meta.size;
						target = await targetPath(dest, meta.name);
						if (await exists(target)) {
							if (overwrite === false || typeof overwrite === 'function') {
								// Stop the stream while we ask (or refuse): nothing is held meanwhile.
								accepting = false;
								early.length = 0;
								sent = false; // what the stopped stream said is not the next one's
								this.link.sendFile({t: 'file-cancel', id});
							}
							if (!(await allowed(overwrite, target)))
								throw new TransferError(`${target} exists; not overwritten`, 'exists');
						}
						const partPath = path.join(
							path.dirname(target),
							`.${path.basename(target)}.${randomBytes(4).toString('hex')}.part`,
						);
						part = {path: partPath, fd: openSync(partPath, 'wx', 0o600)};
						if (!accepting) continue; // asked: fetch again from the start
						for (const frame of early.splice(0)) write(frame);
					}
					while (!sent && problem === undefined) {
						transfer.throwIfCancelled();
						if (!this.link.isOpen) throw new LinkLost();
						await new Promise<void>((resolve) => {
							wake = resolve;
						});
					}
				} catch (error) {
					if (!(error instanceof LinkLost)) throw error;
					accepting = false;
					early.length = 0;
					sent = false;
					await sleep(200);
					continue;
				}
				if (problem !== undefined) throw new TransferError(problem);
				break;
			}
			transfer.throwIfCancelled();
			if (!meta || !part || target === undefined) throw new TransferError('no file');
			closeSync(part.fd);
			part.fd = -1;
			if (received !== meta.size) throw new TransferError(`got ${received} of ${meta.size} bytes`);
			if (hash.digest('hex') !== meta.sha256)
				throw new TransferError('SHA-256 mismatch: the download was corrupted; nothing was saved');
			// Checked again: something may have appeared there while we downloaded.
			if ((await exists(target)) && overwrite === false)
				throw new TransferError(`${target} exists; not overwritten`, 'exists');
			await rename(part.path, target);
			part = undefined;
			return target;
		} finally {
			this.streams.delete(id);
			if (part) {
				if (part.fd >= 0) closeSync(part.fd);
				await rm(part.path, {force: true});
			}
		}
	}

	// ---- plumbing ----

	private roomField(): {room?: string} {
		const room = this.options.room();
		return room === undefined ? {} : {room};
	}

	private isMine(room: string | undefined): boolean {
		const mine = this.options.room();
		return mine === undefined || room === undefined || roomKey(mine) === roomKey(room);
	}

	/** Sends a request with a fresh ref; resolves with the answer of type `type`, rejects with its error. */
	private async request<T extends FileServerMessage['t']>(
		message: Extract<FileClientMessage, {ref: string}>,
		type: T,
	): Promise<Extract<FileServerMessage, {t: T}>> {
		const ref = `${FILE_REF_PREFIX}${randomBytes(3).toString('hex')}${++this.counter}`;
		const answer = this.next((f) => 'ref' in f && f.ref === ref && (f.t === type || f.t === 'error'));
		this.link.sendFile({...message, ref});
		const frame = await answer;
		if (frame.t === 'error') {
			if (frame.code === 'not-joined') throw new LinkLost(); // not back in the room yet: try again
			throw new TransferError(frame.message, frame.code);
		}
		return frame as Extract<FileServerMessage, {t: T}>;
	}

	/** The next frame matching; rejects with LinkLost when the connection drops first. */
	private next(match: (frame: FileFrame) => boolean): Promise<FileFrame> {
		return new Promise((resolve, reject) => {
			const waiter: Waiter = {
				match: (frame) => frame.t === 'link-lost' || match(frame),
				resolve: (frame) => {
					this.waiters.delete(waiter);
					if (frame.t === 'link-lost') reject(new LinkLost());
					else resolve(frame);
				},
			};
			this.waiters.add(waiter);
		});
	}

	/** Waits for the connection to be back, a while at most. */
	private async whenOpen(transfer: RunningTransfer<unknown>): Promise<void> {
		const deadline = Date.now() + (this.options.resumeWithinMs ?? 60_000);
		while (!this.link.isOpen) {
			transfer.throwIfCancelled();
			if (Date.now() > deadline) throw new TransferError('the connection did not come back', 'network');
			await sleep(100);
		}
	}

	private onFrame(frame: FileFrame): void {
		if (frame.t === 'file' && this.isMine(frame.room))
			for (const listener of this.announceListeners) listener(frame.file);
		const key =
			'upload' in frame && frame.upload !== undefined
				? frame.upload
				: frame.t === 'file-meta'
					? frame.file.id
					: 'id' in frame
						? frame.id
						: undefined;
		if (key !== undefined) this.streams.get(key)?.(frame);
		if (frame.t === 'link-lost') for (const stream of this.streams.values()) stream(frame);
		for (const waiter of [...this.waiters]) if (waiter.match(frame)) waiter.resolve(frame);
	}
}

class RunningTransfer<T> implements Transfer<T> {
	total = 0;
	progress: TransferProgress = {done: 0, total: 0, rate: 0, etaMs: undefined};
	result!: Promise<T>;
	cancelWith: (() => void) | undefined;
	/** Wakes a download waiting for data, so it sees it was cancelled. */
	wake: (() => void) | undefined;
	private cancelled = false;
	private readonly listeners = new Set<(progress: TransferProgress) => void>();
	private readonly samples: {at: number; done: number}[] = [];

	constructor(
		readonly kind: 'upload' | 'download',
		public name: string,
	) {}

	start(run: () => Promise<T>): void {
		this.result = run();
		this.result.catch(() => {});
	}

	rename(name: string): void {
		this.name = name;
	}

	cancel(): void {
		if (this.cancelled) return;
		this.cancelled = true;
		this.cancelWith?.();
		this.wake?.();
	}

	throwIfCancelled(): void {
		if (this.cancelled) throw new TransferError('cancelled', 'cancelled');
	}

	onProgress(listener: (progress: TransferProgress) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	report(done: number): void {
		const at = performance.now();
		this.samples.push({at, done});
		while (this.samples.length > 2 && at - this.samples[0]!.at > 3000) this.samples.shift();
		const first = this.samples[0]!;
		const seconds = (at - first.at) / 1000;
		const rate = seconds > 0.05 ? (done - first.done) / seconds : 0;
		this.progress = {
			done,
			total: this.total,
			rate,
			etaMs: rate > 0 ? ((this.total - done) / rate) * 1000 : undefined,
		};
		for (const listener of this.listeners) listener(this.progress);
	}
}

function hashOf(filePath: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const hash = createHash('sha256');
		createReadStream(filePath)
			.on('data', (chunk) => hash.update(chunk))
			.on('error', reject)
			.on('end', () => resolve(hash.digest('hex')));
	});
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const exists = async (file: string) => (await stat(file).catch(() => undefined)) !== undefined;

async function allowed(overwrite: OverwritePolicy, target: string): Promise<boolean> {
	return typeof overwrite === 'function' ? overwrite(target) : overwrite;
}

/** Where a download goes: into `dest` when it is a directory, else `dest` itself. */
async function targetPath(dest: string, name: string): Promise<string> {
	const info = await stat(dest).catch(() => undefined);
	if (info?.isDirectory()) return path.join(dest, safeFileName(name));
	return path.resolve(dest);
}

/**
 * A name safe to save under: its last path part only, without control or
 * bidi characters, characters Windows refuses, or leading dots.
 */
export function safeFileName(name: string): string {
	const last = name.split(/[/\\]/).filter(Boolean).pop() ?? '';
	const cleaned = last
		.replace(/[\u0000-\u001F\u007F-\u009F\u061C\u200B-\u200F\u2028-\u202E\u2066-\u2069]/gu, '')
		.replace(/[<>:"|?*]/g, '_')
		.replace(/^[.\s]+/, '')
		.trim();
	const limited = Buffer.from(cleaned)
		.subarray(0, 200)
		.toString('utf8')
		.replace(/\uFFFD$/, '');
	return limited === '' ? 'download' : limited;
}

/** The line shown when a file is shared: who, what, how big, and how to get it. */
export function describeSharedFile(file: SharedFile, me: string | undefined): string {
	const name = JSON.stringify(sanitizeText(file.name));
	const who = file.from === me ? 'you' : sanitizeText(file.from);
	const whom =
		file.to === undefined ? 'shared' : file.to === me ? 'sent you' : `sent ${sanitizeText(file.to)}`;
	return `${who} ${whom} ${name} (${formatBytes(file.size)}): /get ${file.id}`;
}
