// Start-up helper: a database container often comes up after the chat server,
// so opening the store is retried with exponential backoff instead of failing
// on the first refused connection.

import {sleep as pause} from '../../source/util/sleep.js';

export interface RetryInfo {
	attempt: number;
	delayMs: number;
	error: unknown;
}

export interface WaitOptions {
	/** Called before each wait; defaults to a console.warn line so operators see why start-up stalls. */
	onRetry?: (info: RetryInfo) => void;
	initialDelayMs?: number;
	maxDelayMs?: number;
	/** Total attempts including the first; after the last failure its error is thrown. */
	maxAttempts?: number;
	/** Errors that retrying cannot fix (bad password, bad URL) should return false. */
	isRetryable?: (error: unknown) => boolean;
	signal?: AbortSignal;
	sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const defaultOnRetry = ({attempt, delayMs, error}: RetryInfo): void => {
	console.warn(`store not ready (attempt ${attempt}: ${describe(error)}); retrying in ${delayMs} ms`);
};

export async function waitForDatabase<T>(open: () => Promise<T>, options: WaitOptions = {}): Promise<T> {
	const initialDelayMs = options.initialDelayMs ?? 250;
	const maxDelayMs = options.maxDelayMs ?? 10_000;
	const maxAttempts = options.maxAttempts ?? 10;
	const sleep = options.sleep ?? ((ms: number, signal?: AbortSignal) => pause(ms, {signal}));
	for (let attempt = 1; ; attempt++) {
		try {
			return await open();
		} catch (error) {
			if (attempt >= maxAttempts || options.isRetryable?.(error) === false) throw error;
			const delayMs = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
			(options.onRetry ?? defaultOnRetry)({attempt, delayMs, error});
			await sleep(delayMs, options.signal);
		}
	}
}

/** MySQL errors that mean "wrong configuration", where waiting longer cannot help. */
const PERMANENT_MYSQL_ERRORS = new Set([
	'ER_ACCESS_DENIED_ERROR',
	'ER_BAD_DB_ERROR',
	'ER_DBACCESS_DENIED_ERROR',
]);

export function isTransientStoreError(error: unknown): boolean {
	const code = (error as {code?: unknown} | undefined)?.code;
	return !(typeof code === 'string' && PERMANENT_MYSQL_ERRORS.has(code)) && !(error instanceof TypeError);
}
