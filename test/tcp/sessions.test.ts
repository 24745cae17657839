// One account in many sessions, read markers, paging, search, presence order
// and moderation, over real TLS sockets and the real MariaDB: every client is
// a RoomSession through its own connection pool (a pool is one machine), and
// `parley tail` runs as a separate process.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import type {AccountStore} from '../../server/store/account-store.js';
import {emptyRoomSettings} from '../../server/store/account-store.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomSession} from '../../source/client/room-session.js';
import {TcpConnectionPool} from '../../source/client/tcp-connection-pool.js';
import {RoomError} from '../../source/client/types.js';
import {roomKey} from '../../source/protocol/names.js';
import {CliProcess, cliEnv, parseJsonLines, runCli} from '../cli/cli-process.js';
import {Recorder} from '../helpers/room-recorder.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {startTcpProxy} from '../helpers/tcp-proxy.js';
import {waitFor} from '../helpers/wait.js';
import {type Backend, mysqlBackend, reportUnreachable, uniqueName} from '../store/backends.js';

const mysql = await mysqlBackend();
const password = 'a long enough password';

interface Session {
	client: RoomSession;
	events: Recorder;
}

if ('unreachable' in mysql) {
	reportUnreachable('sessions over real sockets against MySQL/MariaDB', mysql);
} else {
	describe('one account in many sessions, over real sockets and MariaDB', () => {
		const backend: Backend = mysql;
		let store: AccountStore;
		let server: TcpFixture;
		let home: string;
		const alice = uniqueName('alice');
		const bob = uniqueName('bob');
		const carol = uniqueName('carol');
		const dave = uniqueName('dave');
		const opened: RoomSession[] = [];
		const lobbyName = uniqueName('lobby');
		const room = (label: string) => `#${uniqueName(label)}`;
		/** A room in the store before anyone joins it, owned by alice. */
		const storedRoom = async (label: string): Promise<{name: string; key: string}> => {
			const name = room(label);
			const key = roomKey(name);
			await store.createRoom({
				name: name.slice(1),
				key,
				owner: alice,
				createdAt: Date.now(),
				settings: emptyRoomSettings(),
			});
			return {name, key};
		};

		/** A new session of `user` (its own pool: another machine) in `name`, joined. */
		async function session(user: string, name: string, port = server.server.port): Promise<Session> {
			const client = createRoomClient(`tcp://127.0.0.1:${port}/${name}`, {
				pool: new TcpConnectionPool(),
				tcp: {knownHosts: server.knownHosts, confirmNewHost: async () => true},
				reconnectMinMs: 50,
				reconnectMaxMs: 200,
			}) as RoomSession;
			opened.push(client);
			const events = new Recorder(client);
			await client.connect(user, password);
			return {client, events};
		}

		/** Sends `text` and waits until `watchers` all have it. */
		async function sayAndSee(from: Session, text: string, ...watchers: Session[]): Promise<number> {
			const {seq} = await from.client.say(text);
			for (const watcher of watchers) await watcher.events.waitFor('message', (m) => m.seq === seq);
			return seq;
		}

		const presences = (s: Session, kind: string, nick: string) =>
			s.events.of('presence').filter((p) => p.kind === kind && p.nick === nick);

		before(async () => {
			home = await mkdtemp(path.join(tmpdir(), 'parley-sessions-'));
			store = await backend.open();
			server = await tcpFixture(store, {
				roomName: lobbyName,
				limits: {ratePerSecond: 1000, burst: 1000},
			});
			for (const user of [alice, bob, carol, dave]) await server.addUser(user, password);
		});
		after(async () => {
			await Promise.all(opened.map((client) => client.close().catch(() => undefined)));
			await server.close();
			await store.close();
			await backend.cleanup();
			await rm(home, {recursive: true, force: true});
		});

		it('two sessions and a `parley tail` of alice each see everything; one member, joined and left once', async () => {
			const name = room('team');
			const url = `tcp://127.0.0.1:${server.server.port}/${name}`;
			const b = await session(bob, name);
			const tail = new CliProcess(
				['tail', url, '--user', alice, '--accept-new', '--json', '--password-stdin'],
				cliEnv(home),
			);
			tail.write(`${password}\n`);
			try {
				await b.events.waitFor('presence', (p) => p.kind === 'join' && p.nick === alice);
				const one = await session(alice, name);
				const two = await session(alice, name);
				await sayAndSee(one, 'from the first session', one, two, b);
				await sayAndSee(two, 'from the second session', one, two, b);
				await sayAndSee(b, 'from bob', one, two, b);
				const texts = ['from the first session', 'from the second session', 'from bob'];
				await tail.waitForLines(
					(lines) => texts.every((text) => parseJsonLines(lines).some((e) => e.text === text)),
					'tail sees every line, its own account’s included',
				);
				for (const s of [one, two])
					assert.deepEqual(
						s.events.texts().filter((text) => texts.includes(text)),
						texts,
						'each session saw every line once, in order',
					);

				// A `parley send` as alice comes and goes beside them: nobody is logged out, nothing announced.
				const sent = await runCli(
					['send', url, '--user', alice, '--accept-new', '--password-stdin'],
					cliEnv(home),
					`${password}\nfrom a script\n`,
				);
				assert.equal(sent.code, 0, sent.stderr);
				for (const s of [one, two, b]) await s.events.waitFor('message', (m) => m.text === 'from a script');
				await tail.waitForLines(
					(lines) => parseJsonLines(lines).some((e) => e.text === 'from a script'),
					'tail sees the script’s line',
				);
				await sayAndSee(b, 'after the script', one, two, b);
				assert.equal(one.client.state, 'connected');
				assert.equal(two.client.state, 'connected');
				assert.equal(presences(b, 'leave', alice).length, 0, 'the script leaving is not alice leaving');

				// Direct messages reach every session of alice.
				await b.client.direct(alice, 'psst');
				for (const s of [one, two]) await s.events.waitFor('direct', (d) => d.text === 'psst');
				await tail.waitForLines(
					(lines) => parseJsonLines(lines).some((e) => e.kind === 'direct' && e.text === 'psst'),
					'tail gets the direct message too',
				);

				// One member, one join.
				b.client.who();
				const who = await b.events.waitFor('who');
				assert.deepEqual([...who.members].sort(), [alice, bob].sort());
				assert.equal(presences(b, 'join', alice).length, 1, 'alice joined once');

				// The sessions go one by one: "left" only with the last.
				await one.client.close();
				await two.client.close();
				await sayAndSee(b, 'two sessions gone', b);
				assert.equal(presences(b, 'leave', alice).length, 0, 'tail still holds alice in the room');
				tail.kill('SIGTERM');
				await tail.exited;
				await b.events.waitFor('presence', (p) => p.kind === 'leave' && p.nick === alice);
				await sayAndSee(b, 'all gone', b);
				assert.equal(presences(b, 'leave', alice).length, 1, 'alice left once');
			} finally {
				tail.kill('SIGKILL');
			}
		});

		it('carries the read position to a new session, and tells the other sessions live', async () => {
			const name = room('reading');
			const one = await session(alice, name);
			const two = await session(alice, name);
			await sayAndSee(one, 'first', one, two);
			const last = await sayAndSee(one, 'second', one, two);
			one.client.markRead(last);
			const told = await two.events.waitFor('read', (r) => r.seq === last);
			assert.equal(told.seq, last);
			// The next machine starts where alice stopped reading (stored, so a restart keeps it too).
			await waitFor(() => two.client.readSeq === last, {what: 'the marker in the other session'});
			const three = await session(alice, name);
			assert.equal(three.client.readSeq, last, 'the welcome carries the marker');
			const stored = await store.readMarker(alice, roomKey(name));
			assert.equal(stored, last);
		});

		it('pages back through 5,000 stored messages: every one once, in order; and searches them', async () => {
			const {name, key} = await storedRoom('archive');
			const total = 5000;
			const ts = Date.now() - total * 1000;
			for (let start = 1; start <= total; start += 250) {
				const batch: Promise<unknown>[] = [];
				for (let seq = start; seq < start + 250 && seq <= total; seq++)
					batch.push(
						store.storeMessageAt(key, seq, {
							from: bob,
							text: seq % 1000 === 0 ? `needle ${seq}` : `line ${seq}`,
							action: false,
							ts: ts + seq * 1000,
						}),
					);
				await Promise.all(batch);
			}
			const reader = await session(alice, name);
			await reader.events.waitFor('message', (m) => m.history && m.seq === total);
			const seen: number[] = reader.events
				.of('message')
				.filter((m) => m.history)
				.map((m) => m.seq);
			assert.ok(seen.length > 0, 'the join replays the newest page');
			const started = Date.now();
			let pages = 0;
			for (;;) {
				const oldest = seen[0]!;
				assert.ok(reader.client.loadOlder(oldest, 200), 'the server pages');
				// The server answers at most 4 reads a second: past that the client asks again when allowed.
				const page = await reader.events.waitFor('page', (p) => p.before === oldest);
				pages++;
				const older = page.events.flatMap((e) => (e.t === 'msg' ? [e.seq] : []));
				seen.unshift(...older);
				if (page.complete) break;
				assert.ok(older.length > 0, `page before ${oldest} is empty but not complete`);
			}
			const ms = Date.now() - started;
			assert.deepEqual(
				seen,
				Array.from({length: total}, (_, i) => i + 1),
				'every stored message once, in order',
			);
			console.log(`# paged ${total} messages in ${pages} pages, ${(ms / pages).toFixed(1)} ms a page`);

			assert.ok(reader.client.search('NEEDLE'));
			const found = await reader.events.waitFor('found', (f) => f.text === 'NEEDLE');
			assert.deepEqual(
				found.messages.map((m) => m.text),
				[1000, 2000, 3000, 4000, 5000].map((seq) => `needle ${seq}`),
				'case-insensitive, oldest first, only matches',
			);
			assert.ok(reader.client.search('needle', 3000));
			const earlier = await reader.events.waitFor(
				'found',
				(f) => f.text === 'needle' && f.messages.length === 2,
			);
			assert.deepEqual(
				earlier.messages.map((m) => m.seq),
				[1000, 2000],
			);
		});

		it('serves a slow history page beside the live room: a line said meanwhile is not held up (measured)', async () => {
			const delayMs = 300;
			let slowReads = 0;
			// The real MariaDB store, its history reads made 300 ms slower.
			const slowStore = new Proxy(store, {
				get(target, property) {
					if (property === 'messagesBefore')
						return async (...args: Parameters<AccountStore['messagesBefore']>) => {
							slowReads++;
							await new Promise((resolve) => setTimeout(resolve, delayMs));
							return target.messagesBefore(...args);
						};
					const value = Reflect.get(target, property, target) as unknown;
					return typeof value === 'function' ? value.bind(target) : value;
				},
			});
			const slow = await tcpFixture(slowStore, {
				roomName: uniqueName('lobby'),
				limits: {ratePerSecond: 1000, burst: 1000},
			});
			try {
				const {name, key} = await storedRoom('slowreads');
				await Promise.all(
					Array.from({length: 500}, (_, i) =>
						store.storeMessageAt(key, i + 1, {
							from: bob,
							text: `old ${i + 1}`,
							action: false,
							ts: Date.now(),
						}),
					),
				);
				const a = await session(alice, name, slow.server.port);
				const b = await session(bob, name, slow.server.port);
				await a.events.waitFor('message', (m) => m.history && m.seq === 500);
				const reads = slowReads;
				assert.ok(a.client.loadOlder(100, 50));
				await waitFor(() => slowReads > reads, {what: 'the slow read to start'});
				const started = Date.now();
				const {seq} = await b.client.say('live while the page is read');
				await a.events.waitFor('message', (m) => m.seq === seq);
				const liveMs = Date.now() - started;
				const page = await a.events.waitFor('page', (p) => p.before === 100);
				const pageMs = Date.now() - started;
				console.log(`# live line ${liveMs} ms while a ${delayMs} ms history read took ${pageMs} ms`);
				assert.ok(
					page.events.length === 50 &&
						a.events.events.indexOf(page) >
							a.events.events.findIndex((e) => e.type === 'message' && e.seq === seq),
					'the live line arrived before the page',
				);
				assert.ok(liveMs < delayMs / 2, `the live line took ${liveMs} ms`);
			} finally {
				await slow.close();
			}
		});

		it('never shows "bob left" before bob’s last line, live or replayed after a reconnect', async () => {
			const name = room('busy');
			const relay = await startTcpProxy(server.server.port);
			try {
				const c = await session(carol, name);
				const d = await session(dave, name, relay.port);
				const b = await session(bob, name);
				await d.events.waitFor('presence', (p) => p.kind === 'join' && p.nick === bob);
				relay.cut(); // dave is away while bob talks and goes
				await waitFor(() => d.client.state !== 'connected', {what: 'dave to notice the cut'});
				const lines = Array.from({length: 200}, (_, i) => `load ${i}`);
				const acks = lines.map((text) => b.client.say(text));
				await Promise.all(acks);
				await b.client.close();
				const check = (s: Session, who: string) => {
					const events = s.events.events;
					const left = events.findIndex((e) => e.type === 'presence' && e.kind === 'leave' && e.nick === bob);
					const texts = s.events.texts().filter((text) => text.startsWith('load '));
					assert.deepEqual(texts, lines, `${who} saw all 200 lines once, in order`);
					const lastLine = events.findLastIndex((e) => e.type === 'message' && e.text === 'load 199');
					assert.ok(lastLine < left, `${who} saw bob's last line before "bob left"`);
				};
				await c.events.waitFor('presence', (p) => p.kind === 'leave' && p.nick === bob);
				check(c, 'carol (live)');
				relay.restore();
				await d.events.waitFor('presence', (p) => p.kind === 'leave' && p.nick === bob, 15_000);
				check(d, 'dave (replayed after his reconnect)');
			} finally {
				relay.close();
			}
		});

		it('enforces invite-only with invites, +m with voice, mute, and a ban by account on a new session', async () => {
			const name = room('strict');
			const owner = await session(alice, name); // the creator owns it
			const b = await session(bob, name);
			const c = await session(carol, name);
			const refused = (promise: Promise<unknown>, code: string) =>
				assert.rejects(promise, (error: unknown) => error instanceof RoomError && error.code === code);

			// +m: only ops and voiced members speak.
			owner.client.request({t: 'mode', mode: '+m'});
			await b.events.waitFor('presence', (p) => p.kind === 'mode' && p.mode === '+m');
			await refused(b.client.say('may I?'), 'muted');
			owner.client.request({t: 'role', nick: bob, role: 'voice'});
			await b.events.waitFor('presence', (p) => p.kind === 'role' && p.nick === bob);
			await sayAndSee(b, 'voiced now', owner, c);
			owner.client.request({t: 'mode', mode: '-m'});
			await c.events.waitFor('presence', (p) => p.kind === 'mode' && p.mode === '-m');

			// Mute: carol alone is silenced.
			owner.client.request({t: 'mute', nick: carol});
			await c.events.waitFor('presence', (p) => p.kind === 'mute' && p.nick === carol);
			await refused(c.client.say('hello?'), 'muted');
			owner.client.request({t: 'unmute', nick: carol});
			await c.events.waitFor('presence', (p) => p.kind === 'unmute' && p.nick === carol);
			await sayAndSee(c, 'I may speak again', owner);

			// +i: dave needs an invite; it reaches him in the room he is in.
			owner.client.request({t: 'mode', mode: '+i'});
			await b.events.waitFor('presence', (p) => p.kind === 'mode' && p.mode === '+i');
			const lobby = await session(dave, `#${lobbyName}`);
			await refused(lobby.client.sibling(name).connect(dave), 'invite-only');
			owner.client.request({t: 'invite', nick: dave});
			await lobby.events.waitFor('invited', (i) => i.room.toLowerCase() === name.toLowerCase());
			const d = lobby.client.sibling(name) as RoomSession;
			opened.push(d);
			await d.connect(dave);
			assert.equal(d.state, 'connected');

			// A ban by account: carol's session goes, and a new one (another machine) is refused.
			owner.client.request({t: 'ban', account: carol, reason: 'enough'});
			await b.events.waitFor('presence', (p) => p.kind === 'ban' && p.nick === carol);
			await waitFor(() => c.client.state === 'closed', {what: "carol's session closed by the ban"});
			await refused(session(carol, name), 'banned');
			// …and her next sessions are not sent back to it (the ban ended her membership).
			const elsewhere = await session(carol, `#${lobbyName}`);
			const rooms = await elsewhere.events.waitFor('session-rooms');
			assert.ok(
				!rooms.rooms.some((r) => r.toLowerCase() === name.toLowerCase()),
				`not reopened: ${rooms.rooms}`,
			);
		});

		it('a direct message echoes to the sender’s other sessions; a kick and a part take every session of the account', async () => {
			const name = room('together');
			const owner = await session(alice, name);
			const one = await session(bob, name);
			const two = await session(bob, name);
			// Both of bob's machines also sit in the lobby: a kick from one room leaves that alone.
			const oneLobby = one.client.sibling(`#${lobbyName}`) as RoomSession;
			opened.push(oneLobby);
			await oneLobby.connect(bob);

			await one.client.direct(alice, 'between us');
			await owner.events.waitFor('direct', (d) => d.text === 'between us' && !d.self);
			await two.events.waitFor('direct', (d) => d.text === 'between us' && d.to === alice);

			owner.client.request({t: 'kick', nick: bob, reason: 'both of you'});
			for (const s of [one, two])
				await waitFor(() => s.client.state === 'closed', {what: 'every session kicked'});
			assert.equal(oneLobby.state, 'connected', 'the connection stays in its other rooms');
			await sayAndSee(owner, 'bob is out', owner);
			assert.equal(presences(owner, 'kick', bob).length, 1, 'one kick announced for the account');
			assert.ok(!owner.client.members.includes(bob));

			// A part from one session takes the others out too, and the next session is not sent back.
			const again = await session(bob, name);
			const other = await session(bob, name);
			await again.client.part();
			await waitFor(() => other.client.state === 'closed', {what: 'the other session out with the part'});
			await owner.events.waitFor('presence', (p) => p.kind === 'part' && p.nick === bob);
			const next = await session(bob, `#${lobbyName}`);
			const rooms = await next.events.waitFor('session-rooms');
			assert.ok(!rooms.rooms.some((r) => r.toLowerCase() === name.toLowerCase()), `parted: ${rooms.rooms}`);
		});

		it('lists the account’s rooms once per session, not again after every reconnect', async () => {
			const name = room('steady');
			const relay = await startTcpProxy(server.server.port);
			try {
				const a = await session(alice, name, relay.port);
				await a.events.waitFor('session-rooms');
				relay.cut();
				await a.events.waitFor('state', (e) => e.state === 'reconnecting');
				relay.restore();
				await waitFor(() => a.client.state === 'connected', {what: 'the reconnect'});
				await sayAndSee(a, 'back again', a);
				assert.equal(a.events.of('session-rooms').length, 1, 'a reconnect is not a new session');
			} finally {
				relay.close();
			}
		});
	});
}
