// One TCP (or TLS) connection seen as a stream of JSON frames. Outgoing frames
// are queued and written once per event-loop turn (one write per socket per
// turn, however many messages fanned out to it), every link from one callback;
// links whose queues hold the same frames (a room's broadcasts) share one
// joined buffer. The queue is bounded: a reader too slow to keep up is
// disconnected instead of growing our memory.

import type {Socket} from 'node:net';
import {FrameDecoder, FrameError, encodeFrame} from '../../source/protocol/framing.js';
import {ProtocolError, decodeJson, encodeJson, type ErrorCode} from '../../source/protocol/messages.js';

type Message = Parameters<typeof encodeJson>[0];

/** Links with frames queued, written together after this turn's I/O. */
let dirty: FramedLink[] = [];

function flushAll(): void {
	const links = dirty;
	dirty = [];
	// Consecutive links mostly got the same broadcasts: join those frames once, not once per link.
	let shared: {frames: Buffer[]; data: Buffer} | undefined;
	for (const link of links) {
		const frames = link.takeQueue();
		if (frames === undefined) continue;
		let data: Buffer;
		if (frames.length === 1) data = frames[0]!;
		else if (shared !== undefined && sameFrames(frames, shared.frames)) data = shared.data;
		else {
			data = Buffer.concat(frames);
			shared = {frames, data};
		}
		link.socket.write(data);
	}
}

function sameFrames(a: Buffer[], b: Buffer[]): boolean {
	if (a.length !== b.length) return false;
	for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
	return true;
}

export interface FramedLinkOptions {
	maxFrameBytes: number;
	/** Bytes queued or buffered in the socket beyond which the peer counts as stuck. */
	maxQueueBytes: number;
	onMessage(value: unknown): void;
	/** A protocol violation or overflow (code too-slow): the link is already closing with this reason. */
	onViolation(reason: string, code: ErrorCode): void;
	onClose(): void;
	/** Counts frames in and out (the server's metrics). */
	counters?: {messagesIn: number; messagesOut: number};
}

export class FramedLink {
	private readonly decoder: FrameDecoder;
	private queue: Buffer[] = [];
	private queuedBytes = 0;
	private flushScheduled = false;
	private closed = false;

	constructor(
		readonly socket: Socket,
		private readonly options: FramedLinkOptions,
	) {
		this.decoder = new FrameDecoder({maxFrameBytes: options.maxFrameBytes});
		socket.on('data', (chunk) => this.onData(chunk));
		socket.on('end', () => {
			if (this.decoder.bufferedBytes > 0) this.violation('connection ended inside a frame');
			socket.end();
		});
		socket.on('error', () => {}); // 'close' follows; a reset peer is not our error
		socket.on('close', () => {
			this.closed = true;
			this.queue = [];
			options.onClose();
		});
	}

	get isOpen(): boolean {
		return !this.closed;
	}

	/** Bytes queued here or in the socket, not yet handed to the kernel: file downloads wait while it is high. */
	get backlogBytes(): number {
		return this.queuedBytes + this.socket.writableLength;
	}

	/** Queues an already-encoded frame (broadcasts encode once and share the buffer). */
	enqueue(frame: Buffer): void {
		if (this.closed) return;
		if (this.options.counters) this.options.counters.messagesOut++;
		this.queue.push(frame);
		this.queuedBytes += frame.length;
		if (this.queuedBytes + this.socket.writableLength > this.options.maxQueueBytes) {
			this.queue = [];
			this.queuedBytes = 0;
			this.violation('too slow: send queue overflowed', 'too-slow');
			return;
		}
		if (!this.flushScheduled) {
			this.flushScheduled = true;
			if (dirty.length === 0) setImmediate(flushAll);
			dirty.push(this);
		}
	}

	send(message: Message): void {
		this.enqueue(encodeFrame(encodeJson(message), this.options.maxFrameBytes));
	}

	/** Sends a last message, then closes the connection once it is written. */
	close(last?: Message): void {
		if (this.closed) return;
		this.closed = true;
		if (last) {
			this.queue.push(encodeFrame(encodeJson(last), this.options.maxFrameBytes));
			if (this.options.counters) this.options.counters.messagesOut++;
		}
		this.writeQueue();
		this.socket.end();
		// A peer that never reads must not keep the socket forever.
		setTimeout(() => this.socket.destroy(), 2000).unref();
	}

	/** The frames to write now (flushAll), undefined when none or closed. */
	takeQueue(): Buffer[] | undefined {
		this.flushScheduled = false;
		if (this.closed || this.queue.length === 0) return undefined;
		const frames = this.queue;
		this.queue = [];
		this.queuedBytes = 0;
		return frames;
	}

	private writeQueue(): void {
		if (this.queue.length === 0) return;
		const data = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue);
		this.queue = [];
		this.queuedBytes = 0;
		this.socket.write(data);
	}

	private onData(chunk: Buffer): void {
		if (this.closed) return;
		let frames: Buffer[];
		try {
			frames = this.decoder.push(chunk);
		} catch (error) {
			this.violation(error instanceof FrameError ? error.message : 'bad frame');
			return;
		}
		for (const frame of frames) {
			if (this.closed) return;
			let value: unknown;
			try {
				value = decodeJson(frame);
			} catch (error) {
				this.violation(error instanceof ProtocolError ? error.message : 'bad frame');
				return;
			}
			if (this.options.counters) this.options.counters.messagesIn++;
			this.options.onMessage(value);
		}
	}

	private violation(reason: string, code: ErrorCode = 'bad-request'): void {
		if (this.closed) return;
		this.close({t: 'error', code, message: reason});
		this.options.onViolation(reason, code);
	}
}
