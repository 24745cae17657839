// Cheap reading of benchmark traffic: a member process takes millions of
// deliveries a second, so it never parses a whole message. Every benchmark
// text ends in a tail, "|STEP|SCHEDULED-µs", which a reader finds by scanning
// back from the end of a line (IRC, RESP) or a frame (Parley), and the
// scanners cut a byte stream into lines or length-prefixed frames without
// copying more than the one record split between two reads.

/** Marks benchmark traffic at the start of every text. */
export const BENCH_PREFIX = 'bench ';

/**
 * One benchmark message's text, `bytes` long (padded with x): "bench SENDER N
 * xxx|STEP|SCHEDULED-µs". The scheduled send time is integer microseconds of
 * clock() (exact in a double), so latency counts from when it should have
 * gone, not from when a busy sender got round to it (open loop).
 */
export function benchText(sender: string, n: number, step: number, scheduledUs: number, bytes = 100): string {
	const head = `${BENCH_PREFIX}${sender} ${n} `;
	const tail = `|${step}|${Math.round(scheduledUs)}`;
	return head + 'x'.repeat(Math.max(0, bytes - head.length - tail.length)) + tail;
}

const PIPE = 0x7c;
const ZERO = 0x30;
const NINE = 0x39;
/** How far back from the end of a record the tail may start (a Parley frame has ref, seq and room after the text). */
const TAIL_WINDOW = 192;

/** The step and scheduled time of the last record read; fields, so reading one allocates nothing. */
export class TailReader {
	step = 0;
	scheduledUs = 0;

	/** Reads the tail of the record buf[start, end); false when it carries none. */
	read(buf: Uint8Array, start: number, end: number): boolean {
		const low = Math.max(start, end - TAIL_WINDOW);
		let pipe = end - 1;
		while (pipe >= low && buf[pipe] !== PIPE) pipe--;
		if (pipe < low) return false;
		let us = 0;
		let i = pipe + 1;
		for (; i < end; i++) {
			const c = buf[i]!;
			if (c < ZERO || c > NINE) break;
			us = us * 10 + (c - ZERO);
		}
		if (i === pipe + 1) return false;
		let step = 0;
		let scale = 1;
		let j = pipe - 1;
		for (; j >= low; j--) {
			const c = buf[j]!;
			if (c < ZERO || c > NINE) break;
			step += (c - ZERO) * scale;
			scale *= 10;
		}
		if (j === pipe - 1 || j < low || buf[j] !== PIPE) return false;
		this.step = step;
		this.scheduledUs = us;
		return true;
	}

	/** The same for a text already decoded (the room clients' events). */
	readText(text: string): boolean {
		const pipe = text.lastIndexOf('|');
		const before = text.lastIndexOf('|', pipe - 1);
		if (pipe < 1 || before < 0 || !text.startsWith(BENCH_PREFIX)) return false;
		const step = Number(text.slice(before + 1, pipe));
		const us = Number(text.slice(pipe + 1));
		if (!Number.isInteger(step) || !Number.isFinite(us) || pipe === before + 1) return false;
		this.step = step;
		this.scheduledUs = us;
		return true;
	}
}

/** Called with each record: buf[start, end) (a line without its CR LF, a frame without its header). */
export type RecordHandler = (buf: Buffer, start: number, end: number) => void;

/** Longest partial record held between reads; more means the peer is not speaking the protocol. */
const MAX_PARTIAL = 1 << 20;

/**
 * Cuts a stream into LF-terminated lines (a CR before the LF is left out).
 * Only a line split between two reads is copied; the rest is read where it
 * lies, so the chunk may be a buffer the caller reuses for its next read.
 */
export class LineScanner {
	#rest: Buffer | undefined;

	constructor(private readonly onLine: RecordHandler) {}

	push(chunk: Buffer): void {
		let pos = 0;
		if (this.#rest) {
			const lf = chunk.indexOf(0x0a);
			const line = Buffer.concat([this.#rest, lf === -1 ? chunk : chunk.subarray(0, lf + 1)]);
			this.#rest = undefined;
			if (lf === -1) return this.#keep(line, 0);
			this.#emit(line, 0, line.length - 1);
			pos = lf + 1;
		}
		for (;;) {
			const lf = chunk.indexOf(0x0a, pos);
			if (lf === -1) break;
			this.#emit(chunk, pos, lf);
			pos = lf + 1;
		}
		if (pos < chunk.length) this.#keep(chunk, pos);
	}

	#emit(buf: Buffer, start: number, lf: number): void {
		this.onLine(buf, start, lf > start && buf[lf - 1] === 0x0d ? lf - 1 : lf);
	}

	#keep(buf: Buffer, from: number): void {
		if (buf.length - from > MAX_PARTIAL) throw new Error(`a line over ${MAX_PARTIAL} bytes`);
		this.#rest = Buffer.from(buf.subarray(from));
	}
}

/** Cuts a stream into frames of a 4-byte big-endian length and that many bytes (Parley's TCP framing), as LineScanner. */
export class FrameScanner {
	#rest: Buffer | undefined;

	constructor(private readonly onFrame: RecordHandler) {}

