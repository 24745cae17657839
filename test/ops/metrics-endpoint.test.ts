// `parley serve --metrics-port`: a real server process over the real MariaDB
// (behind a relay the test can cut), real clients over TLS and UDP, and the
// Prometheus endpoint read over HTTP before and after they chat.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import type {AccountStore} from '../../server/store/account-store.js';
import {KnownHosts} from '../../source/client/known-hosts.js';
import {deriveVerifier} from '../../source/protocol/scram.js';
import {MYSQL_URL, mysqlBackend, reportUnreachable, uniqueName, type Backend} from '../store/backends.js';
import {eventually, health, metricsBase, sample, scrape, type Samples} from '../helpers/metrics-scrape.js';
import {tcpClient, type TcpTestClient} from '../helpers/tcp-fixture.js';
import {startTcpProxy, type TcpProxy} from '../helpers/tcp-proxy.js';
import {ServeProcess, freePort} from '../helpers/tcp-serve-process.js';
import {UdpBot} from '../helpers/udp-bot.js';

const password = (user: string) => `${user} password`;

/** Polls the endpoint until the samples satisfy `ok`; a timeout shows the last ones. */
async function scrapeUntil(base: string, ok: (samples: Samples) => boolean, what: string): Promise<Samples> {
	let last: Samples = new Map();
	try {
		return await eventually(
			async () => {
				last = await scrape(base);
				return ok(last) ? last : undefined;
			},
			{what},
		);
	} catch (error) {
		const parley = [...last].filter(([key]) => key.startsWith('parley_') && !key.includes('_bucket'));
		throw new Error(`${(error as Error).message}\n${parley.map(([k, v]) => `${k} ${v}`).join('\n')}`);
	}
}

