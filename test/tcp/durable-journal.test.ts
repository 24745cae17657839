// Acknowledged means durable, against the real MariaDB behind a relay the test
// can cut or freeze: messages acknowledged while the database is away survive a
// kill -9 and keep their numbers, and a database that accepts bytes but never
// answers does not stop the room.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import type {AccountStore} from '../../server/store/account-store.js';
import {openMysqlStore} from '../../server/store/mysql-store.js';
import {StoreJournal} from '../../server/tcp/store-journal.js';
import type {RoomEventMessage, UnsequencedRoomEvent} from '../../source/protocol/messages.js';
import {KnownHosts} from '../../source/client/known-hosts.js';
import {RoomError, type RoomEvent} from '../../source/client/types.js';
import {deriveVerifier} from '../../source/protocol/scram.js';
import {MYSQL_URL, mysqlBackend, reportUnreachable, uniqueName, type Backend} from '../store/backends.js';
import {tcpClient, tcpFixture, type TcpTestClient} from '../helpers/tcp-fixture.js';
import {startTcpProxy, type TcpProxy} from '../helpers/tcp-proxy.js';
import {ServeProcess, freePort} from '../helpers/tcp-serve-process.js';
import {delay, waitFor} from '../helpers/wait.js';
import {storedChat} from '../helpers/stored-chat.js';

type Message = Extract<RoomEvent, {type: 'message'}>;
const password = (user: string) => `${user} password`;

