// The MySQL/MariaDB store, for operators who already run a database. Every
// statement is a server-side prepared statement with bound parameters; table
// names carry a parley_ prefix so the schema can share a database.

import mysql, {
	type Pool,
	type PoolConnection,
	type ResultSetHeader,
	type RowDataPacket,
} from 'mysql2/promise';
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

/** Each entry moves the schema one version forward; append, never edit. */
const MIGRATIONS: ReadonlyArray<readonly string[]> = [
	[
		// Binary/ASCII collations: the application decides what "the same name" means, not the server's locale.
		`CREATE TABLE IF NOT EXISTS parley_users (
			name_key VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
			name VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
			salt VARBINARY(64) NOT NULL,
			iterations INT UNSIGNED NOT NULL,
			stored_key VARBINARY(64) NOT NULL,
			server_key VARBINARY(64) NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			PRIMARY KEY (name_key)
		) ENGINE=InnoDB`,
		// Rooms are compared as bytes: MariaDB's _bin collations still ignore
		// trailing spaces, which would merge "lobby" and "lobby ".
		`CREATE TABLE IF NOT EXISTS parley_room_seq (
			room VARBINARY(512) NOT NULL,
			seq BIGINT UNSIGNED NOT NULL,
			PRIMARY KEY (room)
		) ENGINE=InnoDB`,
		`CREATE TABLE IF NOT EXISTS parley_messages (
			room VARBINARY(512) NOT NULL,
			seq BIGINT UNSIGNED NOT NULL,
			sender VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
			text TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
			action TINYINT(1) NOT NULL,
			ts BIGINT NOT NULL,
			PRIMARY KEY (room, seq)
		) ENGINE=InnoDB`,
	],
	[
		// Client refs, so a send retried after a server restart is recognised (NULLs never collide).
		// One statement: the column and its index arrive together or not at all.
		`ALTER TABLE parley_messages
			ADD COLUMN ref VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NULL,
			ADD UNIQUE KEY parley_messages_ref (room, sender, ref)`,
	],
	[
		// Bot access tokens: the SHA-256 of each secret, never the secret; they go with their account.
		`CREATE TABLE IF NOT EXISTS parley_tokens (
			id CHAR(12) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
			name_key VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
			label VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
			hash BINARY(32) NOT NULL,
			created_at BIGINT NOT NULL,
			last_used_at BIGINT NULL,
			PRIMARY KEY (id),
			KEY parley_tokens_user (name_key),
			CONSTRAINT parley_tokens_account FOREIGN KEY (name_key) REFERENCES parley_users (name_key) ON DELETE CASCADE
		) ENGINE=InnoDB`,
	],
	// Version 2: many rooms. One statement per version: MySQL commits each DDL on its own,
	// so a start interrupted between two of them resumes at the one that did not happen.
	// Presence kept in the log: its details as JSON, NULL for chat.
	[`ALTER TABLE parley_messages ADD COLUMN presence TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL`],
	// Server admins moderate every room.
	[`ALTER TABLE parley_users ADD COLUMN admin TINYINT(1) NOT NULL DEFAULT 0`],
	// Rooms and their moderation settings (JSON, saved whole), by room key.
	[
		`CREATE TABLE IF NOT EXISTS parley_rooms (
			room_key VARBINARY(512) NOT NULL,
			name VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
			owner VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
			created_at BIGINT NOT NULL,
			settings MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
			PRIMARY KEY (room_key)
		) ENGINE=InnoDB`,
	],
	// The rooms each account is in, in join order (the id); they go with their account.
	[
		`CREATE TABLE IF NOT EXISTS parley_memberships (
			id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
			name_key VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
			room VARBINARY(512) NOT NULL,
			PRIMARY KEY (id),
			UNIQUE KEY parley_memberships_account_room (name_key, room),
			KEY parley_memberships_room (room),
			CONSTRAINT parley_memberships_account FOREIGN KEY (name_key) REFERENCES parley_users (name_key) ON DELETE CASCADE
		) ENGINE=InnoDB`,
	],
	// How far each account has read in each room.
	[
		`CREATE TABLE IF NOT EXISTS parley_read_markers (
			name_key VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
			room VARBINARY(512) NOT NULL,
			seq BIGINT UNSIGNED NOT NULL,
			PRIMARY KEY (name_key, room),
			KEY parley_read_markers_room (room),
			CONSTRAINT parley_read_markers_account FOREIGN KEY (name_key) REFERENCES parley_users (name_key) ON DELETE CASCADE
		) ENGINE=InnoDB`,
	],
	// Shared files' metadata; the bytes are in the data directory under their SHA-256.
	[
		`CREATE TABLE IF NOT EXISTS parley_files (
			id VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
			room VARBINARY(512) NOT NULL,
			name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
			size BIGINT UNSIGNED NOT NULL,
			sha256 CHAR(64) CHARACTER SET ascii NOT NULL,
			sender VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
			recipient VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
			ts BIGINT NOT NULL,
			PRIMARY KEY (id),
			KEY parley_files_room (room, ts),
			KEY parley_files_sender (sender)
		) ENGINE=InnoDB`,
	],
];

