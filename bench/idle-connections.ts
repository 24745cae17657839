// Idle connections: what one authenticated TLS connection costs the server at
// rest, and how fast accounts log in against MariaDB. The stock `parley serve
// --db mysql://…` (in its own process, limits raised by flags only), 10,000
// accounts made beforehand in the database, 10,000 TLS connections from two
// generator processes (bench/idle-child.ts: the real client, SCRAM-SHA-256-PLUS),
// each logged in and joined to one room (rooms of 50), then left idle. The
// server's RSS and heap are taken after a full GC (bench/memory-probe.ts,
// preloaded into the server) before the logins and once the connections rest;
// the difference over the connections is the cost of one.
//
//   npm run bench -- --only idle
//   node dist/bench/idle-connections.js [--connections 10000] [--procs 2] [--concurrency 16]
//        [--room-size 50] [--db mysql://root@127.0.0.1:3306/parley_bench_idle] [--parley dist/parley.js]
//
// Every process gets a raised open-file limit (as `npm run chaos`): the server
// holds one descriptor per connection. Results: a table on stdout and
// bench/results/idle.json.

import {spawn, type ChildProcess} from 'node:child_process';
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {parseArgs} from 'node:util';
import mysql from 'mysql2/promise';
import {openStore} from '../server/store/open-store.js';
import {UserExistsError} from '../server/store/account-store.js';
import {DEFAULT_ITERATIONS, deriveVerifier} from '../source/protocol/scram.js';
import {RESULTS_DIR, isMain, type ServerChild} from './fanout.js';
import type {FromIdleChild, ToIdleChild} from './idle-child.js';
import {spawnServer} from './process-server.js';
import {clock, exited, nextMessage, ofType, pool, round, summarise, type LatencySummary} from './util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PASSWORD = 'bench password';
/** Descriptors each process may hold: the server one per connection, and a few hundred more. */
const FILE_LIMIT = 30_000;
/** Raises the open-file limit (to the hard limit when it is lower), then runs the command. */
const RAISED_LIMIT = `ulimit -n ${FILE_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`;

export interface IdleSettings {
	connections: number;
	procs: number;
	/** Logins in flight per generator process. */
	concurrency: number;
	/** Members per room: each connection joins one room. */
	roomSize: number;
	db: string;
	/** The `parley` executable (dist/parley.js). */
	parley: string;
	/** How long the connections rest before the memory is taken. */
	settleMs: number;
	outFile: string;
}

export const IDLE_DEFAULTS: IdleSettings = {
	connections: 10_000,
	procs: 2,
	concurrency: 16,
	roomSize: 50,
	db: 'mysql://root@127.0.0.1:3306/parley_bench_idle',
	parley: path.join(here, '../parley.js'),
	settleMs: 5000,
	outFile: path.join(RESULTS_DIR, 'idle.json'),
};

interface Memory {
	rss: number;
	heapUsed: number;
	heapTotal: number;
	external: number;
	arrayBuffers: number;
}

export interface IdleReport {
	benchmark: 'idle-connections';
	date: string;
	environment: {node: string; cpus: number; cpuModel: string; loadAverageBefore: number; fileLimit: number};
	config: Omit<IdleSettings, 'outFile' | 'parley'> & {server: string; flags: string[]};
	connections: number;
	failures: number;
	firstError: string | null;
	/** Connections that left the connected state after their login (dropped by the server). */
	dropped: number;
	logins: {
		perSecond: number;
		wallMs: number;
		latencyMs: LatencySummary;
		serverCpuMsEach: number;
		generatorsCpuPercent: number;
	};
	/** Before any connection, after the first half, after all (each after a full GC). */
	memory: {before: Memory; middle: Memory; after: Memory};
	/** (after − before) / connections. */
	perConnection: {rssKB: number; heapKB: number; heapTotalKB: number; externalKB: number};
	/** (after − middle) / the second half: without what the process grows once. */
	marginal: {rssKB: number; heapKB: number; heapTotalKB: number};
	target: string;
	totalSeconds: number;
}

const out = (line = '') => process.stdout.write(`${line}\n`);
const kb = (bytes: number) => round(bytes / 1024, 1);
const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);

