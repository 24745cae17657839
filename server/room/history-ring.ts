// The last N sequenced events, addressable by sequence number, so lost
// datagrams can be resent and reconnecting clients can catch up.
export class HistoryRing<T extends {seq: number}> {
	private readonly slots: Array<T | undefined>;

	constructor(readonly capacity: number) {
		this.slots = new Array<T | undefined>(capacity);
	}

	add(item: T): void {
		this.slots[item.seq % this.capacity] = item;
	}

	get(seq: number): T | undefined {
		const item = this.slots[seq % this.capacity];
		return item?.seq === seq ? item : undefined;
	}

	/** Items with from ≤ seq ≤ to that are still held, in order. */
	range(from: number, to: number): T[] {
		const out: T[] = [];
		for (let seq = Math.max(from, to - this.capacity + 1); seq <= to; seq++) {
			const item = this.get(seq);
			if (item) out.push(item);
		}
		return out;
	}
}
