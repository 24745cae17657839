// The local message journal: every chat message and every sequenced presence
// event is written here, fsynced (node:sqlite, WAL, synchronous=FULL), before
// anyone is told it exists. The account store (MySQL/MariaDB or SQLite) is
// filled from it in the background, so an acknowledged message survives a
// database outage and a kill -9, and a sequence number once given is never
// given again. One journal (one file, one handle) serves every room of a server.

import {closeSync, openSync} from 'node:fs';
import {mkdir} from 'node:fs/promises';
import {join} from 'node:path';
import {DatabaseSync, type SQLInputValue, type StatementSync} from 'node:sqlite';
import type {NewRoomMessage} from './account-store.js';
import {containsPattern, LIKE_ESCAPE, presenceColumn, presenceFromColumn} from './room-rows.js';

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

export class LocalJournal {
	readonly #statements = new Map<string, StatementSync>();

	private constructor(private readonly db: DatabaseSync) {}

	/** Opens (creating, owner-only) the journal in `dir`; no dir keeps it in memory (tests only: not durable). */
	static async open(dir?: string): Promise<LocalJournal> {
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
			CREATE INDEX IF NOT EXISTS journal_ref ON journal (room, sender, ref);
			CREATE INDEX IF NOT EXISTS journal_pending ON journal (room, stored, seq);`);
			// Presence details (JSON; NULL for chat): journals written before version 2 gain the column.
			const columns = db.prepare('PRAGMA table_info(journal)').all();
			if (!columns.some((column) => column.name === 'presence'))
				db.exec('ALTER TABLE journal ADD COLUMN presence TEXT');
			// SQLite's own lower() folds ASCII only; search folds like the stores do.
			db.function('parley_lower', {deterministic: true}, (text) =>
				typeof text === 'string' ? text.toLowerCase() : text,
			);
		} catch (error) {
			db.close();
			throw error;
		}
		return new LocalJournal(db);
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

	/** Durable when it returns. */
	append(room: string, seq: number, {from, text, action, ts, ref, presence}: NewRoomMessage): void {
		this.#sql(
			'INSERT INTO journal (room, seq, sender, text, action, ts, ref, presence) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
		).run(room, seq, from, text, action ? 1 : 0, ts, ref ?? null, presenceColumn(presence));
	}

	/** The number an earlier copy of this send got, if the journal still holds it. */
	findRef(room: string, sender: string, ref: string): number | undefined {
		// INDEXED BY: without it SQLite walks the room's primary key in seq order (for the ORDER BY),
		// testing every row: ~1.7 ms per send at 5,000 rows, on the event loop every room shares.
		const row = this.#sql(
			'SELECT seq FROM journal INDEXED BY journal_ref WHERE room = ? AND sender = ? AND ref = ? ORDER BY seq LIMIT 1',
		).get(room, sender, ref);
		return row === undefined ? undefined : Number(row.seq);
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

	/** Marks the pending entries up to seq as in the database: one write (one fsync) for a whole batch. */
	markStoredThrough(room: string, seq: number): void {
		this.#sql('UPDATE journal SET stored = 1 WHERE room = ? AND stored = 0 AND seq <= ?').run(room, seq);
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
	prune(room: string, keep: number): void {
		this.#sql('DELETE FROM journal WHERE room = ? AND stored = 1 AND seq <= ?').run(
			room,
			this.maxSeq(room) - keep,
		);
	}

	/** Forgets the room entirely, pending entries too (the room was removed: its numbers start again). */
	forget(room: string): void {
		this.#sql('DELETE FROM journal WHERE room = ?').run(room);
	}

	close(): void {
		this.#statements.clear();
		if (this.db.isOpen) this.db.close();
	}
}
