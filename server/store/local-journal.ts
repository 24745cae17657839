// The local message journal: every chat message and every sequenced presence
// event is written here, fsynced (node:sqlite, WAL, synchronous=FULL), before
// anyone is told it exists. Appends are committed in groups: all those made in
// one event-loop turn, by every room, go to disk in one transaction (one
// fsync), and each caller hears back only once that commit is done. The account
// store (MySQL/MariaDB or SQLite) is filled from it in the background, so an
// acknowledged message survives a database outage and a kill -9, and a sequence
// number once given is never given again. One journal (one file) serves
// every room of a server. Its writes run in a writer thread with a connection
// of its own (journal-writer.ts): while one group is fsynced there, the event
// loop goes on and the next turns' appends gather into the next group. Reads
// run on this thread's connection and see every committed group (WAL), so
// every acknowledged entry.

import {closeSync, openSync} from 'node:fs';
import {mkdir} from 'node:fs/promises';
import {join} from 'node:path';
import {DatabaseSync, type SQLInputValue, type StatementSync} from 'node:sqlite';
import type {NewRoomMessage} from './account-store.js';
import {type CommitHold, DirectWriter, type JournalWriter, ThreadWriter} from './journal-writer.js';
import {containsPattern, LIKE_ESCAPE, presenceFromColumn} from './room-rows.js';

export const JOURNAL_FILE = 'journal.db';

export interface JournalEntry {
	seq: number;
	message: NewRoomMessage;
}

type Row = Record<string, SQLInputValue>;

const toEntry = (row: Row): JournalEntry => {
	const presence = presenceFromColumn(row.presence);
	return {
		seq: Number(row.seq),
		message: {
			from: String(row.sender),
			text: String(row.text),
			action: Number(row.action) === 1,
			ts: Number(row.ts),
			...(row.ref === null ? {} : {ref: String(row.ref)}),
			...(presence === undefined ? {} : {presence}),
		},
	};
};

/** An append waiting for the next group commit. */
interface QueuedAppend {
	room: string;
	seq: number;
	message: NewRoomMessage;
	resolve(): void;
	reject(error: unknown): void;
}

/** A recent entry's sender and ref, for recognising a send made again. */
export interface JournalRef {
	seq: number;
	sender: string;
	ref: string;
}

export class LocalJournal {
	readonly #statements = new Map<string, StatementSync>();
	#queue: QueuedAppend[] = [];
	#commitScheduled = false;
	/** A group is being committed: the next one waits for it (it gathers meanwhile). */
	#committing = false;
	/** Group commits done and failed, and the appends they carried (the server's metrics; tests). */
	readonly stats = {commits: 0, failedCommits: 0, appends: 0};

	private constructor(
		private readonly db: DatabaseSync,
		private readonly writer: JournalWriter,
	) {}

	/**
	 * Opens (creating, owner-only) the journal in `dir`, with its writer thread;
	 * no dir keeps it in memory, written on this thread (tests only: not durable).
	 * `hold`: a test's hold on the writer thread's commits.
	 */
	static async open(dir?: string, options: {hold?: CommitHold} = {}): Promise<LocalJournal> {
		let path = ':memory:';
		if (dir !== undefined) {
			await mkdir(dir, {recursive: true, mode: 0o700});
			path = join(dir, JOURNAL_FILE);
			closeSync(openSync(path, 'a', 0o600));
		}
		const db = new DatabaseSync(path);
		try {
			db.exec('PRAGMA journal_mode = WAL');
			// FULL: the WAL is fsynced at every commit, so "written" means on disk.
			db.exec('PRAGMA synchronous = FULL');
			db.exec(`CREATE TABLE IF NOT EXISTS journal (
				room TEXT NOT NULL,
				seq INTEGER NOT NULL,
				sender TEXT NOT NULL,
				text TEXT NOT NULL,
				action INTEGER NOT NULL,
				ts INTEGER NOT NULL,
				ref TEXT,
				stored INTEGER NOT NULL DEFAULT 0,
				PRIMARY KEY (room, seq)
			) STRICT;
			DROP INDEX IF EXISTS journal_ref;
			CREATE INDEX IF NOT EXISTS journal_pending ON journal (room, stored, seq);`);
			// journal_ref served a SELECT per send; rooms now keep their recent refs in memory (recentRefs).
			// Presence details (JSON; NULL for chat): journals written before version 2 gain the column.
			const columns = db.prepare('PRAGMA table_info(journal)').all();
			if (!columns.some((column) => column.name === 'presence'))
				db.exec('ALTER TABLE journal ADD COLUMN presence TEXT');
			// SQLite's own lower() folds ASCII only; search folds like the stores do.
			db.function('parley_lower', {deterministic: true}, (text) =>
				typeof text === 'string' ? text.toLowerCase() : text,
			);
			return new LocalJournal(
				db,
				dir === undefined ? new DirectWriter(db, options.hold) : await ThreadWriter.start(path, options.hold),
			);
		} catch (error) {
			db.close();
			throw error;
		}
	}

