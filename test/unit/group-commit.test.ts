// Group commit in the local journal: the appends of one event-loop turn, from
// every room, go to disk in one transaction (one fsync), each caller hears back
// only once it is written, and a commit that fails writes none of its group,
// tells every caller, and gives no number twice.
import assert from 'node:assert/strict';
import {statSync} from 'node:fs';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {DatabaseSync} from 'node:sqlite';
import {after, before, describe, it} from 'node:test';
import type {AccountStore, NewRoomMessage} from '../../server/store/account-store.js';
import {JOURNAL_FILE, LocalJournal} from '../../server/store/local-journal.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {StoreJournal} from '../../server/tcp/store-journal.js';

const message = (text: string, ref?: string): NewRoomMessage => ({
	from: 'alice',
	text,
	action: false,
	ts: Date.UTC(2026, 0, 1),
	...(ref ? {ref} : {}),
});
const chat = (text: string, ref?: string) =>
	({t: 'msg', ts: Date.UTC(2026, 0, 1), from: 'alice', text, ...(ref ? {ref} : {})}) as const;

/** Frames in the journal's write-ahead log: every commit appends at least one. */
const walFrames = (dir: string, pageSize: number) => {
	try {
		const bytes = statSync(path.join(dir, `${JOURNAL_FILE}-wal`)).size;
		return bytes === 0 ? 0 : (bytes - 32) / (24 + pageSize);
	} catch {
		return 0;
	}
};

/** Another connection holding the journal's write lock: commits fail with "database is locked" meanwhile. */
function lockJournal(dir: string): () => void {
	const other = new DatabaseSync(path.join(dir, JOURNAL_FILE));
	// The journal's writer thread may be finishing a write: wait for it rather than fail.
	other.exec('PRAGMA busy_timeout = 5000');
	other.exec('BEGIN IMMEDIATE');
	return () => {
		other.exec('ROLLBACK');
		other.close();
	};
}

