// Acknowledged means durable under group commit: a real `parley serve` (its
// stock flags raised for load) takes two senders' floods, so each turn's
// appends go to disk in one commit, and is killed with SIGKILL mid-stream.
// Every message a sender saw acknowledged is in the journal file under the
// number it was given, reaches the database after the restart, and no number
// is given twice.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {DatabaseSync} from 'node:sqlite';
import type {AccountStore} from '../../server/store/account-store.js';
import {JOURNAL_FILE} from '../../server/store/local-journal.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {KnownHosts} from '../../source/client/known-hosts.js';
import type {RoomEvent} from '../../source/client/types.js';
import {roomKey} from '../../source/protocol/names.js';
import {deriveVerifier} from '../../source/protocol/scram.js';
import {uniqueName} from '../store/backends.js';
import {tcpClient, type TcpTestClient} from '../helpers/tcp-fixture.js';
import {ServeProcess, freePort} from '../helpers/tcp-serve-process.js';
import {delay} from '../helpers/wait.js';

type Message = Extract<RoomEvent, {type: 'message'}>;
const password = (user: string) => `${user} password`;
/** The limits a load test runs `parley serve` with: flags, as an operator would give them. */
const LOAD_FLAGS = [
	'--rate-limit',
	'100000',
	'--rate-burst',
	'100000',
	'--max-conns-per-address',
	'4096',
	'--max-members',
	'1000',
];
/** Lines each sender sends at most (the kill comes long before). */
const MAX_LINES = 100_000;

describe('group commit through a kill -9 (parley serve, SQLite)', () => {
	let dataDir: string;
	let store: AccountStore;
	const clients: TcpTestClient[] = [];

	before(async () => {
		dataDir = await mkdtemp(path.join(tmpdir(), 'parley-group-crash-'));
		store = await openSqliteStore(dataDir);
	});
	after(async () => {
		await Promise.all(clients.map((c) => c.client.close()));
		await store.close();
		await rm(dataDir, {recursive: true, force: true});
	});

	it('keeps every message acknowledged in a flood, under its number, through a kill -9', async () => {
		const roomName = uniqueName('room');
		const [alice, bob, carol] = [uniqueName('alice'), uniqueName('bob'), uniqueName('carol')] as [
			string,
			string,
			string,
		];
		for (const user of [alice, bob, carol])
			await store.createUser(user, await deriveVerifier(password(user)));
		const port = await freePort();
		const knownHosts = new KnownHosts(path.join(dataDir, 'client_known_hosts'));
		const serve = () => ServeProcess.start({tcpPort: port, dataDir, room: roomName, extraArgs: LOAD_FLAGS});
		const login = async (user: string) => {
			const c = tcpClient({host: '127.0.0.1', port, knownHosts});
			clients.push(c);
			await c.client.connect(user, password(user));
			return c;
		};
		const acked = (c: TcpTestClient) => c.events.of('message').filter((m: Message) => m.self);

		let server = await serve();
		const senders = [await login(alice), await login(bob)];
		// Both flood, far over the stock 5 a second (the flags let them through), until the server is
		// killed: from the event that brings the 300th acknowledgement, so mid-stream by construction.
		let killed: Promise<void> | undefined;
		for (const c of senders)
			c.client.subscribe(() => {
				if (killed === undefined && senders.reduce((n, s) => n + acked(s).length, 0) >= 300)
					killed = server.kill9();
			});
		for (let i = 1; killed === undefined; i++) {
			assert.ok(i <= MAX_LINES, 'the server acknowledged 300 lines');
			for (const [n, c] of senders.entries()) c.client.say(`${n}:${i}`);
			if (i % 20 === 0) await delay(1);
		}
		await killed;
		// Whatever arrived before the server died was acknowledged by it.
		const seen = senders.flatMap((c) => acked(c).map((m) => ({seq: m.seq, from: m.from, text: m.text})));
		await Promise.all(senders.map((c) => c.client.close()));
		assert.equal(new Set(seen.map((m) => m.seq)).size, seen.length, 'each acknowledgement its own number');

		// In the journal file, as the dead server left it.
		const journal = new DatabaseSync(path.join(dataDir, JOURNAL_FILE), {readOnly: true});
		const written = new Map<number, string>();
		try {
			for (const row of journal
				.prepare('SELECT seq, sender, text FROM journal WHERE room = ?')
				.all(roomKey(roomName)))
				written.set(Number(row.seq), `${String(row.sender)} ${String(row.text)}`);
		} finally {
			journal.close();
		}
		const missing = seen.filter((m) => written.get(m.seq) !== `${m.from} ${m.text}`);
		assert.deepEqual(missing, [], `acknowledged but not on disk (of ${seen.length})`);

		// After the restart they reach the database under the same numbers, and new numbers are new.
		server = await serve();
		try {
			const expected = new Map(seen.map((m) => [m.seq, m.text]));
			const allStored = async () => {
				const bySeq = new Map<number, string>();
				for (let after = 0; ; ) {
					const page = await store.messagesAfter(roomKey(roomName), after, 1000);
					if (page.length === 0) return bySeq;
					for (const m of page) if (m.presence === undefined) bySeq.set(m.seq, m.text);
					after = page.at(-1)!.seq;
				}
			};
			for (const deadline = Date.now() + 20_000; ; await delay(50)) {
				const stored = await allStored();
				const absent = [...expected].filter(([seq, text]) => stored.get(seq) !== text);
				if (absent.length === 0) break;
				assert.ok(Date.now() < deadline, `not in the database after the restart: ${absent.length}`);
			}
			const c = await login(carol);
			c.client.say('after the restart');
			const next = await c.events.waitFor('message', (m) => m.self && m.text === 'after the restart');
			assert.ok(next.seq > Math.max(...expected.keys()), `no number given twice (${next.seq})`);
		} finally {
			await server.stop();
		}
	});
});
