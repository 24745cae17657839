// The embedded default store: one SQLite file in the data directory, opened
// with node:sqlite. Calls are synchronous underneath and wrapped in promises
// to fit AccountStore; every write that spans statements runs in a
// BEGIN IMMEDIATE transaction so a second process on the same file stays safe.

import {closeSync, openSync} from 'node:fs';
import {mkdir} from 'node:fs/promises';
import {join} from 'node:path';
import {DatabaseSync, type SQLInputValue, type StatementSync} from 'node:sqlite';
import {
	checkLimit,
	checkMessage,
	checkRoom,
	checkSeq,
	checkedUsernameKey,
	NoSuchUserError,
	RoomExistsError,
	UserExistsError,
	type AccountStore,
	type NewRoomMessage,
	type NumberedMessage,
	type RoomSettings,
	type StoredPresence,
	type StoredRoom,
	type NewToken,
	type ScramCredential,
	type StoreOutcome,
	type StoredRoomMessage,
	type StoredToken,
	type TokenInfo,
} from './account-store.js';
import {identityKey, usernameProblem} from '../../source/protocol/names.js';
import {
	accountKey,
	checkRoomKey,
	containsPattern,
	LIKE_ESCAPE,
	presenceColumn,
	presenceFromColumn,
	settingsColumn,
	settingsFromColumn,
} from './room-rows.js';
import type {StoredFile} from '../files/file-index.js';

export const SQLITE_FILE = 'parley.db';

/** Each entry moves the schema one version forward; append, never edit. */
const MIGRATIONS: readonly string[] = [
	`CREATE TABLE parley_users (
		name_key TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		salt BLOB NOT NULL,
		iterations INTEGER NOT NULL,
		stored_key BLOB NOT NULL,
		server_key BLOB NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	) STRICT;
	CREATE TABLE parley_room_seq (
		room TEXT PRIMARY KEY,
		seq INTEGER NOT NULL
	) STRICT;
	CREATE TABLE parley_messages (
		room TEXT NOT NULL,
		seq INTEGER NOT NULL,
		sender TEXT NOT NULL,
		text TEXT NOT NULL,
		action INTEGER NOT NULL,
		ts INTEGER NOT NULL,
		PRIMARY KEY (room, seq)
	) STRICT;`,
	// Client refs, so a send retried after a server restart is recognised (NULLs never collide).
	`ALTER TABLE parley_messages ADD COLUMN ref TEXT;
	CREATE UNIQUE INDEX parley_messages_ref ON parley_messages (room, sender, ref);`,
	// Bot access tokens: the SHA-256 of each secret, never the secret; they go with their account.
	`CREATE TABLE IF NOT EXISTS parley_tokens (
		id TEXT PRIMARY KEY,
		name_key TEXT NOT NULL REFERENCES parley_users (name_key) ON DELETE CASCADE,
		label TEXT NOT NULL,
		hash BLOB NOT NULL,
		created_at INTEGER NOT NULL,
		last_used_at INTEGER
	) STRICT;
	CREATE INDEX IF NOT EXISTS parley_tokens_user ON parley_tokens (name_key);`,
	// Version 2: many rooms. Presence kept in the log (JSON details, NULL for chat), server
	// admins, rooms with their settings (JSON), the rooms each account is in (in join
	// order: the id), and how far each account has read in each room.
	`ALTER TABLE parley_messages ADD COLUMN presence TEXT;
	ALTER TABLE parley_users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
	CREATE TABLE IF NOT EXISTS parley_rooms (
		room_key TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		owner TEXT,
		created_at INTEGER NOT NULL,
		settings TEXT NOT NULL
	) STRICT;
	CREATE TABLE IF NOT EXISTS parley_memberships (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		name_key TEXT NOT NULL REFERENCES parley_users (name_key) ON DELETE CASCADE,
		room TEXT NOT NULL,
		UNIQUE (name_key, room)
	) STRICT;
	CREATE INDEX IF NOT EXISTS parley_memberships_room ON parley_memberships (room);
	CREATE TABLE IF NOT EXISTS parley_read_markers (
		name_key TEXT NOT NULL REFERENCES parley_users (name_key) ON DELETE CASCADE,
		room TEXT NOT NULL,
		seq INTEGER NOT NULL,
		PRIMARY KEY (name_key, room)
	) STRICT;
	CREATE INDEX IF NOT EXISTS parley_read_markers_room ON parley_read_markers (room);`,
	// Shared files' metadata; the bytes are in the data directory under their SHA-256.
	`CREATE TABLE IF NOT EXISTS parley_files (
		id TEXT PRIMARY KEY,
		room TEXT NOT NULL,
		name TEXT NOT NULL,
		size INTEGER NOT NULL,
		sha256 TEXT NOT NULL,
		sender TEXT NOT NULL,
		recipient TEXT,
		ts INTEGER NOT NULL
	) STRICT;
	CREATE INDEX IF NOT EXISTS parley_files_room ON parley_files (room, ts);
	CREATE INDEX IF NOT EXISTS parley_files_sender ON parley_files (sender);`,
];

