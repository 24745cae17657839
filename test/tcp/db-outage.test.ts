// The database goes away under a running TCP room: the real MariaDB, reached
// through a relay the test can cut. Members already in keep chatting (the
// journal numbers messages in memory), new logins fail with a clear reason,
// and when the database is back everything recovers without a restart.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import type {AccountStore} from '../../server/store/account-store.js';
import {openMysqlStore} from '../../server/store/mysql-store.js';
import {RoomError, type RoomEvent} from '../../source/client/types.js';
import {MYSQL_URL, mysqlBackend, reportUnreachable, uniqueName, type Backend} from '../store/backends.js';
import {tcpFixture, type TcpFixture, type TcpTestClient} from '../helpers/tcp-fixture.js';
import {startTcpProxy, type TcpProxy} from '../helpers/tcp-proxy.js';
import {waitFor} from '../helpers/wait.js';
import {storedChat} from '../helpers/stored-chat.js';

type Message = Extract<RoomEvent, {type: 'message'}>;
const numbered = (messages: Message[]) => messages.map((m) => [m.seq, m.text] as const);

function outageSuite(backend: Backend) {
	describe('TCP room when the database goes away', () => {
		let relay: TcpProxy;
		let store: AccountStore;
		let direct: AccountStore;
		let room: TcpFixture;
		const log: string[] = [];
		const roomName = uniqueName('room');
		const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map(uniqueName) as [
			string,
			string,
			string,
			string,
		];
		const password = (user: string) => `${user} password`;
		const login = async (user: string): Promise<TcpTestClient> => {
			const c = room.client();
			await c.client.connect(user, password(user));
			return c;
		};
		const says = async (from: TcpTestClient, text: string, ...readers: TcpTestClient[]) => {
			from.client.say(text);
			for (const r of readers) await r.events.waitFor('message', (m) => m.text === text);
		};

		before(async () => {
			const url = new URL(MYSQL_URL);
			relay = await startTcpProxy(Number(url.port || 3306), url.hostname);
			url.host = `127.0.0.1:${relay.port}`;
			store = await openMysqlStore(url.toString());
			direct = await backend.open(); // the same database, not through the relay: for checking
			room = await tcpFixture(store, {roomName, log: (line) => log.push(line)});
			for (const user of [alice, bob, carol, dave]) await room.addUser(user, password(user));
		});
		after(async () => {
			relay.restore();
			await room.close();
			await store.close();
			await direct.close();
			await backend.cleanup();
			await relay.close();
		});

		it('keeps members chatting, refuses new logins clearly, and recovers by itself', async () => {
			const a = await login(alice);
			const b = await login(bob);
			await says(a, 'before the outage', a, b);

			relay.cut();
			await says(a, 'during the outage', a, b);
			await says(b, 'still during it', a, b);
			// Opening another room needs the store: refused clearly, and the session chats on.
			a.transport.send({t: 'hello', nick: alice, room: '#elsewhere', versions: [1, 2]});
			const notNow = await a.events.waitFor('error', (e) => e.code === 'server-error');
			assert.match(notNow.text, /rooms are unavailable while the database is away/);
			await says(a, 'after the refused room', a, b);
			assert.ok(
				room.server.journal.pendingWrites >= 2,
				'messages wait in the local journal for the database',
			);
			await waitFor(
				() => log.some((l) => /database write failed, keeping messages in the local journal/.test(l)),
				{
					what: 'the outage logged',
				},
			);

			const refused = await room
				.client()
				.client.connect(carol, password(carol))
				.catch((e: unknown) => e);
			assert.ok(refused instanceof RoomError, `expected a RoomError, got ${String(refused)}`);
			assert.equal(refused.code, 'auth-unavailable');
			assert.equal(refused.message, 'authentication backend unavailable; try again shortly');
			assert.match(log.join('\n'), /authentication backend unavailable: /);
			await says(a, 'the room is still up', a, b);

			relay.restore();
			await says(b, 'right after it', a, b);
			const c = await login(carol); // no restart, no retry: the pool reconnects on demand
			await says(c, 'carol made it', a, b, c);
			await waitFor(() => room.server.journal.pendingWrites === 0 || undefined, {
				timeout: 5000,
				what: 'the backlog written',
			});
			assert.match(log.join('\n'), /database is back; all messages stored/);

			// Everyone saw one numbered log, with no gap where the outage was.
			const seen = numbered(a.events.of('message'));
			assert.deepEqual(
				seen.map(([, text]) => text),
				[
					'before the outage',
					'during the outage',
					'still during it',
					'after the refused room',
					'the room is still up',
					'right after it',
					'carol made it',
				],
			);
			// Presence is numbered in the same log now (carol's join took a number).
			const first = seen[0]![0];
			const numbers = [...a.events.of('message'), ...a.events.of('presence')]
				.flatMap((event) => (event.seq === undefined || event.seq < first ? [] : [event.seq]))
				.sort((x, y) => x - y);
			assert.deepEqual(
				numbers,
				numbers.map((_, i) => first + i),
			);
			assert.deepEqual(numbered(b.events.of('message')), seen);
			for (const x of [a, b]) assert.equal(x.client.state, 'connected');

			// The database holds the same log, and a newcomer reads it as history.
			const stored = await storedChat(direct, roomName);
			assert.deepEqual(
				stored.map((m) => [m.seq, m.text] as const),
				seen,
			);
			const d = await login(dave);
			await d.events.waitFor('message', (m) => m.history && m.text === 'carol made it');
			assert.deepEqual(numbered(d.events.of('message').filter((m) => m.history)), seen);
		});
	});
}

const mysql = await mysqlBackend();
if ('unreachable' in mysql) reportUnreachable('TCP room when the database goes away', mysql);
else outageSuite(mysql);
