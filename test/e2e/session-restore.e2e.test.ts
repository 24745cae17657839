// `parley` with no arguments reopens the rooms that were open at the last
// quit (after the local rooms): the list is written to
// $XDG_STATE_HOME/parley/session.json on quit. Real processes in
// pseudo-terminals, a real room server for the extra room.
import assert from 'node:assert/strict';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import {startUdpRoomServer, type UdpRoomServer} from '../../server/udp/udp-room-server.js';
import {clientEnv, TuiProcess} from '../helpers/tui-process.js';

const TIMEOUT = 15_000;

describe('remembering the open rooms', () => {
	let home: string;
	let env: NodeJS.ProcessEnv;
	let server: UdpRoomServer;
	const clients: TuiProcess[] = [];
	const chat = (name: string, args: string[] = []): TuiProcess => {
		const client = new TuiProcess(name, ['--nick', 'alice', ...args], env);
		clients.push(client);
		return client;
	};
	const tabRow = (client: TuiProcess): string => client.lines()[1] ?? '';

	before(async () => {
		home = await mkdtemp(path.join(tmpdir(), 'parley-session-'));
		env = clientEnv(home, {
			PARLEY_LOCAL_UDP_PORT: '0',
			PARLEY_LOCAL_TCP_PORT: '0',
			XDG_STATE_HOME: path.join(home, 'state'),
		});
		server = await startUdpRoomServer({roomName: 'elsewhere'});
	});

	after(async () => {
		await Promise.all(clients.map((client) => client.kill()));
		await server?.close();
		const pid = await readFile(path.join(home, 'data', 'parley', 'serve.pid'), 'utf8').then(
			(text) => (JSON.parse(text) as {pid: number}).pid,
			() => undefined,
		);
		if (pid !== undefined) {
			try {
				process.kill(pid, 'SIGTERM');
			} catch {
				// gone already
			}
		}
		await rm(home, {recursive: true, force: true});
	});

	it('writes the open rooms on quit and reopens them on the next plain start, not with --no-restore', async () => {
		const url = `udp://127.0.0.1:${server.port}`;
		const first = chat('first');
		await first.waitForScreen(
			(lines) => (lines[1] ?? '').includes('2:tcp') && (lines[0] ?? '').includes('│ connected │'),
			'the local rooms',
			TIMEOUT,
		);
		await first.type(`/connect ${url}`, {enter: true});
		await first.waitForScreen(
			(lines) => (lines[1] ?? '').includes('3:udp #elsewhere'),
			'the extra room',
			TIMEOUT,
		);
		first.press('\x03');
		assert.equal(await first.waitForExit(), 0);
		const session = JSON.parse(
			await readFile(path.join(home, 'state', 'parley', 'session.json'), 'utf8'),
		) as {
			rooms: Array<{url: string; nick?: string}>;
		};
		assert.equal(session.rooms.length, 3);
		assert.deepEqual(session.rooms[2], {url, nick: 'alice'});

		const second = chat('second');
		// Connected first: a Ctrl+C before the screen has the keys would be the terminal's SIGINT.
		await second.waitForScreen(
			(lines) => (lines[1] ?? '').includes('3:udp #elsewhere') && (lines[0] ?? '').includes('│ connected │'),
			'the extra room reopened',
			TIMEOUT,
		);
		assert.ok(!tabRow(second).includes('4:'), tabRow(second));
		second.press('\x03');
		assert.equal(await second.waitForExit(), 0);

		const third = chat('third', ['--no-restore']);
		await third.waitForScreen(
			(lines) => (lines[1] ?? '').includes('2:tcp') && (lines[0] ?? '').includes('│ connected │'),
			'the local rooms',
			TIMEOUT,
		);
		assert.ok(!tabRow(third).includes('3:'), tabRow(third));
		third.press('\x03');
		assert.equal(await third.waitForExit(), 0);
	});
});
