// Sequence numbers from one place, the shared MariaDB: two store handles (two
// nodes) appending batches to one room at once never share a number or leave
// a gap, a retried send keeps its number, and `parley serve --redis` refuses
// to run without the shared store.
import {spawnSync} from 'node:child_process';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import type {AccountStore, NewRoomMessage} from '../../server/store/account-store.js';
import {mysqlBackend, reportUnreachable, uniqueName, type Backend} from '../store/backends.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../cli.js');
const chat = (from: string, text: string, ref?: string): NewRoomMessage => ({
	from,
	text,
	action: false,
	ts: 1,
	...(ref ? {ref} : {}),
});

function numberingSuite(backend: Backend) {
	describe('shared numbering in the database (cluster mode)', () => {
		let nodeA: AccountStore;
		let nodeB: AccountStore;
		before(async () => {
			[nodeA, nodeB] = [await backend.open(), await backend.open()];
		});
		after(async () => {
			await Promise.all([nodeA.close(), nodeB.close()]);
			await backend.cleanup();
		});

		it('two nodes appending batches at once: every number once, none skipped, each batch consecutive', async () => {
			const room = uniqueName('room');
			const batches = Array.from({length: 20}, (_, i) =>
				Array.from({length: 1 + (i % 4)}, (__, j) => chat(i % 2 ? 'b' : 'a', `${i}.${j}`)),
			);
			const results = await Promise.all(
				batches.map((batch, i) => (i % 2 ? nodeB : nodeA).appendMessages!(room, batch)),
			);
			const seqs = results.flat().map((r) => r.seq);
			const total = batches.flat().length;
			assert.deepEqual(
				[...seqs].sort((x, y) => x - y),
				Array.from({length: total}, (_, i) => i + 1),
			);
			for (const result of results)
				for (let i = 1; i < result.length; i++) assert.equal(result[i]!.seq, result[i - 1]!.seq + 1);
			assert.equal(await nodeA.latestSeq(room), total);
			const stored = await nodeB.messagesAfter(room, 0, 1000);
			assert.deepEqual(
				stored.map((m) => m.seq),
				Array.from({length: total}, (_, i) => i + 1),
			);
		});

		it('a send retried on another node keeps its number and is not stored twice', async () => {
			const room = uniqueName('room');
			const [first] = await nodeA.appendMessages!(room, [chat('alice', 'once', 'ref-1')]);
			const again = await nodeB.appendMessages!(room, [chat('bob', 'other'), chat('alice', 'once', 'ref-1')]);
			assert.deepEqual(first, {seq: 1, duplicate: false});
			assert.deepEqual(again, [
				{seq: 2, duplicate: false},
				{seq: 1, duplicate: true},
			]);
			assert.equal(await nodeB.latestSeq(room), 2);
		});
	});

	it('parley serve --redis without --db mysql://… exits 2 with the reason', async () => {
		const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-cluster-flags-'));
		try {
			const run = spawnSync(
				process.execPath,
				[
					CLI,
					'serve',
					'--data-dir',
					dataDir,
					'--redis',
					'redis://127.0.0.1:1',
					'--tcp-port',
					'0',
					'--udp-port',
					'0',
				],
				{encoding: 'utf8', timeout: 20_000},
			);
			assert.equal(run.status, 2, run.stderr);
			assert.match(run.stderr, /--redis .* needs the shared MySQL\/MariaDB store/);
		} finally {
			await rm(dataDir, {recursive: true, force: true});
		}
	});
}

const mysql = await mysqlBackend();
if ('unreachable' in mysql) reportUnreachable('shared numbering', mysql);
else numberingSuite(mysql);
