// The TCP room's journal: a chat message or presence event gets its sequence
// number and is written to the local journal (fsynced) before anyone sees it,
// so an acknowledgement means durable, whatever the database is doing. The
// account store is filled from the local journal in the background, in order,
// and idempotently by sequence number: a database that is down, or frozen
// until its queries time out, delays only that copy, never the room. Reads
// (history pages, search) take what the local journal holds first.

import type {
	ChatMessage,
	PresenceMessage,
	RoomEventMessage,
	UnsequencedRoomEvent,
} from '../../source/protocol/messages.js';
import type {Log} from '../log/log.js';
import type {RoomJournal} from '../room/room.js';
import {
	MAX_PAGE,
	type AccountStore,
	type NewRoomMessage,
	type StoredPresence,
	type StoredRoomMessage,
} from '../store/account-store.js';
import {type JournalEntry, LocalJournal} from '../store/local-journal.js';

type Sequenced = RoomEventMessage & {seq: number};

export interface StoreJournalOptions {
	/**
	 * The server's local journal, shared by all its rooms (one SQLite handle for
	 * any number of them). The caller opened it and closes it; closing this
	 * room's journal leaves it open.
	 */
	local?: LocalJournal;
	/** Where the local journal lives (the data dir), when `local` is not given; in memory without either (tests only: not durable). */
	dir?: string;
	log?: Log;
	/** Wait before trying the database again after a failed write. */
	retryMs?: number;
	/** Stored messages the local journal keeps (recent history and resends are served from it). */
	keep?: number;
}

const BATCH = 100;

/** A recent send's number; `written` is its pending commit, undefined once on disk. */
interface RecentRef {
	seq: number;
	written: Promise<void> | undefined;
}

const refKey = (sender: string, ref: string) => `${sender}\n${ref}`;

export class StoreJournal implements RoomJournal {
	/** The last number handed to an append (on disk, or in a pending commit). */
	private latest: number;
	/** The last number on disk: reads go this far. */
	private durable: number;
	/** Numbers whose commit failed, above a number still in use (see unwritten). */
	private readonly failed = new Set<number>();
	/**
	 * Sender and ref of the room's newest `keep` sends → their numbers, as the
	 * local journal holds them: a retried send is recognised without a query.
	 */
	private readonly refs = new Map<string, RecentRef>();
	private retryTimer: NodeJS.Timeout | undefined;
	private draining = false;
	private drainAgain = false;
	private outage = false;
	private closed = false;
	private readonly log: Log;
	private readonly retryMs: number;
	private readonly keep: number;

	private constructor(
		private readonly store: AccountStore,
		private readonly room: string,
		private readonly local: LocalJournal,
		/** Whether closing this journal closes the local journal (it opened it itself). */
		private readonly ownsLocal: boolean,
		storedLatest: number,
		options: StoreJournalOptions,
	) {
		// Never reuse a number: the database may lag behind the local journal.
		this.latest = Math.max(storedLatest, local.maxSeq(room));
		this.durable = this.latest;
		this.log = options.log ?? (() => {});
		this.retryMs = options.retryMs ?? 1000;
		this.keep = options.keep ?? 10_000;
		for (const {seq, sender, ref} of local.recentRefs(room, this.keep))
			this.refs.set(refKey(sender, ref), {seq, written: undefined});
	}

