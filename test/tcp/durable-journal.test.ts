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
import {KnownHosts} from '../../source/client/known-hosts.js';
import {RoomError, type RoomEvent} from '../../source/client/types.js';
import {deriveVerifier} from '../../source/protocol/scram.js';
import {MYSQL_URL, mysqlBackend, reportUnreachable, uniqueName, type Backend} from '../store/backends.js';
import {tcpClient, tcpFixture, type TcpTestClient} from '../helpers/tcp-fixture.js';
import {startTcpProxy, type TcpProxy} from '../helpers/tcp-proxy.js';
import {ServeProcess, freePort} from '../helpers/tcp-serve-process.js';
import {delay, waitFor} from '../helpers/wait.js';

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
					if ((await direct.messagesAfter(roomName, 0, 100)).length >= acked.length) break;
				}
				const stored = await direct.messagesAfter(roomName, 0, 100);
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
				assert.equal(next.seq, acked.at(-1)![0] + 1, 'no sequence number given twice');
			} finally {
				await server.stop();
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
				const stored = await direct.messagesAfter(roomName, 0, 100);
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
