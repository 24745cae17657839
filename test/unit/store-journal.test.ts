// The TCP room's journal over a real SQLite store that the test can take down:
// messages are numbered and kept locally first, keep their numbers through an
// outage, and reach the store in order after it.
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import type {AccountStore} from '../../server/store/account-store.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {StoreJournal} from '../../server/tcp/store-journal.js';
import {waitFor} from '../helpers/wait.js';

/** The store with a switch: while `down`, message reads and writes fail like a lost database. */
function withOutage(store: AccountStore) {
	const state = {down: false, appends: 0};
	const failing = new Set(['storeMessageAt', 'messagesAfter', 'lastMessages', 'latestSeq']);
	const proxy = new Proxy(store, {
		get(target, name, receiver) {
			const value = Reflect.get(target, name, receiver);
			if (typeof value !== 'function' || !failing.has(String(name))) return value;
			return async (...args: unknown[]) => {
				if (name === 'storeMessageAt') state.appends++;
				if (state.down) throw new Error('connection refused');
				return value.apply(target, args);
			};
		},
	});
	return {store: proxy, state};
}

const chat = (text: string, ref?: string) =>
	({t: 'msg', ts: Date.UTC(2026, 0, 1), from: 'alice', text, ...(ref ? {ref} : {})}) as const;
const texts = (events: readonly object[]) => events.map((e) => ('text' in e ? e.text : undefined));

describe('StoreJournal', () => {
	let dir: string;
	let store: AccountStore;
	let rooms = 0;
	const freshRoom = () => `room${++rooms}`;

	before(async () => {
		dir = await mkdtemp(path.join(tmpdir(), 'parley-journal-'));
		store = await openSqliteStore(dir);
	});
	after(async () => {
		await store.close();
		await rm(dir, {recursive: true, force: true});
	});

	it('stores each message under the number the store gives it, and reads them back', async () => {
		const room = freshRoom();
		const journal = await StoreJournal.open(store, room);
		assert.equal(journal.latestSeq(), 0);
		assert.deepEqual(
			[
				await journal.append(chat('one')),
				await journal.append(chat('two')),
				await journal.append(chat('three')),
			],
			[1, 2, 3],
		);
		assert.equal(journal.latestSeq(), 3);
		assert.deepEqual(texts(await journal.range(2, 3)), ['two', 'three']);
		assert.deepEqual(texts(await journal.last(2)), ['two', 'three']);
		await waitFor(() => journal.pendingWrites === 0 || undefined, {what: 'the messages to reach the store'});
		const reopened = await StoreJournal.open(store, room);
		assert.equal(reopened.latestSeq(), 3, 'a restarted server continues the numbering');
		reopened.close();
		await assert.rejects(
			journal.append({t: 'presence', ts: 0, kind: 'join', nick: 'x'}),
			/only chat messages/,
		);
	});

	it('keeps numbering through an outage and stores the backlog in order when the store is back', async () => {
		const room = freshRoom();
		const {store: flaky, state} = withOutage(store);
		const lines: string[] = [];
		const journal = await StoreJournal.open(flaky, room, {log: (line) => lines.push(line), retryMs: 20});
		try {
			await journal.append(chat('before'));
			state.down = true;
			const during = [await journal.append(chat('during 1')), await journal.append(chat('during 2'))];
			assert.deepEqual(during, [2, 3], 'numbers go on while the store is down');
			await waitFor(() => lines.some((line) => /database write failed/.test(line)) || undefined, {
				what: 'the failed write to be reported',
			});
			assert.equal(journal.pendingWrites, 2, 'acknowledged, kept locally, not yet stored');
			state.down = false;
			// The store is back, but earlier lines are still waiting: this one queues behind them.
			assert.equal(await journal.append(chat('after', 'ref-after')), 4);
			assert.deepEqual(texts(await journal.range(1, 4)), ['before', 'during 1', 'during 2', 'after']);
			assert.deepEqual(texts(await journal.last(2)), ['during 2', 'after']);
			await waitFor(() => journal.pendingWrites === 0 || undefined, {what: 'the backlog to be written'});
			const stored = await store.messagesAfter(room, 0, 10);
			assert.deepEqual(
				stored.map((m) => [m.seq, m.text]),
				[
					[1, 'before'],
					[2, 'during 1'],
					[3, 'during 2'],
					[4, 'after'],
				],
			);
			assert.equal(stored[3]!.ref, 'ref-after', 'the sender’s ref is stored with it');
			assert.ok(lines.some((line) => /all messages stored/.test(line)));
		} finally {
			journal.close();
		}
	});

	it('keeps retrying while the store stays down', async () => {
		const room = freshRoom();
		const {store: flaky, state} = withOutage(store);
		const journal = await StoreJournal.open(flaky, room, {retryMs: 10});
		try {
			state.down = true;
			await journal.append(chat('waiting'));
			await waitFor(() => state.appends >= 4 || undefined, {what: 'several retries'});
			assert.equal(journal.pendingWrites, 1);
			state.down = false;
			await waitFor(() => journal.pendingWrites === 0 || undefined, {
				what: 'the write once the store is back',
			});
			assert.deepEqual(texts(await store.messagesAfter(room, 0, 10)), ['waiting']);
		} finally {
			journal.close();
		}
	});
});
