// Reconnecting through a server crash: `parley serve` runs as its own process,
// is killed with SIGKILL while a client is sending, and is started again on
// the same port and data. The clients must come back by themselves, log in
// again, and show every acknowledged message exactly once, in order.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import type {AccountStore} from '../../server/store/account-store.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {KnownHosts} from '../../source/client/known-hosts.js';
import type {RoomEvent} from '../../source/client/types.js';
import {deriveVerifier} from '../../source/protocol/scram.js';
import {
	MYSQL_URL,
	mysqlBackend,
	reportUnreachable,
	sqliteBackend,
	uniqueName,
	type Backend,
} from '../store/backends.js';
import {tcpClient, tcpFixture, type TcpTestClient} from '../helpers/tcp-fixture.js';
import {startTcpProxy} from '../helpers/tcp-proxy.js';
import {ServeProcess, freePort} from '../helpers/tcp-serve-process.js';
import {delay, waitFor} from '../helpers/wait.js';

type Message = Extract<RoomEvent, {type: 'message'}>;

const messages = (c: TcpTestClient): Message[] => c.events.of('message');
/** The connection states a client went through, repeats folded. */
const states = (c: TcpTestClient): string[] =>
	c.events
		.of('state')
		.map((e) => e.state)
		.filter((state, i, all) => state !== 'connecting' && state !== all[i - 1]);

/** Polls an asynchronous condition (a database query) until it holds. */
async function until(probe: () => Promise<boolean>, what: string, timeout = 3000): Promise<void> {
	const deadline = Date.now() + timeout;
	while (!(await probe())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await delay(10);
	}
}

/** Each text once, seqs strictly increasing: what the user sees is the room's log, no more, no less. */
function assertCleanLog(name: string, log: Message[]): void {
	const texts = log.map((m) => m.text);
	assert.equal(new Set(texts).size, texts.length, `${name} saw a message twice: ${JSON.stringify(texts)}`);
	for (let i = 1; i < log.length; i++)
		assert.ok(
			log[i]!.seq > log[i - 1]!.seq,
			`${name}'s messages are out of order: ${log.map((m) => `${m.seq}:${m.text}`)}`,
		);
}

interface Setup {
	dataDir: string;
	/** The `parley serve` flags that pick the store (none: SQLite in the data directory). */
	db?: string;
	room?: string;
	/** A handle on the same store the server uses, for accounts and for checking what was stored. */
	store: AccountStore;
	roomName: string;
	alice: string;
	bob: string;
}

