// The screen says which server of a cluster a room is on: a room given two
// servers (tcp://h:p1,h:p2/#room) shows where it logged in, and when that
// server shuts down, that it moved to the other one. Real TLS servers (two in
// one process over one store), a real room session, real Ink rendering.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {cleanup, render} from 'ink-testing-library';
import type {AccountStore} from '../../server/store/account-store.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import {KnownHosts} from '../../source/client/known-hosts.js';
import {TcpConnectionPool} from '../../source/client/tcp-connection-pool.js';
import type {RoomClient} from '../../source/client/types.js';
import {ChatScreen} from '../../source/tui/ChatScreen.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {KEYS, typeKeys, waitFor} from './helpers/wait.js';

const ANSI = /\u001B\[[0-9;]*m/g;
const plain = (text: string | undefined): string => (text ?? '').replace(ANSI, '');

describe('a room on two servers, on screen', () => {
	let dir: string;
	let store: AccountStore;
	let first: TcpFixture;
	let second: TcpFixture;
	let firstClosed = false;
	const closing: RoomClient[] = [];

	before(async () => {
		dir = await mkdtemp(path.join(tmpdir(), 'parley-failover-tui-'));
		store = await openSqliteStore(dir);
		first = await tcpFixture(store);
		second = await tcpFixture(store);
		await first.addUser('alice', 'alice-pw');
	});
	after(async () => {
		cleanup();
		await Promise.all(closing.map((client) => client.close()));
		if (!firstClosed) await first?.close();
		await second?.close();
		await store?.close();
		if (dir) await rm(dir, {recursive: true, force: true});
	});

	it('shows the server it logged in to, and the one it moved to', async () => {
		const [p1, p2] = [first.server.port, second.server.port];
		const client = createRoomClient(`tcp://127.0.0.1:${p1},127.0.0.1:${p2}/#side`, {
			pool: new TcpConnectionPool(),
			tcp: {knownHosts: new KnownHosts(path.join(dir, 'known_hosts')), confirmNewHost: async () => true},
			reconnectMinMs: 50,
		});
		closing.push(client);
		const view = render(
			<ChatScreen rooms={[{client, nick: 'alice'}]} size={{columns: 110, rows: 30}} showMembers={false} />,
		);
		const frame = (): string => plain(view.lastFrame());
		const until = (predicate: (text: string) => boolean) => waitFor(() => predicate(frame()), frame, 10_000);

		await until((text) => text.includes('password>'));
		await typeKeys(view.stdin, 'alice-pw', KEYS.enter);
		await until((text) => text.includes(`connected to server 127.0.0.1:${p1} (1 of 2)`));

		firstClosed = true;
		await first.server.close({flushWithinMs: 2000}); // a shutdown: bye, retry elsewhere
		await until((text) => text.includes(`moved to server 127.0.0.1:${p2} (2 of 2)`));
		await until((text) => /│ alice │ connected/.test(text.split('\n')[0] ?? ''));
		assert.doesNotMatch(frame(), /restarted/);
		await rm(first.dir, {recursive: true, force: true});
	});
});