describe('group commit', () => {
	let dir: string;
	before(async () => {
		dir = await mkdtemp(path.join(tmpdir(), 'parley-group-commit-'));
	});
	after(async () => {
		await rm(dir, {recursive: true, force: true});
	});

	it('writes the appends of one turn, from every room, in one commit, and answers after it', async () => {
		const journalDir = await mkdtemp(path.join(dir, 'one-turn-'));
		const local = await LocalJournal.open(journalDir);
		try {
			await local.append('warmup', 1, message('first')); // the table's first pages
			const pageSize = 4096;
			const framesBefore = walFrames(journalDir, pageSize);
			const commitsBefore = local.stats.commits;
			let answered = 0;
			const appends: Promise<void>[] = [];
			for (let seq = 1; seq <= 100; seq++)
				for (const room of ['red', 'green', 'blue'])
					appends.push(local.append(room, seq, message(`${room} ${seq}`)).then(() => void answered++));
			// Nobody hears back within the turn: not before the commit.
			await Promise.resolve();
			assert.equal(answered, 0);
			await Promise.all(appends);
			assert.equal(local.stats.commits - commitsBefore, 1, 'one commit for the turn');
			// 300 commits would have added at least 300 frames to the write-ahead log.
			const frames = walFrames(journalDir, pageSize) - framesBefore;
			assert.ok(frames > 0 && frames < 30, `one commit's frames in the WAL, not one per append (${frames})`);
			for (const room of ['red', 'green', 'blue']) assert.equal(local.maxSeq(room), 100);
		} finally {
			local.close();
		}
	});

	it('a failed commit writes none of its group and rejects every append in it', async () => {
		const journalDir = await mkdtemp(path.join(dir, 'failed-'));
		const local = await LocalJournal.open(journalDir);
		try {
			await local.append('room', 1, message('kept'));
			// The group's last append cannot be written (its number is taken): the whole group fails.
			const results = await Promise.allSettled([
				local.append('room', 2, message('lost a')),
				local.append('other', 1, message('lost b')),
				local.append('room', 1, message('taken')),
			]);
			assert.deepEqual(
				results.map((result) => result.status),
				['rejected', 'rejected', 'rejected'],
			);
			assert.match(String((results[0] as PromiseRejectedResult).reason), /UNIQUE|PRIMARY/i);
			assert.equal(local.maxSeq('room'), 1);
			assert.equal(local.maxSeq('other'), 0);
			assert.equal(local.stats.failedCommits, 1);
			await local.append('room', 2, message('written'));
			assert.deepEqual(
				local.range('room', 1, 9).map((entry) => entry.message.text),
				['kept', 'written'],
			);
		} finally {
			local.close();
		}
	});

	describe('numbers in a room whose commit failed', () => {
		let store: AccountStore;
		before(async () => {
			store = await openSqliteStore(await mkdtemp(path.join(dir, 'store-')));
		});
		after(async () => {
			await store.close();
		});

		it('takes the failed numbers back when nothing after them was given', async () => {
			const journalDir = await mkdtemp(path.join(dir, 'rollback-'));
			const local = await LocalJournal.open(journalDir);
			const journal = await StoreJournal.open(store, 'rollback', {local});
			try {
				assert.equal(await journal.append(chat('one')), 1);
				const unlock = lockJournal(journalDir);
				const failed = await Promise.allSettled([journal.append(chat('two')), journal.append(chat('three'))]);
				unlock();
				assert.deepEqual(
					failed.map((result) => result.status),
					['rejected', 'rejected'],
				);
				assert.equal(journal.latestSeq(), 1, 'nobody got 2 or 3');
				assert.equal(await journal.append(chat('four')), 2);
				assert.deepEqual(
					(await journal.range(1, 2)).map((e) => (e.t === 'msg' ? e.text : e.kind)),
					['one', 'four'],
				);
			} finally {
				journal.close();
				local.close();
			}
		});

		it('never gives a failed number again once a later one is in use', async () => {
			const journalDir = await mkdtemp(path.join(dir, 'gap-'));
			const local = await LocalJournal.open(journalDir);
			const journal = await StoreJournal.open(store, 'gap', {local});
			try {
				assert.equal(await journal.append(chat('one')), 1);
				const unlock = lockJournal(journalDir);
				const two = journal.append(chat('two'));
				local.commit(); // fails now; its callers hear of it after this turn
				unlock();
				const three = journal.append(chat('three')); // handed out before two's failure is known
				await assert.rejects(two, /locked/);
				assert.equal(await three, 3);
				assert.equal(await journal.append(chat('four')), 4, '2 stays a gap: numbers only go up');
				assert.deepEqual(
					(await journal.range(1, 4)).map((e) => e.seq),
					[1, 3, 4],
				);
			} finally {
				journal.close();
				local.close();
			}
		});

		it('a retried send in the same turn keeps its number, and one that failed is written anew', async () => {
			const journalDir = await mkdtemp(path.join(dir, 'refs-'));
			const local = await LocalJournal.open(journalDir);
			const journal = await StoreJournal.open(store, 'refs', {local});
			try {
				const [first, again] = await Promise.all([
					journal.append(chat('hello', 'r1')),
					journal.append(chat('hello', 'r1')),
				]);
				assert.deepEqual([first, again], [1, 1]);
				const unlock = lockJournal(journalDir);
				await assert.rejects(journal.append(chat('lost', 'r2')));
				unlock();
				assert.equal(await journal.append(chat('lost', 'r2')), 2, 'the failed send is not "already there"');
				assert.equal(await journal.append(chat('hello', 'r1')), 1);
			} finally {
				journal.close();
				local.close();
			}
			// A restart knows the refs from the journal file.
			const reopened = await LocalJournal.open(journalDir);
			const again = await StoreJournal.open(store, 'refs', {local: reopened});
			try {
				assert.equal(await again.append(chat('hello', 'r1')), 1);
				assert.equal(await again.append(chat('new', 'r3')), 3);
			} finally {
				again.close();
				reopened.close();
			}
		});
	});
});