function crashSuite(label: string, setup: () => Promise<Setup>, teardown: (s: Setup) => Promise<void>) {
	describe(`reconnecting after the server is killed (${label})`, () => {
		let s: Setup;
		let port: number;
		let server: ServeProcess;
		let knownHosts: KnownHosts;
		const clients: TcpTestClient[] = [];
		const reconnected = (c: TcpTestClient) =>
			waitFor(() => states(c).join() === 'connected,reconnecting,connected' || undefined, {
				timeout: 10_000,
				what: 'a reconnect',
			});

		const serve = () =>
			ServeProcess.start({
				tcpPort: port,
				dataDir: s.dataDir,
				...(s.db ? {db: s.db} : {}),
				...(s.room ? {room: s.room} : {}),
			});
		const login = async (user: string, via = port) => {
			const c = tcpClient({
				host: '127.0.0.1',
				port: via,
				knownHosts,
				// Retry quickly so the test does not wait out a long backoff.
				session: {reconnectMinMs: 100, reconnectMaxMs: 400},
			});
			clients.push(c);
			await c.client.connect(user, `${user} password`);
			return c;
		};

		before(async () => {
			s = await setup();
			await s.store.createUser(s.alice, await deriveVerifier(`${s.alice} password`));
			await s.store.createUser(s.bob, await deriveVerifier(`${s.bob} password`));
			knownHosts = new KnownHosts(path.join(s.dataDir, 'client_known_hosts'));
			port = await freePort();
			server = await serve();
		});
		after(async () => {
			await Promise.all(clients.map((c) => c.client.close()));
			await server.stop();
			await teardown(s);
		});

		it('comes back by itself and shows every acknowledged message exactly once', async () => {
			assert.match(server.log, /TLS 1\.3/);
			const alice = await login(s.alice);
			const bob = await login(s.bob);
			bob.client.say('bob before the crash');
			await alice.events.waitFor('message', (m) => m.text === 'bob before the crash');

			// Alice keeps talking (within the room's 5 messages a second) while the server dies under her.
			const total = 12;
			const killAfter = 4;
			let killed: Promise<void> | undefined;
			let ackedBeforeKill: Message[] = [];
			for (let i = 1; i <= total; i++) {
				if (i === killAfter)
					await alice.events.waitFor('message', (m) => m.self && m.text === `alice ${i - 1}`);
				alice.client.say(`alice ${i}`);
				if (i === killAfter) {
					// Straight after a send: that message may be unread, half-handled or already stored.
					ackedBeforeKill = messages(alice).filter((m) => m.self);
					killed = server.kill9();
				}
				await delay(220); // pacing, not waiting for anything
			}
			await killed;

			server = await serve();
			for (const c of [alice, bob]) await reconnected(c);
			// Everything alice typed is acknowledged in the end: the server's echo carries her ref.
			await waitFor(
				() =>
					messages(alice).filter((m) => m.self && m.text.startsWith('alice ')).length >= total || undefined,
				{
					timeout: 10_000,
					what: 'every message acknowledged',
				},
			);
			bob.client.say('bob after the restart');
			for (const c of [alice, bob])
				await c.events.waitFor('message', (m) => m.text === 'bob after the restart', 5000);

			for (const c of [alice, bob]) {
				assert.equal(c.events.of('failed').length, 0, 'no send was given up on');
				assert.equal(c.events.of('lost').length, 0, 'nothing was reported lost');
			}
			const expected = [
				'bob before the crash',
				...Array.from({length: total}, (_, i) => `alice ${i + 1}`),
				'bob after the restart',
			];
			for (const [name, c] of [
				['alice', alice],
				['bob', bob],
			] as const) {
				const log = messages(c);
				assertCleanLog(name, log);
				assert.deepEqual(
					log.map((m) => m.text),
					expected,
					`${name}'s view`,
				);
				// What was acknowledged before the crash kept its number.
				for (const acked of ackedBeforeKill)
					assert.equal(log.find((m) => m.text === acked.text)?.seq, acked.seq, `${acked.text} kept its seq`);
			}
			assert.deepEqual(
				messages(bob).map((m) => [m.seq, m.text]),
				messages(alice).map((m) => [m.seq, m.text]),
				'both see the same numbered log',
			);
			// And the store holds each one once, under the same numbers (written behind the local journal).
			// Chat rows only: presence is journaled beside them (version 2).
			const chat = async () =>
				(await s.store.messagesAfter(s.roomName, 0, 100)).filter((m) => m.presence === undefined);
			await until(async () => (await chat()).length >= messages(alice).length, 'everything stored', 5000);
			const stored = await chat();
			assert.deepEqual(
				stored.map((m) => [m.seq, m.text]),
				messages(alice).map((m) => [m.seq, m.text]),
			);
			await Promise.all([alice.client.close(), bob.client.close()]);
		});

		it('does not store a message twice when the crash swallowed its acknowledgement', async (t) => {
			// Alice talks through a relay that holds back the server's replies: her
			// message is stored and echoed, but the echo never reaches her.
			const relay = await startTcpProxy(port);
			t.after(() => relay.close());
			const alice = await login(s.alice, relay.port);
			const bob = await login(s.bob);
			const before = await s.store.latestSeq(s.roomName);
			relay.holdReplies(true);
			alice.client.say('stored, never acknowledged');
			await until(async () => (await s.store.latestSeq(s.roomName)) > before, 'the message stored');
			await server.kill9();
			relay.holdReplies(false);
			server = await serve();

			for (const c of [alice, bob]) await reconnected(c);
			await alice.events.waitFor('message', (m) => m.text === 'stored, never acknowledged' && m.self, 5000);
			alice.client.say('and the next one');
			for (const c of [alice, bob])
				await c.events.waitFor('message', (m) => m.text === 'and the next one', 5000);

			for (const [name, c] of [
				['alice', alice],
				['bob', bob],
			] as const)
				assertCleanLog(name, messages(c));
			// Chat rows only: presence is journaled beside them (version 2).
			const stored = (await s.store.messagesAfter(s.roomName, before, 100))
				.filter((m) => m.presence === undefined)
				.map((m) => m.text);
			assert.deepEqual(stored, ['stored, never acknowledged', 'and the next one']);
			// Nothing is left waiting for an acknowledgement: leaving would report it as not sent.
			await alice.client.close();
			assert.deepEqual(alice.events.of('failed'), []);
		});
	});
}