	static async open(
		store: AccountStore,
		room: string,
		options: StoreJournalOptions = {},
	): Promise<StoreJournal> {
		const ownsLocal = options.local === undefined;
		const local = options.local ?? (await LocalJournal.open(options.dir));
		try {
			const journal = new StoreJournal(store, room, local, ownsLocal, await store.latestSeq(room), options);
			journal.drain(); // what a previous run acknowledged but never stored
			return journal;
		} catch (error) {
			if (ownsLocal) local.close();
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
		// A shared local journal would still take it, but nothing would copy it to the database.
		if (this.closed) throw new Error('the room journal is closed');
		const message = toStored(event);
		const key = message.ref === undefined ? undefined : refKey(message.from, message.ref);
		if (key !== undefined) {
			// A send retried after a reconnect or restart (or twice in one turn): it keeps its number.
			const earlier = this.refs.get(key);
			if (earlier !== undefined) {
				await earlier.written;
				return earlier.seq;
			}
		}
		// Numbers are taken in call order; the local journal writes this turn's appends in one commit.
		const seq = ++this.latest;
		const written = this.local.append(this.room, seq, message);
		const entry: RecentRef = {seq, written};
		if (key !== undefined) this.rememberRef(key, entry);
		try {
			await written; // on disk before the number is handed out
		} catch (error) {
			if (key !== undefined && this.refs.get(key) === entry) this.refs.delete(key);
			this.unwritten(seq);
			throw error;
		}
		entry.written = undefined;
		this.durable = Math.max(this.durable, seq);
		for (const failed of this.failed) if (failed < seq) this.failed.delete(failed);
		this.drain();
		return seq;
	}

	/**
	 * A number whose commit failed: nobody was given it. It is taken back when
	 * no number after it is still in use (a later append pending or written);
	 * otherwise it stays a gap and is never given again.
	 */
	private unwritten(seq: number): void {
		this.failed.add(seq);
		while (this.failed.delete(this.latest)) this.latest--;
	}

	private rememberRef(key: string, entry: RecentRef): void {
		this.refs.set(key, entry);
		if (this.refs.size > this.keep) {
			const oldest = this.refs.keys().next();
			if (!oldest.done) this.refs.delete(oldest.value);
		}
	}

	async range(from: number, to: number): Promise<RoomEventMessage[]> {
		const held = this.local.range(this.room, from, to);
		if (held.length === to - from + 1) return held.map(toEvent);
		const stored = await this.store.messagesAfter(this.room, from - 1, to - from + 1);
		return merge(stored, held).filter((e) => e.seq <= to);
	}

	async last(count: number): Promise<RoomEventMessage[]> {
		const from = Math.max(1, this.durable - count + 1);
		const held = this.local.range(this.room, from, this.durable);
		if (held.length === this.durable - from + 1) return held.map(toEvent);
		try {
			return merge(await this.store.lastMessages(this.room, count), held).slice(-count);
		} catch {
			return held.map(toEvent); // the database is away: what we hold beats nothing
		}
	}

	async before(before: number, limit: number): Promise<{events: RoomEventMessage[]; complete: boolean}> {
		const count = Math.min(Math.max(0, limit), MAX_PAGE);
		const below = Math.min(before, this.durable + 1);
		// Numbers are given without gaps, so the page is below - wanted … below - 1.
		const wanted = Math.min(count, below - 1);
		if (wanted <= 0) return {events: [], complete: true};
		const held = this.local.before(this.room, below, count);
		if (held.length === wanted && held[0]?.seq === below - wanted)
			return {events: held.map(toEvent), complete: below - wanted === 1};
		let stored: StoredRoomMessage[];
		try {
			stored = await this.store.messagesBefore(this.room, below, count);
		} catch (error) {
			// The database is away: the newest part of the page beats no page (the next one asks again).
			if (held.length === 0) throw error;
			return {events: held.map(toEvent), complete: held[0]?.seq === 1};
		}
		const events = merge(stored, held).slice(-count);
		return {events, complete: events.length < count || events[0]?.seq === 1};
	}

	async search(text: string, before: number | undefined, limit: number): Promise<ChatMessage[]> {
		const count = Math.min(Math.max(0, limit), MAX_PAGE);
		if (count === 0) return [];
		const below = before ?? Number.MAX_SAFE_INTEGER;
		// What the local journal holds: the recent messages, and all not yet in the database.
		const held = this.local.search(this.room, text, below, count);
		let stored: StoredRoomMessage[];
		try {
			stored = await this.store.searchMessages(this.room, text, before, count);
		} catch (error) {
			if (held.length === 0) throw error;
			stored = [];
		}
		return merge(stored, held)
			.filter((event): event is ChatMessage & {seq: number} => event.t === 'msg')
			.slice(-count);
	}

	/** Stops writing to the database; a local journal of its own is closed, a shared one stays open. */
	close(): void {
		this.closed = true;
		clearTimeout(this.retryTimer);
		if (this.ownsLocal) this.local.close();
	}

	/** Copies pending messages to the database, oldest first; one run at a time. */
	private drain(): void {
		if (this.retryTimer || this.closed) return;
		if (this.draining) {
			// The run may have looked for pending entries already: it goes round once more when done.
			this.drainAgain = true;
			return;
		}
		this.draining = true;
		void this.drainOnce().finally(() => {
			this.draining = false;
			if (!this.drainAgain) return;
			this.drainAgain = false;
			this.drain();
		});
	}

	private async drainOnce(): Promise<void> {
		try {
			for (;;) {
				if (this.closed) return;
				const batch = this.local.pending(this.room, BATCH);
				if (batch.length === 0) break;
				// One database transaction for the batch.
				const outcomes = await this.store.storeMessagesAt(this.room, batch);
				for (const [i, outcome] of outcomes.entries())
					if (outcome === 'conflict')
						this.log(
							`journal: the database holds another message as ${batch[i]?.seq}; ours stays in the local journal only`,
							{level: 'warn', room: this.room},
						);
				// Pending entries are taken oldest first, so all up to the batch's last are in the database now.
				// Unmarked ones (a crash first) are stored again later as harmless duplicates.
				if (this.local.isOpen) await this.local.markStoredThrough(this.room, batch[batch.length - 1]!.seq);
				if (this.closed) return;
			}
			if (this.outage) {
				this.outage = false;
				this.log('database is back; all messages stored', {room: this.room});
			}
			await this.local.prune(this.room, this.keep);
		} catch (error) {
			if (this.closed) return;
			if (!this.outage) {
				this.outage = true;
				this.log(
					`database write failed, keeping messages in the local journal until it is back: ${(error as Error).message}`,
					{level: 'warn', room: this.room},
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

function merge(stored: StoredRoomMessage[], held: JournalEntry[]): Sequenced[] {
	const bySeq = new Map<number, Sequenced>();
	for (const message of stored) bySeq.set(message.seq, toEvent({seq: message.seq, message}));
	for (const entry of held) bySeq.set(entry.seq, toEvent(entry));
	return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

export function toStored(event: UnsequencedRoomEvent): NewRoomMessage {
	if (event.t === 'msg') {
		const {from, text, ts, ref} = event;
		return {from, text, action: event.action === true, ts, ...(ref ? {ref} : {})};
	}
	// Away comes and goes with the member; a replay has no use for it.
	if (event.kind === 'away') throw new Error('away presence is not journaled');
	const {nick, ts, kind, old, reason, by, text, mode, role, until} = event;
	const presence: StoredPresence = {kind};
	if (old !== undefined) presence.old = old;
	if (reason !== undefined) presence.reason = reason;
	if (by !== undefined) presence.by = by;
	if (text !== undefined) presence.text = text;
	if (mode !== undefined) presence.mode = mode;
	if (role !== undefined) presence.role = role;
	if (until !== undefined) presence.until = until;
	return {from: nick, text: '', action: false, ts, presence};
}

export function toEvent({seq, message}: JournalEntry): Sequenced {
	const {presence} = message;
	if (presence !== undefined) {
		const {kind, old, reason, by, text, mode, role, until} = presence;
		return {
			t: 'presence',
			seq,
			ts: message.ts,
			kind,
			nick: message.from,
			...(old === undefined ? {} : {old}),
			...(reason === undefined ? {} : {reason}),
			...(by === undefined ? {} : {by}),
			...(text === undefined ? {} : {text}),
			...(mode === undefined ? {} : {mode: mode as NonNullable<PresenceMessage['mode']>}),
			...(role === undefined ? {} : {role: role as NonNullable<PresenceMessage['role']>}),
			...(until === undefined ? {} : {until}),
		};
	}
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
