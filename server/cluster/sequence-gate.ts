// Releases a room's sequenced events in strictly increasing seq, whatever order
// they arrive in: this server's committed appends and other servers' events
// off the broker. A gap (N + 1 here, N not) waits a little for the broker,
// then is filled from the store: the store's counter lock commits N before
// N + 1, so whoever holds N + 1 can always read N. Anything below `next` is
// a duplicate and dropped. No sockets, no timers beyond the gap's.

import type {Log} from '../log/log.js';

export interface SequenceGateOptions<E extends {seq: number}> {
	/** The first seq to release (the store's latest + 1 when the room opened). */
	next: number;
	/** Called once per seq, in order. */
	release: (event: E) => void;
	/** The stored events after `after`, oldest first (at most a page). */
	fill: (after: number) => Promise<E[]>;
	/** How long a gap waits for the broker before the store is asked (ms). */
	gapMs: number;
	/** Events that came from the store rather than the broker or this server. */
	onFilled?: (count: number) => void;
	log?: Log;
}

export class SequenceGate<E extends {seq: number}> {
	private nextSeq: number;
	private readonly pending = new Map<number, E>();
	/** The highest seq some server said exists. */
	private known = 0;
	private timer: NodeJS.Timeout | undefined;
	private filling: Promise<void> | undefined;
	private closed = false;
	/** Events dropped as already released. */
	duplicates = 0;

	constructor(private readonly options: SequenceGateOptions<E>) {
		this.nextSeq = options.next;
	}

	/** The seq released next. */
	get next(): number {
		return this.nextSeq;
	}

	/** Events held behind a gap. */
	get waiting(): number {
		return this.pending.size;
	}

	offer(event: E): void {
		if (this.closed) return;
		if (event.seq < this.nextSeq || this.pending.has(event.seq)) {
			this.duplicates++;
			return;
		}
		this.pending.set(event.seq, event);
		this.drain();
	}

	/** Some server says events up to `seq` exist (it published while we may not have listened). */
	heardOf(seq: number): void {
		this.known = Math.max(this.known, seq);
		this.drain();
	}

	/**
	 * Reads what the store holds beyond what was released and releases it: a gap
	 * fill, a poll while the broker is away, a resync when it is back.
	 */
	catchUp(): Promise<void> {
		if (this.filling) return this.filling;
		this.filling = this.fillOnce().finally(() => {
			this.filling = undefined;
			this.drain();
		});
		return this.filling;
	}

	close(): void {
		this.closed = true;
		clearTimeout(this.timer);
		this.pending.clear();
	}

	private drain(): void {
		for (let event = this.pending.get(this.nextSeq); event; event = this.pending.get(this.nextSeq)) {
			this.pending.delete(this.nextSeq);
			this.nextSeq++;
			this.options.release(event);
		}
		const gap = this.pending.size > 0 || this.known >= this.nextSeq;
		if (!gap) {
			clearTimeout(this.timer);
			this.timer = undefined;
			return;
		}
		if (this.timer || this.closed) return;
		this.timer = setTimeout(() => {
			this.timer = undefined;
			void this.catchUp();
		}, this.options.gapMs);
		this.timer.unref();
	}

	private async fillOnce(): Promise<void> {
		let filled = 0;
		try {
			for (;;) {
				if (this.closed) return;
				const before = this.nextSeq;
				const events = await this.options.fill(before - 1);
				for (const event of events) {
					if (event.seq >= this.nextSeq && !this.pending.has(event.seq)) filled++;
					this.offer(event);
				}
				// A short page is the end; no progress means the store has nothing newer yet.
				if (events.length === 0 || this.nextSeq === before) break;
			}
		} catch (error) {
			this.options.log?.(`reading missed events from the store failed: ${(error as Error).message}`, {
				level: 'warn',
			});
		} finally {
			if (filled > 0) this.options.onFilled?.(filled);
		}
	}
}