const MIGRATION_LOCK = 'parley_schema_migration';
const MIGRATION_LOCK_SECONDS = 60;
const APPEND_ATTEMPTS = 5;

interface MysqlError extends Error {
	code?: string;
	errno?: number;
}

const errorCode = (error: unknown): string | undefined => (error as MysqlError | undefined)?.code;
const isDuplicateKey = (error: unknown): boolean => errorCode(error) === 'ER_DUP_ENTRY';
/** InnoDB may pick our transaction as a deadlock victim; retrying it is the documented remedy. */
const isRetryableConflict = (error: unknown): boolean =>
	errorCode(error) === 'ER_LOCK_DEADLOCK' || errorCode(error) === 'ER_LOCK_WAIT_TIMEOUT';

/** Parses mysql://USER:PASS@HOST:PORT/DB into pool options; the URL is the only configuration. */
export function poolOptionsFromUrl(url: string): mysql.PoolOptions {
	const parsed = new URL(url);
	if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:')
		throw new Error(`expected a mysql:// URL, got ${parsed.protocol}`);
	const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
	if (database === '' || database.includes('/'))
		throw new Error('the URL must name one database: mysql://user:pass@host:port/db');
	return {
		host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
		port: parsed.port === '' ? 3306 : Number(parsed.port),
		user: decodeURIComponent(parsed.username),
		password: decodeURIComponent(parsed.password),
		database,
		charset: 'utf8mb4_bin',
		connectionLimit: 10,
		connectTimeout: 5000,
		// One statement per call: a smuggled "; DROP TABLE" has nowhere to go.
		multipleStatements: false,
		supportBigNumbers: true,
		bigNumberStrings: false,
	};
}

const FILE_COLUMNS = 'id, room, name, size, sha256, sender, recipient, ts';

function fileFromRow(row: RowDataPacket): StoredFile {
	return {
		id: String(row.id),
		room: Buffer.isBuffer(row.room) ? row.room.toString('utf8') : String(row.room),
		name: String(row.name),
		size: Number(row.size),
		sha256: String(row.sha256),
		from: String(row.sender),
		...(row.recipient === null || row.recipient === undefined ? {} : {to: String(row.recipient)}),
		ts: Number(row.ts),
	};
}

function toCredential(row: RowDataPacket): ScramCredential {
	return {
		salt: Buffer.from(row.salt as Buffer),
		iterations: Number(row.iterations),
		storedKey: Buffer.from(row.stored_key as Buffer),
		serverKey: Buffer.from(row.server_key as Buffer),
	};
}

function toMessage(row: RowDataPacket): StoredRoomMessage {
	return {
		seq: Number(row.seq),
		from: String(row.sender),
		text: String(row.text),
		action: Number(row.action) === 1,
		ts: Number(row.ts),
		...(row.ref === null || row.ref === undefined ? {} : {ref: String(row.ref)}),
		...(row.presence === null || row.presence === undefined
			? {}
			: {presence: presenceFromColumn(row.presence) as StoredPresence}),
	};
}

/** Room columns are VARBINARY: mysql2 hands them over as Buffers. */
const roomText = (value: unknown): string =>
	Buffer.isBuffer(value) ? value.toString('utf8') : String(value);

function toRoom(row: RowDataPacket): StoredRoom {
	return {
		name: String(row.name),
		key: roomText(row.room_key),
		...(row.owner === null || row.owner === undefined ? {} : {owner: String(row.owner)}),
		createdAt: Number(row.created_at),
		settings: settingsFromColumn(row.settings),
	};
}

const MESSAGE_COLUMNS = 'seq, sender, text, action, ts, ref, presence';

