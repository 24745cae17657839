// Picks and opens the account store from the command line's --db and
// --data-dir: a mysql:// URL means the MySQL/MariaDB store (waited for with
// backoff, since a database container often starts after us); no URL means
// the embedded SQLite file in the data directory. Shared by `parley user` and
// `parley serve`. Nothing here ever prints the database password.

import {mkdir} from 'node:fs/promises';
import type {AccountStore} from './account-store.js';
import {openMysqlStore} from './mysql-store.js';
import {openSqliteStore} from './sqlite-store.js';
import {isTransientStoreError, waitForDatabase, type WaitOptions} from './wait-for-store.js';

export const DATABASE_URL_FORM = 'mysql://USER:PASS@HOST:PORT/DB';

export interface OpenStoreOptions {
	/** A mysql:// (or mariadb://) URL; undefined means the embedded SQLite store in dataDir. */
	db?: string;
	dataDir: string;
	/** Progress lines (database retries); defaults to standard error. */
	log?: (line: string) => void;
	/** How long one MySQL query may take before it counts as an outage. */
	queryTimeoutMs?: number;
	/** Backoff tuning for the MySQL wait; onRetry and isRetryable are fixed here. */
	retry?: Omit<WaitOptions, 'onRetry' | 'isRetryable'>;
}

/** A configuration mistake (bad URL, unsupported scheme): retrying cannot help. */
export class StoreConfigError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'StoreConfigError';
	}
}

/** The store could not be opened; the message names the database without its password. */
export class StoreOpenError extends Error {
	constructor(message: string, options?: ErrorOptions) {
		super(message, options);
		this.name = 'StoreOpenError';
	}
}

function parseDatabaseUrl(db: string): URL {
	let url: URL;
	try {
		url = new URL(db);
	} catch {
		// The input itself is not echoed: it may hold a password.
		throw new StoreConfigError(`--db must be a URL of the form ${DATABASE_URL_FORM}`);
	}
	if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:')
		throw new StoreConfigError(
			`unsupported database URL scheme "${url.protocol.replace(/:$/, '')}"; use ${DATABASE_URL_FORM}, or leave out --db for the embedded SQLite store`,
		);
	const database = url.pathname.replace(/^\//, '');
	if (database === '' || database.includes('/'))
		throw new StoreConfigError(`the database URL must name one database: ${DATABASE_URL_FORM}`);
	if (url.hostname === '')
		throw new StoreConfigError(`the database URL must name a host: ${DATABASE_URL_FORM}`);
	return url;
}

/** "mysql://root@127.0.0.1:3306/test": user, host and database, never the password. */
export function describeDatabaseUrl(db: string): string {
	const url = parseDatabaseUrl(db);
	const user = url.username === '' ? '' : `${url.username}@`;
	return `${url.protocol}//${user}${url.host}${url.pathname}`;
}

/** Removes the URL's password, raw and percent-decoded, from text that might echo it. */
function redact(text: string, url: URL): string {
	let result = text;
	for (const secret of new Set([url.password, safeDecode(url.password)])) {
		if (secret.length > 0) result = result.replaceAll(secret, '***');
	}
	return result;
}

function safeDecode(value: string): string {
	try {
		return decodeURIComponent(value);
	} catch {
		return value;
	}
}

const reasonOf = (error: unknown): string =>
	(error instanceof Error ? error.message : String(error)) || 'unknown error';

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(2))} s`;

const defaultLog = (line: string): void => {
	process.stderr.write(`${line}\n`);
};

export async function openStore(options: OpenStoreOptions): Promise<AccountStore> {
	if (options.db === undefined) {
		await mkdir(options.dataDir, {recursive: true, mode: 0o700});
		return openSqliteStore(options.dataDir);
	}
	const db = options.db;
	const url = parseDatabaseUrl(db);
	const description = describeDatabaseUrl(db);
	const log = options.log ?? defaultLog;
	try {
		return await waitForDatabase(() => openMysqlStore(db, {}, options.queryTimeoutMs), {
			...options.retry,
			isRetryable: isTransientStoreError,
			onRetry: ({attempt, delayMs, error}) =>
				log(
					`waiting for database ${description} (attempt ${attempt}, retrying in ${seconds(delayMs)}): ${redact(reasonOf(error), url)}`,
				),
		});
	} catch (error) {
		throw new StoreOpenError(`cannot open database ${description}: ${redact(reasonOf(error), url)}`, {
			cause: error,
		});
	}
}
