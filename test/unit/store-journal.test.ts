// The TCP room's journal over a real SQLite store that the test can take down:
// messages are numbered and kept locally first, keep their numbers through an
// outage, and reach the store in order after it.
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {readdirSync, readlinkSync} from 'node:fs';
import {DatabaseSync} from 'node:sqlite';
import {after, before, describe, it} from 'node:test';
import type {PresenceMessage, RoomEventMessage} from '../../source/protocol/messages.js';
import type {AccountStore} from '../../server/store/account-store.js';
import {JOURNAL_FILE, LocalJournal} from '../../server/store/local-journal.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {StoreJournal} from '../../server/tcp/store-journal.js';
import {waitFor} from '../helpers/wait.js';

/** The store with a switch: while `down`, message reads and writes fail like a lost database. */
function withOutage(store: AccountStore) {
	const state = {down: false, appends: 0};
	const failing = new Set([
		'storeMessagesAt',
		'messagesAfter',
		'lastMessages',
		'latestSeq',
		'messagesBefore',
		'searchMessages',
	]);
	const proxy = new Proxy(store, {
		get(target, name, receiver) {
			const value = Reflect.get(target, name, receiver);
			if (typeof value !== 'function' || !failing.has(String(name))) return value;
			return async (...args: unknown[]) => {
				if (name === 'storeMessagesAt') state.appends++;
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
const presence = (fields: Omit<PresenceMessage, 't' | 'ts' | 'seq'>) =>
	({t: 'presence', ts: Date.UTC(2026, 0, 2), ...fields}) as const;
/** One line per event, presence with its details: what a replay must reproduce. */
const lines = (events: readonly RoomEventMessage[]) =>
	events.map((e) => {
		if (e.t === 'msg') return `${e.seq} ${e.from}: ${e.text}`;
		const {t, ts, seq, kind, nick, ...details} = e;
		return `${seq} ${kind} ${nick} ${JSON.stringify(details, Object.keys(details).sort())}`;
	});
/** File descriptors of this process open on the journal's files (journal.db, -wal, -shm). */
const journalHandles = () =>
	readdirSync('/proc/self/fd').filter((fd) => {
		try {
			return readlinkSync(`/proc/self/fd/${fd}`).includes(JOURNAL_FILE);
		} catch {
			return false; // closed meanwhile (the readdir's own descriptor)
		}
	}).length;

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
			journal.append({t: 'presence', ts: 0, kind: 'away', nick: 'x', reason: 'lunch'}),
			/away presence is not journaled/,
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

	it('journals presence with the chat, in order, through an outage and a restart', async () => {
		const room = freshRoom();
		const localDir = await mkdtemp(path.join(tmpdir(), 'parley-local-'));
		const {store: flaky, state} = withOutage(store);
		const events = [
			chat('hello'),
			presence({kind: 'join', nick: 'bob'}),
			presence({kind: 'nick', nick: 'robert', old: 'bob'}),
			presence({kind: 'kick', nick: 'troll', by: 'alice', reason: 'spam'}),
			presence({kind: 'ban', nick: 'troll', by: 'alice', until: Date.UTC(2027, 0, 1)}),
			presence({kind: 'topic', nick: 'alice', text: 'release on Friday'}),
			presence({kind: 'mode', nick: 'alice', mode: '+i'}),
			presence({kind: 'role', nick: 'robert', role: 'op', by: 'alice'}),
			chat('after all that', 'ref-last'),
			presence({kind: 'leave', nick: 'robert'}),
		];
		const expected = [
			'1 alice: hello',
			'2 join bob {}',
			'3 nick robert {"old":"bob"}',
			'4 kick troll {"by":"alice","reason":"spam"}',
			`5 ban troll {"by":"alice","until":${Date.UTC(2027, 0, 1)}}`,
			'6 topic alice {"text":"release on Friday"}',
			'7 mode alice {"mode":"+i"}',
			'8 role robert {"by":"alice","role":"op"}',
			'9 alice: after all that',
			'10 leave robert {}',
		];
		try {
			const journal = await StoreJournal.open(flaky, room, {dir: localDir, retryMs: 10});
			state.down = true;
			for (const event of events) await journal.append(event);
			assert.deepEqual(lines(await journal.range(1, 10)), expected);
			assert.deepEqual(lines(await journal.last(3)), expected.slice(-3));
			assert.equal(journal.pendingWrites, 10);
			journal.close(); // the server goes away with everything still pending

			state.down = false;
			assert.equal(await store.latestSeq(room), 0, 'nothing reached the store');
			const reopened = await StoreJournal.open(flaky, room, {dir: localDir, retryMs: 10});
			try {
				assert.equal(reopened.latestSeq(), 10, 'numbers survive in the local journal');
				assert.deepEqual(lines(await reopened.range(1, 10)), expected, 'replayed as they were');
				await waitFor(() => reopened.pendingWrites === 0 || undefined, {what: 'the backlog to be stored'});
				const stored = await store.messagesAfter(room, 0, 20);
				assert.deepEqual(
					stored.map((m) => [m.seq, m.from, m.presence?.kind ?? m.text]),
					[
						[1, 'alice', 'hello'],
						[2, 'bob', 'join'],
						[3, 'robert', 'nick'],
						[4, 'troll', 'kick'],
						[5, 'troll', 'ban'],
						[6, 'alice', 'topic'],
						[7, 'alice', 'mode'],
						[8, 'robert', 'role'],
						[9, 'alice', 'after all that'],
						[10, 'robert', 'leave'],
					],
				);
				assert.deepEqual(stored[3]?.presence, {kind: 'kick', by: 'alice', reason: 'spam'});
				assert.equal(await reopened.append(chat('next')), 11);
			} finally {
				reopened.close();
			}
			// Read back from the store alone (a fresh local journal): the same events.
			const fromStore = await StoreJournal.open(store, room);
			try {
				assert.deepEqual(lines(await fromStore.range(1, 10)), expected);
			} finally {
				fromStore.close();
			}
		} finally {
			await rm(localDir, {recursive: true, force: true});
		}
	});

	it('pages back from the local journal first, the store for the rest, and serves local rows while the store is down', async () => {
		const room = freshRoom();
		const {store: flaky, state} = withOutage(store);
		const journal = await StoreJournal.open(flaky, room, {retryMs: 10, keep: 5});
		try {
			for (let i = 1; i <= 20; i++)
				await journal.append(i % 4 === 0 ? presence({kind: 'join', nick: `p${i}`}) : chat(`m${i}`));
			await waitFor(() => journal.pendingWrites === 0 || undefined, {what: 'the messages to be stored'});
			const seqs = (page: {events: RoomEventMessage[]}) => page.events.map((e) => e.seq);
			const range = (from: number, to: number) => Array.from({length: to - from + 1}, (_, i) => from + i);

			const newest = await journal.before(21, 8);
			assert.deepEqual(seqs(newest), range(13, 20));
			assert.equal(newest.complete, false);
			assert.deepEqual(lines(newest.events).slice(-1), ['20 join p20 {}'], 'presence pages too');
			const middle = await journal.before(13, 8);
			assert.deepEqual(seqs(middle), range(5, 12), 'older than the local journal keeps: from the store');
			assert.equal(middle.complete, false);
			const oldest = await journal.before(5, 8);
			assert.deepEqual(seqs(oldest), range(1, 4));
			assert.equal(oldest.complete, true, 'seq 1 reached');
			assert.deepEqual(await journal.before(1, 8), {events: [], complete: true});
			const exact = await journal.before(9, 8);
			assert.deepEqual(seqs(exact), range(1, 8));
			assert.equal(exact.complete, true);
			assert.deepEqual(
				seqs(await journal.before(1000, 3)),
				range(18, 20),
				'before beyond the end: the newest',
			);

			state.down = true;
			for (let i = 21; i <= 23; i++) await journal.append(chat(`m${i}`));
			const local = await journal.before(24, 5);
			assert.deepEqual(seqs(local), range(19, 23), 'all of it held locally: the store is not asked');
			assert.equal(local.complete, false);
			const partial = await journal.before(24, 20);
			assert.deepEqual(seqs(partial), range(16, 23), 'what the local journal holds, the store being away');
			assert.equal(partial.complete, false, 'not the end: the next page asks the store again');
			await assert.rejects(journal.before(16, 5), /connection refused/, 'nothing held: the outage shows');

			state.down = false;
			await waitFor(() => journal.pendingWrites === 0 || undefined, {what: 'the backlog to be stored'});
			const all: number[] = [];
			for (
				let page = await journal.before(24, 7);
				;
				page = await journal.before(page.events[0]?.seq ?? 0, 7)
			) {
				all.unshift(...seqs(page).map(Number));
				if (page.complete) break;
			}
			assert.deepEqual(all, range(1, 23), 'no gap, no duplicate across local and stored pages');
		} finally {
			journal.close();
		}
	});

	it('searches the store and the local journal together, and the local journal alone while the store is down', async () => {
		const room = freshRoom();
		const {store: flaky, state} = withOutage(store);
		const journal = await StoreJournal.open(flaky, room, {retryMs: 10, keep: 2});
		try {
			await journal.append(chat('Deploy at noon'));
			await journal.append(presence({kind: 'topic', nick: 'alice', text: 'deploy'}));
			await journal.append(chat('coffee first'));
			await journal.append(chat('deploy done, 100% green'));
			await journal.append(chat('unrelated'));
			await journal.append(chat('unrelated too'));
			await waitFor(() => journal.pendingWrites === 0 || undefined, {what: 'the messages to be stored'});
			state.down = true;
			await journal.append(chat('DEPLOY again?'));
			await journal.append(chat('no, 100 percent sure'));

			const found = async (text: string, before?: number, limit = 50) =>
				(await journal.search(text, before, limit)).map((m) => `${m.seq} ${m.text}`);
			assert.deepEqual(await found('deploy'), ['7 DEPLOY again?'], 'the store is away: what is held');
			assert.deepEqual(await found('100'), ['8 no, 100 percent sure']);
			await assert.rejects(journal.search('coffee', undefined, 50), /connection refused/);

			state.down = false;
			assert.deepEqual(
				await found('deploy'),
				['1 Deploy at noon', '4 deploy done, 100% green', '7 DEPLOY again?'],
				'stored and pending together, no presence, once each',
			);
			assert.deepEqual(await found('deploy', 7), ['1 Deploy at noon', '4 deploy done, 100% green']);
			assert.deepEqual(await found('deploy', undefined, 2), ['4 deploy done, 100% green', '7 DEPLOY again?']);
			assert.deepEqual(await found('100%'), ['4 deploy done, 100% green']);
			await waitFor(() => journal.pendingWrites === 0 || undefined, {what: 'the backlog to be stored'});
			assert.deepEqual(await found('deploy'), [
				'1 Deploy at noon',
				'4 deploy done, 100% green',
				'7 DEPLOY again?',
			]);
		} finally {
			journal.close();
		}
	});

	it('one local journal serves a thousand rooms on one SQLite handle, and outlives the rooms closed on it', async () => {
		const localDir = await mkdtemp(path.join(tmpdir(), 'parley-shared-'));
		const local = await LocalJournal.open(localDir);
		const handles = journalHandles();
		assert.ok(handles >= 1, 'the probe sees the shared journal');
		const journals: StoreJournal[] = [];
		try {
			const names = Array.from({length: 1000}, () => freshRoom());
			for (const name of names) journals.push(await StoreJournal.open(store, name, {local, retryMs: 10}));
			assert.equal(journalHandles(), handles, 'no file opened per room');
			// Every tenth room gets a message (each an fsync): the point is the thousand opened.
			for (const [i, journal] of journals.entries()) {
				if (i % 10 !== 1) continue;
				assert.equal(await journal.append(chat(`first in ${names[i]}`)), 1, 'each room numbers on its own');
				if (i % 100 === 1) assert.equal(await journal.append(presence({kind: 'join', nick: 'bob'})), 2);
			}
			await waitFor(() => local.pendingRooms().length === 0 || undefined, {
				timeout: 30_000,
				what: 'every room stored',
			});
			journals[0]!.close();
			assert.ok(local.isOpen, 'closing one room leaves the shared journal open');
			await assert.rejects(journals[0]!.append(chat('too late')), /closed/);
			assert.equal(await journals[11]!.append(chat('still here')), 2);
			await waitFor(() => journals[11]!.pendingWrites === 0 || undefined, {what: 'the next one stored'});
			assert.deepEqual(local.pendingRooms(), []);
			assert.deepEqual(texts(await store.messagesAfter(names[11]!, 0, 10)), [
				`first in ${names[11]}`,
				'still here',
			]);
			assert.deepEqual(lines(await journals[101]!.range(1, 2)), [
				`1 alice: first in ${names[101]}`,
				'2 join bob {}',
			]);
			assert.deepEqual(lines(await journals[102]!.last(5)), [], 'rooms without messages stay empty');

			// A restart: the rooms with pending writes are known before any is opened.
			const {store: flaky, state} = withOutage(store);
			const waiting = await StoreJournal.open(flaky, names[5]!, {local, retryMs: 10_000});
			state.down = true;
			await waiting.append(chat('not stored yet'));
			waiting.close();
			assert.deepEqual(local.pendingRooms(), [names[5]]);
			const [pendingRoom] = local.pendingRooms();
			const drained = await StoreJournal.open(store, pendingRoom!, {local});
			await waitFor(() => drained.pendingWrites === 0 || undefined, {what: 'the pending room drained'});
			drained.close();
			assert.deepEqual(texts(await store.messagesAfter(names[5]!, 0, 10)), ['not stored yet']);
		} finally {
			for (const journal of journals) journal.close();
			local.close();
			await rm(localDir, {recursive: true, force: true});
		}
	});

	it('a journal file from before presence gains the column in place and keeps its entries', async () => {
		const room = freshRoom();
		const localDir = await mkdtemp(path.join(tmpdir(), 'parley-old-journal-'));
		try {
			// The journal as version 1 servers left it: no presence column, one message not yet stored.
			const old = new DatabaseSync(path.join(localDir, JOURNAL_FILE));
			old.exec(`CREATE TABLE journal (
				room TEXT NOT NULL, seq INTEGER NOT NULL, sender TEXT NOT NULL, text TEXT NOT NULL,
				action INTEGER NOT NULL, ts INTEGER NOT NULL, ref TEXT, stored INTEGER NOT NULL DEFAULT 0,
				PRIMARY KEY (room, seq)
			) STRICT`);
			old
				.prepare(
					'INSERT INTO journal (room, seq, sender, text, action, ts, ref) VALUES (?, 1, ?, ?, 0, 5, ?)',
				)
				.run(room, 'alice', 'from the old server', 'old-1');
			old.close();

			for (let opening = 0; opening < 2; opening++) {
				const local = await LocalJournal.open(localDir); // twice: the second finds the column there
				local.close();
			}
			const journal = await StoreJournal.open(store, room, {dir: localDir});
			try {
				assert.equal(journal.latestSeq(), 1);
				assert.equal(await journal.append(presence({kind: 'leave', nick: 'alice'})), 2);
				assert.deepEqual(lines(await journal.range(1, 2)), [
					'1 alice: from the old server',
					'2 leave alice {}',
				]);
				await waitFor(() => journal.pendingWrites === 0 || undefined, {what: 'both stored'});
				assert.deepEqual(
					(await store.messagesAfter(room, 0, 5)).map((m) => [m.seq, m.ref ?? m.presence?.kind]),
					[
						[1, 'old-1'],
						[2, 'leave'],
					],
				);
			} finally {
				journal.close();
			}
		} finally {
			await rm(localDir, {recursive: true, force: true});
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