async function migrate(pool: Pool): Promise<void> {
	const connection = await pool.getConnection();
	try {
		// DDL commits implicitly, so a transaction cannot serialise two servers starting together; a named lock can.
		const [locked] = await connection.execute<RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS ok', [
			MIGRATION_LOCK,
			MIGRATION_LOCK_SECONDS,
		]);
		if (Number(locked[0]?.ok) !== 1)
			throw new Error('timed out waiting for another server to migrate the schema');
		try {
			await connection.query(
				`CREATE TABLE IF NOT EXISTS parley_schema_version (
					version INT UNSIGNED NOT NULL PRIMARY KEY,
					applied_at BIGINT NOT NULL
				) ENGINE=InnoDB`,
			);
			const [rows] = await connection.execute<RowDataPacket[]>(
				'SELECT MAX(version) AS version FROM parley_schema_version',
			);
			const current = Number(rows[0]?.version ?? 0);
			if (current > MIGRATIONS.length)
				throw new Error(
					`database schema version ${current} is newer than this server understands (${MIGRATIONS.length})`,
				);
			for (const [index, statements] of MIGRATIONS.entries()) {
				if (index + 1 <= current) continue;
				for (const statement of statements) await connection.query(statement);
				await connection.execute('INSERT INTO parley_schema_version (version, applied_at) VALUES (?, ?)', [
					index + 1,
					Date.now(),
				]);
			}
		} finally {
			await connection.execute('SELECT RELEASE_LOCK(?)', [MIGRATION_LOCK]);
		}
	} finally {
		connection.release();
	}
}

/** A query the database did not answer in time: handled like a refused connection (the same outage path). */
export class StoreTimeoutError extends Error {
	readonly code = 'ETIMEDOUT';
	constructor(ms: number) {
		super(`the database did not answer within ${ms} ms`);
		this.name = 'StoreTimeoutError';
	}
}

export const DEFAULT_QUERY_TIMEOUT_MS = 3000;

export class MysqlStore implements AccountStore {
	readonly #pool: Pool;
	readonly #timeoutMs: number;
	#closed = false;

	constructor(pool: Pool, queryTimeoutMs = DEFAULT_QUERY_TIMEOUT_MS) {
		this.#pool = pool;
		this.#timeoutMs = queryTimeoutMs;
	}