function durableSuite(backend: Backend) {
	describe('acknowledged messages when the database is away', () => {
		let relay: TcpProxy;
		let relayUrl: string;
		let direct: AccountStore;
		let dataDir: string;
		const clients: TcpTestClient[] = [];

		before(async () => {
			const url = new URL(MYSQL_URL);
			relay = await startTcpProxy(Number(url.port || 3306), url.hostname);
			url.host = `127.0.0.1:${relay.port}`;
			relayUrl = url.toString();
			direct = await backend.open(); // the same database, not through the relay: for checking
			dataDir = await mkdtemp(path.join(tmpdir(), 'parley-durable-'));
		});
		after(async () => {
			relay.restore();
			relay.holdReplies(false);
			await Promise.all(clients.map((c) => c.client.close()));
			await direct.close();
			await backend.cleanup();
			await relay.close();
			await rm(dataDir, {recursive: true, force: true});
		});

		it('keeps every message acknowledged during an outage through a kill -9, exactly once, numbers unchanged', async () => {
			const roomName = uniqueName('room');
			const [alice, bob] = [uniqueName('alice'), uniqueName('bob')] as [string, string];
			for (const user of [alice, bob]) await direct.createUser(user, await deriveVerifier(password(user)));
			const port = await freePort();
			const knownHosts = new KnownHosts(path.join(dataDir, 'known_hosts'));
			const serve = () => ServeProcess.start({tcpPort: port, dataDir, db: relayUrl, room: roomName});
			const login = async (user: string) => {
				const c = tcpClient({host: '127.0.0.1', port, knownHosts});
				clients.push(c);
				await c.client.connect(user, password(user));
				return c;
			};

			let server = await serve();
			const a = await login(alice);
			a.client.say('before the outage');
			await a.events.waitFor('message', (m) => m.self && m.text === 'before the outage');

			relay.cut();
			for (let i = 1; i <= 18; i++) {
				a.client.say(`during ${i}`);
				await a.events.waitFor('message', (m) => m.self && m.text === `during ${i}`);
				if (i >= 8) await delay(210); // within the room's rate: 5 a second after a burst of 10
			}
			const acked = a.events
				.of('message')
				.filter((m: Message) => m.self)
				.map((m) => [m.seq, m.text] as const);
			assert.equal(acked.length, 19);
			await server.kill9();
			await a.client.close();

			relay.restore();
			server = await serve();
			try {
				// Replayed into the database from the local journal, under the numbers everyone saw.
				for (const deadline = Date.now() + 10_000; Date.now() < deadline; await delay(50)) {
					if ((await storedChat(direct, roomName)).length >= acked.length) break;
				}
				const stored = await storedChat(direct, roomName);
				assert.deepEqual(
					stored.map((m) => [m.seq, m.text] as const),
					acked,
				);

				// A newcomer reads them once each as history, and the next number is a new one.
				const b = await login(bob);
				await b.events.waitFor('message', (m) => m.history && m.text === 'during 18', 5000);
				assert.deepEqual(
					b.events
						.of('message')
						.filter((m) => m.history)
						.map((m) => [m.seq, m.text] as const),
					acked,
				);
				b.client.say('after the restart');
				const next = await b.events.waitFor('message', (m) => m.self && m.text === 'after the restart');
				// Above every acknowledged number (bob's join, sequenced too, took the one between).
				assert.ok(next.seq > acked.at(-1)![0], `no sequence number given twice (${next.seq})`);
			} finally {
				await server.stop();
			}
		});

		it('journals presence with the chat through an outage and a restart; pages and search served locally meanwhile', async () => {
			const roomName = uniqueName('room');
			const journalDir = await mkdtemp(path.join(dataDir, 'journal-'));
			const at = (n: number) => Date.UTC(2026, 0, 1, 12, n);
			const events: UnsequencedRoomEvent[] = [
				{t: 'msg', ts: at(1), from: 'alice', text: 'Deploy at noon', ref: 'a-1'},
				{t: 'presence', ts: at(2), kind: 'join', nick: 'bob'},
				{t: 'msg', ts: at(3), from: 'bob', text: 'coffee first'},
				{t: 'presence', ts: at(4), kind: 'topic', nick: 'alice', text: 'deploy day'},
				{t: 'msg', ts: at(5), from: 'alice', text: 'ok'},
				{t: 'presence', ts: at(6), kind: 'role', nick: 'bob', role: 'voice', by: 'alice'},
				// While the database is away:
				{t: 'msg', ts: at(7), from: 'bob', text: 'DEPLOY started', action: true},
				{t: 'presence', ts: at(8), kind: 'kick', nick: 'troll', by: 'alice', reason: 'spam'},
				{t: 'presence', ts: at(9), kind: 'ban', nick: 'troll', by: 'alice', until: at(60)},
				{t: 'presence', ts: at(10), kind: 'leave', nick: 'bob'},
			];
			const expected = events.map((event, i) => ({...event, seq: i + 1}));
			const seqs = (page: {events: readonly RoomEventMessage[]}) => page.events.map((e) => e.seq);

			let store = await openMysqlStore(relayUrl, {}, 2000);
			let journal = await StoreJournal.open(store, roomName, {dir: journalDir, retryMs: 50, keep: 3});
			try {
				for (const event of events.slice(0, 6)) await journal.append(event);
				await waitFor(() => journal.pendingWrites === 0 || undefined, {what: 'the first six stored'});

				relay.cut();
				for (const event of events.slice(6)) await journal.append(event);
				assert.deepEqual(await journal.range(4, 10), expected.slice(3), 'presence details too');
				const held = await journal.before(11, 4);
				assert.deepEqual(seqs(held), [7, 8, 9, 10], 'a page the local journal holds needs no database');
				const partial = await journal.before(11, 10);
				assert.deepEqual(seqs(partial), [4, 5, 6, 7, 8, 9, 10], 'what is held, while the database is away');
				assert.equal(partial.complete, false);
				await assert.rejects(journal.before(4, 3), 'nothing older held: the outage shows');
				assert.deepEqual(
					(await journal.search('deploy', undefined, 50)).map((m) => [m.seq, m.text]),
					[[7, 'DEPLOY started']],
					'search: the local rows, never presence',
				);
				journal.close(); // the server stops with four events not yet stored
				await store.close();
				assert.equal(await direct.latestSeq(roomName), 6);

				relay.restore();
				store = await openMysqlStore(relayUrl, {}, 2000);
				journal = await StoreJournal.open(store, roomName, {dir: journalDir, retryMs: 50, keep: 3});
				assert.equal(journal.latestSeq(), 10, 'numbers kept through the restart');
				await waitFor(() => journal.pendingWrites === 0 || undefined, {what: 'the backlog stored'});
				const stored = await direct.messagesAfter(roomName, 0, 20);
				assert.deepEqual(
					stored.map((m) => [m.seq, m.from, m.presence ?? m.text]),
					[
						[1, 'alice', 'Deploy at noon'],
						[2, 'bob', {kind: 'join'}],
						[3, 'bob', 'coffee first'],
						[4, 'alice', {kind: 'topic', text: 'deploy day'}],
						[5, 'alice', 'ok'],
						[6, 'bob', {kind: 'role', role: 'voice', by: 'alice'}],
						[7, 'bob', 'DEPLOY started'],
						[8, 'troll', {kind: 'kick', by: 'alice', reason: 'spam'}],
						[9, 'troll', {kind: 'ban', by: 'alice', until: at(60)}],
						[10, 'bob', {kind: 'leave'}],
					],
					'in order, once each, with their details',
				);
				assert.deepEqual(await journal.range(1, 10), expected, 'read back whole: every event as it was');

				// Back from the database: pages reach seq 1, search finds the stored and the held alike.
				const pages: number[] = [];
				for (
					let page = await journal.before(11, 3);
					;
					page = await journal.before(page.events[0]?.seq ?? 0, 3)
				) {
					pages.unshift(...seqs(page).map(Number));
					if (page.complete) break;
				}
				assert.deepEqual(pages, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
				const older = await journal.before(4, 3);
				assert.deepEqual(older.events, expected.slice(0, 3));
				assert.equal(older.complete, true);
				assert.deepEqual(
					(await journal.search('DePloY', undefined, 50)).map((m) => [m.seq, m.text]),
					[
						[1, 'Deploy at noon'],
						[7, 'DEPLOY started'],
					],
				);
			} finally {
				relay.restore();
				journal.close();
				await store.close();
			}
		});

		it('goes on chatting with a database that stops answering, and catches it up afterwards', async () => {
			const roomName = uniqueName('room');
			const [alice, bob, carol] = [uniqueName('alice'), uniqueName('bob'), uniqueName('carol')] as [
				string,
				string,
				string,
			];
			const store = await openMysqlStore(relayUrl, {}, 2000); // the query timeout
			const room = await tcpFixture(store, {roomName});
			try {
				for (const user of [alice, bob, carol]) await room.addUser(user, password(user));
				const a = room.client();
				const b = room.client();
				await a.client.connect(alice, password(alice));
				await b.client.connect(bob, password(bob));
				a.client.say('before the freeze');
				await b.events.waitFor('message', (m) => m.text === 'before the freeze');

				relay.holdReplies(true); // connected, reading, never answering
				const latencies: number[] = [];
				const frozenUntil = Date.now() + 6000;
				let login: Promise<unknown> | undefined;
				for (let i = 0; Date.now() < frozenUntil; i++) {
					const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
					const text = `frozen ${i}`;
					const sent = Date.now();
					from.client.say(text);
					await to.events.waitFor('message', (m) => m.text === text, 2000);
					latencies.push(Date.now() - sent);
					if (i === 2) {
						const started = Date.now();
						login = room
							.client()
							.client.connect(carol, password(carol))
							.then(
								() => new Error('logged in against a frozen database'),
								(error: unknown) => ({error, ms: Date.now() - started}),
							);
					}
					await delay(250);
				}
				const refused = (await login) as {error: unknown; ms: number};
				assert.ok(
					refused.error instanceof RoomError && refused.error.code === 'auth-unavailable',
					String(refused.error),
				);
				assert.ok(refused.ms < 5000, `the login failed after ${refused.ms} ms, not never`);
				latencies.sort((x, y) => x - y);
				const p95 = latencies[Math.floor(latencies.length * 0.95)]!;
				const worst = latencies.at(-1)!;
				assert.ok(latencies.length >= 15, `${latencies.length} messages during the freeze`);
				assert.ok(p95 < 500, `p95 ${p95} ms during the freeze`);
				// Not even the first message waited for the store's timeout: nothing waits for the store.
				assert.ok(worst < 1500, `worst ${worst} ms during the freeze`);

				relay.holdReplies(false);
				await waitFor(() => room.server.journal.pendingWrites === 0 || undefined, {
					timeout: 10_000,
					what: 'the journal caught up with the database',
				});
				const stored = await storedChat(direct, roomName);
				assert.deepEqual(
					stored.map((m) => m.text),
					['before the freeze', ...latencies.map((_, i) => `frozen ${i}`)],
				);
			} finally {
				relay.holdReplies(false);
				await room.close();
				await store.close();
			}
		});
	});
}

const mysql = await mysqlBackend();
if ('unreachable' in mysql) reportUnreachable('acknowledged messages when the database is away', mysql);
else durableSuite(mysql);
