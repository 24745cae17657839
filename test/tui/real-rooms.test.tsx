// The many-room screen over real servers: a UDP room and a TLS TCP room (on
// node:sqlite) at once, real room sessions, real Ink rendering. Other members
// talk in the room that is not shown; nothing they say is lost, the tab bar
// counts it, and the half-typed line of each room survives the switches.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {cleanup, render} from 'ink-testing-library';
import type {AccountStore} from '../../server/store/account-store.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {startUdpRoomServer, type UdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomClient} from '../../source/client/types.js';
import {ChatScreen} from '../../source/tui/ChatScreen.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {KEYS, typeKeys, waitFor} from './helpers/wait.js';

const ANSI = /\u001B\[[0-9;]*m/g;
const plain = (text: string | undefined): string => (text ?? '').replace(ANSI, '');
const ALT_1 = '\u001B1';
const CTRL_N = '\u000E';
const SIZE = {columns: 100, rows: 50};

describe('one screen, a UDP room and a TCP room over real servers', () => {
	let dir: string;
	let store: AccountStore;
	let tcp: TcpFixture;
	let udp: UdpRoomServer;
	const closing: RoomClient[] = [];

	before(async () => {
		dir = await mkdtemp(path.join(tmpdir(), 'parley-rooms-'));
		store = await openSqliteStore(dir);
		// Limits raised so a burst of 26 lines is not a flood (the room's own limits are tested elsewhere).
		tcp = await tcpFixture(store, {roomName: 'chat', limits: {ratePerSecond: 1000, burst: 1000}});
		await tcp.addUser('alice', 'alice-pw');
		await tcp.addUser('bob', 'bob-pw');
		udp = await startUdpRoomServer({roomName: 'lobby'});
	});

	after(async () => {
		cleanup();
		await Promise.all(closing.map((client) => client.close()));
		await udp?.close();
		await tcp?.close();
		await store?.close();
		if (dir) await rm(dir, {recursive: true, force: true});
	});

	it('logs in to the TCP tab, keeps receiving in the hidden room, counts it, loses nothing, keeps half-typed lines', async () => {
		const udpClient = createRoomClient(`udp://127.0.0.1:${udp.port}`);
		const tcpSession = tcp.client().client;
		closing.push(udpClient, tcpSession);
		const view = render(
			<ChatScreen
				rooms={[
					{client: udpClient, nick: 'alice'},
					{client: tcpSession, nick: 'alice'},
				]}
				size={SIZE}
				showMembers={false}
			/>,
		);
		const frame = (): string => plain(view.lastFrame());
		const until = (predicate: (text: string) => boolean, timeout = 5000) =>
			waitFor(() => predicate(frame()), frame, timeout);
		const statusRow = (): string => frame().split('\n')[0] ?? '';
		const tabRow = (): string => frame().split('\n')[1] ?? '';

		// The UDP room joins by itself; a half-typed line waits there.
		await until((text) => /udp:\/\/.*│ alice │ connected/.test(text.split('\n')[0] ?? ''));
		await typeKeys(view.stdin, 'draft for the lobby');

		// The TCP tab asks for the password (its server already checked), then logs in over TLS.
		await typeKeys(view.stdin, CTRL_N);
		await until((text) => text.includes('password>'));
		await typeKeys(view.stdin, 'alice-pw', KEYS.enter);
		await until(() => /tcp:\/\/.*│ alice │ connected/.test(statusRow()));
		await typeKeys(view.stdin, 'draft for chat');

		// Back to the lobby: its line is as it was left.
		await typeKeys(view.stdin, ALT_1);
		await until(() => /udp:\/\//.test(statusRow()));
		assert.match(frame().split('\n').at(-1) ?? '', /^> draft for the lobby\s*$/);

		// Bob talks in the TCP room while it is hidden: the tab counts and marks the mention.
		const bob = await tcp.login('bob', 'bob-pw');
		closing.push(bob.client);
		const said = Array.from({length: 25}, (_, i) => `tcp line ${i + 1}`);
		for (const text of said) bob.client.say(text);
		bob.client.say('alice: are you there?');
		await until(() => /2:tcp #chat \(26\) @/.test(tabRow()));

		// Shown again: every line is in its log, in order, once; its half-typed line is back.
		await typeKeys(view.stdin, CTRL_N);
		await until(() => /tcp:\/\//.test(statusRow()) && frame().includes('bob: alice: are you there?'));
		assert.match(tabRow(), /\[2:tcp #chat\]/, 'seen now: no count, no mark');
		assert.match(frame().split('\n').at(-1) ?? '', /^> draft for chat\s*$/);
		const shown = frame()
			.split('\n')
			.map((line) => /bob: (tcp line \d+)$/.exec(line.trimEnd())?.[1])
			.filter((line) => line !== undefined);
		assert.deepEqual(shown, said, 'all 25 lines, in order, once each');

		// And the other way: the lobby receives while the TCP room is shown.
		const carol = createRoomClient(`udp://127.0.0.1:${udp.port}`);
		closing.push(carol);
		await carol.connect('carol');
		carol.say('hello lobby');
		carol.say('second');
		await until(() => /1:udp #lobby \(2\)/.test(tabRow()));
		await typeKeys(view.stdin, ALT_1);
		await until((text) => text.includes('carol: hello lobby') && text.includes('carol: second'));
		assert.match(frame().split('\n').at(-1) ?? '', /^> draft for the lobby\s*$/);
	});
});
