// The chat log: a capped, append-mostly list of entries with ids that grow
// along it (an older page of the room, prepended, gets ids below the oldest). It is mutable on purpose (copying 10,000 entries per message would be
// wasteful); `version` changes on every edit so React knows to draw again.
// Entries themselves are immutable objects: an edit replaces the object, which
// is what the wrapped-row cache keys on.

import type {ErrorCode, PresenceKind} from '../protocol/messages.js';

export const DEFAULT_SCROLLBACK_CAP = 10_000;

interface Base {
	readonly id: number;
	/** Milliseconds since the epoch. */
	readonly ts: number;
}

export type LogEntry = Base &
	(
		| {
				kind: 'message';
				from: string;
				text: string;
				action: boolean;
				self: boolean;
				history: boolean;
				/** The room's sequence number (0 or absent: none known). */
				seq?: number;
		  }
		| {kind: 'direct'; from: string; to: string; text: string; self: boolean}
		| {
				kind: 'presence';
				presence: PresenceKind;
				nick: string;
				old?: string;
				reason?: string;
				by?: string;
				text?: string;
				mode?: string;
				role?: string;
				until?: number;
				seq?: number;
		  }
		| {kind: 'lost'; count: number}
		| {kind: 'notice'; text: string}
		| {kind: 'error'; text: string}
		| {
				kind: 'outgoing';
				ref: string;
				from: string;
				text: string;
				to?: string;
				status: 'pending' | 'failed';
				reason?: string;
		  }
	);

/** An entry before the log gives it an id (and, by default, a timestamp). */
export type NewLogEntry = LogEntry extends infer E
	? E extends LogEntry
		? Omit<E, 'id' | 'ts'> & {ts?: number}
		: never
	: never;

export type FailureCode = ErrorCode | 'timeout';

export class Scrollback {
	/**
	 * Kept entries are entries[head…]: a full log drops its oldest line by
	 * moving `head`, and the dropped slots are cut off in one go once they are
	 * as many as a quarter of the cap. (splice(0, 1) per line copied the whole
	 * array every time: a third of a millisecond per line at 20,000 lines.)
	 */
	private entries: LogEntry[] = [];
	private head = 0;
	private nextId = 1;
	/** The id the oldest entry got; a prepended page takes the ids below it. */
	private lowestId = 1;
	private changes = 0;
	/** ref → id of lines still awaiting the server, oldest first. */
	private readonly pending = new Map<string, number>();

	constructor(
		readonly cap = DEFAULT_SCROLLBACK_CAP,
		private readonly now: () => number = Date.now,
	) {}

	get length(): number {
		return this.entries.length - this.head;
	}

	/** Bumped by every change. */
	get version(): number {
		return this.changes;
	}

	/** The id the next appended entry will get; everything older has a smaller id. */
	get nextEntryId(): number {
		return this.nextId;
	}

	/** 0 is the oldest entry kept. */
	at(index: number): LogEntry | undefined {
		return index < 0 ? undefined : this.entries[this.head + index];
	}

	newest(): LogEntry | undefined {
		return this.length === 0 ? undefined : this.entries.at(-1);
	}

	toArray(): readonly LogEntry[] {
		return this.entries.slice(this.head);
	}

	append(entry: NewLogEntry): LogEntry {
		const full = {...entry, id: this.nextId++, ts: entry.ts ?? this.now()} as LogEntry;
		if (this.length === 0) this.lowestId = full.id;
		this.entries.push(full);
		if (this.length > this.cap) this.head = this.entries.length - this.cap;
		if (this.head > 0 && this.head >= Math.max(64, this.cap / 4)) {
			this.entries = this.entries.slice(this.head);
			this.head = 0;
		}
		this.changes++;
		return full;
	}

	/**
	 * Puts older entries (oldest first) before the oldest one kept. The view
	 * counts rows from the bottom, so prepending never moves it. Past the cap
	 * the newest entries go: whoever pages back is looking at the other end.
	 */
	prepend(older: readonly NewLogEntry[]): void {
		if (older.length === 0) return;
		const first = this.lowestId - older.length;
		const added = older.map(
			(entry, index) => ({...entry, id: first + index, ts: entry.ts ?? this.now()}) as LogEntry,
		);
		this.lowestId = first;
		this.entries = [...added, ...this.entries.slice(this.head)];
		this.head = 0;
		if (this.entries.length > this.cap) this.entries.length = this.cap;
		this.changes++;
	}

