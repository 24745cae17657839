// Delivers a sequenced stream in order over a lossy transport. Out-of-order
// items wait while the gaps before them are requested again, every gap at
// once (one slow repair must not hold up the others); a gap the server cannot
// fill (or that stays open too long) becomes an explicit "lost" count, so loss
// is never silent and one lost datagram never stalls the stream.

export interface SequenceTrackerOptions<T> {
	deliver(item: T): void;
	lost(count: number): void;
	requestResend(from: number, to: number): void;
	now?: () => number;
	/** How long to wait for a requested resend before asking again. */
	retryMs?: number;
	/** Requests per gap before what is still missing of it is declared lost. */
	maxTries?: number;
	/** Held items beyond this declare the oldest gap lost at once (bounded memory). */
	maxHeld?: number;
}

export class SequenceTracker<T> {
	private nextSeq: number;
	/** The highest sequence number known to exist: received, announced by the server, or reported lost. */
	private highest: number;
	private readonly held = new Map<number, T>();
	private readonly lostRanges: Array<[number, number]> = [];
	/** Ranges asked for again and not yet delivered or given up, in sequence order. */
	private gaps: Gap[] = [];
	private readonly now: () => number;
	private readonly retryMs: number;
	private readonly maxTries: number;
	private readonly maxHeld: number;

	constructor(
		next: number,
		private readonly options: SequenceTrackerOptions<T>,
	) {
		this.nextSeq = next;
		this.highest = next - 1;
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
		return this.gaps.length > 0;
	}

	reset(next: number): void {
		this.nextSeq = next;
		this.highest = next - 1;
		this.held.clear();
		this.lostRanges.length = 0;
		this.gaps = [];
	}

	accept(seq: number, item: T): void {
		if (seq < this.nextSeq || this.held.has(seq)) return; // a duplicate
		if (seq > this.highest + 1) this.openGap(this.highest + 1, seq - 1);
		this.highest = Math.max(this.highest, seq);
		this.held.set(seq, item);
		this.drain();
		if (this.held.size > this.maxHeld) this.giveUp(this.gaps[0]);
	}

	/** The server says it has no copy of [from, to]. */
	markLost(from: number, to: number): void {
		if (to < this.nextSeq) return;
		this.lostRanges.push([Math.max(from, this.nextSeq), to]);
		this.highest = Math.max(this.highest, to);
		this.drain();
	}

	/** The server's latest sequence number (from a pong): a silent tail gap is a gap too. */
	observeLatest(latest: number): void {
		if (latest <= this.highest) return;
		this.openGap(this.highest + 1, latest);
		this.highest = latest;
	}

	/** Call periodically: re-asks for what is still missing of stalled gaps and finally reports it lost. */
	tick(): void {
		const now = this.now();
		for (const gap of [...this.gaps]) {
			if (now - gap.asked < this.retryMs) continue;
			const missing = this.missingIn(gap);
			if (missing.length === 0) {
				this.gaps = this.gaps.filter((other) => other !== gap); // filled; waits only for an earlier gap
				continue;
			}
			if (gap.tries >= this.maxTries) {
				this.giveUp(gap);
				continue;
			}
			gap.tries++;
			gap.asked = now;
			for (const [from, to] of missing) this.options.requestResend(from, to);
		}
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
			// Skip what is missing only: an item we hold inside the range is still delivered.
			const end = Math.min(range[1], this.firstHeldAfter(this.nextSeq) - 1);
			lost += end - this.nextSeq + 1;
			this.nextSeq = end + 1;
		}
		if (lost > 0) this.options.lost(lost);
		for (let i = this.lostRanges.length - 1; i >= 0; i--) {
			if (this.lostRanges[i]![1] < this.nextSeq) this.lostRanges.splice(i, 1);
		}
		if (this.gaps.length > 0 && this.gaps[0]!.from < this.nextSeq) {
			this.gaps = this.gaps.filter((gap) => gap.to >= this.nextSeq);
			if (this.gaps[0]) this.gaps[0].from = Math.max(this.gaps[0].from, this.nextSeq);
		}
	}

	private firstHeldAfter(seq: number): number {
		let first = Number.POSITIVE_INFINITY;
		for (const held of this.held.keys()) if (held > seq && held < first) first = held;
		return first;
	}

	private isLost(seq: number): boolean {
		return this.lostRanges.some(([from, to]) => from <= seq && seq <= to);
	}

	/** The runs of [gap.from, gap.to] neither received nor reported lost. */
	private missingIn(gap: Gap): Array<[number, number]> {
		const runs: Array<[number, number]> = [];
		let start: number | undefined;
		for (let seq = gap.from; seq <= gap.to + 1; seq++) {
			const missing = seq <= gap.to && !this.held.has(seq) && !this.isLost(seq);
			if (missing && start === undefined) start = seq;
			if (!missing && start !== undefined) {
				runs.push([start, seq - 1]);
				start = undefined;
			}
		}
		return runs;
	}

	private openGap(from: number, to: number): void {
		this.gaps.push({from, to, asked: this.now(), tries: 1});
		this.options.requestResend(from, to);
	}

	/** Declares what is still missing of a gap lost, so the stream moves on. */
	private giveUp(gap: Gap | undefined): void {
		if (gap === undefined) {
			// Nothing asked for, yet items wait: whatever lies before the first is gone.
			const first = this.firstHeldAfter(this.nextSeq - 1);
			if (Number.isFinite(first) && first > this.nextSeq) this.markLost(this.nextSeq, first - 1);
			return;
		}
		this.gaps = this.gaps.filter((other) => other !== gap);
		this.markLost(gap.from, gap.to);
	}
}

interface Gap {
	from: number;
	to: number;
	asked: number;
	tries: number;
}
