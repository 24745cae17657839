// kill -9 of a `parley serve` (MariaDB behind a relay: test/helpers/tcp-proxy.ts;
// the shared MariaDB itself is never stopped) mid-conversation and during a
// database outage, then a restart: every acknowledged line is there exactly
// once under its number, no number is given twice, members are back within
// 5 s. And a frozen database (the relay holds its replies): chat goes on.
import {mkdtemp} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import type {RoomEvent} from '../../source/client/types.js';
import {deriveVerifier} from '../../source/protocol/scram.js';
import {openMysqlStore} from '../../server/store/mysql-store.js';
import {MYSQL_URL, mysqlBackend, uniqueName} from '../../test/store/backends.js';
import {startTcpProxy, type TcpProxy} from '../../test/helpers/tcp-proxy.js';
import {freePort} from '../../test/helpers/tcp-serve-process.js';
import {delay} from '../../test/helpers/wait.js';
import {chat, member, p99, password, row, startServe, talker, type Row, type Served} from './kit.js';

type Message = Extract<RoomEvent, {type: 'message'}>;

interface Setup {
	relay: TcpProxy;
	relayUrl: string;
	users: [string, string, string];
}

async function crashCase(setup: Setup, label: string, outage: boolean): Promise<Row[]> {
	const scenario = `5 kill -9 ${label}`;
	const room = uniqueName('room');
	const [alice, bob, carol] = setup.users;
	const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-chaos-kill-'));
	const port = await freePort();
	const options = {db: setup.relayUrl, room, dataDir, port, extraArgs: ['--db-timeout-ms', '1500']};
	let served: Served = await startServe([], options);
	const a = await member(served, alice);
	const b = await member(served, bob);
	const acked = new Map<number, string>();
	const record = (e: RoomEvent) => {
		if (e.type === 'message' && e.self) acked.set(e.seq, e.text);
	};
	a.client.subscribe(record);
	b.client.subscribe(record);
	for (let i = 0; i < 6; i++) {
		(i % 2 === 0 ? a : b).client.say(`${label} before ${i}`);
		await delay(150);
	}
	if (outage) setup.relay.cut();
	for (let i = 0; i < 16; i++) {
		(i % 2 === 0 ? a : b).client.say(`${label} line ${i}`);
		await delay(150);
	}
	a.client.say(`${label} in flight`); // sent just before the kill: acknowledged or not, never half
	await served.serve.kill9();
	const ackedAtKill = new Map(acked);
	await Promise.all([a.client.close(), b.client.close()]);
	setup.relay.restore();

	const restarted = Date.now();
	served = await startServe([], options);
	const [a2, b2] = await Promise.all([member(served, alice), member(served, bob)]);
	const backMs = Date.now() - restarted;
	try {
		const c = await member(served, carol);
		const lastText = ackedAtKill.get(Math.max(...ackedAtKill.keys()));
		await c.events.waitFor('message', (m) => m.history && m.text === lastText, 5000).catch(() => {});
		const history = c.events.of('message').filter((m: Message) => m.history);
		const seqs = history.map((m) => m.seq);
		const duplicates = seqs.length - new Set(seqs).size;
		const textCounts = new Map<string, number>();
		for (const m of history) textCounts.set(m.text, (textCounts.get(m.text) ?? 0) + 1);
		let missing = 0;
		let twice = 0;
		let renumbered = 0;
		for (const [seq, text] of ackedAtKill) {
			const count = textCounts.get(text) ?? 0;
			if (count === 0) missing++;
			if (count > 1) twice++;
			if (count > 0 && !history.some((m) => m.seq === seq && m.text === text)) renumbered++;
		}
		c.client.say(`${label} after`);
		const next = await c.events.waitFor('message', (m) => m.self && m.text === `${label} after`, 5000);
		const reused = next.seq <= Math.max(...ackedAtKill.keys()) ? 1 : 0;
		await Promise.all([a2.client.close(), b2.client.close(), c.client.close()]);
		return [
			row(scenario, 'lines acknowledged before the kill', ackedAtKill.size, '—', ackedAtKill.size >= 20),
			row(scenario, 'acknowledged lines missing after restart', missing, '0', missing === 0),
			row(scenario, 'acknowledged lines delivered twice', twice, '0', twice === 0),
			row(
				scenario,
				'sequence numbers reused or changed',
				duplicates + renumbered + reused,
				'0',
				duplicates + renumbered + reused === 0,
			),
			row(scenario, 'restart → both members back (ms)', backMs, '< 5000', backMs < 5000),
		];
	} finally {
		await served.serve.stop();
	}
}

async function frozenCase(setup: Setup): Promise<Row[]> {
	const scenario = '6 frozen database';
	const [alice, bob] = setup.users;
	const served = await startServe([], {
		db: setup.relayUrl,
		room: uniqueName('room'),
		extraArgs: ['--db-timeout-ms', '2000'],
	});
	try {
		const a = await member(served, alice);
		const b = await member(served, bob);
		setup.relay.holdReplies(true);
		const until = Date.now() + 8000;
		const figures = await chat(talker(a.client), talker(b.client), () => Date.now() > until, {
			gapMs: 250,
			label: 'frozen',
		});
		setup.relay.holdReplies(false);
		await Promise.all([a.client.close(), b.client.close()]);
		return [
			row(
				scenario,
				'lines during an 8 s freeze delivered',
				`${figures.delivered}/${figures.sent}`,
				'all',
				figures.delivered === figures.sent && figures.sent >= 20,
			),
			row(
				scenario,
				'p99 during the freeze (ms)',
				p99(figures.latencies),
				'< 500',
				p99(figures.latencies) < 500,
			),
		];
	} finally {
		setup.relay.holdReplies(false);
		await served.serve.stop();
	}
}

export async function durability(): Promise<Row[]> {
	const backend = await mysqlBackend();
	if ('unreachable' in backend)
		return [row('5/6 database', 'MariaDB reachable', backend.unreachable, 'reachable', false)];
	const url = new URL(MYSQL_URL);
	const relay = await startTcpProxy(Number(url.port || 3306), url.hostname);
	url.host = `127.0.0.1:${relay.port}`;
	const direct = await openMysqlStore(MYSQL_URL);
	const users: [string, string, string] = [uniqueName('alice'), uniqueName('bob'), uniqueName('carol')];
	try {
		for (const user of users) await direct.createUser(user, await deriveVerifier(password(user)));
		const setup = {relay, relayUrl: url.toString(), users};
		return [
			...(await crashCase(setup, 'mid-conversation', false)),
			...(await crashCase(setup, 'during a database outage', true)),
			...(await frozenCase(setup)),
		];
	} finally {
		relay.restore();
		relay.holdReplies(false);
		await direct.close();
		await backend.cleanup();
		await relay.close();
	}
}
