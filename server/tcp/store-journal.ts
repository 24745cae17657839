// The TCP room's journal: chat messages are stored with their per-room
// sequence number before anyone sees them. If the database goes away the room
// keeps numbering in memory and writes the backlog in order once it is back,
// so connected users keep chatting through an outage.

import type {RoomEventMessage, UnsequencedRoomEvent} from '../../source/protocol/messages.js';
import type {RoomJournal} from '../room/room.js';
import type {AccountStore, StoredRoomMessage} from '../store/account-store.js';

type Chat = Extract<UnsequencedRoomEvent, {t: 'msg'}>;

export class StoreJournal implements RoomJournal {
	private latest: number;
	private readonly backlog: Array<{seq: number; event: Chat}> = [];
	private retryTimer: NodeJS.Timeout | undefined;
	private flushing = false;

	constructor(
		private readonly store: AccountStore,
		private readonly room: string,
		latestSeq: number,
		private readonly log: (line: string) => void = () => {},
		private readonly retryMs = 1000,
	) {
		this.latest = latestSeq;
	}

	static async open(store: AccountStore, room: string, log?: (line: string) => void): Promise<StoreJournal> {
		return new StoreJournal(store, room, await store.latestSeq(room), log);
	}

	latestSeq(): number {
		return this.latest;
	}

	/** Messages numbered but not yet stored (database down). */
	get pendingWrites(): number {
		return this.backlog.length;
	}

	async append(event: UnsequencedRoomEvent): Promise<number> {
		if (event.t !== 'msg') throw new Error('only chat messages are journaled');
		if (this.backlog.length === 0) {
			try {
				const seq = await this.store.appendMessage(this.room, toStored(event));
				this.latest = Math.max(this.latest, seq);
				return seq;
			} catch (error) {
				this.log(
					`database write failed, keeping messages in memory until it is back: ${(error as Error).message}`,
				);
			}
		}
		const seq = ++this.latest;
		this.backlog.push({seq, event});
		this.scheduleRetry();
		return seq;
	}

	async range(from: number, to: number): Promise<RoomEventMessage[]> {
		const stored = await this.store.messagesAfter(this.room, from - 1, to - from + 1);
		const fromBacklog = this.backlog
			.filter((b) => b.seq >= from && b.seq <= to)
			.map((b) => ({...b.event, seq: b.seq}));
		return [...stored.map(toEvent), ...fromBacklog].filter((e) => (e.seq ?? 0) <= to);
	}

	async last(count: number): Promise<RoomEventMessage[]> {
		const stored = (await this.store.lastMessages(this.room, count)).map(toEvent);
		const all = [...stored, ...this.backlog.map((b) => ({...b.event, seq: b.seq}))];
		return all.slice(-count);
	}

	close(): void {
		clearTimeout(this.retryTimer);
	}

	private scheduleRetry(): void {
		if (this.retryTimer || this.flushing) return;
		this.retryTimer = setTimeout(() => {
			this.retryTimer = undefined;
			void this.flushBacklog();
		}, this.retryMs);
		this.retryTimer.unref();
	}

	private async flushBacklog(): Promise<void> {
		this.flushing = true;
		try {
			while (this.backlog.length > 0) {
				const {seq, event} = this.backlog[0]!;
				const stored = await this.store.appendMessage(this.room, toStored(event));
				if (stored !== seq) this.log(`journal: stored message ${seq} as ${stored} (another writer?)`);
				this.backlog.shift();
			}
			this.log('database is back; all messages stored');
		} catch {
			// Still down: try again later.
		} finally {
			this.flushing = false;
			if (this.backlog.length > 0) this.scheduleRetry();
		}
	}
}

function toStored(event: Chat) {
	const {from, text, ts, ref} = event;
	return {from, text, action: event.action === true, ts, ...(ref ? {ref} : {})};
}

function toEvent(message: StoredRoomMessage): RoomEventMessage {
	return {
		t: 'msg',
		seq: message.seq,
		ts: message.ts,
		from: message.from,
		text: message.text,
		...(message.action ? {action: true} : {}),
		// The sender's ref goes along, so a client catching up after a reconnect
		// recognises its own send whose acknowledgement it never got.
		...(message.ref ? {ref: message.ref} : {}),
	};
}
