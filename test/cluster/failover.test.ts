// A client given several servers of one cluster (tcp://h:p1,h:p2/#room, or a
// name with several addresses) moves on to the next when its server dies or
// shuts down, logs in there, and resumes the room from where it was: nothing
// missed, nothing twice. Real `parley serve` processes over the real MariaDB.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import type {AccountStore} from '../../server/store/account-store.js';
import {loadOrCreateCertificate} from '../../server/tls/certificate.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import {KnownHosts} from '../../source/client/known-hosts.js';
import {TcpConnectionPool} from '../../source/client/tcp-connection-pool.js';
import type {RoomClient, RoomEvent} from '../../source/client/types.js';
import {roomKey} from '../../source/protocol/names.js';
import {deriveVerifier} from '../../source/protocol/scram.js';
import {MYSQL_URL, mysqlBackend, reportUnreachable, uniqueName, type Backend} from '../store/backends.js';
import {ServerGroup} from '../helpers/server-group.js';
import {Recorder} from '../helpers/room-recorder.js';
import {ServeProcess, freePort} from '../helpers/tcp-serve-process.js';
import {delay, waitFor} from '../helpers/wait.js';

type Message = Extract<RoomEvent, {type: 'message'}>;
const password = (user: string) => `${user} password`;

interface Member {
	client: RoomClient;
	events: Recorder;
}

/** Each text once, seqs strictly increasing. */
function assertCleanLog(name: string, log: Message[]): void {
	const texts = log.map((m) => m.text);
	assert.equal(new Set(texts).size, texts.length, `${name} saw a message twice: ${JSON.stringify(texts)}`);
	for (let i = 1; i < log.length; i++)
		assert.ok(log[i]!.seq > log[i - 1]!.seq, `${name}: out of order ${log.map((m) => `${m.seq}:${m.text}`)}`);
}

async function until(probe: () => Promise<boolean>, what: string, timeout = 10_000): Promise<void> {
	const deadline = Date.now() + timeout;
	while (!(await probe())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await delay(20);
	}
}