// SQLITE_CONSTRAINT_PRIMARYKEY and SQLITE_CONSTRAINT_UNIQUE
const DUPLICATE_KEY_ERRCODES = new Set([1555, 2067]);

function isDuplicateKey(error: unknown): boolean {
	return (
		error instanceof Error && DUPLICATE_KEY_ERRCODES.has((error as Error & {errcode?: number}).errcode ?? 0)
	);
}

type Row = Record<string, SQLInputValue>;

function toCredential(row: Row): ScramCredential {
	return {
		salt: Buffer.from(row.salt as Uint8Array),
		iterations: Number(row.iterations),
		storedKey: Buffer.from(row.stored_key as Uint8Array),
		serverKey: Buffer.from(row.server_key as Uint8Array),
	};
}

function toMessage(row: Row): StoredRoomMessage {
	return {
		seq: Number(row.seq),
		from: String(row.sender),
		text: String(row.text),
		action: row.action === 1,
		ts: Number(row.ts),
		...(row.ref === null || row.ref === undefined ? {} : {ref: String(row.ref)}),
		...(row.presence === null || row.presence === undefined
			? {}
			: {presence: presenceFromColumn(row.presence) as StoredPresence}),
	};
}

function toRoom(row: Row): StoredRoom {
	return {
		name: String(row.name),
		key: String(row.room_key),
		...(row.owner === null || row.owner === undefined ? {} : {owner: String(row.owner)}),
		createdAt: Number(row.created_at),
		settings: settingsFromColumn(row.settings),
	};
}

const MESSAGE_COLUMNS = 'seq, sender, text, action, ts, ref, presence';
const FILE_COLUMNS = 'id, room, name, size, sha256, sender, recipient, ts';

function fileFromRow(row: Row): StoredFile {
	return {
		id: String(row.id),
		room: String(row.room),
		name: String(row.name),
		size: Number(row.size),
		sha256: String(row.sha256),
		from: String(row.sender),
		...(row.recipient === null || row.recipient === undefined ? {} : {to: String(row.recipient)}),
		ts: Number(row.ts),
	};
}

function toTokenInfo(row: Row): TokenInfo {
	return {
		id: String(row.id),
		label: String(row.label),
		createdAt: Number(row.created_at),
		lastUsedAt:
			row.last_used_at === null || row.last_used_at === undefined ? undefined : Number(row.last_used_at),
	};
}

function migrate(db: DatabaseSync): void {
	db.exec('BEGIN IMMEDIATE');
	try {
		db.exec(`CREATE TABLE IF NOT EXISTS parley_schema_version (
			version INTEGER PRIMARY KEY,
			applied_at INTEGER NOT NULL
		) STRICT`);
		const row = db.prepare('SELECT MAX(version) AS version FROM parley_schema_version').get();
		const current = Number(row?.version ?? 0);
		if (current > MIGRATIONS.length)
			throw new Error(
				`database schema version ${current} is newer than this server understands (${MIGRATIONS.length})`,
			);
		for (const [index, sql] of MIGRATIONS.entries()) {
			if (index + 1 <= current) continue;
			db.exec(sql);
			db.prepare('INSERT INTO parley_schema_version (version, applied_at) VALUES (?, ?)').run(
				index + 1,
				Date.now(),
			);
		}
		db.exec('COMMIT');
	} catch (error) {
		db.exec('ROLLBACK');
		throw error;
	}
}