	/** The oldest room sequence number in the log (where the previous page ends), if any entry has one. */
	oldestSeq(): number | undefined {
		for (let index = this.head; index < this.entries.length; index++) {
			const seq = seqOf(this.entries[index]!);
			if (seq !== undefined) return seq;
		}
		return undefined;
	}

	/** The newest room sequence number in the log, if any entry has one. */
	newestSeq(): number | undefined {
		for (let index = this.entries.length - 1; index >= this.head; index--) {
			const seq = seqOf(this.entries[index]!);
			if (seq !== undefined) return seq;
		}
		return undefined;
	}

	/** Others' chat lines with a sequence number above `seq` (walks back from the newest: O(the answer)). */
	countMessagesAboveSeq(seq: number): number {
		let count = 0;
		for (let index = this.entries.length - 1; index >= this.head; index--) {
			const entry = this.entries[index]!;
			const entrySeq = seqOf(entry);
			if (entrySeq === undefined) continue;
			if (entrySeq <= seq) break;
			if (entry.kind === 'message' && !entry.self) count++;
		}
		return count;
	}

	/** Our own line, shown dimmed until the server's echo acknowledges it. */
	addPending(ref: string, from: string, text: string, to?: string): LogEntry {
		const entry = this.append({
			kind: 'outgoing',
			ref,
			from,
			text,
			status: 'pending',
			...(to === undefined ? {} : {to}),
		});
		this.pending.set(ref, entry.id);
		return entry;
	}

	/** Ids grow along the array, so an id's index is a binary search away. */
	private indexOfId(id: number): number {
		let low = this.head;
		let high = this.entries.length - 1;
		while (low <= high) {
			const middle = (low + high) >> 1;
			const found = this.entries[middle]!.id;
			if (found === id) return middle;
			if (found < id) low = middle + 1;
			else high = middle - 1;
		}
		return -1;
	}

	/**
	 * Replaces the oldest pending line with the same text (and recipient) by the
	 * acknowledged entry, keeping its place on screen. The echo carries no ref,
	 * so text is the best key we have; identical texts are acknowledged in order.
	 * Returns false (and changes nothing) when no pending line matches.
	 */
	acknowledge(entry: NewLogEntry & ({kind: 'message'} | {kind: 'direct'})): boolean {
		const to = entry.kind === 'direct' ? entry.to : undefined;
		for (const [ref, id] of this.pending) {
			const index = this.indexOfId(id);
			const pending = this.entries[index];
			if (pending?.kind !== 'outgoing') {
				this.pending.delete(ref); // trimmed off the top or cleared
				continue;
			}
			if (pending.text !== entry.text || pending.to !== to) continue;
			this.pending.delete(ref);
			this.entries[index] = {...entry, id: pending.id, ts: entry.ts ?? pending.ts} as LogEntry;
			this.changes++;
			return true;
		}
		return false;
	}

	/** Marks the pending line with this ref as not sent; false when there is none. */
	fail(ref: string, code: FailureCode, reason: string): boolean {
		const id = this.pending.get(ref);
		if (id === undefined) return false;
		this.pending.delete(ref);
		const index = this.indexOfId(id);
		const pending = this.entries[index];
		if (pending?.kind !== 'outgoing') return false;
		this.entries[index] = {...pending, status: 'failed', reason: reason || code};
		this.changes++;
		return true;
	}

	clear(): void {
		this.entries = [];
		this.head = 0;
		this.lowestId = this.nextId;
		this.pending.clear();
		this.changes++;
	}

	/** How many chat lines (messages and direct messages) have ids above `afterId`. */
	countMessagesAfter(afterId: number): number {
		let count = 0;
		for (let index = this.entries.length - 1; index >= this.head; index--) {
			const entry = this.entries[index]!;
			if (entry.id <= afterId) break;
			if (entry.kind === 'message' || entry.kind === 'direct') count++;
		}
		return count;
	}
}

const seqOf = (entry: LogEntry): number | undefined =>
	(entry.kind === 'message' || entry.kind === 'presence') && entry.seq !== undefined && entry.seq > 0
		? entry.seq
		: undefined;
