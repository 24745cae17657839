// A database written by a version 1 server (schema version 3) opens under the
// version 2 store: its history stays where it was (the default room `lobby`),
// and the new tables and columns arrive beside it.
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {DatabaseSync} from 'node:sqlite';
import {after, before, describe, it} from 'node:test';
import {emptyRoomSettings} from '../../server/store/account-store.js';
import {openSqliteStore, SQLITE_FILE} from '../../server/store/sqlite-store.js';
import {deriveVerifier} from '../../source/protocol/scram.js';

/** The schema as the first three migrations left it (copied: the fixture must not follow later edits). */
const VERSION_3 = `
	CREATE TABLE parley_schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT;
	INSERT INTO parley_schema_version VALUES (1, 1), (2, 2), (3, 3);
	CREATE TABLE parley_users (
		name_key TEXT PRIMARY KEY, name TEXT NOT NULL, salt BLOB NOT NULL, iterations INTEGER NOT NULL,
		stored_key BLOB NOT NULL, server_key BLOB NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
	) STRICT;
	CREATE TABLE parley_room_seq (room TEXT PRIMARY KEY, seq INTEGER NOT NULL) STRICT;
	CREATE TABLE parley_messages (
		room TEXT NOT NULL, seq INTEGER NOT NULL, sender TEXT NOT NULL, text TEXT NOT NULL,
		action INTEGER NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY (room, seq)
	) STRICT;
	ALTER TABLE parley_messages ADD COLUMN ref TEXT;
	CREATE UNIQUE INDEX parley_messages_ref ON parley_messages (room, sender, ref);
	CREATE TABLE parley_tokens (
		id TEXT PRIMARY KEY, name_key TEXT NOT NULL REFERENCES parley_users (name_key) ON DELETE CASCADE,
		label TEXT NOT NULL, hash BLOB NOT NULL, created_at INTEGER NOT NULL, last_used_at INTEGER
	) STRICT;
	INSERT INTO parley_room_seq VALUES ('lobby', 2);
	INSERT INTO parley_messages VALUES ('lobby', 1, 'alice', 'from version 1', 0, 10, 'r-1');
	INSERT INTO parley_messages VALUES ('lobby', 2, 'bob', 'waves', 1, 11, NULL);
`;

describe('sqlite schema upgrade from version 3', () => {
	let dir: string;
	before(async () => {
		dir = await mkdtemp(path.join(tmpdir(), 'parley-upgrade-'));
		const old = new DatabaseSync(path.join(dir, SQLITE_FILE));
		old.exec(VERSION_3);
		const {salt, iterations, storedKey, serverKey} = await deriveVerifier('a password');
		old
			.prepare('INSERT INTO parley_users VALUES (?, ?, ?, ?, ?, ?, 1, 1)')
			.run('carol', 'Carol', salt, iterations, storedKey, serverKey);
		old.close();
	});
	after(async () => {
		await rm(dir, {recursive: true, force: true});
	});

	it('keeps the lobby history and accounts, and adds rooms, memberships, markers, admins and presence rows', async () => {
		const store = await openSqliteStore(dir);
		try {
			assert.deepEqual(await store.lastMessages('lobby', 10), [
				{seq: 1, from: 'alice', text: 'from version 1', action: false, ts: 10, ref: 'r-1'},
				{seq: 2, from: 'bob', text: 'waves', action: true, ts: 11},
			]);
			assert.equal(
				await store.appendMessage('lobby', {
					from: 'carol',
					text: '',
					action: false,
					ts: 12,
					presence: {kind: 'join'},
				}),
				3,
			);
			assert.deepEqual(
				(await store.messagesBefore('lobby', 4, 10)).map((m) => m.presence?.kind ?? m.text),
				['from version 1', 'waves', 'join'],
			);
			assert.deepEqual(
				(await store.searchMessages('lobby', 'VERSION', undefined, 10)).map((m) => m.seq),
				[1],
			);
			assert.equal(await store.isAdmin('carol'), false, 'existing accounts are not admins');
			await store.setAdmin('carol', true);
			assert.equal(await store.isAdmin('Carol'), true);
			await store.createRoom({name: 'lobby', key: 'lobby', createdAt: 1, settings: emptyRoomSettings()});
			await store.addMembership('carol', 'lobby');
			await store.setReadMarker('carol', 'lobby', 2);
			assert.deepEqual(await store.membershipsOf('carol'), ['lobby']);
			assert.equal(await store.readMarker('carol', 'lobby'), 2);
		} finally {
			await store.close();
		}
		// Opening again migrates nothing twice.
		const again = await openSqliteStore(dir);
		try {
			assert.equal(await again.latestSeq('lobby'), 3);
			assert.equal((await again.listRooms()).length, 1);
		} finally {
			await again.close();
		}
	});
});