	/**
	 * Runs work on one pooled connection within the query timeout. A database
	 * that accepts bytes but never answers would otherwise hold us forever:
	 * past the deadline the connection is destroyed (the server rolls back
	 * whatever it had not committed) and the caller gets StoreTimeoutError.
	 */
	async #using<T>(work: (connection: PoolConnection) => Promise<T>): Promise<T> {
		let connection: PoolConnection | undefined;
		let expired = false;
		let timer: NodeJS.Timeout | undefined;
		const deadline = new Promise<never>((_, reject) => {
			timer = setTimeout(() => {
				expired = true;
				connection?.destroy();
				reject(new StoreTimeoutError(this.#timeoutMs));
			}, this.#timeoutMs);
		});
		const task = (async () => {
			const got = await this.#pool.getConnection();
			if (expired) {
				got.release(); // came too late; nothing ran on it
				throw new StoreTimeoutError(this.#timeoutMs);
			}
			connection = got;
			try {
				return await work(got);
			} finally {
				if (!expired) got.release();
			}
		})();
		task.catch(() => {}); // when the deadline wins, the task's own failure is expected
		try {
			return await Promise.race([task, deadline]);
		} finally {
			clearTimeout(timer);
		}
	}

	#execute<T extends RowDataPacket[] | ResultSetHeader>(
		sql: string,
		values: Array<string | number | Buffer | null>,
	): Promise<T> {
		return this.#using(async (connection) => (await connection.execute<T>(sql, values))[0]);
	}

	async createUser(name: string, verifier: ScramCredential): Promise<void> {
		const key = checkedUsernameKey(name);
		const now = Date.now();
		try {
			// The primary key decides races: no check-then-insert window.
			await this.#execute(
				`INSERT INTO parley_users (name_key, name, salt, iterations, stored_key, server_key, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				[key, name, verifier.salt, verifier.iterations, verifier.storedKey, verifier.serverKey, now, now],
			);
		} catch (error) {
			if (isDuplicateKey(error)) throw new UserExistsError(name);
			throw error;
		}
	}

	async setVerifier(name: string, verifier: ScramCredential): Promise<void> {
		const key = checkedUsernameKey(name);
		const result = await this.#execute<ResultSetHeader>(
			'UPDATE parley_users SET salt = ?, iterations = ?, stored_key = ?, server_key = ?, updated_at = ? WHERE name_key = ?',
			[verifier.salt, verifier.iterations, verifier.storedKey, verifier.serverKey, Date.now(), key],
		);
		if (result.affectedRows === 0) throw new NoSuchUserError(name);
	}

	async removeUser(name: string): Promise<boolean> {
		if (usernameProblem(name) !== undefined) return false;
		const result = await this.#execute<ResultSetHeader>('DELETE FROM parley_users WHERE name_key = ?', [
			identityKey(name),
		]);
		return result.affectedRows > 0;
	}

	async getVerifier(name: string): Promise<ScramCredential | undefined> {
		if (usernameProblem(name) !== undefined) return undefined;
		const rows = await this.#execute<RowDataPacket[]>(
			'SELECT salt, iterations, stored_key, server_key FROM parley_users WHERE name_key = ?',
			[identityKey(name)],
		);
		const row = rows[0];
		return row === undefined ? undefined : toCredential(row);
	}

	async listUsers(): Promise<string[]> {
		const rows = await this.#execute<RowDataPacket[]>('SELECT name FROM parley_users ORDER BY name_key', []);
		return rows.map((row) => String(row.name));
	}

	async createToken(user: string, {id, label, hash, createdAt}: NewToken): Promise<void> {
		const key = checkedUsernameKey(user);
		// INSERT … SELECT: no row for an unknown user, decided in one statement.
		const [result] = await this.#pool.execute<ResultSetHeader>(
			`INSERT INTO parley_tokens (id, name_key, label, hash, created_at, last_used_at)
			SELECT ?, name_key, ?, ?, ?, NULL FROM parley_users WHERE name_key = ?`,
			[id, label, hash, createdAt, key],
		);
		if (result.affectedRows === 0) throw new NoSuchUserError(user);
	}

	async listTokens(user: string): Promise<TokenInfo[]> {
		if (usernameProblem(user) !== undefined) return [];
		const [rows] = await this.#pool.execute<RowDataPacket[]>(
			'SELECT id, label, created_at, last_used_at FROM parley_tokens WHERE name_key = ? ORDER BY created_at, id',
			[identityKey(user)],
		);
		return rows.map((row) => ({
			id: String(row.id),
			label: String(row.label),
			createdAt: Number(row.created_at),
			lastUsedAt: row.last_used_at === null ? undefined : Number(row.last_used_at),
		}));
	}

	async revokeToken(user: string, id: string): Promise<boolean> {
		if (usernameProblem(user) !== undefined) return false;
		const [result] = await this.#pool.execute<ResultSetHeader>(
			'DELETE FROM parley_tokens WHERE id = ? AND name_key = ?',
			[id, identityKey(user)],
		);
		return result.affectedRows > 0;
	}

	async findToken(id: string): Promise<StoredToken | undefined> {
		const [rows] = await this.#pool.execute<RowDataPacket[]>(
			'SELECT u.name AS name, t.hash AS hash FROM parley_tokens t JOIN parley_users u ON u.name_key = t.name_key WHERE t.id = ?',
			[id],
		);
		const row = rows[0];
		return row === undefined ? undefined : {user: String(row.name), hash: Buffer.from(row.hash as Buffer)};
	}

	async touchToken(id: string, at: number): Promise<void> {
		await this.#pool.execute('UPDATE parley_tokens SET last_used_at = ? WHERE id = ?', [at, id]);
	}

	async appendMessage(room: string, message: NewRoomMessage): Promise<number> {
		checkRoom(room);
		const checked = checkMessage(message);
		// Make sure the counter row exists outside the transaction, so concurrent
		// first messages in a new room do not fight over inserting it.
		await this.#execute('INSERT IGNORE INTO parley_room_seq (room, seq) VALUES (?, 0)', [room]);
		for (let attempt = 1; ; attempt++) {
			try {
				return await this.#using((connection) => this.#appendOnce(connection, room, checked));
			} catch (error) {
				if (attempt >= APPEND_ATTEMPTS || !isRetryableConflict(error)) throw error;
			}
		}
	}

	/**
	 * The counter row's lock is held until commit, so appenders to one room queue
	 * up behind each other; a rollback returns the number, leaving no gap.
	 */
	async #appendOnce(
		connection: PoolConnection,
		room: string,
		{from, text, action, ts, ref, presence}: NewRoomMessage,
	): Promise<number> {
		await connection.beginTransaction();
		try {
			await connection.execute('UPDATE parley_room_seq SET seq = LAST_INSERT_ID(seq + 1) WHERE room = ?', [
				room,
			]);
			if (ref !== undefined) {
				// Under the counter's lock, so a concurrent copy of this send cannot slip in between.
				const [stored] = await connection.execute<RowDataPacket[]>(
					'SELECT seq FROM parley_messages WHERE room = ? AND sender = ? AND ref = ?',
					[room, from, ref],
				);
				if (stored[0] !== undefined) {
					await connection.rollback(); // gives the number back
					return Number(stored[0].seq);
				}
			}
			const [rows] = await connection.execute<RowDataPacket[]>('SELECT LAST_INSERT_ID() AS seq');
			const seq = Number(rows[0]?.seq);
			await connection.execute(
				'INSERT INTO parley_messages (room, seq, sender, text, action, ts, ref, presence) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
				[room, seq, from, text, action ? 1 : 0, ts, ref ?? null, presenceColumn(presence)],
			);
			await connection.commit();
			return seq;
		} catch (error) {
			await rollbackQuietly(connection);
			throw error;
		}
	}

	async appendMessages(
		room: string,
		messages: NewRoomMessage[],
	): Promise<Array<{seq: number; duplicate: boolean}>> {
		checkRoom(room);
		const checked = messages.map(checkMessage);
		if (checked.length === 0) return [];
		await this.#execute('INSERT IGNORE INTO parley_room_seq (room, seq) VALUES (?, 0)', [room]);
		for (let attempt = 1; ; attempt++) {
			try {
				return await this.#using((connection) => this.#appendBatchOnce(connection, room, checked));
			} catch (error) {
				if (attempt >= APPEND_ATTEMPTS || !isRetryableConflict(error)) throw error;
			}
		}
	}

	/**
	 * The counter row is locked first and held until commit: every server's
	 * batches for the room queue behind each other, so seq N is committed before
	 * N + 1 is (a node missing N + 1's predecessor always finds it stored).
	 */
	async #appendBatchOnce(
		connection: PoolConnection,
		room: string,
		messages: NewRoomMessage[],
	): Promise<Array<{seq: number; duplicate: boolean}>> {
		await connection.beginTransaction();
		try {
			const [counter] = await connection.execute<RowDataPacket[]>(
				'SELECT seq FROM parley_room_seq WHERE room = ? FOR UPDATE',
				[room],
			);
			let seq = Number(counter[0]?.seq ?? 0);
			const first = seq;
			const results: Array<{seq: number; duplicate: boolean}> = [];
			const rows: Array<string | number | Buffer | null> = [];
			/** sender + ref → the number it has, stored or in this batch. */
			const refs = await storedRefs(connection, room, messages);
			for (const {from, text, action, ts, ref, presence} of messages) {
				if (ref !== undefined) {
					const key = refKey(from, ref);
					const earlier = refs.get(key);
					if (earlier !== undefined) {
						results.push({seq: earlier, duplicate: true});
						continue;
					}
					refs.set(key, seq + 1);
				}
				seq++;
				results.push({seq, duplicate: false});
				rows.push(room, seq, from, text, action ? 1 : 0, ts, ref ?? null, presenceColumn(presence));
			}
			if (seq > first) {
				const count = seq - first;
				await connection.execute(
					`INSERT INTO parley_messages (room, seq, sender, text, action, ts, ref, presence) VALUES ${Array(count).fill('(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
					rows,
				);
				await connection.execute('UPDATE parley_room_seq SET seq = ? WHERE room = ?', [seq, room]);
			}
			await connection.commit();
			return results;
		} catch (error) {
			await rollbackQuietly(connection);
			throw error;
		}
	}

	async storeMessageAt(room: string, seq: number, message: NewRoomMessage): Promise<StoreOutcome> {
		return (await this.storeMessagesAt(room, [{seq, message}]))[0]!;
	}

	async storeMessagesAt(room: string, entries: readonly NumberedMessage[]): Promise<StoreOutcome[]> {
		checkRoom(room);
		const checked = entries.map(({seq, message}) => ({seq: checkSeq(seq), message: checkMessage(message)}));
		if (checked.length === 0) return [];
		return this.#using(async (connection) => {
			// One commit for the batch; a duplicate key fails its statement only, not the transaction.
			await connection.beginTransaction();
			try {
				const outcomes: StoreOutcome[] = [];
				for (const {seq, message} of checked) outcomes.push(await storeAt(connection, room, seq, message));
				await connection.execute(
					'INSERT INTO parley_room_seq (room, seq) VALUES (?, ?) ON DUPLICATE KEY UPDATE seq = GREATEST(seq, VALUES(seq))',
					[room, Math.max(...checked.map(({seq}) => seq))],
				);
				await connection.commit();
				return outcomes;
			} catch (error) {
				await rollbackQuietly(connection);
				throw error;
			}
		});
	}