/** The database of the URL, made if it is not there (the store makes its tables). */
async function ensureDatabase(db: string): Promise<void> {
	const url = new URL(db);
	const name = url.pathname.replace(/^\//, '');
	if (!/^\w+$/.test(name)) throw new Error(`database name must be a plain word, not ${JSON.stringify(name)}`);
	const connection = await mysql.createConnection({
		host: url.hostname,
		port: Number(url.port || 3306),
		user: decodeURIComponent(url.username),
		password: decodeURIComponent(url.password),
	});
	try {
		await connection.query(`CREATE DATABASE IF NOT EXISTS \`${name}\``);
	} finally {
		await connection.end();
	}
}

const userName = (i: number) => `idle${String(i).padStart(5, '0')}`;

/**
 * The accounts, made as `parley user add` would (4,096 iterations), sharing one
 * verifier: the server's work per login does not depend on the salt, and
 * 10,000 derivations would take the bench half a minute. Made once; a rerun finds them.
 */
async function ensureAccounts(db: string, count: number): Promise<number> {
	const scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-idle-store-'));
	const store = await openStore({db, dataDir: scratch, retry: {maxAttempts: 3}});
	try {
		if (await store.getVerifier(userName(count - 1))) return 0;
		const verifier = await deriveVerifier(PASSWORD, undefined, DEFAULT_ITERATIONS);
		let made = 0;
		await pool(
			Array.from({length: count}, (_, i) => userName(i)),
			16,
			async (user) => {
				try {
					await store.createUser(user, verifier);
					made++;
				} catch (error) {
					if (!(error instanceof UserExistsError)) throw error;
				}
			},
		);
		return made;
	} finally {
		await store.close();
		await rm(scratch, {recursive: true, force: true});
	}
}

/** The server's own memory after a full GC (the probe answers SIGUSR2 on stderr). */
async function memoryOf(server: ServerChild): Promise<Memory> {
	const stderr = server.child.stderr!;
	const line = new Promise<Memory>((resolve, reject) => {
		let partial = '';
		const timer = setTimeout(() => {
			stderr.off('data', onData);
			reject(new Error('the server did not report its memory (is bench/memory-probe.js loaded?)'));
		}, 30_000);
		const onData = (chunk: Buffer) => {
			const lines = (partial + chunk.toString('utf8')).split('\n');
			partial = lines.pop()!;
			const found = lines.find((l) => l.startsWith('parley-memory '));
			if (!found) return;
			clearTimeout(timer);
			stderr.off('data', onData);
			resolve(JSON.parse(found.slice('parley-memory '.length)) as Memory);
		};
		stderr.on('data', onData);
	});
	server.child.kill('SIGUSR2');
	return line;
}

function startGenerator(): ChildProcess {
	return spawn('sh', ['-c', RAISED_LIMIT, process.execPath, path.join(here, 'idle-child.js')], {
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
		serialization: 'advanced', // Float64Arrays of login times
	});
}

export async function runIdleConnections(settings: IdleSettings = IDLE_DEFAULTS): Promise<IdleReport> {
	const started = Date.now();
	const loadAverageBefore = round(os.loadavg()[0]!, 2);
	await ensureDatabase(settings.db);
	const made = await ensureAccounts(settings.db, settings.connections);
	out(
		`idle connections: ${settings.connections} accounts in ${new URL(settings.db).pathname.slice(1)}` +
			(made > 0 ? ` (${made} made now)` : ' (made by an earlier run)'),
	);
	const dataDir = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-idle-'));
	const room = (i: number) => `#idle${String(Math.floor(i / settings.roomSize)).padStart(4, '0')}`;
	const cap = String(settings.connections + 512);
	const flags = [
		'--host',
		'127.0.0.1',
		'--tcp-port',
		'0',
		'--udp-port',
		'0',
		'--db',
		settings.db,
		// Every generator connects from 127.0.0.1: the per-address caps and the login throttle
		// (a login in flight counts against its address until it succeeds) are raised for it.
		'--max-conns',
		cap,
		'--max-conns-per-address',
		cap,
		'--login-attempts-per-address',
		'1000000',
		'--max-members',
		String(settings.roomSize),
		'--login-timeout-ms',
		'60000',
	];
	const server = await spawnServer({
		command: 'sh',
		args: [
			'-c',
			RAISED_LIMIT,
			process.execPath,
			// E.g. PARLEY_BENCH_SERVER_NODE_ARGS="--max-semi-space-size=1" to see what a V8 flag does.
			...(process.env.PARLEY_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== ''),
			'--expose-gc',
			'--import',
			pathToFileURL(path.join(here, 'memory-probe.js')).href,
			settings.parley,
			'serve',
			'--data-dir',
			dataDir,
			...flags,
		],
		ready: (line) => {
			const match = /tcp room .* listening on [^ ]+:(\d+) \(TLS/.exec(line);
			return match ? Number(match[1]) : undefined;
		},
		detail: {},
		cleanup: () => rm(dataDir, {recursive: true, force: true}),
		timeoutMs: 60_000,
	});
	const generators = Array.from({length: settings.procs}, startGenerator);
	try {
		await new Promise((resolve) => setTimeout(resolve, 1000));
		const before = await memoryOf(server);
		out(
			`server up (pid ${server.child.pid}): RSS ${mb(before.rss)} MB, heap ${mb(before.heapUsed)} MB after a full GC`,
		);

		const accounts = Array.from({length: settings.connections}, (_, i) => ({
			user: userName(i),
			room: room(i),
		}));
		/** Logs `batch` in from every generator (round-robin shares), all starting together. */
		const connectAll = async (batch: typeof accounts) => {
			const startAt = clock() + 500;
			const replies = await Promise.all(
				generators.map((child, g) => {
					const reply = nextMessage(
						child,
						(m) => {
							const typed = m as FromIdleChild;
							return typed.type === 'connected' || typed.type === 'failed' ? typed : undefined;
						},
						600_000,
						'the connections',
					);
					const message: ToIdleChild = {
						type: 'connect',
						host: '127.0.0.1',
						port: server.port,
						password: PASSWORD,
						accounts: batch.filter((_, i) => i % generators.length === g),
						concurrency: settings.concurrency,
						startAt,
					};
					child.send(message);
					return reply;
				}),
			);
			const failed = replies.find((r) => r.type === 'failed');
			if (failed?.type === 'failed') throw new Error(`a generator failed: ${failed.error}`);
			const done = replies as Array<Extract<FromIdleChild, {type: 'connected'}>>;
			return {done, wallMs: Math.max(...done.map((r) => r.endAt)) - startAt};
		};
		// Two halves, memory taken after each: the second half's cost per connection is the
		// marginal one, free of what the process grows once (young generation, compiled code).
		const half = Math.floor(accounts.length / 2);
		const cpuBefore = (await server.stats()).cpuMs;
		const first = await connectAll(accounts.slice(0, half));
		const cpuMid = (await server.stats()).cpuMs;
		await new Promise((resolve) => setTimeout(resolve, settings.settleMs));
		const middle = await memoryOf(server);
		const cpuResume = (await server.stats()).cpuMs;
		const second = await connectAll(accounts.slice(half));
		const cpuAfter = (await server.stats()).cpuMs;
		const done = [...first.done, ...second.done];
		const wallMs = first.wallMs + second.wallMs;
		const count = done.reduce((sum, r) => sum + r.count, 0);
		const failures = done.reduce((sum, r) => sum + r.failures, 0);
		const secondCount = second.done.reduce((sum, r) => sum + r.count, 0);
		const logins = {
			perSecond: round((count / wallMs) * 1000, 1),
			wallMs: round(wallMs, 0),
			latencyMs: summarise(done.map((r) => r.timesMs)),
			serverCpuMsEach: round((cpuMid - cpuBefore + cpuAfter - cpuResume) / Math.max(1, count), 2),
			generatorsCpuPercent: round((done.reduce((sum, r) => sum + r.cpuMs, 0) / wallMs) * 100, 0),
		};
		out(
			`${count} connections logged in and joined in ${logins.wallMs} ms: ${logins.perSecond} logins/s ` +
				`(${settings.procs} × ${settings.concurrency} in flight), p50 ${logins.latencyMs.p50} ms, p99 ${logins.latencyMs.p99} ms; ` +
				`server CPU ${logins.serverCpuMsEach} ms a login` +
				(failures > 0 ? `; ${failures} FAILED (${done.find((r) => r.firstError)?.firstError})` : ''),
		);

		await new Promise((resolve) => setTimeout(resolve, settings.settleMs));
		const after = await memoryOf(server);
		const statuses = await Promise.all(
			generators.map((child) => {
				const reply = nextMessage(
					child,
					ofType<FromIdleChild, 'status'>('status'),
					10_000,
					'the generators’ status',
				);
				child.send({type: 'status'} satisfies ToIdleChild);
				return reply;
			}),
		);
		const dropped = statuses.reduce((sum, r) => sum + r.dropped, 0);
		const perConnection = {
			rssKB: kb((after.rss - before.rss) / Math.max(1, count)),
			heapKB: kb((after.heapUsed - before.heapUsed) / Math.max(1, count)),
			heapTotalKB: kb((after.heapTotal - before.heapTotal) / Math.max(1, count)),
			externalKB: kb((after.external - before.external) / Math.max(1, count)),
		};
		const marginal = {
			rssKB: kb((after.rss - middle.rss) / Math.max(1, secondCount)),
			heapKB: kb((after.heapUsed - middle.heapUsed) / Math.max(1, secondCount)),
			heapTotalKB: kb((after.heapTotal - middle.heapTotal) / Math.max(1, secondCount)),
		};
		out(
			`server after ${settings.settleMs / 1000} s at rest: RSS ${mb(after.rss)} MB, heap ${mb(after.heapUsed)} MB, ` +
				`external ${mb(after.external)} MB after a full GC`,
		);
		out(
			`per idle authenticated TLS connection (one room): RSS ${perConnection.rssKB} KB, heap ${perConnection.heapKB} KB, ` +
				`V8 heap reserved ${perConnection.heapTotalKB} KB (target ≤ 30 KB RSS)` +
				(dropped > 0 ? `; ${dropped} connections dropped meanwhile` : ''),
		);
		out(
			`of which marginal (the second ${secondCount} over the first ${count - secondCount}): RSS ${marginal.rssKB} KB, ` +
				`heap ${marginal.heapKB} KB, V8 heap reserved ${marginal.heapTotalKB} KB`,
		);
		const report: IdleReport = {
			benchmark: 'idle-connections',
			date: new Date().toISOString(),
			environment: {
				node: process.version,
				cpus: os.cpus().length,
				cpuModel: os.cpus()[0]?.model ?? 'unknown',
				loadAverageBefore,
				fileLimit: FILE_LIMIT,
			},
			config: {
				connections: settings.connections,
				procs: settings.procs,
				concurrency: settings.concurrency,
				roomSize: settings.roomSize,
				db: settings.db,
				settleMs: settings.settleMs,
				server: 'parley serve (stock)',
				flags,
			},
			connections: count,
			failures,
			firstError: done.find((r) => r.firstError)?.firstError ?? null,
			dropped,
			logins,
			memory: {before, middle, after},
			perConnection,
			marginal,
			target: '≤ 30 KB RSS per idle authenticated TLS connection at 10,000 connections',
			totalSeconds: round((Date.now() - started) / 1000, 1),
		};
		await mkdir(path.dirname(settings.outFile), {recursive: true});
		await writeFile(settings.outFile, `${JSON.stringify(report, null, '\t')}\n`);
		out(`results in ${path.relative(process.cwd(), settings.outFile)}`);
		return report;
	} finally {
		for (const child of generators) if (child.connected) child.send({type: 'quit'} satisfies ToIdleChild);
		await Promise.all(generators.map((child) => exited(child, 10_000)));
		await server.stop();
	}
}

if (isMain(import.meta.url)) {
	const {values} = parseArgs({
		options: {
			connections: {type: 'string'},
			procs: {type: 'string'},
			concurrency: {type: 'string'},
			'room-size': {type: 'string'},
			db: {type: 'string'},
			parley: {type: 'string'},
			'settle-ms': {type: 'string'},
			out: {type: 'string'},
		},
	});
	const number = (text: string | undefined, fallback: number) => {
		const value = Number(text ?? fallback);
		if (!Number.isSafeInteger(value) || value < 1)
			throw new Error(`expected a positive whole number, not ${text}`);
		return value;
	};
	runIdleConnections({
		connections: number(values.connections, IDLE_DEFAULTS.connections),
		procs: number(values.procs, IDLE_DEFAULTS.procs),
		concurrency: number(values.concurrency, IDLE_DEFAULTS.concurrency),
		roomSize: number(values['room-size'], IDLE_DEFAULTS.roomSize),
		db: values.db ?? IDLE_DEFAULTS.db,
		parley: values.parley ? path.resolve(values.parley) : IDLE_DEFAULTS.parley,
		settleMs: number(values['settle-ms'], IDLE_DEFAULTS.settleMs),
		outFile: values.out ?? IDLE_DEFAULTS.outFile,
	}).catch((error: unknown) => {
		process.stderr.write(
			`idle-connections: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
		);
		process.exitCode = 1;
	});
}
