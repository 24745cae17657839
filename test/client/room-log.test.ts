// Room logs on a real file system (a temp dir): format, permissions, batching,
// flushing on detach, and errors reported once without reaching the UI.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, readFile, rm, stat, symlink, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {attachRoomLog, formatLogLines, roomLogId, roomLogPath} from '../../source/client/room-log.js';
import type {RoomEvent} from '../../source/client/types.js';
import {FakeRoomClient} from '../tui/helpers/fake-room-client.js';
import {waitFor} from '../helpers/wait.js';
import {delay} from '../tui/helpers/wait.js';

const TS = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const ISO = '2026-01-02T03:04:05.678Z';
const message = (text: string, extra: Partial<Extract<RoomEvent, {type: 'message'}>> = {}): RoomEvent => ({
	type: 'message',
	seq: 42,
	ts: TS,
	from: 'alice',
	text,
	action: false,
	self: false,
	history: false,
	...extra,
});

describe('room log format', () => {
	it('names the file after the room: its rooms.json name, else host and port, safely', () => {
		assert.equal(roomLogId('udp://127.0.0.1:7667'), '127.0.0.1-7667');
		assert.equal(roomLogId('udp://127.0.0.1:7667', 'lobby'), 'lobby');
		assert.equal(roomLogId('tcp://127.0.0.1:7668', 'work/../x'), 'work%2F..%2Fx', 'no "/" from a name');
		assert.equal(roomLogId('tcp://127.0.0.1:7668', '.hidden'), '%2Ehidden', 'no dot file');
		assert.equal(roomLogId('udp://localhost:7777/lobby'), 'localhost-7777-lobby');
		assert.equal(roomLogId('tcp://chat-1.example.org'), 'chat-1.example.org-7668');
		assert.equal(roomLogId('udp://[::1]:7667'), '%3A%3A1-7667');
		assert.equal(
			roomLogId('udp://host:1/../../etc'),
			'host-1-etc',
			'URL parsing already drops the dot segments',
		);
		assert.equal(roomLogId('udp://host:1/a%2F..%2Fb'), 'host-1-a%2F..%2Fb');
		assert.equal(roomLogId('udp://host:1/my_room/Café 日本'), 'host-1-my_room-Café%20日本');
		assert.equal(roomLogId('not a url/..'), 'not%20a%20url%2F..');
		const long = roomLogId(`udp://host:1/${'x'.repeat(500)}`);
		assert.ok(long.length <= 120 && /-[0-9a-f]{12}$/.test(long), long);
		assert.equal(roomLogPath('/logs', 'udp://h:1'), path.join('/logs', 'h-1.log'));
		assert.equal(roomLogPath('/logs', 'udp://h:1', 'lobby'), path.join('/logs', 'lobby.log'));
	});

	it('writes one line per message: time, sequence number, nick, text', () => {
		assert.deepEqual(formatLogLines(message('hello'), 0), [`${ISO} 42 alice: hello`]);
		assert.deepEqual(formatLogLines(message('waves', {action: true}), 0), [`${ISO} 42 * alice waves`]);
		assert.deepEqual(
			formatLogLines({type: 'direct', ts: TS, from: 'bob', to: 'me', text: 'psst', self: false}, 0),
			[`${ISO} - [dm] bob → me: psst`],
		);
	});

	it('hangs the lines of a multi-line message under its text', () => {
		const lines = formatLogLines(message('one\ntwo\n\tthree'), 0);
		const hang = ' '.repeat(`${ISO} 42 alice: `.length);
		assert.deepEqual(lines, [`${ISO} 42 alice: one`, `${hang}two`, `${hang}\tthree`]);
		assert.ok(
			lines.slice(1).every((line) => /^\s/.test(line)),
			'continuations never look like entries',
		);
	});

	it('writes presence, connection changes and losses; skips history, pending lines and noise', () => {
		assert.deepEqual(formatLogLines({type: 'presence', seq: 7, ts: TS, kind: 'join', nick: 'dave'}, 0), [
			`${ISO} 7 -- dave joined`,
		]);
		assert.deepEqual(formatLogLines({type: 'presence', ts: TS, kind: 'nick', nick: 'eve', old: 'dave'}, 0), [
			`${ISO} - -- dave is now known as eve`,
		]);
		assert.deepEqual(
			formatLogLines({type: 'presence', ts: TS, kind: 'kick', nick: 'x', reason: 'flooding'}, 0),
			[`${ISO} - -- x was removed (flooding)`],
		);
		assert.deepEqual(formatLogLines({type: 'state', state: 'reconnecting', detail: 'timeout'}, TS), [
			`${ISO} - -- connection lost; reconnecting (timeout)`,
		]);
		assert.deepEqual(formatLogLines({type: 'state', state: 'connecting'}, TS), []);
		assert.deepEqual(formatLogLines({type: 'lost', count: 3}, TS), [`${ISO} - !! 3 messages lost`]);
		assert.deepEqual(formatLogLines(message('old', {history: true}), 0), []);
		assert.deepEqual(formatLogLines(message('old', {history: true}), 0, {includeHistory: true}), [
			`${ISO} 42 alice: old`,
		]);
		for (const event of [
			{type: 'pending', ref: 'r', text: 'x'},
			{type: 'lag', ms: 3},
			{type: 'members', members: ['a']},
			{type: 'error', code: 'network', text: 'x'},
		] as RoomEvent[])
			assert.deepEqual(formatLogLines(event, 0), [], event.type);
	});

	it('never writes terminal control sequences into the file', () => {
		const [line] = formatLogLines(message('\u001B[2Jgone\r', {from: 'al\u001Bice'}), 0);
		assert.ok(line !== undefined && !/[\u0000-\u0008\u000B-\u001F\u007F]/.test(line), JSON.stringify(line));
	});
});

