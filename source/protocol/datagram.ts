// UDP datagram codec. Every datagram stays under a payload size that crosses
// any path without IP fragmentation; larger messages (a long CJK message is
// 3 bytes a character) are split into numbered fragments and reassembled.
//
//   whole:    0x01 | JSON
//   fragment: 0x02 | message id (u32 BE) | index (u8) | count (u8) | bytes
//
// The JSON a client sends is a client message plus the UDP envelope: `k`, the
// credential (the cookie in hello, the session id after the welcome).

import * as v from 'valibot';
import {
	ProtocolError,
	checkRange,
	clientMessageVariant,
	decodeJson,
	encodeJson,
	type ClientMessage,
	type ServerMessage,
} from './messages.js';
import {parseWith} from './schema-kit.js';

/** What a UDP client sends: any client message, with its credential `k` (absent only in join). */
export const UdpClientDatagramSchema = clientMessageVariant({
	k: v.optional(v.pipe(v.string(), v.maxLength(64))),
});
export type UdpClientDatagram = v.InferOutput<typeof UdpClientDatagramSchema>;

/** Splits a client datagram's JSON into the message and its credential ('' when absent). */
export function parseUdpClientDatagram(value: unknown): {message: ClientMessage; credential: string} {
	const {k, ...message} = checkRange(parseWith(UdpClientDatagramSchema, value));
	return {message: message as ClientMessage, credential: k ?? ''};
}

export const MAX_DATAGRAM = 1200;
const WHOLE = 0x01;
const FRAGMENT = 0x02;
const FRAGMENT_HEADER = 7;
const CHUNK = MAX_DATAGRAM - FRAGMENT_HEADER;
export const MAX_FRAGMENTS = 24;

export class DatagramEncoder {
	private nextId = 1;

	/** One message → the datagrams to send, in order. */
	encode(message: UdpClientDatagram | ServerMessage): Buffer[] {
		const json = encodeJson(message);
		if (json.length + 1 <= MAX_DATAGRAM) return [Buffer.concat([Buffer.of(WHOLE), json])];
		const count = Math.ceil(json.length / CHUNK);
		if (count > MAX_FRAGMENTS) throw new ProtocolError('too-long', 'message too large for a datagram stream');
		const id = this.nextId;
		this.nextId = (this.nextId % 0xffff_ffff) + 1;
		const out: Buffer[] = [];
		for (let index = 0; index < count; index++) {
			const header = Buffer.alloc(FRAGMENT_HEADER);
			header[0] = FRAGMENT;
			header.writeUInt32BE(id, 1);
			header[5] = index;
			header[6] = count;
			out.push(Buffer.concat([header, json.subarray(index * CHUNK, (index + 1) * CHUNK)]));
		}
		return out;
	}
}

interface Partial {
	count: number;
	parts: Array<Buffer | undefined>;
	received: number;
	bytes: number;
	started: number;
}

export interface ReassemblerOptions {
	/** Incomplete messages kept per source; the oldest is dropped beyond it. */
	perSource?: number;
	/** Bytes held across all incomplete messages. */
	maxBytes?: number;
	/**
	 * Bytes one group of sources (one host: the UDP server groups address|port
	 * by address) may hold, so one host's unfinished messages evict only its own.
	 */
	maxGroupBytes?: number;
	/** Which group a source belongs to; by default each source is its own. */
	groupOf?: (source: string) => string;
	timeoutMs?: number;
	now?: () => number;
}

/**
 * Turns datagrams back into decoded JSON values. Bounded in memory: a source
 * that sends fragments and never finishes costs at most `perSource` slots and
 * at most `maxGroupBytes` for its group (host), and stale partial messages
 * expire. When the whole pool is over `maxBytes`, the group holding the most
 * pays, never a small honest one.
 */
export class Reassembler {
	private readonly partial = new Map<string, Map<number, Partial>>();
	private bytes = 0;
	private readonly groupBytes = new Map<string, number>();
	private readonly perSource: number;
	private readonly maxBytes: number;
	private readonly maxGroupBytes: number;
	private readonly groupOf: (source: string) => string;
	private readonly timeoutMs: number;
	private readonly now: () => number;

	constructor(options: ReassemblerOptions = {}) {
		this.perSource = options.perSource ?? 4;
		this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
		this.maxGroupBytes = options.maxGroupBytes ?? 512 * 1024;
		this.groupOf = options.groupOf ?? ((source) => source);
		this.timeoutMs = options.timeoutMs ?? 5000;
		this.now = options.now ?? Date.now;
	}

