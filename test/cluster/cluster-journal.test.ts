// The cluster journal over a scripted store and broker (no sockets): a turn's
// appends are one batch, its events reach the room once and in order even
// when a database read finds our own send before our commit's answer does,
// and other nodes' events come in through the same gate.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import type {BrokerChannel, PayloadOrigin} from '../../server/cluster/broker-channel.js';
import {ClusterJournal, type ClusterCounters} from '../../server/cluster/cluster-journal.js';
import type {AccountStore, NewRoomMessage, StoredRoomMessage} from '../../server/store/account-store.js';
import {setup} from '../room/harness.js';
import {waitFor} from '../helpers/wait.js';

class ScriptedStore {
	readonly rows: StoredRoomMessage[] = [];
	readonly batches: NewRoomMessage[][] = [];
	/** While set, a commit is stored but its answer waits (a slow reply). */
	holdAnswers = false;
	private held: Array<() => void> = [];

	async latestSeq(): Promise<number> {
		return this.rows.length;
	}
	async appendMessages(_room: string, messages: NewRoomMessage[]) {
		this.batches.push(messages);
		const results = messages.map((message) => {
			const seq = this.rows.length + 1;
			this.rows.push({...message, seq});
			return {seq, duplicate: false};
		});
		if (this.holdAnswers) await new Promise<void>((resolve) => this.held.push(resolve));
		return results;
	}
	async messagesAfter(_room: string, after: number, limit: number) {
		return this.rows.filter((row) => row.seq > after).slice(0, limit);
	}
	answer(): void {
		this.holdAnswers = false;
		for (const resolve of this.held.splice(0)) resolve();
	}
}

class ScriptedBroker implements BrokerChannel {
	readonly nodeId = 'me';
	readonly up = true;
	readonly published: Buffer[] = [];
	private handler: ((payload: Buffer, origin: PayloadOrigin) => void) | undefined;
	publish(_channel: string, payload: Buffer): void {
		this.published.push(payload);
	}
	subscribe(_channel: string, handler: (payload: Buffer, origin: PayloadOrigin) => void) {
		this.handler = handler;
		return () => {};
	}
	onStatus() {
		return () => {};
	}
	fromOtherNode(events: unknown[]): void {
		this.handler?.(Buffer.from(JSON.stringify({events})), {nodeId: 'other', sentAt: Date.now()});
	}
}

async function journalFor(store: ScriptedStore, broker: ScriptedBroker) {
	const counters: ClusterCounters = {eventsIn: 0, eventsOut: 0, gapFills: 0};
	const journal = await ClusterJournal.open({
		store: store as unknown as AccountStore & Required<Pick<AccountStore, 'appendMessages'>>,
		broker,
		room: 'lobby',
		gapMs: 30,
		counters,
	});
	return {journal, counters};
}

describe('the cluster journal', () => {
	it('writes a turn’s appends as one batch and publishes them once committed', async () => {
		const store = new ScriptedStore();
		const broker = new ScriptedBroker();
		const {journal, counters} = await journalFor(store, broker);
		const {output, join, say} = setup({journal});
		join('alice');
		say('alice', 'one', 'r1');
		say('alice', 'two', 'r2');
		await waitFor(() => output.seenBy('alice').includes('msg 3 alice: two') || undefined, {what: 'delivery'});
		assert.equal(store.batches.length, 1, 'one transaction for the turn');
		assert.equal(store.batches[0]!.length, 3);
		assert.equal(counters.eventsOut, 3);
		assert.equal(broker.published.length, 1);
		journal.close();
	});

	it('groups what is appended while a transaction is open into the next one (group commit)', async () => {
		const store = new ScriptedStore();
		const broker = new ScriptedBroker();
		const {journal} = await journalFor(store, broker);
		const {output, join, say} = setup({journal});
		const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
		join('alice');
		await waitFor(() => output.seenBy('alice').includes('join alice') || undefined, {what: 'the join'});
		store.holdAnswers = true;
		say('alice', 'one', 'r1');
		await waitFor(() => store.batches.length === 2 || undefined, {what: 'the open transaction'});
		// Two more turns' appends while it is open.
		say('alice', 'two', 'r2');
		await nextTurn();
		await nextTurn();
		say('alice', 'three', 'r3');
		await nextTurn();
		await nextTurn();
		store.answer();
		await waitFor(() => output.seenBy('alice').includes('msg 4 alice: three') || undefined, {
			what: 'the last delivery',
		});
		// After the join's own batch: "one" alone, then "two" and "three" in one transaction, not one each.
		assert.deepEqual(
			store.batches.slice(1).map((batch) => batch.map((message) => message.text)),
			[['one'], ['two', 'three']],
		);
		journal.close();
	});

	it('delivers our own send once when a database read finds it before our commit’s answer', async () => {
		const store = new ScriptedStore();
		const broker = new ScriptedBroker();
		const {journal} = await journalFor(store, broker);
		const {output, join, say} = setup({journal});
		join('alice');
		await waitFor(() => output.seenBy('alice').includes('join alice') || undefined, {what: 'the join'});
		store.holdAnswers = true;
		say('alice', 'mine', 'r1');
		await waitFor(() => store.rows.length === 2 || undefined, {what: 'the commit'});
		broker.fromOtherNode([{t: 'msg', seq: 3, ts: 1, from: 'bob', text: 'after mine'}]); // a gap: 2 missing
		await waitFor(() => output.seenBy('alice').includes('msg 3 bob: after mine') || undefined, {
			what: 'the gap filled from the database',
		});
		store.answer();
		await new Promise((resolve) => setTimeout(resolve, 20));
		assert.deepEqual(output.seenBy('alice'), [
			'welcome',
			'join alice',
			'msg 2 alice: mine',
			'msg 3 bob: after mine',
		]);
		journal.close();
	});
});
