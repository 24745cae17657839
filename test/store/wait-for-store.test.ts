import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {isTransientStoreError, waitForDatabase, type RetryInfo} from '../../server/store/wait-for-store.js';
import {openMysqlStore} from '../../server/store/mysql-store.js';

describe('waitForDatabase', () => {
	test('retries with exponential backoff, reporting each retry', async () => {
		const retries: RetryInfo[] = [];
		const slept: number[] = [];
		let calls = 0;
		const result = await waitForDatabase(
			async () => {
				calls++;
				if (calls < 4) throw new Error(`down ${calls}`);
				return 'open';
			},
			{
				onRetry: (info) => retries.push(info),
				sleep: async (ms) => void slept.push(ms),
				initialDelayMs: 100,
				maxDelayMs: 300,
			},
		);
		assert.equal(result, 'open');
		assert.deepEqual(slept, [100, 200, 300]);
		assert.deepEqual(
			retries.map((r) => [r.attempt, r.delayMs, (r.error as Error).message]),
			[
				[1, 100, 'down 1'],
				[2, 200, 'down 2'],
				[3, 300, 'down 3'],
			],
		);
	});

	test('gives up after maxAttempts with the last error, and at once on permanent errors', async () => {
		await assert.rejects(
			waitForDatabase(async () => Promise.reject(new Error('still down')), {
				maxAttempts: 3,
				onRetry: () => {},
				sleep: async () => {},
			}),
			/still down/,
		);
		let calls = 0;
		const denied = Object.assign(new Error('Access denied'), {code: 'ER_ACCESS_DENIED_ERROR'});
		await assert.rejects(
			waitForDatabase(
				async () => {
					calls++;
					throw denied;
				},
				{isRetryable: isTransientStoreError, onRetry: () => {}, sleep: async () => {}},
			),
			/Access denied/,
		);
		assert.equal(calls, 1);
	});

	test('an unreachable MySQL is retried and reported', async () => {
		const retries: RetryInfo[] = [];
		// Port 1 on loopback refuses connections immediately.
		await assert.rejects(
			waitForDatabase(() => openMysqlStore('mysql://nobody@127.0.0.1:1/test'), {
				maxAttempts: 2,
				initialDelayMs: 10,
				onRetry: (info) => retries.push(info),
			}),
		);
		assert.equal(retries.length, 1);
		assert.equal(isTransientStoreError(retries[0]?.error), true);
	});
});