describe('attachRoomLog', () => {
	let dir: string;
	before(async () => {
		dir = await mkdtemp(path.join(tmpdir(), 'parley-room-log-'));
	});
	after(async () => {
		await rm(dir, {recursive: true, force: true});
	});

	it('appends the room to <dir>/<room>.log, private, flushed on detach', async () => {
		const logDir = path.join(dir, 'new', 'logs');
		const client = new FakeRoomClient({url: 'udp://localhost:7777/lobby'});
		const errors: Error[] = [];
		let now = TS;
		const detach = attachRoomLog(client, logDir, (error) => errors.push(error), {
			flushMs: 60_000,
			now: () => now,
		});
		client.emit(message('hello'));
		client.emit(message('old news', {history: true}));
		client.emit({type: 'presence', seq: 43, ts: TS, kind: 'leave', nick: 'bob'});
		client.emit(message('two\nlines', {seq: 44, self: true, from: 'me'}));
		now += 1000;
		await detach();
		assert.equal(client.listenerCount, 0, 'stopped listening');
		const file = path.join(logDir, 'localhost-7777-lobby.log');
		const text = await readFile(file, 'utf8');
		assert.deepEqual(text.split('\n'), [
			`${ISO} - --- log opened for udp://localhost:7777/lobby`,
			`${ISO} 42 alice: hello`,
			`${ISO} 43 -- bob left`,
			`${ISO} 44 me: two`,
			`${' '.repeat(`${ISO} 44 me: `.length)}lines`,
			'2026-01-02T03:04:06.678Z - --- log closed',
			'',
		]);
		assert.equal(errors.length, 0);
		if (process.platform !== 'win32') {
			assert.equal((await stat(file)).mode & 0o777, 0o600);
			assert.equal((await stat(logDir)).mode & 0o777, 0o700);
		}
		await detach(); // twice is harmless

		// A later session appends to the same file.
		const again = attachRoomLog(client, logDir, (error) => errors.push(error), {now: () => now});
		client.emit(message('back again', {seq: 50}));
		await again();
		const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
		assert.equal(lines.length, 9);
		assert.match(lines[7]!, / 50 alice: back again$/);
	});

	it('writes in batches without waiting for detach', async () => {
		const client = new FakeRoomClient({url: 'udp://batch:1'});
		const detach = attachRoomLog(client, dir, () => undefined, {flushMs: 20});
		client.emit(message('first'));
		client.emit(message('second'));
		const file = roomLogPath(dir, client.url);
		let text = '';
		for (let attempt = 0; attempt < 100 && !text.includes('second'); attempt++) {
			await delay(10);
			text = await readFile(file, 'utf8').catch(() => '');
		}
		assert.match(text, /alice: first\n.*alice: second\n$/);
		await detach();
	});

	it('writes at once when the buffer is full', async () => {
		const client = new FakeRoomClient({url: 'udp://full:1'});
		const detach = attachRoomLog(client, dir, () => undefined, {flushMs: 60_000, maxBufferBytes: 100});
		client.emit(message('x'.repeat(200)));
		const file = roomLogPath(dir, client.url);
		let text = '';
		for (let attempt = 0; attempt < 100 && !text.includes('xxx'); attempt++) {
			await delay(10);
			text = await readFile(file, 'utf8').catch(() => '');
		}
		assert.ok(text.includes('x'.repeat(200)));
		await detach();
	});

	it('reports an unusable directory once and never throws into the client', async () => {
		const notADir = path.join(dir, 'plain-file');
		await writeFile(notADir, 'x');
		const client = new FakeRoomClient({url: 'udp://broken:1'});
		const errors: Error[] = [];
		const detach = attachRoomLog(client, notADir, (error) => errors.push(error), {flushMs: 5});
		client.emit(message('m0'));
		await waitFor(() => errors.length === 1 || undefined, {what: 'the first failed write reported'});
		for (let index = 1; index < 5; index++) client.emit(message(`m${index}`));
		await detach(); // writes (fails to write) the rest: a second failure, not reported again
		assert.equal(errors.length, 1);
		assert.match(errors[0]!.message, /cannot write the room log .*plain-file/);
	});

	it('refuses to follow a symlink planted at the log path', {
		skip: process.platform === 'win32',
	}, async () => {
		const target = path.join(dir, 'elsewhere.txt');
		await writeFile(target, 'precious\n');
		const client = new FakeRoomClient({url: 'udp://linked:1'});
		await symlink(target, roomLogPath(dir, client.url));
		const errors: Error[] = [];
		const detach = attachRoomLog(client, dir, (error) => errors.push(error), {flushMs: 5});
		client.emit(message('secret'));
		await detach();
		assert.equal(await readFile(target, 'utf8'), 'precious\n');
		assert.equal(errors.length, 1);
	});

	it('survives a reporter that throws', async () => {
		const client = new FakeRoomClient({url: 'udp://thrower:1'});
		const detach = attachRoomLog(client, path.join(dir, 'plain-file'), () => {
			throw new Error('reporter broke');
		});
		assert.doesNotThrow(() => client.emit(message('hello')));
		await detach();
	});
});