export class SqliteStore implements AccountStore {
	readonly #db: DatabaseSync;
	readonly #statements = new Map<string, StatementSync>();
	#closed = false;

	constructor(db: DatabaseSync) {
		this.#db = db;
		// SQLite's own lower() folds ASCII only; searches fold like MySQL's LOWER does.
		db.function('parley_lower', {deterministic: true}, (text) =>
			typeof text === 'string' ? text.toLowerCase() : text,
		);
	}

	/** Prepared once per distinct SQL text; every value goes in as a bound parameter. */
	#sql(sql: string): StatementSync {
		if (this.#closed) throw new Error('store is closed');
		let statement = this.#statements.get(sql);
		if (statement === undefined) {
			statement = this.#db.prepare(sql);
			this.#statements.set(sql, statement);
		}
		return statement;
	}

	#transaction<T>(work: () => T): T {
		this.#sql('BEGIN IMMEDIATE').run();
		try {
			const result = work();
			this.#sql('COMMIT').run();
			return result;
		} catch (error) {
			this.#sql('ROLLBACK').run();
			throw error;
		}
	}

	async createUser(name: string, verifier: ScramCredential): Promise<void> {
		const key = checkedUsernameKey(name);
		const now = Date.now();
		try {
			this.#sql(
				`INSERT INTO parley_users (name_key, name, salt, iterations, stored_key, server_key, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			).run(key, name, verifier.salt, verifier.iterations, verifier.storedKey, verifier.serverKey, now, now);
		} catch (error) {
			if (isDuplicateKey(error)) throw new UserExistsError(name);
			throw error;
		}
	}

	async setVerifier(name: string, verifier: ScramCredential): Promise<void> {
		const key = checkedUsernameKey(name);
		const result = this.#sql(
			'UPDATE parley_users SET salt = ?, iterations = ?, stored_key = ?, server_key = ?, updated_at = ? WHERE name_key = ?',
		).run(verifier.salt, verifier.iterations, verifier.storedKey, verifier.serverKey, Date.now(), key);
		if (Number(result.changes) === 0) throw new NoSuchUserError(name);
	}

	async removeUser(name: string): Promise<boolean> {
		if (usernameProblem(name) !== undefined) return false;
		const result = this.#sql('DELETE FROM parley_users WHERE name_key = ?').run(identityKey(name));
		return Number(result.changes) > 0;
	}

	async getVerifier(name: string): Promise<ScramCredential | undefined> {
		if (usernameProblem(name) !== undefined) return undefined;
		const row = this.#sql(
			'SELECT salt, iterations, stored_key, server_key FROM parley_users WHERE name_key = ?',
		).get(identityKey(name));
		return row === undefined ? undefined : toCredential(row);
	}

	async listUsers(): Promise<string[]> {
		return this.#sql('SELECT name FROM parley_users ORDER BY name_key')
			.all()
			.map((row) => String(row.name));
	}

	async createToken(user: string, {id, label, hash, createdAt}: NewToken): Promise<void> {
		const key = checkedUsernameKey(user);
		// INSERT … SELECT: no row for an unknown user, decided in one statement.
		const result = this.#sql(
			`INSERT INTO parley_tokens (id, name_key, label, hash, created_at, last_used_at)
			SELECT ?, name_key, ?, ?, ?, NULL FROM parley_users WHERE name_key = ?`,
		).run(id, label, hash, createdAt, key);
		if (Number(result.changes) === 0) throw new NoSuchUserError(user);
	}

	async listTokens(user: string): Promise<TokenInfo[]> {
		if (usernameProblem(user) !== undefined) return [];
		return this.#sql(
			'SELECT id, label, created_at, last_used_at FROM parley_tokens WHERE name_key = ? ORDER BY created_at, id',
		)
			.all(identityKey(user))
			.map(toTokenInfo);
	}

	async revokeToken(user: string, id: string): Promise<boolean> {
		if (usernameProblem(user) !== undefined) return false;
		const result = this.#sql('DELETE FROM parley_tokens WHERE id = ? AND name_key = ?').run(
			id,
			identityKey(user),
		);
		return Number(result.changes) > 0;
	}

	async findToken(id: string): Promise<StoredToken | undefined> {
		const row = this.#sql(
			'SELECT u.name AS name, t.hash AS hash FROM parley_tokens t JOIN parley_users u ON u.name_key = t.name_key WHERE t.id = ?',
		).get(id);
		return row === undefined
			? undefined
			: {user: String(row.name), hash: Buffer.from(row.hash as Uint8Array)};
	}

	async touchToken(id: string, at: number): Promise<void> {
		this.#sql('UPDATE parley_tokens SET last_used_at = ? WHERE id = ?').run(at, id);
	}

	async appendMessage(room: string, message: NewRoomMessage): Promise<number> {
		checkRoom(room);
		const {from, text, action, ts, ref, presence} = checkMessage(message);
		const details = presenceColumn(presence);
		return this.#transaction(() => {
			if (ref !== undefined) {
				const stored = this.#sql(
					'SELECT seq FROM parley_messages WHERE room = ? AND sender = ? AND ref = ?',
				).get(room, from, ref);
				if (stored !== undefined) return Number(stored.seq);
			}
			const row = this.#sql(
				`INSERT INTO parley_room_seq (room, seq) VALUES (?, 1)
				ON CONFLICT (room) DO UPDATE SET seq = seq + 1 RETURNING seq`,
			).get(room);
			const seq = Number(row?.seq);
			this.#sql(
				'INSERT INTO parley_messages (room, seq, sender, text, action, ts, ref, presence) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
			).run(room, seq, from, text, action ? 1 : 0, ts, ref ?? null, details);
			return seq;
		});
	}

	async storeMessageAt(room: string, seq: number, message: NewRoomMessage): Promise<StoreOutcome> {
		return (await this.storeMessagesAt(room, [{seq, message}]))[0]!;
	}

	async storeMessagesAt(room: string, entries: readonly NumberedMessage[]): Promise<StoreOutcome[]> {
		checkRoom(room);
		const checked = entries.map(({seq, message}) => ({seq: checkSeq(seq), message: checkMessage(message)}));
		if (checked.length === 0) return [];
		return this.#transaction(() => {
			const outcomes = checked.map(({seq, message}) => this.#storeAt(room, seq, message));
			this.#sql(
				`INSERT INTO parley_room_seq (room, seq) VALUES (?, ?)
				ON CONFLICT (room) DO UPDATE SET seq = MAX(seq, excluded.seq)`,
			).run(room, Math.max(...checked.map(({seq}) => seq)));
			return outcomes;
		});
	}

	/** One message under its number, inside a transaction; the room's counter is the caller's. */
	#storeAt(room: string, seq: number, {from, text, action, ts, ref, presence}: NewRoomMessage): StoreOutcome {
		const held = this.#sql('SELECT sender, ref FROM parley_messages WHERE room = ? AND seq = ?').get(
			room,
			seq,
		);
		if (held !== undefined)
			return held.sender === from && (held.ref ?? undefined) === ref ? 'duplicate' : 'conflict';
		try {
			this.#sql(
				'INSERT INTO parley_messages (room, seq, sender, text, action, ts, ref, presence) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
			).run(room, seq, from, text, action ? 1 : 0, ts, ref ?? null, presenceColumn(presence));
		} catch (error) {
			if (!isDuplicateKey(error)) throw error;
			return 'conflict'; // the ref is stored under another number
		}
		return 'stored';
	}

	async messagesAfter(room: string, after: number, limit: number): Promise<StoredRoomMessage[]> {
		return this.#sql(
			`SELECT ${MESSAGE_COLUMNS} FROM parley_messages WHERE room = ? AND seq > ? ORDER BY seq LIMIT ?`,
		)
			.all(checkRoom(room), checkSeq(after), checkLimit(limit))
			.map(toMessage);
	}

	async lastMessages(room: string, limit: number): Promise<StoredRoomMessage[]> {
		return this.#sql(
			`SELECT ${MESSAGE_COLUMNS} FROM parley_messages WHERE room = ? ORDER BY seq DESC LIMIT ?`,
		)
			.all(checkRoom(room), checkLimit(limit))
			.map(toMessage)
			.reverse();
	}

	async latestSeq(room: string): Promise<number> {
		const row = this.#sql('SELECT seq FROM parley_room_seq WHERE room = ?').get(checkRoom(room));
		return row === undefined ? 0 : Number(row.seq);
	}

	async messagesBefore(room: string, before: number, limit: number): Promise<StoredRoomMessage[]> {
		return this.#sql(
			`SELECT ${MESSAGE_COLUMNS} FROM parley_messages WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
		)
			.all(checkRoom(room), checkSeq(before), checkLimit(limit))
			.map(toMessage)
			.reverse();
	}

	async searchMessages(
		room: string,
		text: string,
		before: number | undefined,
		limit: number,
	): Promise<StoredRoomMessage[]> {
		return this.#sql(
			`SELECT ${MESSAGE_COLUMNS} FROM parley_messages
			WHERE room = ? AND seq < ? AND presence IS NULL AND parley_lower(text) LIKE ? ESCAPE '${LIKE_ESCAPE}'
			ORDER BY seq DESC LIMIT ?`,
		)
			.all(
				checkRoom(room),
				checkSeq(before ?? Number.MAX_SAFE_INTEGER),
				containsPattern(text),
				checkLimit(limit),
			)
			.map(toMessage)
			.reverse();
	}

	async createRoom({name, key, owner, createdAt, settings}: StoredRoom): Promise<void> {
		const roomKey = checkRoomKey(key);
		try {
			this.#sql(
				'INSERT INTO parley_rooms (room_key, name, owner, created_at, settings) VALUES (?, ?, ?, ?, ?)',
			).run(roomKey, checkRoom(name), owner ?? null, createdAt, settingsColumn(settings));
		} catch (error) {
			if (isDuplicateKey(error)) throw new RoomExistsError(name);
			throw error;
		}
	}

	async getRoom(key: string): Promise<StoredRoom | undefined> {
		const row = this.#sql(
			'SELECT room_key, name, owner, created_at, settings FROM parley_rooms WHERE room_key = ?',
		).get(checkRoomKey(key));
		return row === undefined ? undefined : toRoom(row);
	}

	async listRooms(): Promise<StoredRoom[]> {
		return this.#sql('SELECT room_key, name, owner, created_at, settings FROM parley_rooms ORDER BY room_key')
			.all()
			.map(toRoom);
	}

	async saveRoomSettings(key: string, settings: RoomSettings): Promise<void> {
		const result = this.#sql('UPDATE parley_rooms SET settings = ? WHERE room_key = ?').run(
			settingsColumn(settings),
			checkRoomKey(key),
		);
		if (Number(result.changes) === 0) throw new Error(`no room #${key} to save settings for`);
	}

	async removeRoom(key: string): Promise<boolean> {
		const room = checkRoomKey(key);
		return this.#transaction(() => {
			const rows = Number(this.#sql('DELETE FROM parley_rooms WHERE room_key = ?').run(room).changes);
			const counters = Number(this.#sql('DELETE FROM parley_room_seq WHERE room = ?').run(room).changes);
			this.#sql('DELETE FROM parley_messages WHERE room = ?').run(room);
			this.#sql('DELETE FROM parley_memberships WHERE room = ?').run(room);
			this.#sql('DELETE FROM parley_read_markers WHERE room = ?').run(room);
			return rows + counters > 0;
		});
	}

	async setAdmin(name: string, admin: boolean): Promise<void> {
		const key = checkedUsernameKey(name);
		const result = this.#sql('UPDATE parley_users SET admin = ? WHERE name_key = ?').run(admin ? 1 : 0, key);
		if (Number(result.changes) === 0) throw new NoSuchUserError(name);
	}

	// ---- shared files (server/files/file-index.ts) ----

	async addFile(file: StoredFile): Promise<void> {
		this.#sql(
			'INSERT INTO parley_files (id, room, name, size, sha256, sender, recipient, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
		).run(file.id, file.room, file.name, file.size, file.sha256, file.from, file.to ?? null, file.ts);
	}

	async getFile(id: string): Promise<StoredFile | undefined> {
		const row = this.#sql(`SELECT ${FILE_COLUMNS} FROM parley_files WHERE id = ?`).get(id);
		return row === undefined ? undefined : fileFromRow(row);
	}

	async roomFiles(room: string, limit: number): Promise<StoredFile[]> {
		const rows = this.#sql(
			`SELECT ${FILE_COLUMNS} FROM parley_files WHERE room = ? ORDER BY ts DESC, id DESC LIMIT ?`,
		).all(room, limit);
		return rows.map(fileFromRow).reverse();
	}

	async uploadedBytes(user: string): Promise<number> {
		const row = this.#sql('SELECT COALESCE(SUM(size), 0) AS total FROM parley_files WHERE sender = ?').get(
			user,
		);
		return Number(row?.total ?? 0);
	}

	async isAdmin(name: string): Promise<boolean> {
		const key = accountKey(name);
		if (key === undefined) return false;
		return this.#sql('SELECT admin FROM parley_users WHERE name_key = ?').get(key)?.admin === 1;
	}

	async addMembership(user: string, room: string): Promise<void> {
		const key = accountKey(user);
		if (key === undefined) return;
		// INSERT … SELECT: nothing for an unknown account; a repeat keeps its place in the join order.
		this.#sql(
			`INSERT INTO parley_memberships (name_key, room) SELECT name_key, ? FROM parley_users WHERE name_key = ?
			ON CONFLICT (name_key, room) DO NOTHING`,
		).run(checkRoomKey(room), key);
	}

	async removeMembership(user: string, room: string): Promise<void> {
		const key = accountKey(user);
		if (key === undefined) return;
		this.#sql('DELETE FROM parley_memberships WHERE name_key = ? AND room = ?').run(key, checkRoomKey(room));
	}

	async membershipsOf(user: string): Promise<string[]> {
		const key = accountKey(user);
		if (key === undefined) return [];
		return this.#sql('SELECT room FROM parley_memberships WHERE name_key = ? ORDER BY id')
			.all(key)
			.map((row) => String(row.room));
	}

	async setReadMarker(user: string, room: string, seq: number): Promise<void> {
		const key = accountKey(user);
		if (key === undefined) return;
		// One statement, MAX in SQL: concurrent writers can only move it forward.
		this.#sql(
			`INSERT INTO parley_read_markers (name_key, room, seq) SELECT name_key, ?, ? FROM parley_users WHERE name_key = ?
			ON CONFLICT (name_key, room) DO UPDATE SET seq = MAX(seq, excluded.seq)`,
		).run(checkRoomKey(room), checkSeq(seq), key);
	}

	async readMarker(user: string, room: string): Promise<number> {
		const key = accountKey(user);
		if (key === undefined) return 0;
		const row = this.#sql('SELECT seq FROM parley_read_markers WHERE name_key = ? AND room = ?').get(
			key,
			checkRoomKey(room),
		);
		return row === undefined ? 0 : Number(row.seq);
	}

	async ping(): Promise<void> {
		this.#sql('SELECT 1').get();
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		this.#statements.clear();
		this.#db.close();
	}
}

export interface SqliteStoreOptions {
	fileName?: string;
	/** How long a write waits for another process's lock before failing. */
	busyTimeoutMs?: number;
}

export async function openSqliteStore(
	dataDir: string,
	options: SqliteStoreOptions = {},
): Promise<SqliteStore> {
	await mkdir(dataDir, {recursive: true, mode: 0o700});
	const path = join(dataDir, options.fileName ?? SQLITE_FILE);
	// Create the file owner-only before SQLite does; its -wal and -shm files copy these permissions.
	closeSync(openSync(path, 'a', 0o600));
	const db = new DatabaseSync(path, {
		timeout: options.busyTimeoutMs ?? 5000,
		enableForeignKeyConstraints: true,
	});
	try {
		db.exec('PRAGMA journal_mode = WAL');
		db.exec('PRAGMA synchronous = NORMAL');
		migrate(db);
	} catch (error) {
		db.close();
		throw error;
	}
	return new SqliteStore(db);
}
