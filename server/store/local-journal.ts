// The local message journal: every chat message is written here, fsynced
// (node:sqlite, WAL, synchronous=FULL), before anyone is told it exists. The
// account store (MySQL/MariaDB or SQLite) is filled from it in the background,
// so an acknowledged message survives a database outage and a kill -9, and a
// sequence number once given is never given again.

import {closeSync, openSync} from 'node:fs';
import {mkdir} from 'node:fs/promises';
import {join} from 'node:path';
import {DatabaseSync, type SQLInputValue} from 'node:sqlite';
import type {NewRoomMessage} from './account-store.js';

export const JOURNAL_FILE = 'journal.db';

export interface JournalEntry {
	seq: number;
	message: NewRoomMessage;
}

type Row = Record<string, SQLInputValue>;

const toEntry = (row: Row): JournalEntry => ({
	seq: Number(row.seq),
	message: {
		from: String(row.sender),
		text: String(row.text),
		action: Number(row.action) === 1,
		ts: Number(row.ts),
		...(row.ref === null ? {} : {ref: String(row.ref)}),
	},
});

export class LocalJournal {
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
		return new LocalJournal(db);
	}

	maxSeq(room: string): number {
		const row = this.db.prepare('SELECT MAX(seq) AS seq FROM journal WHERE room = ?').get(room);
		return Number(row?.seq ?? 0);
	}

	/** Durable when it returns. */
	append(room: string, seq: number, {from, text, action, ts, ref}: NewRoomMessage): void {
		this.db
			.prepare('INSERT INTO journal (room, seq, sender, text, action, ts, ref) VALUES (?, ?, ?, ?, ?, ?, ?)')
			.run(room, seq, from, text, action ? 1 : 0, ts, ref ?? null);
	}

	/** The number an earlier copy of this send got, if the journal still holds it. */
	findRef(room: string, sender: string, ref: string): number | undefined {
		const row = this.db
			.prepare('SELECT seq FROM journal WHERE room = ? AND sender = ? AND ref = ? ORDER BY seq LIMIT 1')
			.get(room, sender, ref);
		return row === undefined ? undefined : Number(row.seq);
	}

	/** The oldest messages not yet in the database, in order. */
	pending(room: string, limit: number): JournalEntry[] {
		return this.db
			.prepare('SELECT * FROM journal WHERE room = ? AND stored = 0 ORDER BY seq LIMIT ?')
			.all(room, limit)
			.map(toEntry);
	}

	pendingCount(room: string): number {
		const row = this.db.prepare('SELECT COUNT(*) AS n FROM journal WHERE room = ? AND stored = 0').get(room);
		return Number(row?.n ?? 0);
	}

	markStored(room: string, seq: number): void {
		this.db.prepare('UPDATE journal SET stored = 1 WHERE room = ? AND seq = ?').run(room, seq);
	}

	range(room: string, from: number, to: number): JournalEntry[] {
		return this.db
			.prepare('SELECT * FROM journal WHERE room = ? AND seq BETWEEN ? AND ? ORDER BY seq')
			.all(room, from, to)
			.map(toEntry);
	}

	/** Forgets stored messages beyond the newest `keep` (they stay in the database). */
	prune(room: string, keep: number): void {
		this.db
			.prepare('DELETE FROM journal WHERE room = ? AND stored = 1 AND seq <= ?')
			.run(room, this.maxSeq(room) - keep);
	}

	close(): void {
		if (this.db.isOpen) this.db.close();
	}
}
