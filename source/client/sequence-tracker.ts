// Delivers a sequenced stream in order over a lossy transport. Out-of-order
// items wait while the gap before them is requested again; a gap the server
// cannot fill (or that stays open too long) becomes an explicit "lost" count,
// so loss is never silent and one lost datagram never stalls the stream.

export interface SequenceTrackerOptions<T> {
	deliver(item: T): void;
	lost(count: number): void;
	requestResend(from: number, to: number): void;
	now?: () => number;
	/** How long to wait for a requested resend before asking again. */
	retryMs?: number;
	/** Requests per gap before it is declared lost. */
	maxTries?: number;
	/** Held items beyond this declare the oldest gap lost at once (bounded memory). */
	maxHeld?: number;
}

export class SequenceTracker<T> {
	private nextSeq: number;
	private readonly held = new Map<number, T>();
	private readonly lostRanges: Array<[number, number]> = [];
	private gap: {from: number; to: number; asked: number; tries: number} | undefined;
	private readonly now: () => number;
	private readonly retryMs: number;
	private readonly maxTries: number;
	private readonly maxHeld: number;

	constructor(
		next: number,
		private readonly options: SequenceTrackerOptions<T>,
	) {
		this.nextSeq = next;
		this.now = options.now ?? Date.now;
		this.retryMs = options.retryMs ?? 400;
		this.maxTries = options.maxTries ?? 4;
		this.maxHeld = options.maxHeld ?? 2000;
	}

	/** The next sequence number expected; everything before it was delivered or reported lost. */
	get next(): number {
		return this.nextSeq;
	}

	get waiting(): boolean {
		return this.gap !== undefined;
	}

	reset(next: number): void {
		this.nextSeq = next;
		this.held.clear();
		this.lostRanges.length = 0;
		this.gap = undefined;
	}

	accept(seq: number, item: T): void {
		if (seq < this.nextSeq || this.held.has(seq)) return; // a duplicate
		this.held.set(seq, item);
		this.drain();
		if (this.held.size > this.maxHeld) this.giveUpOnGap();
	}

	/** The server says it has no copy of [from, to]. */
	markLost(from: number, to: number): void {
		if (to < this.nextSeq) return;
		this.lostRanges.push([Math.max(from, this.nextSeq), to]);
		this.drain();
	}

	/** The server's latest sequence number (from a pong): a silent tail gap is a gap too. */
	observeLatest(latest: number): void {
		if (latest < this.nextSeq || this.gap) return;
		this.openGap(this.nextSeq, latest);
	}

	/** Call periodically: re-asks for a stalled gap and finally reports it lost. */
	tick(): void {
		const gap = this.gap;
		if (!gap || this.now() - gap.asked < this.retryMs) return;
		if (gap.tries >= this.maxTries) {
			this.giveUpOnGap();
			return;
		}
		gap.tries++;
		gap.asked = this.now();
		this.options.requestResend(gap.from, gap.to);
	}

	private drain(): void {
		let lost = 0;
		for (;;) {
			const item = this.held.get(this.nextSeq);
			if (item !== undefined) {
				if (lost > 0) this.options.lost(lost);
				lost = 0;
				this.held.delete(this.nextSeq);
				this.nextSeq++;
				this.options.deliver(item);
				continue;
			}
			const range = this.lostRanges.find(([from, to]) => from <= this.nextSeq && this.nextSeq <= to);
			if (!range) break;
			lost += range[1] - this.nextSeq + 1;
			this.nextSeq = range[1] + 1;
		}
		if (lost > 0) this.options.lost(lost);
		this.pruneLostRanges();
		this.updateGap();
	}

	private pruneLostRanges(): void {
		for (let i = this.lostRanges.length - 1; i >= 0; i--) {
			if (this.lostRanges[i]![1] < this.nextSeq) this.lostRanges.splice(i, 1);
		}
	}

	private updateGap(): void {
		if (this.held.size === 0) {
			// Keep a tail gap (from observeLatest) open until it is filled.
			if (this.gap && this.gap.to < this.nextSeq) this.gap = undefined;
			if (this.gap) this.gap.from = this.nextSeq;
			return;
		}
		const firstHeld = Math.min(...this.held.keys());
		if (this.gap && this.gap.from === this.nextSeq && this.gap.to >= firstHeld - 1) return;
		this.openGap(this.nextSeq, firstHeld - 1);
	}

	private openGap(from: number, to: number): void {
		this.gap = {from, to, asked: this.now(), tries: 1};
		this.options.requestResend(from, to);
	}

	private giveUpOnGap(): void {
		const gap = this.gap;
		const firstHeld = this.held.size > 0 ? Math.min(...this.held.keys()) : undefined;
		const to = firstHeld !== undefined ? firstHeld - 1 : (gap?.to ?? this.nextSeq - 1);
		this.gap = undefined;
		if (to >= this.nextSeq) this.markLost(this.nextSeq, to);
	}
}