crashSuite(
	'node:sqlite',
	async () => {
		const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-reconnect-'));
		return {dataDir, store: await openSqliteStore(dataDir), roomName: 'lobby', alice: 'alice', bob: 'bob'};
	},
	async (s) => {
		await s.store.close();
		await rm(s.dataDir, {recursive: true, force: true});
	},
);

describe('reconnecting after the connection drops (the server stays up)', () => {
	it('does not post a message twice when the drop swallowed its acknowledgement', async (t) => {
		const source = await sqliteBackend();
		const store = await source.open();
		const room = await tcpFixture(store);
		const relay = await startTcpProxy(room.server.port);
		t.after(async () => {
			await relay.close();
			await room.close();
			await store.close();
			await source.cleanup();
		});
		await room.addUser('alice', 'alice password');
		await room.addUser('bob', 'bob password');
		const alice = room.client({port: relay.port, session: {reconnectMinMs: 100, reconnectMaxMs: 400}});
		await alice.client.connect('alice', 'alice password');
		const bob = await room.login('bob', 'bob password');

		relay.holdReplies(true);
		alice.client.say('sent just before the drop');
		await bob.events.waitFor('message', (m) => m.text === 'sent just before the drop');
		relay.cut(); // alice's connection dies with the echo still held back
		relay.restore();
		relay.holdReplies(false);
		await waitFor(() => states(alice).join() === 'connected,reconnecting,connected' || undefined, {
			what: 'a reconnect',
		});
		alice.client.say('and the next one');
		for (const c of [alice, bob]) await c.events.waitFor('message', (m) => m.text === 'and the next one');

		for (const [name, c] of [
			['alice', alice],
			['bob', bob],
		] as const) {
			assertCleanLog(name, c.events.of('message'));
			assert.deepEqual(c.events.texts(), ['sent just before the drop', 'and the next one']);
		}
		assert.deepEqual(
			(await store.messagesAfter(room.server.room.name, 0, 10))
				.filter((m) => m.presence === undefined)
				.map((m) => m.text),
			['sent just before the drop', 'and the next one'],
		);
		await alice.client.close();
		assert.deepEqual(alice.events.of('failed'), [], 'nothing was left waiting for an acknowledgement');
	});
});

const mysql = await mysqlBackend();
if ('unreachable' in mysql) reportUnreachable('reconnecting after the server is killed (MySQL)', mysql);
else {
	const backend: Backend = mysql;
	crashSuite(
		'MySQL',
		async () => {
			const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-reconnect-'));
			const roomName = uniqueName('room');
			return {
				dataDir,
				db: MYSQL_URL,
				room: roomName,
				roomName,
				store: await backend.open(),
				alice: uniqueName('alice'),
				bob: uniqueName('bob'),
			};
		},
		async (s) => {
			await s.store.close();
			await backend.cleanup();
			await rm(s.dataDir, {recursive: true, force: true});
		},
	);
}
