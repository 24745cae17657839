// A room's journal when several servers share it (cluster mode). Numbers come
// from ONE place, the shared database: each event-loop turn's appends for the
// room are written in one transaction that takes them from the room's counter
// row, and while one is open whatever is appended meanwhile waits and goes in
// the next one together (group commit: a commit per database round trip, not
// per turn, else a busy room queues commits faster than the database answers).
// Only after the commit (acknowledged = durable) do they go to the room, in seq
// order through the gate, and out on the broker for the other servers, whose
// events come back in through the same gate. No local journal: the database is
// the journal (a database outage is a "message not stored; please resend",
// never a number given twice).

import type {ChatMessage, RoomEventMessage, UnsequencedRoomEvent} from '../../source/protocol/messages.js';
import type {Log} from '../log/log.js';
import type {RoomJournal} from '../room/room.js';
import {type AccountStore, MAX_PAGE, type StoredRoomMessage} from '../store/account-store.js';
import {toEvent, toStored} from '../tcp/store-journal.js';
import type {BrokerChannel, PayloadOrigin} from './broker-channel.js';
import {SequenceGate} from './sequence-gate.js';

type Sequenced = RoomEventMessage & {seq: number};
type Sink = (event: Sequenced, appended?: UnsequencedRoomEvent) => void;

/** What crosses the broker on a room's channel. */
type RoomPayload = {events: Sequenced[]} | {head: number};

interface Gated {
	seq: number;
	event: Sequenced;
}

interface Queued {
	event: UnsequencedRoomEvent;
	resolve: (seq: number) => void;
	reject: (error: Error) => void;
	/** Released already: a database read found it before our commit's answer came. */
	released?: boolean;
}

/** A chat message's sender and ref: how our own send is recognised when it comes from the database first. */
const sendKey = (event: {t: string; from?: string; ref?: string | undefined}): string | undefined =>
	event.t === 'msg' && event.ref !== undefined ? `${event.from}\u0000${event.ref}` : undefined;

/** Counters the metrics read (shared by a node's rooms). */
export interface ClusterCounters {
	/** Events received from other servers over the broker. */
	eventsIn: number;
	/** Events this server published to the broker. */
	eventsOut: number;
	/** Events read from the database because the broker did not bring them in time (or was down). */
	gapFills: number;
}

export interface ClusterJournalOptions {
	store: AccountStore & Required<Pick<AccountStore, 'appendMessages'>>;
	broker: BrokerChannel;
	/** The room key. */
	room: string;
	/** How long a gap waits for the broker before the database is read (ms). */
	gapMs: number;
	counters: ClusterCounters;
	log?: Log;
}

/** Events in one transaction at most: one INSERT of them stays far below the server's packet limit. */
const MAX_BATCH = 500;

export const roomChannel = (key: string): string => `room:${key}`;

export class ClusterJournal implements RoomJournal {
	private readonly gate: SequenceGate<Gated>;
	private sink: Sink | undefined;
	private readonly queue: Queued[] = [];
	private flushScheduled = false;
	/** One transaction at a time per room: this server's numbers are committed in the order taken. */
	private writing = false;
	/** The highest seq this server committed. */
	private committed = 0;
	/** This server's committed appends not yet released: the room's original, and who waits for the number. */
	private readonly awaiting = new Map<number, Queued>();
	/** Sends in the transaction being written, by sendKey. */
	private readonly inflight = new Map<string, Queued>();
	private closed = false;
	private readonly unsubscribe: () => void;

