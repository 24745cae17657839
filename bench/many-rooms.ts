// Many rooms on one server (issue #11): the real TCP room server
// (bench/tcp-server-child.ts: TLS 1.3, SCRAM-SHA-256-PLUS, node:sqlite store,
// accounts made by deriveVerifier at the production iteration count) in its
// own process, 1,000 rooms and 5,000 memberships: 1,000 accounts, each logged
// in once over one TLS connection and joined to 5 rooms through it (5 members
// a room), held by 2 client processes (bench/rooms-child.ts) and a third for
// the probes and the history readers. Everything on 127.0.0.1.
//
// It measures, in order:
// 1. join latency (hello → welcome, one join at a time) into a nearly empty
//    server: one account creates the first 50 of the 1,000 rooms;
// 2. logins (TLS + SCRAM + first join), 16 at a time, and the other 4,000
//    joins over the open connections, 50 at a time;
// 3. join latency once the 1,000 rooms and 5,000 memberships exist: 50 new
//    rooms, then 50 existing rooms with 5 members each;
// 4. a room filled with 5,000 messages (sent through the server);
// 5. live fan-out: messages into random rooms at 500 a second, all 5,000
//    memberships live;
// 6. the same while 4 readers page back through the 5,000 messages
//    (loadOlder, 100 a page, at the server's read budget of 4 pages a second
//    each): page latency, whether every stored event arrived, and the live
//    latency in the other rooms;
// 7. live again without reads, to compare with step 6 (step 5 carries the
//    first message into each room and the warm-up).
// Server CPU and RSS are sampled between the stages.
//
//   npm run build
//   npx node dist/bench/many-rooms.js [--rate 500]     (or: npm run bench -- --only rooms)
//
// Results: a table on stdout and bench/results/rooms.json.