	get heldBytes(): number {
		return this.bytes;
	}

	/** Returns the decoded value once complete, undefined while waiting; throws ProtocolError on bad input. */
	push(source: string, datagram: Buffer): unknown {
		if (datagram.length === 0) throw new ProtocolError('bad-request', 'empty datagram');
		if (datagram.length > MAX_DATAGRAM) throw new ProtocolError('too-long', 'datagram too large');
		if (datagram[0] === WHOLE) return decodeJson(datagram.subarray(1));
		if (datagram[0] !== FRAGMENT || datagram.length <= FRAGMENT_HEADER)
			throw new ProtocolError('bad-request', 'unknown datagram kind');
		const id = datagram.readUInt32BE(1);
		const index = datagram[5]!;
		const count = datagram[6]!;
		if (count < 2 || count > MAX_FRAGMENTS || index >= count)
			throw new ProtocolError('bad-request', 'bad fragment header');
		let messages = this.partial.get(source);
		if (!messages) {
			messages = new Map();
			this.partial.set(source, messages);
		}
		let entry = messages.get(id);
		if (!entry) {
			if (messages.size >= this.perSource) this.dropOldest(source, messages);
			entry = {count, parts: new Array(count), received: 0, bytes: 0, started: this.now()};
			messages.set(id, entry);
		}
		if (entry.count !== count) throw new ProtocolError('bad-request', 'fragment count changed');
		if (entry.parts[index]) return undefined; // a duplicate
		const body = Buffer.from(datagram.subarray(FRAGMENT_HEADER));
		entry.parts[index] = body;
		entry.received++;
		entry.bytes += body.length;
		this.bytes += body.length;
		const group = this.groupOf(source);
		this.addGroupBytes(group, body.length);
		if ((this.groupBytes.get(group) ?? 0) > this.maxGroupBytes) this.evictGroup(group, this.maxGroupBytes);
		while (this.bytes > this.maxBytes) {
			const before = this.bytes;
			this.evictGroup(this.largestGroup(), 0, this.bytes - this.maxBytes);
			if (this.bytes === before) break; // nothing left to evict
		}
		if (messages.get(id) !== entry) return undefined; // evicted just now
		if (entry.received < entry.count) return undefined;
		this.forget(source, id);
		return decodeJson(Buffer.concat(entry.parts as Buffer[]));
	}

	/** Drops partial messages older than the timeout; call now and then. */
	sweep(): number {
		const cutoff = this.now() - this.timeoutMs;
		let dropped = 0;
		for (const [source, messages] of this.partial) {
			for (const [id, entry] of messages) {
				if (entry.started < cutoff) {
					this.forget(source, id);
					dropped++;
				}
			}
		}
		return dropped;
	}

	forgetSource(source: string): void {
		for (const id of [...(this.partial.get(source)?.keys() ?? [])]) this.forget(source, id);
	}

	private dropOldest(source: string, messages: Map<number, Partial>): void {
		const oldest = messages.keys().next();
		if (!oldest.done) this.forget(source, oldest.value);
	}

	private largestGroup(): string {
		let largest = '';
		let most = -1;
		for (const [group, bytes] of this.groupBytes) {
			if (bytes > most) [largest, most] = [group, bytes];
		}
		return largest;
	}

	/** Drops the group's oldest partial messages until it holds at most `keep` bytes or has freed `free`. */
	private evictGroup(group: string, keep: number, free = Number.POSITIVE_INFINITY): void {
		const start = this.groupBytes.get(group) ?? 0;
		for (const [source, messages] of [...this.partial]) {
			if (this.groupOf(source) !== group) continue;
			for (const id of [...messages.keys()]) {
				const held = this.groupBytes.get(group) ?? 0;
				if (held <= keep || start - held >= free) return;
				this.forget(source, id);
			}
		}
	}

	private addGroupBytes(group: string, delta: number): void {
		const bytes = (this.groupBytes.get(group) ?? 0) + delta;
		if (bytes > 0) this.groupBytes.set(group, bytes);
		else this.groupBytes.delete(group);
	}

	private forget(source: string, id: number): void {
		const messages = this.partial.get(source);
		const entry = messages?.get(id);
		if (!messages || !entry) return;
		this.bytes -= entry.bytes;
		this.addGroupBytes(this.groupOf(source), -entry.bytes);
		messages.delete(id);
		if (messages.size === 0) this.partial.delete(source);
	}
}
