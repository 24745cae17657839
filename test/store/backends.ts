// The store contract is tested against every backend. MySQL is the real
// server at PARLEY_TEST_MYSQL_URL (default: the local MariaDB); if it cannot be
// reached, CI fails and a developer machine skips loudly, never silently.

import {randomBytes} from 'node:crypto';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {test} from 'node:test';
import mysql from 'mysql2/promise';
import type {AccountStore} from '../../server/store/account-store.js';
import {openMysqlStore} from '../../server/store/mysql-store.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';

export const MYSQL_URL = process.env.PARLEY_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** Prefix for every user and room a test run creates, so runs never collide in a shared database. */
export const RUN_ID = `t${randomBytes(4).toString('hex')}`;

export interface Backend {
	name: 'sqlite' | 'mysql';
	/** Opens another handle on the same database (a second server process, in effect). */
	open(): Promise<AccountStore>;
	/** Removes whatever this run wrote. */
	cleanup(): Promise<void>;
}

export async function sqliteBackend(): Promise<Backend> {
	const dir = await mkdtemp(join(tmpdir(), 'parley-store-'));
	return {
		name: 'sqlite',
		open: () => openSqliteStore(dir),
		cleanup: () => rm(dir, {recursive: true, force: true}),
	};
}

/** Why MySQL tests cannot run; see reportUnreachable. */
export interface Unreachable {
	unreachable: string;
}

export async function mysqlBackend(): Promise<Backend | Unreachable> {
	try {
		const probe = await openMysqlStore(MYSQL_URL, {connectTimeout: 3000});
		await probe.close();
	} catch (error) {
		return {
			unreachable: `MySQL/MariaDB at ${MYSQL_URL} is unreachable: ${error instanceof Error ? error.message : String(error)}`,
		};
	}
	return {
		name: 'mysql',
		open: () => openMysqlStore(MYSQL_URL),
		cleanup: async () => {
			const connection = await mysql.createConnection(MYSQL_URL);
			try {
				const pattern = `${RUN_ID}%`;
				await connection.execute('DELETE FROM parley_users WHERE name_key LIKE ?', [pattern]);
				await connection.execute('DELETE FROM parley_messages WHERE room LIKE ?', [pattern]);
				await connection.execute('DELETE FROM parley_room_seq WHERE room LIKE ?', [pattern]);
				await connection.execute('DELETE FROM parley_rooms WHERE room_key LIKE ?', [pattern]);
				await connection.execute('DELETE FROM parley_files WHERE sender LIKE ?', [pattern]);
				for (const table of ['parley_memberships', 'parley_read_markers'])
					await connection.execute(`DELETE FROM ${table} WHERE room LIKE ? OR name_key LIKE ?`, [
						pattern,
						pattern,
					]);
			} finally {
				await connection.end();
			}
		},
	};
}

let counter = 0;
/** A fresh name inside this run's prefix, at most 32 characters. */
export function uniqueName(label: string): string {
	counter++;
	return `${RUN_ID}_${label}${counter}`.slice(0, 32);
}

/** In CI an unreachable database is a failing test; elsewhere a skip nobody can miss. */
export function reportUnreachable(suite: string, {unreachable}: Unreachable): void {
	if (process.env.CI) {
		test(suite, () => {
			throw new Error(`${unreachable} (CI is set, so this fails instead of skipping)`);
		});
		return;
	}
	console.warn(`\n${'!'.repeat(72)}\n!!! SKIPPING ${suite}: ${unreachable}\n${'!'.repeat(72)}\n`);
	test(suite, {skip: unreachable}, () => {});
}
