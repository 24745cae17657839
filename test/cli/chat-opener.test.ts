// /connect NAME in the chat reads rooms.json again each time: a room added
// while the chat runs opens without a restart.
import assert from 'node:assert/strict';
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {describe, test} from 'node:test';
import {roomOpener} from '../../source/cli/chat-command.js';
import type {RoomClient} from '../../source/client/types.js';

describe('the chat’s room opener', () => {
	test('sees rooms added to rooms.json after the chat started, and the address of a renamed one', async () => {
		const home = await mkdtemp(path.join(tmpdir(), 'parley-opener-'));
		try {
			const env = {XDG_CONFIG_HOME: home};
			const file = path.join(home, 'parley', 'rooms.json');
			await mkdir(path.dirname(file), {recursive: true});
			const write = (rooms: object) => writeFile(file, JSON.stringify({rooms}));
			await write({lobby: {url: 'udp://127.0.0.1:7667', nick: 'alice'}});
			const opener = roomOpener(() => ({}) as RoomClient, {env});
			assert.deepEqual(opener.resolve?.('lobby'), {
				url: 'udp://127.0.0.1:7667',
				nick: 'alice',
				label: 'lobby',
			});
			assert.throws(() => opener.resolve?.('work'), /work/);
			await write({
				lobby: {url: 'udp://127.0.0.1:9000'},
				work: {url: 'tcp://127.0.0.1:7668', user: 'bob'},
			});
			assert.deepEqual(opener.resolve?.('work'), {url: 'tcp://127.0.0.1:7668', nick: 'bob', label: 'work'});
			assert.equal(opener.resolve?.('lobby').url, 'udp://127.0.0.1:9000');
			// A file broken meanwhile stops names, not addresses.
			await writeFile(file, '{"rooms": ');
			assert.throws(() => opener.resolve?.('work'), /rooms\.json/);
			assert.equal(opener.resolve?.('udp://127.0.0.1:1').url, 'udp://127.0.0.1:1');
		} finally {
			await rm(home, {recursive: true, force: true});
		}
	});
});