	private constructor(
		private readonly options: ClusterJournalOptions,
		latest: number,
		unsubscribe: () => void,
		early: Array<{payload: Buffer; origin: PayloadOrigin}>,
	) {
		this.unsubscribe = unsubscribe;
		const {store, room, counters} = options;
		this.gate = new SequenceGate<Gated>({
			next: latest + 1,
			gapMs: options.gapMs,
			release: (gated) => this.release(gated),
			fill: async (after) =>
				(await store.messagesAfter(room, after, MAX_PAGE)).map((message) => {
					const event = toEvent({seq: message.seq, message});
					return {seq: event.seq, event};
				}),
			onFilled: (count) => (counters.gapFills += count),
			...(options.log ? {log: options.log} : {}),
		});
		for (const {payload, origin} of early) this.heard(payload, origin);
	}

	/** Listens on the room's channel first, then reads the latest seq: nothing falls between the two. */
	static async open(options: ClusterJournalOptions): Promise<ClusterJournal> {
		let journal: ClusterJournal | undefined;
		const early: Array<{payload: Buffer; origin: PayloadOrigin}> = [];
		const unsubscribe = options.broker.subscribe(roomChannel(options.room), (payload, origin) => {
			if (journal) journal.heard(payload, origin);
			else early.push({payload, origin});
		});
		try {
			journal = new ClusterJournal(options, await options.store.latestSeq(options.room), unsubscribe, early);
			return journal;
		} catch (error) {
			unsubscribe();
			throw error;
		}
	}

	attach(sink: Sink): void {
		this.sink = sink;
	}

	latestSeq(): number {
		return this.gate.next - 1;
	}

	/** No local journal: nothing is acknowledged before the database has it. */
	get pendingWrites(): number {
		return 0;
	}

	append(event: UnsequencedRoomEvent): Promise<number> {
		if (this.closed) return Promise.reject(new Error('the room journal is closed'));
		return new Promise((resolve, reject) => {
			this.queue.push({event, resolve, reject});
			if (this.flushScheduled) return;
			this.flushScheduled = true;
			// The whole turn's appends go in one transaction.
			setImmediate(() => {
				this.flushScheduled = false;
				void this.drain();
			});
		});
	}

	/** Reads what the database has beyond what the room has (a poll while the broker is away, a resync). */
	catchUp(): Promise<void> {
		return this.gate.catchUp();
	}

	/** The highest seq this server committed in the room (0: none yet). */
	get committedSeq(): number {
		return this.committed;
	}

	/** Another server says it committed up to `seq`: anything missing is read from the database. */
	heardOf(seq: number): void {
		this.gate.heardOf(seq);
	}

	/** Tells the other servers how far this one has committed (after the broker was away: they may have missed some). */
	announceHead(): void {
		if (this.committed > 0) this.publish({head: this.committed});
	}

	async range(from: number, to: number): Promise<RoomEventMessage[]> {
		const stored = await this.options.store.messagesAfter(this.options.room, from - 1, to - from + 1);
		return events(stored).filter((event) => event.seq <= to);
	}

	async last(count: number): Promise<RoomEventMessage[]> {
		return events(await this.options.store.lastMessages(this.options.room, count));
	}

	async before(before: number, limit: number): Promise<{events: RoomEventMessage[]; complete: boolean}> {
		const count = Math.min(Math.max(0, limit), MAX_PAGE);
		// Not past what the room has shown: the page joins up with the live events.
		const below = Math.min(before, this.latestSeq() + 1);
		if (count === 0 || below <= 1) return {events: [], complete: true};
		const found = events(await this.options.store.messagesBefore(this.options.room, below, count));
		return {events: found, complete: found.length < count || found[0]?.seq === 1};
	}

	async search(text: string, before: number | undefined, limit: number): Promise<ChatMessage[]> {
		const count = Math.min(Math.max(0, limit), MAX_PAGE);
		if (count === 0) return [];
		const found = events(await this.options.store.searchMessages(this.options.room, text, before, count));
		return found.filter((event): event is ChatMessage & {seq: number} => event.t === 'msg');
	}

	close(): void {
		this.closed = true;
		this.unsubscribe();
		this.gate.close();
		for (const queued of [...this.queue.splice(0), ...this.awaiting.values()])
			queued.reject(new Error('the room journal is closed'));
		this.awaiting.clear();
	}