	#sql(sql: string): StatementSync {
		let statement = this.#statements.get(sql);
		if (statement === undefined) {
			statement = this.db.prepare(sql);
			this.#statements.set(sql, statement);
		}
		return statement;
	}

	get isOpen(): boolean {
		return this.db.isOpen;
	}

	maxSeq(room: string): number {
		const row = this.#sql('SELECT MAX(seq) AS seq FROM journal WHERE room = ?').get(room);
		return Number(row?.seq ?? 0);
	}

	/**
	 * Queues an entry for the next group commit, which takes every append made
	 * in this event-loop turn; resolves once it is on disk. A failed commit
	 * rejects every append it carried, and none of them is written.
	 */
	append(room: string, seq: number, message: NewRoomMessage): Promise<void> {
		if (!this.db.isOpen) return Promise.reject(new Error('the local journal is closed'));
		const promise = new Promise<void>((resolve, reject) =>
			this.#queue.push({room, seq, message, resolve, reject}),
		);
		this.#schedule();
		return promise;
	}

	#schedule(): void {
		if (this.#commitScheduled) return;
		this.#commitScheduled = true;
		// After the turn's I/O callbacks: every frame read in this turn is in the group.
		setImmediate(() => {
			this.#commitScheduled = false;
			if (!this.#committing) this.#send();
		});
	}

	/** Hands the queued appends to the writer as one group (one transaction, one fsync); settles them when done. */
	#send(): void {
		const group = this.#queue;
		if (group.length === 0) return;
		this.#queue = [];
		this.#committing = true;
		this.writer
			.run({kind: 'group', entries: group.map(({room, seq, message}) => ({room, seq, message}))})
			.then(
				() => {
					this.stats.commits++;
					this.stats.appends += group.length;
					for (const append of group) append.resolve();
				},
				(error: unknown) => {
					this.stats.failedCommits++;
					for (const append of group) append.reject(error);
				},
			)
			.finally(() => {
				this.#committing = false;
				if (this.#queue.length > 0) this.#schedule(); // what gathered meanwhile
			});
	}

	/** Commits the queued appends now, blocking until they are on disk; their promises settle after this turn. */
	commit(): void {
		this.#send();
		this.writer.flush();
	}

	/** The newest `limit` entries of the room that carry a ref, oldest first. */
	recentRefs(room: string, limit: number): JournalRef[] {
		return this.#sql(
			'SELECT seq, sender, ref FROM journal WHERE room = ? AND ref IS NOT NULL ORDER BY seq DESC LIMIT ?',
		)
			.all(room, limit)
			.map((row) => ({seq: Number(row.seq), sender: String(row.sender), ref: String(row.ref)}))
			.reverse();
	}

	/** The oldest messages not yet in the database, in order. */
	pending(room: string, limit: number): JournalEntry[] {
		return this.#sql('SELECT * FROM journal WHERE room = ? AND stored = 0 ORDER BY seq LIMIT ?')
			.all(room, limit)
			.map(toEntry);
	}

	pendingCount(room: string): number {
		const row = this.#sql('SELECT COUNT(*) AS n FROM journal WHERE room = ? AND stored = 0').get(room);
		return Number(row?.n ?? 0);
	}

	/** Rooms holding messages not yet in the database (a server starting opens them, so they get there). */
	pendingRooms(): string[] {
		return this.#sql('SELECT DISTINCT room FROM journal WHERE stored = 0 ORDER BY room')
			.all()
			.map((row) => String(row.room));
	}

	/** Marks the pending entries up to seq as in the database: one write for a whole batch, fsynced with the next commit. */
	markStoredThrough(room: string, seq: number): Promise<void> {
		if (!this.db.isOpen) return Promise.reject(new Error('the local journal is closed'));
		return this.writer.run({kind: 'mark', room, seq});
	}

	range(room: string, from: number, to: number): JournalEntry[] {
		return this.#sql('SELECT * FROM journal WHERE room = ? AND seq BETWEEN ? AND ? ORDER BY seq')
			.all(room, from, to)
			.map(toEntry);
	}

	/** The newest `limit` entries with seq < before, oldest first. */
	before(room: string, before: number, limit: number): JournalEntry[] {
		return this.#sql('SELECT * FROM journal WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?')
			.all(room, before, limit)
			.map(toEntry)
			.reverse();
	}

	/** Chat entries containing `text` (case-insensitive), seq < before: the newest `limit`, oldest first. */
	search(room: string, text: string, before: number, limit: number): JournalEntry[] {
		return this.#sql(
			`SELECT * FROM journal
			WHERE room = ? AND seq < ? AND presence IS NULL AND parley_lower(text) LIKE ? ESCAPE '${LIKE_ESCAPE}'
			ORDER BY seq DESC LIMIT ?`,
		)
			.all(room, before, containsPattern(text), limit)
			.map(toEntry)
			.reverse();
	}

	/** Forgets stored messages beyond the newest `keep` (they stay in the database). */
	prune(room: string, keep: number): Promise<void> {
		if (!this.db.isOpen) return Promise.reject(new Error('the local journal is closed'));
		return this.writer.run({kind: 'prune', room, keep});
	}

	/** Forgets the room entirely, pending entries too (the room was removed: its numbers start again). */
	forget(room: string): void {
		this.commit(); // its queued entries too
		this.writer.runNow({kind: 'forget', room});
	}

	/** Commits what is queued, then closes. */
	close(): void {
		if (this.db.isOpen) {
			this.commit();
			this.writer.close(); // after the last group: a graceful shutdown loses nothing
		}
		this.#statements.clear();
		if (this.db.isOpen) this.db.close();
	}
}
