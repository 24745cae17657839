// The local journal's writer thread: while a group commit (and its fsync) runs
// there, the event loop is free: the main thread serves reads of what is
// committed and talks over sockets, no append is acknowledged before its
// commit, and the turns' appends meanwhile gather into the next group.
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {createConnection, createServer, type Server} from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import type {NewRoomMessage} from '../../server/store/account-store.js';
import {CommitHold} from '../../server/store/journal-writer.js';
import {LocalJournal} from '../../server/store/local-journal.js';

const message = (text: string): NewRoomMessage => ({
	from: 'alice',
	text,
	action: false,
	ts: Date.UTC(2026, 0, 1),
});
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A line sent to the echo server and back, over a real socket. */
function roundTrip(server: Server, line: string): Promise<string> {
	const {port} = server.address() as {port: number};
	return new Promise((resolve, reject) => {
		const socket = createConnection({host: '127.0.0.1', port}, () => socket.write(line));
		socket.once('data', (data) => {
			socket.destroy();
			resolve(String(data));
		});
		socket.once('error', reject);
	});
}

describe('journal writer thread', () => {
	let dir: string;
	let echo: Server;
	before(async () => {
		dir = await mkdtemp(path.join(tmpdir(), 'parley-journal-writer-'));
		echo = createServer((socket) => socket.pipe(socket));
		await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
	});
	after(async () => {
		await new Promise((resolve) => echo.close(resolve));
		await rm(dir, {recursive: true, force: true});
	});

	it('serves reads and sockets while a group commit is held, and acknowledges only after it', async () => {
		const hold = new CommitHold();
		const local = await LocalJournal.open(dir, {hold});
		try {
			await local.append('room', 1, message('before'));
			hold.hold();
			const acked: number[] = [];
			const first = local.append('room', 2, message('held')).then(() => void acked.push(2));
			// The positive marker: the group's commit has come to the hold.
			while (hold.waiting === 0) await new Promise((resolve) => setTimeout(resolve, 5));
			// Meanwhile the main thread reads what is committed, and talks over a socket.
			assert.deepEqual(
				local.range('room', 1, 9).map((entry) => entry.message.text),
				['before'],
				'a read while the commit is held sees what was committed, not the held group',
			);
			assert.equal(await roundTrip(echo, 'ping'), 'ping');
			// Appends of later turns gather into the next group.
			const later = [
				local.append('room', 3, message('gathered a')).then(() => void acked.push(3)),
				local.append('other', 1, message('gathered b')).then(() => void acked.push(1)),
			];
			await nextTurn();
			await nextTurn();
			assert.deepEqual(acked, [], 'nothing acknowledged before its commit');
			const commits = local.stats.commits;
			hold.release();
			await Promise.all([first, ...later]);
			assert.deepEqual(acked, [2, 3, 1], 'acknowledged in order');
			assert.equal(local.stats.commits - commits, 2, 'the held group, then the one gathered meanwhile');
			// Acknowledged means readable here at once.
			assert.deepEqual(
				local.range('room', 1, 9).map((entry) => entry.message.text),
				['before', 'held', 'gathered a'],
			);
			assert.equal(local.maxSeq('other'), 1);
		} finally {
			hold.release();
			local.close();
		}
	});

	it('closing writes the group still in the thread', async () => {
		const journalDir = await mkdtemp(path.join(dir, 'close-'));
		const local = await LocalJournal.open(journalDir);
		const pending = local.append('room', 1, message('last words'));
		await nextTurn(); // the group is handed to the thread
		local.close();
		await pending;
		const reopened = await LocalJournal.open(journalDir);
		try {
			assert.deepEqual(
				reopened.range('room', 1, 1).map((entry) => entry.message.text),
				['last words'],
			);
		} finally {
			reopened.close();
		}
	});
});