	async messagesAfter(room: string, after: number, limit: number): Promise<StoredRoomMessage[]> {
		const rows = await this.#execute<RowDataPacket[]>(
			`SELECT ${MESSAGE_COLUMNS} FROM parley_messages WHERE room = ? AND seq > ? ORDER BY seq LIMIT ?`,
			[checkRoom(room), checkSeq(after), checkLimit(limit)],
		);
		return rows.map(toMessage);
	}

	async lastMessages(room: string, limit: number): Promise<StoredRoomMessage[]> {
		const rows = await this.#execute<RowDataPacket[]>(
			`SELECT ${MESSAGE_COLUMNS} FROM parley_messages WHERE room = ? ORDER BY seq DESC LIMIT ?`,
			[checkRoom(room), checkLimit(limit)],
		);
		return rows.map(toMessage).reverse();
	}

	async latestSeq(room: string): Promise<number> {
		const rows = await this.#execute<RowDataPacket[]>('SELECT seq FROM parley_room_seq WHERE room = ?', [
			checkRoom(room),
		]);
		return Number(rows[0]?.seq ?? 0);
	}

	async messagesBefore(room: string, before: number, limit: number): Promise<StoredRoomMessage[]> {
		const rows = await this.#execute<RowDataPacket[]>(
			`SELECT ${MESSAGE_COLUMNS} FROM parley_messages WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
			[checkRoom(room), checkSeq(before), checkLimit(limit)],
		);
		return rows.map(toMessage).reverse();
	}

	async searchMessages(
		room: string,
		text: string,
		before: number | undefined,
		limit: number,
	): Promise<StoredRoomMessage[]> {
		// LOWER on both sides: the column's binary collation would make LIKE case-sensitive.
		const rows = await this.#execute<RowDataPacket[]>(
			`SELECT ${MESSAGE_COLUMNS} FROM parley_messages
			WHERE room = ? AND seq < ? AND presence IS NULL AND LOWER(text) LIKE ? ESCAPE '${LIKE_ESCAPE}'
			ORDER BY seq DESC LIMIT ?`,
			[
				checkRoom(room),
				checkSeq(before ?? Number.MAX_SAFE_INTEGER),
				containsPattern(text),
				checkLimit(limit),
			],
		);
		return rows.map(toMessage).reverse();
	}

	async createRoom({name, key, owner, createdAt, settings}: StoredRoom): Promise<void> {
		const roomKey = checkRoomKey(key);
		try {
			await this.#execute(
				'INSERT INTO parley_rooms (room_key, name, owner, created_at, settings) VALUES (?, ?, ?, ?, ?)',
				[roomKey, checkRoom(name), owner ?? null, createdAt, settingsColumn(settings)],
			);
		} catch (error) {
			if (isDuplicateKey(error)) throw new RoomExistsError(name);
			throw error;
		}
	}

	async getRoom(key: string): Promise<StoredRoom | undefined> {
		const rows = await this.#execute<RowDataPacket[]>(
			'SELECT room_key, name, owner, created_at, settings FROM parley_rooms WHERE room_key = ?',
			[checkRoomKey(key)],
		);
		const row = rows[0];
		return row === undefined ? undefined : toRoom(row);
	}

	async listRooms(): Promise<StoredRoom[]> {
		const rows = await this.#execute<RowDataPacket[]>(
			'SELECT room_key, name, owner, created_at, settings FROM parley_rooms ORDER BY room_key',
			[],
		);
		return rows.map(toRoom);
	}

	async saveRoomSettings(key: string, settings: RoomSettings): Promise<void> {
		const result = await this.#execute<ResultSetHeader>(
			'UPDATE parley_rooms SET settings = ? WHERE room_key = ?',
			[settingsColumn(settings), checkRoomKey(key)],
		);
		// affectedRows counts matched rows (mysql2 sets FOUND_ROWS), so saving unchanged settings is no error.
		if (result.affectedRows === 0) throw new Error(`no room #${key} to save settings for`);
	}

	async removeRoom(key: string): Promise<boolean> {
		const room = checkRoomKey(key);
		for (let attempt = 1; ; attempt++) {
			try {
				return await this.#using(async (connection) => {
					await connection.beginTransaction();
					try {
						const [rows] = await connection.execute<ResultSetHeader>(
							'DELETE FROM parley_rooms WHERE room_key = ?',
							[room],
						);
						const [counters] = await connection.execute<ResultSetHeader>(
							'DELETE FROM parley_room_seq WHERE room = ?',
							[room],
						);
						await connection.execute('DELETE FROM parley_messages WHERE room = ?', [room]);
						await connection.execute('DELETE FROM parley_memberships WHERE room = ?', [room]);
						await connection.execute('DELETE FROM parley_read_markers WHERE room = ?', [room]);
						await connection.commit();
						return rows.affectedRows + counters.affectedRows > 0;
					} catch (error) {
						await rollbackQuietly(connection);
						throw error;
					}
				});
			} catch (error) {
				if (attempt >= APPEND_ATTEMPTS || !isRetryableConflict(error)) throw error;
			}
		}
	}

	async setAdmin(name: string, admin: boolean): Promise<void> {
		const key = checkedUsernameKey(name);
		const result = await this.#execute<ResultSetHeader>(
			'UPDATE parley_users SET admin = ? WHERE name_key = ?',
			[admin ? 1 : 0, key],
		);
		if (result.affectedRows === 0) throw new NoSuchUserError(name);
	}

	// ---- shared files (server/files/file-index.ts) ----

	async addFile(file: StoredFile): Promise<void> {
		await this.#execute(
			'INSERT INTO parley_files (id, room, name, size, sha256, sender, recipient, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
			[file.id, file.room, file.name, file.size, file.sha256, file.from, file.to ?? null, file.ts],
		);
	}

	async getFile(id: string): Promise<StoredFile | undefined> {
		const rows = await this.#execute<RowDataPacket[]>(
			`SELECT ${FILE_COLUMNS} FROM parley_files WHERE id = ?`,
			[id],
		);
		return rows[0] === undefined ? undefined : fileFromRow(rows[0]);
	}

	async roomFiles(room: string, limit: number): Promise<StoredFile[]> {
		const rows = await this.#execute<RowDataPacket[]>(
			`SELECT ${FILE_COLUMNS} FROM parley_files WHERE room = ? ORDER BY ts DESC, id DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
			[room],
		);
		return rows.map(fileFromRow).reverse();
	}

	async uploadedBytes(user: string): Promise<number> {
		const rows = await this.#execute<RowDataPacket[]>(
			'SELECT COALESCE(SUM(size), 0) AS total FROM parley_files WHERE sender = ?',
			[user],
		);
		return Number(rows[0]?.total ?? 0);
	}

	async isAdmin(name: string): Promise<boolean> {
		const key = accountKey(name);
		if (key === undefined) return false;
		const rows = await this.#execute<RowDataPacket[]>('SELECT admin FROM parley_users WHERE name_key = ?', [
			key,
		]);
		return Number(rows[0]?.admin ?? 0) === 1;
	}

	async addMembership(user: string, room: string): Promise<void> {
		const key = accountKey(user);
		if (key === undefined) return;
		// INSERT … SELECT: nothing for an unknown account; a repeat keeps its place in the join order.
		await this.#execute(
			`INSERT INTO parley_memberships (name_key, room) SELECT name_key, ? FROM parley_users WHERE name_key = ?
			ON DUPLICATE KEY UPDATE id = id`,
			[checkRoomKey(room), key],
		);
	}

	async removeMembership(user: string, room: string): Promise<void> {
		const key = accountKey(user);
		if (key === undefined) return;
		await this.#execute('DELETE FROM parley_memberships WHERE name_key = ? AND room = ?', [
			key,
			checkRoomKey(room),
		]);
	}

	async membershipsOf(user: string): Promise<string[]> {
		const key = accountKey(user);
		if (key === undefined) return [];
		const rows = await this.#execute<RowDataPacket[]>(
			'SELECT room FROM parley_memberships WHERE name_key = ? ORDER BY id',
			[key],
		);
		return rows.map((row) => roomText(row.room));
	}

	async setReadMarker(user: string, room: string, seq: number): Promise<void> {
		const key = accountKey(user);
		if (key === undefined) return;
		// One statement, GREATEST in SQL: concurrent writers can only move it forward.
		await this.#execute(
			`INSERT INTO parley_read_markers (name_key, room, seq) SELECT name_key, ?, ? FROM parley_users WHERE name_key = ?
			ON DUPLICATE KEY UPDATE seq = GREATEST(seq, VALUES(seq))`,
			[checkRoomKey(room), checkSeq(seq), key],
		);
	}

	async readMarker(user: string, room: string): Promise<number> {
		const key = accountKey(user);
		if (key === undefined) return 0;
		const rows = await this.#execute<RowDataPacket[]>(
			'SELECT seq FROM parley_read_markers WHERE name_key = ? AND room = ?',
			[key, checkRoomKey(room)],
		);
		return Number(rows[0]?.seq ?? 0);
	}

	async ping(): Promise<void> {
		await this.#using((connection) => connection.query('SELECT 1'));
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		await this.#pool.end();
	}
}

async function rollbackQuietly(connection: PoolConnection): Promise<void> {
	try {
		await connection.rollback();
	} catch {
		// The connection is likely broken; the pool discards it and the original error matters more.
	}
}

/** Connects, checks the server answers, and brings the schema up to date. */
export async function openMysqlStore(
	url: string,
	overrides: mysql.PoolOptions = {},
	queryTimeoutMs = DEFAULT_QUERY_TIMEOUT_MS,
): Promise<MysqlStore> {
	const pool = mysql.createPool({...poolOptionsFromUrl(url), ...overrides});
	try {
		await pool.query('SELECT 1');
		await migrate(pool);
	} catch (error) {
		await pool.end().catch(() => undefined);
		throw error;
	}
	return new MysqlStore(pool, queryTimeoutMs);
}

/** One message under its number, inside the caller's transaction; the room's counter is the caller's. */
async function storeAt(
	connection: PoolConnection,
	room: string,
	seq: number,
	{from, text, action, ts, ref, presence}: NewRoomMessage,
): Promise<StoreOutcome> {
	try {
		await connection.execute(
			'INSERT INTO parley_messages (room, seq, sender, text, action, ts, ref, presence) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
			[room, seq, from, text, action ? 1 : 0, ts, ref ?? null, presenceColumn(presence)],
		);
		return 'stored';
	} catch (error) {
		if (!isDuplicateKey(error)) throw error;
	}
	// Already there (a replay after a crash, or a write that timed out yet committed)?
	const [same] = await connection.execute<RowDataPacket[]>(
		'SELECT seq FROM parley_messages WHERE room = ? AND seq = ? AND sender = ? AND ref <=> ?',
		[room, seq, from, ref ?? null],
	);
	return same[0] === undefined ? 'conflict' : 'duplicate';
}

const refKey = (sender: string, ref: string): string => `${sender}\u0000${ref}`;

/**
 * The numbers the batch's refs already have, in ONE query: it runs while the
 * room's counter row is locked, so every round trip here holds up the cluster.
 */
async function storedRefs(
	connection: PoolConnection,
	room: string,
	messages: readonly NewRoomMessage[],
): Promise<Map<string, number>> {
	const found = new Map<string, number>();
	const pairs: string[] = [];
	for (const {from, ref} of messages) if (ref !== undefined) pairs.push(from, ref);
	if (pairs.length === 0) return found;
	const [rows] = await connection.execute<RowDataPacket[]>(
		// OR of pairs, not a row IN: the range optimizer reads it off the (room, sender, ref) index.
		`SELECT sender, ref, seq FROM parley_messages WHERE room = ? AND (${Array.from(
			{length: pairs.length / 2},
			() => '(sender = ? AND ref = ?)',
		).join(' OR ')})`,
		[room, ...pairs],
	);
	for (const row of rows) found.set(refKey(String(row.sender), String(row.ref)), Number(row.seq));
	return found;
}