	push(chunk: Buffer): void {
		let pos = 0;
		if (this.#rest) {
			// Complete the frame split between reads, copying only its own bytes.
			let rest = this.#rest;
			this.#rest = undefined;
			if (rest.length < 4) {
				pos = Math.min(4 - rest.length, chunk.length);
				rest = Buffer.concat([rest, chunk.subarray(0, pos)]);
				if (rest.length < 4) {
					this.#rest = rest;
					return;
				}
			}
			const total = 4 + frameLength(rest, 0);
			const take = Math.min(total - rest.length, chunk.length - pos);
			rest = Buffer.concat([rest, chunk.subarray(pos, pos + take)]);
			pos += take;
			if (rest.length < total) {
				this.#rest = rest;
				return;
			}
			this.onFrame(rest, 4, total);
		}
		while (chunk.length - pos >= 4) {
			const end = pos + 4 + frameLength(chunk, pos);
			if (end > chunk.length) break;
			this.onFrame(chunk, pos + 4, end);
			pos = end;
		}
		if (pos < chunk.length) this.#rest = Buffer.from(chunk.subarray(pos));
	}
}

/**
 * Cuts a stream of RESP2 replies (Redis) into records: the last element of an
 * array (a pub/sub `message` push: its payload; a subscribe confirmation: its
 * ":count"), or a whole simple reply (":n", "+OK", "-ERR …") with its type
 * byte. Bulk strings are skipped by their length, not searched for line ends:
 * a pushed message is seven lines. A value split between reads is kept and
 * completed with the next read (which is then copied once).
 */
export class RespScanner {
	#rest: Buffer | undefined;

	constructor(private readonly onRecord: RecordHandler) {}

	push(chunk: Buffer): void {
		const buf = this.#rest ? Buffer.concat([this.#rest, chunk]) : chunk;
		this.#rest = undefined;
		let pos = 0;
		for (;;) {
			const next = this.#value(buf, pos);
			if (next === -1) break;
			pos = next;
		}
		if (pos < buf.length) {
			if (buf.length - pos > MAX_PARTIAL) throw new Error(`a reply over ${MAX_PARTIAL} bytes`);
			this.#rest = Buffer.from(buf.subarray(pos));
		}
	}

	/** Reads one value at `pos` and hands on its record; its end, or -1 when it is not all there yet. */
	#value(buf: Buffer, pos: number): number {
		if (pos >= buf.length) return -1;
		if (buf[pos] !== STAR) {
			const cr = lineEnd(buf, pos);
			if (cr === -1) return -1;
			this.onRecord(buf, pos, cr);
			return cr + 2;
		}
		const count = readInt(buf, pos + 1);
		if (count === undefined) return -1;
		let at = intEnd + 2;
		let lastStart = at;
		let lastEnd = at;
		for (let i = 0; i < count; i++) {
			if (at >= buf.length) return -1;
			if (buf[at] === DOLLAR) {
				const length = readInt(buf, at + 1);
				if (length === undefined) return -1;
				lastStart = intEnd + 2;
				lastEnd = length < 0 ? lastStart : lastStart + length;
				at = length < 0 ? lastStart : lastEnd + 2;
				if (at > buf.length) return -1;
			} else {
				const cr = lineEnd(buf, at);
				if (cr === -1) return -1;
				lastStart = at;
				lastEnd = cr;
				at = cr + 2;
			}
		}
		this.onRecord(buf, lastStart, lastEnd);
		return at;
	}
}

const STAR = 0x2a;
const DOLLAR = 0x24;
const CR = 0x0d;

/** Where readInt's number ended (its CR): a module variable, so reading allocates nothing. */
let intEnd = 0;

/** A RESP length ("-1" or digits) from `at` to its CR LF; undefined when the CR LF is not there yet. */
function readInt(buf: Buffer, at: number): number | undefined {
	let value = 0;
	let sign = 1;
	let i = at;
	if (buf[i] === 0x2d) {
		sign = -1;
		i++;
	}
	for (; i < buf.length; i++) {
		const c = buf[i]!;
		if (c === CR) {
			if (i + 1 >= buf.length) return undefined;
			intEnd = i;
			return sign * value;
		}
		value = value * 10 + (c - ZERO);
	}
	return undefined;
}

/** The CR of the CR LF ending the line at `at`, or -1 when it has not all arrived. */
function lineEnd(buf: Buffer, at: number): number {
	const lf = buf.indexOf(0x0a, at);
	return lf === -1 ? -1 : lf - 1;
}

function frameLength(buf: Buffer, at: number): number {
	const length = buf.readUInt32BE(at);
	if (length > MAX_PARTIAL) throw new Error(`a frame of ${length} bytes`);
	return length;
}

/** True when buf[start, end) begins with `prefix` (e.g. a frame's `{"t":"msg"`). */
export function startsWith(buf: Uint8Array, start: number, end: number, prefix: Uint8Array): boolean {
	if (end - start < prefix.length) return false;
	for (let i = 0; i < prefix.length; i++) if (buf[start + i] !== prefix[i]) return false;
	return true;
}
