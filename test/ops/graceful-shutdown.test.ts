// SIGTERM to a real `parley serve` over the real MariaDB (behind a relay the
// test can cut): it stops accepting, tells every member to reconnect
// elsewhere, lets the database catch up with the journal while it can, and is
// gone within --shutdown-timeout-ms; what it could not store is stored at the
// next start.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import type {AccountStore} from '../../server/store/account-store.js';
import {deriveVerifier} from '../../source/protocol/scram.js';
import {MYSQL_URL, mysqlBackend, reportUnreachable, uniqueName, type Backend} from '../store/backends.js';
import {eventually, health, metricsBase} from '../helpers/metrics-scrape.js';
import {storedChat} from '../helpers/stored-chat.js';
import {rawMember, type RawMember} from '../helpers/tcp-raw-client.js';
import {startTcpProxy, type TcpProxy} from '../helpers/tcp-proxy.js';
import {ServeProcess, freePort} from '../helpers/tcp-serve-process.js';
import {UdpBot} from '../helpers/udp-bot.js';

const password = (user: string) => `${user} password`;
const BOUND_MS = 3000;
const SHUTTING_DOWN = 'server shutting down';

/** Says each line and waits for its acknowledgement (the echo with its number). */
async function sayAll(member: RawMember, lines: string[]): Promise<Array<[number, string]>> {
	const acked: Array<[number, string]> = [];
	for (const [i, text] of lines.entries()) {
		member.send({t: 'say', ref: `r${i}-${text.length}`, text});
		const echo = await member.next('msg', 0, (f) => f.text === text);
		acked.push([echo.seq as number, text]);
	}
	return acked;
}

function refused(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = net.connect(port, '127.0.0.1');
		socket.once('connect', () => {
			socket.destroy();
			resolve(false);
		});
		socket.once('error', () => resolve(true));
	});
}