function metricsSuite(backend: Backend) {
	describe('parley serve --metrics-port', () => {
		let relay: TcpProxy;
		let direct: AccountStore;
		let dataDir: string;
		let serve: ServeProcess;
		let base: string;
		let tcpPort: number;
		let udpPort: number;
		const roomName = uniqueName('room');
		const [alice, bob] = [uniqueName('alice'), uniqueName('bob')] as [string, string];
		const clients: TcpTestClient[] = [];

		before(async () => {
			const url = new URL(MYSQL_URL);
			relay = await startTcpProxy(Number(url.port || 3306), url.hostname);
			url.host = `127.0.0.1:${relay.port}`;
			direct = await backend.open();
			for (const user of [alice, bob]) await direct.createUser(user, await deriveVerifier(password(user)));
			dataDir = await mkdtemp(path.join(tmpdir(), 'parley-metrics-'));
			tcpPort = await freePort();
			serve = await ServeProcess.start({
				tcpPort,
				dataDir,
				db: url.toString(),
				room: roomName,
				extraArgs: ['--metrics-port', '0'],
			});
			base = metricsBase(await serve.waitForLine(/metrics on http:/));
			udpPort = Number(/udp room .* listening on 127\.0\.0\.1:(\d+)/.exec(serve.log)?.[1]);
		});
		after(async () => {
			relay.restore();
			await Promise.all(clients.map((c) => c.client.close()));
			await serve?.stop();
			await direct.close();
			await backend.cleanup();
			await relay.close();
			await rm(dataDir, {recursive: true, force: true});
		});

		const login = async (user: string, secret = password(user)) => {
			const c = tcpClient({
				host: '127.0.0.1',
				port: tcpPort,
				knownHosts: new KnownHosts(path.join(dataDir, 'kh')),
			});
			clients.push(c);
			await c.client.connect(user, secret);
			return c;
		};

		it('counts connections, members, messages, failed logins and store calls as clients chat', async () => {
			assert.deepEqual(await health(base), {status: 200, body: 'ok\n'});
			const before = await scrape(base);
			assert.equal(sample(before, 'parley_connections_open{transport="tcp"}'), 0);
			assert.equal(sample(before, 'parley_members{transport="tcp"}'), 0);
			assert.ok(sample(before, 'parley_rooms_open{transport="tcp"}') >= 1);
			assert.ok(before.has('process_resident_memory_bytes'), 'the process metrics are there too');

			const a = await login(alice);
			const b = await login(bob);
			for (const text of ['one', 'two', 'three']) a.client.say(text);
			await b.events.waitFor('message', (m) => m.text === 'three');
			const bot = await UdpBot.open(udpPort);
			try {
				assert.equal((await bot.join('carol')).t, 'welcome');
				bot.send({t: 'say', ref: 'u1', text: 'over udp'});
				await bot.waitFor((m) => m.t === 'msg' && m.text === 'over udp', 'the echo of the UDP line');
				await assert.rejects(login(alice, 'not her password'));

				const tcp = (name: string) => `${name}{transport="tcp"}`;
				const udp = (name: string) => `${name}{transport="udp"}`;
				// The journal's backlog goes to the database in batches: at least one, and nothing left behind.
				const stored = 'parley_store_seconds_count{operation="storeMessagesAt",outcome="ok"}';
				const now = await scrapeUntil(
					base,
					(s) =>
						sample(s, stored) >= sample(before, stored) + 1 &&
						sample(s, 'parley_store_pending_writes') === 0 &&
						sample(s, tcp('parley_connections_open')) === 2,
					'three messages stored, two TCP connections',
				);
				assert.equal(sample(now, tcp('parley_members')), 2);
				assert.equal(sample(now, tcp('parley_sessions')), 2);
				assert.equal(sample(now, udp('parley_connections_open')), 1);
				assert.equal(sample(now, udp('parley_members')), 1);
				assert.equal(
					sample(now, 'parley_auth_failures_total'),
					sample(before, 'parley_auth_failures_total') + 1,
				);
				const grew = (key: string) => sample(now, key) - sample(before, key);
				assert.ok(grew(tcp('parley_messages_received_total')) >= 3, 'alice’s three lines came in');
				assert.ok(grew(tcp('parley_messages_sent_total')) >= 6, 'and went out to both');
				assert.ok(grew(udp('parley_messages_received_total')) >= 1);
				assert.ok(grew(udp('parley_messages_sent_total')) >= 1);
				assert.ok(grew('parley_tcp_connections_accepted_total') >= 3);
				assert.equal(sample(now, 'parley_store_pending_writes'), 0);
				// The three lines (and the joins) went to the local journal in group commits, none failed.
				assert.ok(grew('parley_journal_appends_total') >= 3);
				assert.ok(grew('parley_journal_commits_total') >= 1);
				assert.ok(sample(now, 'parley_journal_commits_total') <= sample(now, 'parley_journal_appends_total'));
				assert.equal(sample(now, 'parley_journal_failed_commits_total'), 0);
			} finally {
				await bot.close();
			}

			// One leaves: the gauges follow.
			await a.client.close();
			await scrapeUntil(
				base,
				(s) =>
					sample(s, 'parley_connections_open{transport="tcp"}') === 1 &&
					sample(s, 'parley_members{transport="tcp"}') === 1,
				'one TCP connection and member left',
			);
		});

		it('answers /healthz 503 while the database is cut off and 200 once it is back', async () => {
			relay.cut();
			const down = await eventually(
				async () => {
					const answer = await health(base);
					return answer.status === 503 ? answer : undefined;
				},
				{what: '/healthz to answer 503'},
			);
			assert.match(down.body, /^store (unreachable|did not answer)/);
			const failedPings = await scrape(base);
			assert.ok(sample(failedPings, 'parley_store_seconds_count{operation="ping",outcome="error"}') >= 1);

			relay.restore();
			const up = await eventually(
				async () => {
					const answer = await health(base);
					return answer.status === 200 ? answer : undefined;
				},
				{what: '/healthz to answer 200 again', timeout: 15_000, interval: 100},
			);
			assert.equal(up.body, 'ok\n');
		});
	});
}

const mysql = await mysqlBackend();
if ('unreachable' in mysql) reportUnreachable('parley serve --metrics-port', mysql);
else metricsSuite(mysql);
