// TCP framing: a 4-byte big-endian length, then that many payload bytes.
// TCP delivers a byte stream, so one read may hold half a header or a dozen
// frames; the decoder reassembles them without ever holding more than one
// frame's worth of memory.

export const FRAME_HEADER_BYTES = 4;
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

export type FrameErrorCode = 'frame-too-large' | 'truncated-frame' | 'decoder-failed';

export class FrameError extends Error {
	constructor(
		readonly code: FrameErrorCode,
		message: string,
	) {
		super(message);
		this.name = 'FrameError';
	}
}

export function encodeFrame(payload: Buffer, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Buffer {
	if (payload.length > maxFrameBytes)
		throw new FrameError('frame-too-large', `frame of ${payload.length} bytes exceeds ${maxFrameBytes}`);
	const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
	frame.writeUInt32BE(payload.length, 0);
	payload.copy(frame, FRAME_HEADER_BYTES);
	return frame;
}

export interface FrameDecoderOptions {
	maxFrameBytes?: number;
}

export class FrameDecoder {
	readonly maxFrameBytes: number;
	readonly #header = Buffer.alloc(FRAME_HEADER_BYTES);
	#headerFilled = 0;
	/** The body being filled; allocated only once the header said how big it is. */
	#body: Buffer | undefined;
	#bodyFilled = 0;
	#failed = false;

	constructor(options: FrameDecoderOptions = {}) {
		this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
	}

	/** Bytes of an incomplete frame held so far (header included). */
	get bufferedBytes(): number {
		return this.#headerFilled + this.#bodyFilled;
	}

	/**
	 * Feeds bytes from the stream; returns every frame they complete. After a
	 * FrameError the stream is out of sync and the decoder refuses further input,
	 * so the caller should close the connection.
	 */
	push(chunk: Uint8Array): Buffer[] {
		if (this.#failed) throw new FrameError('decoder-failed', 'decoder already failed');
		const frames: Buffer[] = [];
		let offset = 0;
		while (offset < chunk.length) {
			if (this.#body === undefined) {
				const take = Math.min(FRAME_HEADER_BYTES - this.#headerFilled, chunk.length - offset);
				this.#header.set(chunk.subarray(offset, offset + take), this.#headerFilled);
				this.#headerFilled += take;
				offset += take;
				if (this.#headerFilled < FRAME_HEADER_BYTES) break;
				const length = this.#header.readUInt32BE(0);
				// Refuse before allocating, so a lying header costs us nothing.
				if (length > this.maxFrameBytes) {
					this.#failed = true;
					throw new FrameError('frame-too-large', `frame of ${length} bytes exceeds ${this.maxFrameBytes}`);
				}
				this.#body = Buffer.allocUnsafe(length);
				this.#bodyFilled = 0;
			}
			const take = Math.min(this.#body.length - this.#bodyFilled, chunk.length - offset);
			this.#body.set(chunk.subarray(offset, offset + take), this.#bodyFilled);
			this.#bodyFilled += take;
			offset += take;
			if (this.#bodyFilled === this.#body.length) {
				frames.push(this.#body);
				this.#body = undefined;
				this.#bodyFilled = 0;
				this.#headerFilled = 0;
			}
		}
		return frames;
	}

	/** Call when the stream ends; throws if it stopped in the middle of a frame. */
	end(): void {
		if (this.#failed || this.bufferedBytes === 0) return;
		const held = this.bufferedBytes;
		this.#failed = true;
		throw new FrameError('truncated-frame', `stream ended inside a frame (${held} bytes pending)`);
	}
}