function shutdownSuite(backend: Backend) {
	describe('parley serve on SIGTERM', () => {
		let relay: TcpProxy;
		let relayUrl: string;
		let direct: AccountStore;
		let dataDir: string;
		const servers: ServeProcess[] = [];

		before(async () => {
			const url = new URL(MYSQL_URL);
			relay = await startTcpProxy(Number(url.port || 3306), url.hostname);
			url.host = `127.0.0.1:${relay.port}`;
			relayUrl = url.toString();
			direct = await backend.open();
			dataDir = await mkdtemp(path.join(tmpdir(), 'parley-shutdown-'));
		});
		after(async () => {
			relay.restore();
			await Promise.all(servers.map((server) => server.stop()));
			await direct.close();
			await backend.cleanup();
			await relay.close();
			await rm(dataDir, {recursive: true, force: true});
		});

		const start = async (tcpPort: number, roomName: string, dir: string) => {
			const server = await ServeProcess.start({
				tcpPort,
				dataDir: dir,
				db: relayUrl,
				room: roomName,
				extraArgs: ['--shutdown-timeout-ms', String(BOUND_MS), '--metrics-port', '0'],
			});
			servers.push(server);
			return server;
		};
		const users = async (...names: string[]) => {
			for (const name of names) await direct.createUser(name, await deriveVerifier(password(name)));
		};

		it('stops accepting, says bye with retry to every member, lets the database catch up and exits 0', async () => {
			const roomName = uniqueName('room');
			const [alice, bob] = [uniqueName('alice'), uniqueName('bob')] as [string, string];
			await users(alice, bob);
			const tcpPort = await freePort();
			const server = await start(tcpPort, roomName, await mkdtemp(path.join(dataDir, 'a-')));
			const base = metricsBase(await server.waitForLine(/metrics on http:/));
			const udpPort = Number(/udp room .* listening on 127\.0\.0\.1:(\d+)/.exec(server.log)?.[1]);
			const a = await rawMember(tcpPort, alice, password(alice));
			const b = await rawMember(tcpPort, bob, password(bob));
			const bot = await UdpBot.open(udpPort);
			try {
				assert.equal((await bot.join('carol')).t, 'welcome');
				// Acknowledged while the database is away: on disk in the local journal only.
				relay.cut();
				const acked = await sayAll(a, ['one', 'two', 'three', 'four']);
				assert.deepEqual(await storedChat(direct, roomName), []);

				const begun = Date.now();
				const stopped = server.stop();
				await server.waitForLine(/SIGTERM: shutting down/);
				for (const member of [a, b]) {
					const bye = await member.next('bye');
					assert.equal(bye.reason, SHUTTING_DOWN);
					assert.equal(bye.retry, true);
				}
				const udpBye = await bot.waitFor((m) => m.t === 'bye', 'the UDP bye');
				assert.equal(udpBye.reason, SHUTTING_DOWN);
				assert.equal(udpBye.retry, true);
				// Still flushing: newcomers are refused, and the health check sends them elsewhere.
				assert.equal(await refused(tcpPort), true, 'the TCP port refuses newcomers');
				assert.deepEqual(await health(base), {status: 503, body: 'shutting down\n'});

				relay.restore(); // the database comes back within the bound: the journal catches up
				assert.equal(await stopped.then(() => server.exited), 0);
				const took = Date.now() - begun;
				assert.ok(took < BOUND_MS + 1000, `exited after ${took} ms`);
				assert.deepEqual(
					(await storedChat(direct, roomName)).map((m) => [m.seq, m.text]),
					acked,
					'every acknowledged message is in the database before the process is gone',
				);
				assert.match(server.log, /stopped\n/);
				assert.doesNotMatch(server.log, /wait in the local journal/);
			} finally {
				relay.restore();
				a.close();
				b.close();
				await bot.close();
			}
		});

		it('exits 0 within the bound while the database stays away; the next start stores what waited', async () => {
			const roomName = uniqueName('room');
			const carol = uniqueName('carol');
			await users(carol);
			const tcpPort = await freePort();
			const dir = await mkdtemp(path.join(dataDir, 'b-'));
			let server = await start(tcpPort, roomName, dir);
			const c = await rawMember(tcpPort, carol, password(carol));
			let acked: Array<[number, string]>;
			try {
				// Her join reaches the database first (else whether it does before the cut is a race).
				await eventually(async () => ((await direct.latestSeq(roomName)) >= 1 ? true : undefined), {
					what: 'her join in the database',
				});
				relay.cut();
				acked = await sayAll(c, ['five', 'six', 'seven']);
				const begun = Date.now();
				await server.stop();
				const took = Date.now() - begun;
				assert.equal(await server.exited, 0);
				assert.ok(took < BOUND_MS + 1000, `exited after ${took} ms, bound ${BOUND_MS} ms`);
				assert.equal((await c.next('bye')).retry, true);
				// Her three lines, acknowledged while the database was away.
				assert.match(server.log, /3 acknowledged messages wait in the local journal for the database/);
			} finally {
				c.close();
				relay.restore();
			}
			assert.deepEqual(await storedChat(direct, roomName), []);

			server = await start(tcpPort, roomName, dir);
			const stored = await eventually(
				async () => {
					const chat = await storedChat(direct, roomName);
					return chat.length >= acked.length ? chat : undefined;
				},
				{what: 'the waiting messages stored after the restart'},
			);
			assert.deepEqual(
				stored.map((m) => [m.seq, m.text]),
				acked,
			);
		});

		it('is gone within the bound even when the database takes bytes but never answers', async () => {
			const roomName = uniqueName('room');
			const dave = uniqueName('dave');
			await users(dave);
			const tcpPort = await freePort();
			const server = await start(tcpPort, roomName, await mkdtemp(path.join(dataDir, 'c-')));
			const d = await rawMember(tcpPort, dave, password(dave));
			try {
				relay.holdReplies(true);
				await sayAll(d, ['eight', 'nine']);
				const begun = Date.now();
				await server.stop();
				const took = Date.now() - begun;
				assert.ok(took < BOUND_MS + 1000, `exited after ${took} ms, bound ${BOUND_MS} ms`);
				assert.equal(await server.exited, 0, server.log);
				assert.equal((await d.next('bye')).retry, true);
			} finally {
				d.close();
				relay.holdReplies(false);
			}
		});
	});
}

const mysql = await mysqlBackend();
if ('unreachable' in mysql) reportUnreachable('parley serve on SIGTERM', mysql);
else shutdownSuite(mysql);
