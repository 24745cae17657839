// The TCP room's journal: a chat message gets its sequence number and is
// written to the local journal (fsynced) before anyone sees it, so an
// acknowledgement means durable, whatever the database is doing. The account
// store is filled from the local journal in the background, in order, and
// idempotently by sequence number: a database that is down, or frozen until
// its queries time out, delays only that copy, never the room.

import type {RoomEventMessage, UnsequencedRoomEvent} from '../../source/protocol/messages.js';
import type {RoomJournal} from '../room/room.js';
import type {AccountStore, NewRoomMessage, StoredRoomMessage} from '../store/account-store.js';
import {type JournalEntry, LocalJournal} from '../store/local-journal.js';

type Chat = Extract<UnsequencedRoomEvent, {t: 'msg'}>;

export interface StoreJournalOptions {
	/** Where the local journal lives (the data dir); in memory without it (tests only: not durable). */
	dir?: string;
	log?: (line: string) => void;
	/** Wait before trying the database again after a failed write. */
	retryMs?: number;
	/** Stored messages the local journal keeps (recent history and resends are served from it). */
	keep?: number;
}

const BATCH = 100;

export class StoreJournal implements RoomJournal {
	private latest: number;
	private retryTimer: NodeJS.Timeout | undefined;
	private draining = false;
	private outage = false;
	private closed = false;
	private readonly log: (line: string) => void;
	private readonly retryMs: number;
	private readonly keep: number;

	private constructor(
		private readonly store: AccountStore,
		private readonly room: string,
		private readonly local: LocalJournal,
		storedLatest: number,
		options: StoreJournalOptions,
	) {
		// Never reuse a number: the database may lag behind the local journal.
		this.latest = Math.max(storedLatest, local.maxSeq(room));
		this.log = options.log ?? (() => {});
		this.retryMs = options.retryMs ?? 1000;
		this.keep = options.keep ?? 10_000;
	}

	static async open(
		store: AccountStore,
		room: string,
		options: StoreJournalOptions = {},
	): Promise<StoreJournal> {
		const local = await LocalJournal.open(options.dir);
		try {
			const journal = new StoreJournal(store, room, local, await store.latestSeq(room), options);
			journal.drain(); // what a previous run acknowledged but never stored
			return journal;
		} catch (error) {
			local.close();
			throw error;
		}
	}

	latestSeq(): number {
		return this.latest;
	}

	/** Messages acknowledged but not yet in the database. */
	get pendingWrites(): number {
		return this.local.pendingCount(this.room);
	}

	async append(event: UnsequencedRoomEvent): Promise<number> {
		if (event.t !== 'msg') throw new Error('only chat messages are journaled');
		const message = toStored(event);
		if (message.ref !== undefined) {
			// A send retried after a reconnect or restart: it keeps its number.
			const earlier = this.local.findRef(this.room, message.from, message.ref);
			if (earlier !== undefined) return earlier;
		}
		const seq = this.latest + 1;
		this.local.append(this.room, seq, message); // on disk before the number is handed out
		this.latest = seq;
		this.drain();
		return seq;
	}

	async range(from: number, to: number): Promise<RoomEventMessage[]> {
		const held = this.local.range(this.room, from, to);
		if (held.length === to - from + 1) return held.map(toEvent);
		const stored = await this.store.messagesAfter(this.room, from - 1, to - from + 1);
		return merge(stored, held).filter((e) => e.seq <= to);
	}

	async last(count: number): Promise<RoomEventMessage[]> {
		const from = Math.max(1, this.latest - count + 1);
		const held = this.local.range(this.room, from, this.latest);
		if (held.length === this.latest - from + 1) return held.map(toEvent);
		try {
			return merge(await this.store.lastMessages(this.room, count), held).slice(-count);
		} catch {
			return held.map(toEvent); // the database is away: what we hold beats nothing
		}
	}

	close(): void {
		this.closed = true;
		clearTimeout(this.retryTimer);
		this.local.close();
	}

	/** Copies pending messages to the database, oldest first; one run at a time. */
	private drain(): void {
		if (this.draining || this.retryTimer || this.closed) return;
		this.draining = true;
		void this.drainOnce().finally(() => {
			this.draining = false;
		});
	}

	private async drainOnce(): Promise<void> {
		try {
			for (;;) {
				if (this.closed) return;
				const batch = this.local.pending(this.room, BATCH);
				if (batch.length === 0) break;
				for (const {seq, message} of batch) {
					const outcome = await this.store.storeMessageAt(this.room, seq, message);
					if (this.closed) return;
					if (outcome === 'conflict')
						this.log(
							`journal: the database holds another message as ${seq}; ours stays in the local journal only`,
						);
					this.local.markStored(this.room, seq);
				}
			}
			if (this.outage) {
				this.outage = false;
				this.log('database is back; all messages stored');
			}
			this.local.prune(this.room, this.keep);
		} catch (error) {
			if (this.closed) return;
			if (!this.outage) {
				this.outage = true;
				this.log(
					`database write failed, keeping messages in the local journal until it is back: ${(error as Error).message}`,
				);
			}
			this.retryTimer = setTimeout(() => {
				this.retryTimer = undefined;
				this.drain();
			}, this.retryMs);
			this.retryTimer.unref();
		}
	}
}

function merge(stored: StoredRoomMessage[], held: JournalEntry[]): Array<RoomEventMessage & {seq: number}> {
	const bySeq = new Map<number, RoomEventMessage & {seq: number}>();
	for (const message of stored) bySeq.set(message.seq, toEvent({seq: message.seq, message}));
	for (const entry of held) bySeq.set(entry.seq, toEvent(entry));
	return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function toStored(event: Chat): NewRoomMessage {
	const {from, text, ts, ref} = event;
	return {from, text, action: event.action === true, ts, ...(ref ? {ref} : {})};
}

function toEvent({seq, message}: JournalEntry): RoomEventMessage & {seq: number} {
	return {
		t: 'msg',
		seq,
		ts: message.ts,
		from: message.from,
		text: message.text,
		...(message.action ? {action: true} : {}),
		// The sender's ref goes along, so a client catching up after a reconnect
		// recognises its own send whose acknowledgement it never got.
		...(message.ref ? {ref: message.ref} : {}),
	};
}
