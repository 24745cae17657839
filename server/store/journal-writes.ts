// The local journal's writes, as SQL on one connection: the group commit of
// appends, the "stored" marks, prunes and forgetting a room. The main thread
// runs them itself for an in-memory journal; a journal on disk runs them in
// its writer thread (journal-writer-thread.ts), so no fsync blocks the loop.

import type {DatabaseSync, StatementSync} from 'node:sqlite';
import type {NewRoomMessage} from './account-store.js';
import {presenceColumn} from './room-rows.js';

export interface GroupEntry {
	room: string;
	seq: number;
	message: NewRoomMessage;
}

/** One write, in the order the main thread asked for it. */
export type JournalWrite =
	| {kind: 'group'; entries: GroupEntry[]}
	| {kind: 'mark'; room: string; seq: number}
	| {kind: 'prune'; room: string; keep: number}
	| {kind: 'forget'; room: string};

export class JournalWrites {
	readonly #statements = new Map<string, StatementSync>();

	constructor(
		private readonly db: DatabaseSync,
		/** A test's hold on group commits ([held, commits come to it]); see CommitHold. */
		private readonly hold?: Int32Array,
	) {}

	#sql(sql: string): StatementSync {
		let statement = this.#statements.get(sql);
		if (statement === undefined) {
			statement = this.db.prepare(sql);
			this.#statements.set(sql, statement);
		}
		return statement;
	}

	run(write: JournalWrite): void {
		switch (write.kind) {
			case 'group':
				return this.#group(write.entries);
			case 'mark':
				return this.#withoutSync(() =>
					this.#sql('UPDATE journal SET stored = 1 WHERE room = ? AND stored = 0 AND seq <= ?').run(
						write.room,
						write.seq,
					),
				);
			case 'prune': {
				const row = this.#sql('SELECT MAX(seq) AS seq FROM journal WHERE room = ?').get(write.room);
				const through = Number(row?.seq ?? 0) - write.keep;
				return this.#withoutSync(() =>
					this.#sql('DELETE FROM journal WHERE room = ? AND stored = 1 AND seq <= ?').run(
						write.room,
						through,
					),
				);
			}
			case 'forget':
				this.#sql('DELETE FROM journal WHERE room = ?').run(write.room);
				return;
		}
	}

	/** The group in one transaction (one fsync): all of it is written, or none. */
	#group(entries: GroupEntry[]): void {
		if (this.hold !== undefined) waitWhileHeld(this.hold);
		const insert = this.#sql(
			'INSERT INTO journal (room, seq, sender, text, action, ts, ref, presence) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
		);
		this.db.exec('BEGIN IMMEDIATE');
		try {
			for (const {room, seq, message} of entries) {
				const {from, text, action, ts, ref, presence} = message;
				insert.run(room, seq, from, text, action ? 1 : 0, ts, ref ?? null, presenceColumn(presence));
			}
			this.db.exec('COMMIT');
		} catch (error) {
			if (this.db.isTransaction) this.db.exec('ROLLBACK');
			throw error;
		}
	}

	/**
	 * Runs a bookkeeping write without an fsync of its own: the next group
	 * commit's fsync covers it (the WAL is written in order). Only for writes a
	 * crash may lose: a lost "stored" mark stores messages again as harmless
	 * duplicates, a lost prune prunes again.
	 */
	#withoutSync(write: () => void): void {
		this.db.exec('PRAGMA synchronous = NORMAL');
		try {
			write();
		} finally {
			this.db.exec('PRAGMA synchronous = FULL');
		}
	}

	close(): void {
		this.#statements.clear();
	}
}

/** A test holds the commit here, to show what the main thread does meanwhile (bounded, so a test cannot hang). */
function waitWhileHeld(gate: Int32Array): void {
	if (Atomics.load(gate, 0) === 0) return;
	Atomics.add(gate, 1, 1);
	Atomics.wait(gate, 0, 1, 10_000);
}