function failoverSuite(backend: Backend) {
	describe('a client with several servers', () => {
		let store: AccountStore;
		let cluster: ServerGroup;
		let dir: string;
		let knownHosts: KnownHosts;
		const members: Member[] = [];
		const extra: ServeProcess[] = [];

		before(async () => {
			store = await backend.open();
			dir = await mkdtemp(path.join(tmpdir(), 'parley-failover-'));
			knownHosts = new KnownHosts(path.join(dir, 'known_hosts'));
			cluster = await ServerGroup.start({nodes: 2, db: MYSQL_URL});
		});
		after(async () => {
			await Promise.all(members.map((m) => m.client.close()));
			await cluster.close();
			await Promise.all(extra.map((server) => server.stop()));
			await store.close();
			await backend.cleanup();
			await rm(dir, {recursive: true, force: true});
		});

		const users = async (...names: string[]) => {
			for (const name of names) await store.createUser(name, await deriveVerifier(password(name)));
		};
		/** A member of the room at `url`, on a pool of its own (as another process would be). */
		const join = async (
			url: string,
			user: string,
			session = {reconnectMinMs: 100, reconnectMaxMs: 400},
			tcp: {
				resolve?: (host: string) => Promise<string[]>;
				confirmNewHost?: (hostPort: string, fingerprint: string) => Promise<boolean>;
				knownHosts?: KnownHosts;
			} = {},
		): Promise<Member> => {
			const client = createRoomClient(url, {
				pool: new TcpConnectionPool(),
				tcp: {knownHosts, confirmNewHost: async () => true, ...tcp},
				...session,
			});
			const member = {client, events: new Recorder(client)};
			members.push(member);
			await client.connect(user, password(user));
			return member;
		};
		const said = (member: Member, text: string) => member.events.waitFor('message', (m) => m.text === text);
		const notices = (member: Member) => member.events.of('notice').map((n) => n.text);
		/** Waits until the shared database has the room up to `seq` (the node copies its journal behind the acknowledgement). */
		const storedUpTo = (room: string, seq: number) =>
			until(async () => (await store.latestSeq(roomKey(room))) >= seq, `seq ${seq} stored`);

		it('moves on to the next server when its server is killed, and misses nothing', async () => {
			const room = `#${uniqueName('room')}`;
			const [alice, bob] = [uniqueName('alice'), uniqueName('bob')];
			await users(alice, bob);
			const a = await join(cluster.url(room), alice);
			const b = await join(cluster.url(room), bob);
			const on = (port: number) => new RegExp(`server 127\\.0\\.0\\.1:${port} \\((\\d) of 2\\)`);
			assert.ok(
				notices(a).some((n) => on(cluster.ports[0]!).test(n)),
				`alice says where: ${notices(a)}`,
			);
			await a.client.say('one');
			const two = await a.client.say('two');
			await said(b, 'two');
			await storedUpTo(room, two.seq);

			await cluster.nodes[0]!.kill9();
			void a.client.say('three'); // while she is moving: it waits and goes out after the rejoin
			await said(b, 'three');
			void b.client.say('four');
			await said(a, 'four');

			for (const [name, member] of [
				['alice', a],
				['bob', b],
			] as const) {
				assert.deepEqual(member.events.texts(), ['one', 'two', 'three', 'four'], `${name}'s view`);
				assertCleanLog(name, member.events.of('message'));
				assert.ok(
					notices(member).some((n) => /^moved to/.test(n) && on(cluster.ports[1]!).test(n)),
					`${name} is told which server: ${notices(member)}`,
				);
				assert.equal(member.events.of('lost').length, 0);
				assert.equal(member.events.of('failed').length, 0);
			}
			assert.deepEqual(
				a.events.of('message').map((m) => m.seq),
				b.events.of('message').map((m) => m.seq),
			);
			await Promise.all([a.client.close(), b.client.close()]);
		});

		it('reconnects elsewhere at once, without backing off, when its server shuts down', async () => {
			await cluster.restart(0);
			const room = `#${uniqueName('room')}`;
			const [alice, bob] = [uniqueName('alice'), uniqueName('bob')];
			await users(alice, bob);
			// A backoff this long would outlast the test: only a move without one gets through.
			const slow = {reconnectMinMs: 120_000, reconnectMaxMs: 120_000};
			const a = await join(cluster.url(room), alice, slow);
			const b = await join(cluster.url(room), bob, slow);
			const one = await a.client.say('one');
			await said(b, 'one');
			await storedUpTo(room, one.seq);

			await cluster.nodes[0]!.stop();
			await a.events.waitFor('state', (s) => s.state === 'reconnecting');
			void a.client.say('two');
			await said(b, 'two');
			assert.deepEqual(b.events.texts(), ['one', 'two']);
			assert.deepEqual(a.events.texts(), ['one', 'two']);
			await Promise.all([a.client.close(), b.client.close()]);
		});

		it('tries each address of a name in turn; the name has one pin for all of them', async () => {
			// Two nodes on one port at two addresses, with one certificate: a round-robin name.
			const certDir = await mkdtemp(path.join(dir, 'cert-'));
			await loadOrCreateCertificate(certDir);
			const port = await freePort();
			const [first, second] = ['127.0.0.2', '127.0.0.3'];
			for (const host of [first, second])
				extra.push(
					await ServeProcess.start({
						host,
						tcpPort: port,
						dataDir: await mkdtemp(path.join(dir, 'node-')),
						db: MYSQL_URL,
						extraArgs: [
							'--tls-cert',
							path.join(certDir, 'tls-cert.pem'),
							'--tls-key',
							path.join(certDir, 'tls-key.pem'),
						],
					}),
				);
			const room = `#${uniqueName('room')}`;
			const alice = uniqueName('alice');
			await users(alice);
			const asked: string[] = [];
			const resolve = async (host: string) => {
				asked.push(host);
				return [first, second];
			};
			const trusted: string[] = [];
			const confirmNewHost = async (hostPort: string) => {
				trusted.push(hostPort);
				return true;
			};
			const a = await join(`tcp://chat.cluster.test:${port}/${room}`, alice, undefined, {
				resolve,
				confirmNewHost,
			});
			const one = await a.client.say('one');
			await storedUpTo(room, one.seq);
			assert.ok(
				notices(a).some((n) => n.includes(`(${first})`)),
				`${notices(a)}`,
			);

			await extra[0]!.kill9();
			await a.events.waitFor('notice', (n) =>
				n.text.includes(`moved to server chat.cluster.test:${port} (${second})`),
			);
			const two = await a.client.say('two');
			assert.equal(two.seq > one.seq, true);
			assert.deepEqual(a.events.texts(), ['one', 'two']);
			assert.deepEqual(asked.slice(0, 1), ['chat.cluster.test']);
			// One pin, under the name as typed: the second address was checked against it, not asked about.
			assert.deepEqual(trusted, [`chat.cluster.test:${port}`]);
			const other = `SHA256:${'A'.repeat(43)}`;
			assert.equal(typeof (await knownHosts.check(`chat.cluster.test:${port}`, other)), 'object');
			assert.equal(await knownHosts.check(`${second}:${port}`, other), 'new');
			await a.client.close();
		});

		it('never logs in to a server whose certificate changed: warns, skips it, waits for the others', async () => {
			await cluster.restart(0);
			const [p0, p1] = cluster.ports as [number, number];
			// Someone else answers for node 1 now, as far as this client knows.
			const pins = new KnownHosts(path.join(dir, 'known_hosts_changed'));
			await pins.remember(`127.0.0.1:${p1}`, `SHA256:${'B'.repeat(43)}`);
			const room = `#${uniqueName('room')}`;
			const alice = uniqueName('alice');
			await users(alice);
			const a = await join(cluster.url(room), alice, undefined, {knownHosts: pins});
			const one = await a.client.say('one');
			await storedUpTo(room, one.seq);

			const before = a.events.events.length;
			await cluster.nodes[0]!.kill9();
			await a.events.waitFor('notice', (n) => n.text.includes(`127.0.0.1:${p1} has CHANGED`));
			await cluster.restart(0);
			await waitFor(
				() => a.events.events.slice(before).find((e) => e.type === 'state' && e.state === 'connected'),
				{timeout: 15_000, what: 'back on node 0'},
			);
			// Back where it was (nothing to announce), never on node 1.
			assert.ok(!notices(a).some((n) => n.includes(`server 127.0.0.1:${p1}`)), `${notices(a)}`);
			assert.ok(
				notices(a).some((n) => n.includes(`server 127.0.0.1:${p0} (1 of 2)`)),
				`${notices(a)}`,
			);
			const two = await a.client.say('two');
			assert.ok(two.seq > one.seq);
			assert.deepEqual(a.events.texts(), ['one', 'two']);
		});
	});
}

const mysql = await mysqlBackend();
if ('unreachable' in mysql) reportUnreachable('failover between servers', mysql);
else failoverSuite(mysql);
