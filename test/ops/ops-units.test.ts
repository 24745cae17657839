// The parts of the service's operations that need no process: the shutdown's
// hard deadline, and the store timing that wraps the real SQLite store.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {ServerMetrics} from '../../server/ops/metrics.js';
import {armDeadline, flushBudget, settlesWithin} from '../../server/ops/shutdown.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {delay, waitFor} from '../helpers/wait.js';

describe('the shutdown deadline', () => {
	it('exits 1 when the shutdown did not finish in time, 0 at once when it finished but something lingers', async () => {
		const exits: number[] = [];
		const lines: string[] = [];
		armDeadline(
			50,
			(line) => lines.push(line),
			(code) => exits.push(code),
		);
		await waitFor(() => exits.length === 1 || undefined, {what: 'the deadline'});
		assert.deepEqual(exits, [1]);
		assert.match(lines[0]!, /^shutdown unfinished after 50 ms: exiting$/);

		const done: number[] = [];
		const deadline = armDeadline(
			60_000,
			() => {},
			(code) => done.push(code),
		);
		assert.ok(deadline.remainingMs() > 59_000);
		deadline.finished(true);
		assert.deepEqual(done, [0]);
	});

	it('leaves a finished shutdown alone and gives the flush most of the bound', async () => {
		const exits: number[] = [];
		armDeadline(
			30,
			() => {},
			(code) => exits.push(code),
		).finished();
		assert.deepEqual(exits, []); // the unref'd timer fires only if the process is still there: here, it is
		await waitFor(() => exits.length === 1 || undefined, {what: 'the lingering exit'});
		assert.deepEqual(exits, [0]);
		assert.equal(flushBudget(10_000), 9000);
		assert.equal(flushBudget(1000), 500);
		assert.equal(await settlesWithin(delay(1), 1000), true);
		assert.equal(await settlesWithin(new Promise(() => {}), 20), false);
	});
});

describe('the store timing', () => {
	it('times every call of the real store by operation and outcome, and closes it', async () => {
		const dir = await mkdtemp(path.join(tmpdir(), 'parley-metrics-unit-'));
		try {
			const metrics = new ServerMetrics();
			const store = metrics.timeStore(await openSqliteStore(dir));
			await store.ping();
			assert.equal(await store.latestSeq('lobby'), 0);
			await store.close();
			await assert.rejects(store.ping()); // a closed store fails: timed as an error
			const text = await metrics.registry.metrics();
			assert.match(text, /^parley_store_seconds_count\{operation="ping",outcome="ok"\} 1$/m);
			assert.match(text, /^parley_store_seconds_count\{operation="latestSeq",outcome="ok"\} 1$/m);
			assert.match(text, /^parley_store_seconds_count\{operation="ping",outcome="error"\} 1$/m);
		} finally {
			await rm(dir, {recursive: true, force: true});
		}
	});
});