	/** While a transaction is open, what is appended waits, and goes in the next one whole (group commit). */
	private async drain(): Promise<void> {
		if (this.writing) return;
		this.writing = true;
		try {
			while (this.queue.length > 0) await this.write(this.queue.splice(0, MAX_BATCH));
		} finally {
			this.writing = false;
		}
	}

	private async write(batch: Queued[]): Promise<void> {
		if (this.closed) {
			for (const queued of batch) queued.reject(new Error('the room journal is closed'));
			return;
		}
		for (const queued of batch) {
			const key = sendKey(queued.event);
			if (key !== undefined) this.inflight.set(key, queued);
		}
		let results: Array<{seq: number; duplicate: boolean}>;
		try {
			results = await this.options.store.appendMessages(
				this.options.room,
				batch.map((queued) => toStored(queued.event)),
			);
		} catch (error) {
			// Nothing committed (or, after a timeout, committed without our knowing: the gate
			// then brings it from the database, and a resend is recognised by its ref).
			for (const queued of batch) {
				this.forget(queued);
				if (!queued.released) queued.reject(error as Error);
			}
			return;
		}
		for (const queued of batch) this.forget(queued);
		const fresh: Sequenced[] = [];
		for (const [index, {seq, duplicate}] of results.entries()) {
			const queued = batch[index]!;
			if (duplicate) {
				queued.resolve(seq);
				continue;
			}
			const event = {...queued.event, seq} as Sequenced;
			fresh.push(event);
			this.committed = Math.max(this.committed, seq);
			if (queued.released || seq < this.gate.next) {
				queued.resolve(seq); // a gap fill read it first and the room has it
				continue;
			}
			this.awaiting.set(seq, queued);
			this.gate.offer({seq, event});
		}
		if (fresh.length > 0) {
			this.publish({events: fresh});
			this.options.counters.eventsOut += fresh.length;
		}
	}

	private publish(payload: RoomPayload): void {
		this.options.broker.publish(roomChannel(this.options.room), Buffer.from(JSON.stringify(payload)));
	}

	private release({seq, event}: Gated): void {
		const mine = this.awaiting.get(seq) ?? this.claimInflight(event);
		this.awaiting.delete(seq);
		this.sink?.(event, mine?.event);
		mine?.resolve(seq);
	}

	/** Our own send, read from the database (a gap fill, a poll) before our commit's answer: it is ours all the same. */
	private claimInflight(event: Sequenced): Queued | undefined {
		const key = sendKey(event);
		const queued = key === undefined ? undefined : this.inflight.get(key);
		if (!queued || key === undefined) return undefined;
		this.inflight.delete(key);
		queued.released = true;
		return queued;
	}

	private forget(queued: Queued): void {
		const key = sendKey(queued.event);
		if (key !== undefined && this.inflight.get(key) === queued) this.inflight.delete(key);
	}

	/** A payload on the room's channel: another server's events, or its head after an outage. */
	private heard(payload: Buffer, origin: PayloadOrigin): void {
		if (origin.nodeId === this.options.broker.nodeId || this.closed) return;
		let parsed: RoomPayload;
		try {
			parsed = JSON.parse(payload.toString('utf8')) as RoomPayload;
		} catch {
			return;
		}
		if ('head' in parsed) {
			if (Number.isSafeInteger(parsed.head)) this.gate.heardOf(parsed.head);
			return;
		}
		if (!Array.isArray(parsed.events)) return;
		for (const event of parsed.events) {
			if (!Number.isSafeInteger(event?.seq) || (event.t !== 'msg' && event.t !== 'presence')) continue;
			this.options.counters.eventsIn++;
			this.gate.offer({seq: event.seq, event});
		}
	}
}

function events(stored: StoredRoomMessage[]): Sequenced[] {
	return stored.map((message) => toEvent({seq: message.seq, message}));
}