import {randomBytes} from 'node:crypto';
import {fork, type ChildProcess} from 'node:child_process';
import {mkdir, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {RESULTS_DIR, forkServer, isMain, type ServerChild, type ServerStats} from './fanout.js';
import type {FromRoomsChild, RoomsTarget, ToRoomsChild} from './protocol.js';
import {clock, exited, nextMessage, ofType, round, sleep, summarise} from './util.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const ROOMS = 1000;
const ACCOUNTS = 1000;
const ROOMS_PER_ACCOUNT = 5;
const CLIENT_PROCS = 2;
// Per client process. Logins: 16 in flight in all, since the server counts a
// login in progress as a failed one until it succeeds, and refuses an address
// with 20 failures a minute (server/auth/login-throttle.ts): every client here is 127.0.0.1.
const LOGIN_CONCURRENCY = 8;
const JOIN_CONCURRENCY = 25;
const PROBE_JOINS = 50;
const HISTORY = 5000;
const READERS = 4;
const PAGE_SIZE = 100;
const PAGE_INTERVAL_MS = 250; // the server's read budget: 4 pages a second per member
const DEFAULT_RATE = 500; // messages a second, all client processes together
const LIVE_MS = 8000;

const roomName = (i: number) => `#r${String(i).padStart(4, '0')}`;
// As tcp-server-child.ts names its accounts.
const userName = (i: number) => `m${String(i).padStart(3, '0')}`;
// Accounts past the 1,000 members: the three probes, the filler, the readers.
const PROBE_EMPTY = userName(ACCOUNTS);
const PROBE_NEW = userName(ACCOUNTS + 1);
const PROBE_EXISTING = userName(ACCOUNTS + 2);
const FILLER = userName(ACCOUNTS + 3);
const readerNames = Array.from({length: READERS}, (_, i) => userName(ACCOUNTS + 4 + i));
const HISTORY_ROOM = '#history';

/** Account i's rooms: room r gets accounts r, r-200, r-400, … so its 5 members are spread over both processes. */
const roomsOf = (account: number) =>
	Array.from({length: ROOMS_PER_ACCOUNT}, (_, k) =>
		roomName((account + k * (ROOMS / ROOMS_PER_ACCOUNT)) % ROOMS),
	);

interface Child {
	process: ChildProcess;
	request(message: ToRoomsChild): void;
	next<K extends FromRoomsChild['type']>(
		type: K,
		timeoutMs: number,
		step?: number,
	): Promise<Extract<FromRoomsChild, {type: K}>>;
}

function forkClient(): Child {
	const child = fork(path.join(here, 'rooms-child.js'), [], {
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
		serialization: 'advanced', // Float64Arrays of latencies
	});
	return {
		process: child,
		request: (message) => child.send(message),
		next: (type, timeoutMs, step) =>
			nextMessage(child, ofType<FromRoomsChild, typeof type>(type, step), timeoutMs, `rooms child: ${type}`),
	};
}

interface Sample {
	stage: string;
	at: number;
	cpuMs: number;
	rssMb: number;
	rooms: number;
	memberships: number;
	/** Server event-loop delay since the sample before. */
	loopDelay: {p99: number; max: number};
	/** Time the server's main thread has waited for a CPU (Linux), since it started. */
	runQueueWaitMs: number;
}

const sample = async (server: ServerChild, stage: string): Promise<Sample> => {
	const stats: ServerStats = await server.stats();
	return {
		stage,
		at: clock(),
		cpuMs: stats.cpuMs,
		rssMb: round((stats.rssBytes ?? 0) / 2 ** 20, 1),
		rooms: stats.rooms ?? 0,
		memberships: stats.memberships ?? 0,
		loopDelay: stats.loopDelay,
		runQueueWaitMs: stats.runQueueWaitMs ?? 0,
	};
};

/** Server CPU between two samples, as a share of one core. */
const cpuPercent = (from: Sample, to: Sample) =>
	round(((to.cpuMs - from.cpuMs) / (to.at - from.at)) * 100, 0);

const out = (text = '') => process.stdout.write(`${text}\n`);

/** Live messages into random rooms from every client process; latencies as the receivers saw them. */
async function live(clients: Child[], step: number, durationMs: number, rate: number) {
	const startAt = clock() + 200;
	const reports = clients.map((c) => c.next('report', durationMs + 20_000, step));
	const sent = clients.map((c) => c.next('sent', durationMs + 10_000, step));
	for (const c of clients) c.request({type: 'run', step, rate: rate / clients.length, durationMs, startAt});
	const sentCount = (await Promise.all(sent)).reduce((sum, s) => sum + s.sent, 0);
	// The last deliveries: until all are in, or 10 s.
	const expected = sentCount * ROOMS_PER_ACCOUNT;
	const drainUntil = clock() + 10_000;
	let pulled = 0;
	while (pulled < expected && clock() < drainUntil) {
		await sleep(250);
		const counts = clients.map((c) => c.next('count', 5000, step));
		for (const c of clients) c.request({type: 'count', step});
		pulled = (await Promise.all(counts)).reduce((sum, c) => sum + c.received, 0);
	}
	for (const c of clients) c.request({type: 'report', step});
	const done = await Promise.all(reports);
	const received = done.reduce((sum, r) => sum + r.received, 0);
	return {
		sent: sentCount,
		ratePerSecond: round(sentCount / (durationMs / 1000), 0),
		deliveries: received,
		expectedDeliveries: expected,
		missing: expected - received,
		latencyMs: summarise(done.map((r) => r.latencies)),
		lost: done.reduce((sum, r) => sum + r.lost, 0),
		failed: done.reduce((sum, r) => sum + r.failed, 0),
		errors: done.reduce((sum, r) => sum + r.errors, 0),
		disconnects: done.reduce((sum, r) => sum + r.disconnects, 0),
		clientCpuPercent: done.map((r) => round((r.cpuMs / r.windowMs) * 100, 0)),
		clientLoopDelayP99Ms: done.map((r) => r.loopDelay.p99),
	};
}

/** Runs the benchmark; returns the figures for the side-by-side summary (bench/run.ts). */
export async function runManyRooms(rate = DEFAULT_RATE) {
	const started = clock();
	const loadAtStart = os.loadavg().map((l) => round(l, 2));
	const password = randomBytes(12).toString('base64url');
	const users = ACCOUNTS + 4 + READERS;
	out(
		`many rooms: ${ROOMS} rooms, ${ACCOUNTS} accounts × ${ROOMS_PER_ACCOUNT} rooms = ${ACCOUNTS * ROOMS_PER_ACCOUNT} memberships, ` +
			`${CLIENT_PROCS} client processes + 1 for probes and readers`,
	);
	const server = await forkServer('tcp-server-child.js', [
		'--users',
		String(users),
		'--password',
		password,
		// Raised as in the fan-out bench: every client is 127.0.0.1, and the filler sends 5,000 lines at once.
		'--rate',
		'100000',
		'--burst',
		'100000',
		'--max-per-address',
		'4096',
	]);
	const clients = Array.from({length: CLIENT_PROCS}, forkClient);
	const aux = forkClient();
	const all = [...clients, aux];
	try {
		const target: RoomsTarget = {host: '127.0.0.1', port: server.port, password};
		const samples = [await sample(server, 'started (accounts made, no one connected)')];
		out(`server up: ${users} accounts (SCRAM ${String(server.detail.iterations)} iterations each, own salt)`);

		// 1. Joins into a nearly empty server: the first 50 rooms are made here.
		aux.request({type: 'probe', target, user: PROBE_EMPTY, rooms: range(PROBE_JOINS).map(roomName)});
		const emptyJoins = summarise([(await aux.next('probe', 60_000)).joinMs]);
		out(`joins, empty server (creating the room): p50 ${emptyJoins.p50} ms, p99 ${emptyJoins.p99} ms`);

		// 2. Every account logs in once and joins its 5 rooms over that connection.
		const startAt = clock() + 300;
		const perProc = ACCOUNTS / CLIENT_PROCS;
		const setups = clients.map((c) => c.next('accounts', 120_000));
		for (const [p, c] of clients.entries())
			c.request({
				type: 'accounts',
				target,
				accounts: range(perProc).map((i) => {
					const account = p * perProc + i;
					return {user: userName(account), rooms: roomsOf(account)};
				}),
				loginConcurrency: LOGIN_CONCURRENCY,
				joinConcurrency: JOIN_CONCURRENCY,
				startAt,
			});
		const setup = await Promise.all(setups);
		const loginsEnd = Math.max(...setup.map((s) => s.loginsEndAt));
		const joinsEnd = Math.max(...setup.map((s) => s.joinsEndAt));
		const logins = {
			count: setup.reduce((sum, s) => sum + s.loginMs.length, 0),
			concurrency: LOGIN_CONCURRENCY * CLIENT_PROCS,
			perSecond: round(ACCOUNTS / ((loginsEnd - startAt) / 1000), 1),
			latencyMs: summarise(setup.map((s) => s.loginMs)),
		};
		const bulkJoins = {
			count: setup.reduce((sum, s) => sum + s.joinMs.length, 0),
			concurrency: JOIN_CONCURRENCY * CLIENT_PROCS,
			perSecond: round(
				setup.reduce((sum, s) => sum + s.joinMs.length, 0) / ((joinsEnd - loginsEnd) / 1000),
				1,
			),
			latencyMs: summarise(setup.map((s) => s.joinMs)),
		};
		samples.push(
			await sample(server, `${ACCOUNTS} accounts in, ${ACCOUNTS * ROOMS_PER_ACCOUNT} memberships`),
		);
		out(
			`logins (TLS + SCRAM + first join, ${logins.concurrency} at a time): ${logins.perSecond}/s, ` +
				`p50 ${logins.latencyMs.p50} ms, p99 ${logins.latencyMs.p99} ms`,
		);
		out(
			`other joins over the open connections (${bulkJoins.concurrency} at a time): ${bulkJoins.perSecond}/s, ` +
				`p50 ${bulkJoins.latencyMs.p50} ms, p99 ${bulkJoins.latencyMs.p99} ms`,
		);

		// 3. Joins with the 1,000 rooms there: new rooms, then rooms with members.
		aux.request({
			type: 'probe',
			target,
			user: PROBE_NEW,
			rooms: range(PROBE_JOINS).map((i) => `#new${String(i).padStart(3, '0')}`),
		});
		const newJoins = summarise([(await aux.next('probe', 60_000)).joinMs]);
		aux.request({
			type: 'probe',
			target,
			user: PROBE_EXISTING,
			rooms: range(PROBE_JOINS).map((i) => roomName(100 + i * 17)),
		});
		const existingJoins = summarise([(await aux.next('probe', 60_000)).joinMs]);
		out(
			`joins, ${ROOMS} rooms there: new room p50 ${newJoins.p50} ms, p99 ${newJoins.p99} ms; ` +
				`room with ${ROOMS_PER_ACCOUNT} members p50 ${existingJoins.p50} ms, p99 ${existingJoins.p99} ms`,
		);

		// 4. A room with 5,000 stored messages.
		aux.request({type: 'fill', target, user: FILLER, room: HISTORY_ROOM, count: HISTORY});
		const filled = await aux.next('fill', 120_000);
		out(
			`${HISTORY_ROOM}: ${HISTORY} messages sent in ${round(filled.ms / 1000, 1)} s (last seq ${filled.lastSeq})`,
		);
		samples.push(await sample(server, 'idle, all memberships live'));

		// 5. Live messages, no history reads: the first step carries the first message into every room.
		const liveStep = async (step: number, stage: string) => {
			const before = await sample(server, `before: ${stage}`);
			const figures = await live(clients, step, LIVE_MS, rate);
			const after = await sample(server, stage);
			samples.push(after);
			return {
				...figures,
				serverCpuPercent: cpuPercent(before, after),
				serverLoopDelayMs: after.loopDelay,
				// Waiting for a CPU while runnable: the machine's other jobs, not the server's own work.
				serverRunQueueWaitPercent: round(
					((after.runQueueWaitMs - before.runQueueWaitMs) / (after.at - before.at)) * 100,
					0,
				),
			};
		};
		const describe = (figures: Awaited<ReturnType<typeof liveStep>>) =>
			`p50 ${figures.latencyMs.p50} ms, p99 ${figures.latencyMs.p99} ms, ` +
			`${figures.deliveries}/${figures.expectedDeliveries} delivered, server CPU ${figures.serverCpuPercent}%, ` +
			`server event-loop delay p99 ${figures.serverLoopDelayMs.p99} ms (max ${figures.serverLoopDelayMs.max}), ` +
			`server waiting for a CPU ${figures.serverRunQueueWaitPercent}% of the time`;
		const firstLive = await liveStep(1, `live ${rate} msg/s (first)`);
		out(`live, ${firstLive.ratePerSecond} msg/s into random rooms, first step: ${describe(firstLive)}`);

		// 6. The same while readers page back through the 5,000 messages.
		const readDone = aux.next('read', 120_000);
		const reading = aux.next('reading', 60_000);
		aux.request({
			type: 'read',
			target,
			users: readerNames,
			room: HISTORY_ROOM,
			before: filled.lastSeq + 1,
			pageSize: PAGE_SIZE,
			intervalMs: PAGE_INTERVAL_MS,
		});
		await reading;
		// Shorter than the reading (50 pages at 4 a second ≈ 12.5 s), so every live message meets reads.
		const liveWithReads = await liveStep(2, `live ${rate} msg/s + ${READERS} readers paging`);
		const read = await readDone;
		const pages = summarise([read.pageMs]);
		const intact = read.readers.every(
			(r) => r.messages === HISTORY && r.missing === 0 && r.duplicates === 0 && r.complete,
		);
		out(
			`history: ${read.pages} pages of ${PAGE_SIZE} by ${READERS} readers in ${round(read.ms / 1000, 1)} s: ` +
				`p50 ${pages.p50} ms, p99 ${pages.p99} ms; every reader got all ${HISTORY} messages with no gap: ${intact ? 'yes' : 'NO'}`,
		);
		out(`live during the reads: ${describe(liveWithReads)}`);

		// 7. Live again without reads, the comparison for step 6.
		const liveAfter = await liveStep(3, `live ${rate} msg/s (after the reads)`);
		out(`live without reads, again: ${describe(liveAfter)}`);
		const serverRss = samples.map((s) => ({
			stage: s.stage,
			rssMb: s.rssMb,
			rooms: s.rooms,
			memberships: s.memberships,
		}));
		out(`server RSS: ${serverRss.map((s) => `${s.rssMb} MB (${s.stage})`).join('; ')}`);

		const report = {
			benchmark: 'many-rooms',
			date: new Date().toISOString(),
			environment: {
				node: process.version,
				cpus: os.cpus().length,
				cpuModel: os.cpus()[0]?.model ?? 'unknown',
				loadAverageAtStart: loadAtStart,
				loadAverageAtEnd: os.loadavg().map((l) => round(l, 2)),
			},
			config: {
				rooms: ROOMS,
				accounts: ACCOUNTS,
				roomsPerAccount: ROOMS_PER_ACCOUNT,
				memberships: ACCOUNTS * ROOMS_PER_ACCOUNT,
				clientProcesses: CLIENT_PROCS,
				loginConcurrency: LOGIN_CONCURRENCY * CLIENT_PROCS,
				joinConcurrency: JOIN_CONCURRENCY * CLIENT_PROCS,
				probeJoins: PROBE_JOINS,
				liveRate: rate,
				liveMs: LIVE_MS,
				history: HISTORY,
				readers: READERS,
				pageSize: PAGE_SIZE,
				pageIntervalMs: PAGE_INTERVAL_MS,
				server: server.detail,
			},
			joins: {
				emptyServer: emptyJoins,
				newRoomWith1000: newJoins,
				existingRoomWith1000: existingJoins,
				bulk: bulkJoins,
			},
			logins,
			memberships: setup.reduce((sum, s) => sum + s.memberships, 0),
			fill: {messages: HISTORY, lastSeq: filled.lastSeq, seconds: round(filled.ms / 1000, 1)},
			live: {first: firstLive, duringReads: liveWithReads, afterReads: liveAfter},
			history: {
				pages: read.pages,
				pageMs: pages,
				seconds: round(read.ms / 1000, 1),
				readers: read.readers,
				intact,
				errors: read.errors,
			},
			server: serverRss,
			totalSeconds: round((clock() - started) / 1000, 1),
		};
		const file = path.join(RESULTS_DIR, 'rooms.json');
		await mkdir(RESULTS_DIR, {recursive: true});
		await writeFile(file, `${JSON.stringify(report, null, '\t')}\n`);
		out(`results: ${path.relative(process.cwd(), file)} (${report.totalSeconds} s)`);
		return {
			rooms: ROOMS,
			memberships: report.memberships,
			joinP50P99Ms: {
				emptyServer: [emptyJoins.p50, emptyJoins.p99],
				newRoomWith1000: [newJoins.p50, newJoins.p99],
				existingRoomWith1000: [existingJoins.p50, existingJoins.p99],
			},
			loginsPerSecond: logins.perSecond,
			liveFirstP50P99Ms: [firstLive.latencyMs.p50, firstLive.latencyMs.p99],
			liveDuringReadsP50P99Ms: [liveWithReads.latencyMs.p50, liveWithReads.latencyMs.p99],
			liveWithoutReadsP50P99Ms: [liveAfter.latencyMs.p50, liveAfter.latencyMs.p99],
			pageP50P99Ms: [pages.p50, pages.p99],
			historyIntact: intact,
			serverRssMb: Math.max(...samples.map((s) => s.rssMb)),
			serverCpuPercentLive: liveAfter.serverCpuPercent,
		};
	} finally {
		for (const c of all) if (c.process.connected) c.request({type: 'quit'});
		await Promise.all([...all.map((c) => exited(c.process)), server.stop()]);
	}
}

const range = (n: number) => Array.from({length: n}, (_, i) => i);

if (isMain(import.meta.url)) {
	const {values} = parseArgs({options: {rate: {type: 'string', default: String(DEFAULT_RATE)}}});
	runManyRooms(Math.max(1, Number(values.rate) || DEFAULT_RATE)).catch((error: unknown) => {
		process.stderr.write(
			`many-rooms: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
		);
		process.exitCode = 1;
	});
}
