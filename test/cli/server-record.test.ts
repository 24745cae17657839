// The pid file of `parley serve`: one live server per data directory; a record
// left by a dead process, or one whose pid now belongs to another process, is stale.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {
	claimServerRecord,
	completeServerRecord,
	processStartTime,
	readServerRecord,
	releaseServerRecord,
	ServerRunningError,
	serverRecordPath,
} from '../../source/cli/server-record.js';

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
	const child = spawn(process.execPath, ['-e', ''], {stdio: 'ignore'});
	await new Promise((resolve) => child.once('exit', resolve));
	return child.pid!;
}

describe('serve.pid', () => {
	let dir: string;
	before(async () => {
		dir = await mkdtemp(path.join(tmpdir(), 'parley-pid-'));
	});
	after(() => rm(dir, {recursive: true, force: true}));

	test('a live server keeps the data directory; its record reads back; release removes only ours', async () => {
		// This test process stands in for the running server.
		const claim = await claimServerRecord(dir);
		assert.equal(claim.pid, process.pid);
		assert.equal(await readServerRecord(dir).then((r) => r?.host), undefined, 'still starting');
		await completeServerRecord(dir, {...claim, host: '127.0.0.1', udpPort: 1, tcpPort: 2});
		assert.deepEqual(await readServerRecord(dir), {...claim, host: '127.0.0.1', udpPort: 1, tcpPort: 2});
		await assert.rejects(claimServerRecord(dir, 999_999), ServerRunningError);
		await releaseServerRecord(dir, 999_999);
		assert.ok(await readServerRecord(dir), 'someone else’s release leaves our record');
		await releaseServerRecord(dir);
		assert.equal(await readServerRecord(dir), undefined);
	});

	test('a record of a dead process, or of a pid since reused, is stale and taken over', async () => {
		const file = serverRecordPath(dir);
		const dead = await deadPid();
		await writeFile(file, JSON.stringify({pid: dead, host: '127.0.0.1', udpPort: 1, tcpPort: 2}));
		assert.equal(await readServerRecord(dir), undefined);
		const start = processStartTime(process.pid);
		if (start !== undefined) {
			// Our own (live) pid, but another start time: an old server's pid now given to this process.
			await writeFile(file, JSON.stringify({pid: process.pid, start: `${start}0`, udpPort: 1}));
			assert.equal(await readServerRecord(dir), undefined);
		}
		await writeFile(file, '{half a reco');
		const claim = await claimServerRecord(dir, process.pid);
		assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), claim);
		await releaseServerRecord(dir);
	});
});
