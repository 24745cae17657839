// What the cluster benchmark (bench/cluster-bench.ts) runs against: a private
// redis-server on a free port (never the machine's shared 6379), a MariaDB
// database of its own, and stock `parley serve` processes as cluster nodes,
// each with its metrics endpoint. Every process started here is stopped by
// its PID.

import {spawn, type ChildProcess} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {mkdtemp, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import mysql from 'mysql2/promise';
import {openMysqlStore} from '../server/store/mysql-store.js';
import {DEFAULT_ITERATIONS, deriveVerifier} from '../source/protocol/scram.js';
import {freePort} from '../test/helpers/tcp-serve-process.js';
import {pool, sleep} from './util.js';

/** dist/cli.js, the `parley` command (this file runs from dist/bench). */
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../cli.js');

/** A child process whose output is kept, waited on for a line, and stopped by its PID. */
class Spawned {
	output = '';
	readonly exited: Promise<void>;

	constructor(
		readonly what: string,
		readonly child: ChildProcess,
	) {
		for (const stream of [child.stdout, child.stderr]) {
			stream?.setEncoding('utf8');
			stream?.on('data', (chunk: string) => {
				// Only the start matters (ports, errors); keep memory flat on a long run.
				if (this.output.length < 200_000) this.output += chunk;
			});
		}
		this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
	}

	get pid(): number {
		return this.child.pid ?? 0;
	}

	get running(): boolean {
		return this.child.exitCode === null && this.child.signalCode === null;
	}

	async waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const found = pattern.exec(this.output);
			if (found) return found;
			if (!this.running) throw new Error(`${this.what} exited:\n${this.output}`);
			if (Date.now() > deadline)
				throw new Error(`${this.what}: no line matching ${pattern}:\n${this.output}`);
			await sleep(50);
		}
	}

	/** SIGTERM to its PID, SIGKILL after `graceMs`. */
	async stop(graceMs = 5000): Promise<void> {
		if (!this.running) return;
		this.child.kill('SIGTERM');
		const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
		await this.exited;
		clearTimeout(timer);
	}
}

/** User + system CPU milliseconds of a process so far (Linux /proc), and how long it waited for a CPU. */
export function processCpu(pid: number): {cpuMs: number; runQueueWaitMs: number} {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		// Fields after the command name (which may hold spaces): utime is the 14th field, stime the 15th.
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		const ticks = Number(fields[11]) + Number(fields[12]);
		const schedstat = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ');
		return {cpuMs: (ticks * 1000) / CLOCK_TICKS, runQueueWaitMs: Number(schedstat[1]) / 1e6};
	} catch {
		return {cpuMs: Number.NaN, runQueueWaitMs: Number.NaN};
	}
}

/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

export interface Redis {
	port: number;
	pid: number;
	stop(): Promise<void>;
}

/** The redis-server binary (PATH unless PARLEY_BENCH_REDIS_SERVER names one). */
const REDIS_SERVER = process.env.PARLEY_BENCH_REDIS_SERVER ?? 'redis-server';

/** A redis-server of our own: no persistence, loopback only. */
export async function startRedis(): Promise<Redis> {
	const port = await freePort();
	const redis = new Spawned(
		'redis-server',
		spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
			stdio: ['ignore', 'pipe', 'pipe'],
		}),
	);
	await new Promise<void>((resolve, reject) => {
		redis.child.once('spawn', resolve);
		redis.child.once('error', reject);
	});
	await redis.waitFor(/Ready to accept connections/, 10_000);
	return {port, pid: redis.pid, stop: () => redis.stop()};
}

export interface Database {
	url: string;
	drop(): Promise<void>;
}

/** A fresh MariaDB database (dropped first if a crashed run left it) with `users` accounts made. */
export async function freshDatabase(
	server: string,
	name: string,
	users: readonly string[],
	password: string,
): Promise<Database> {
	const admin = await mysql.createConnection(server);
	try {
		await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
		await admin.query(`CREATE DATABASE \`${name}\``);
	} finally {
		await admin.end();
	}
	const url = `${server.replace(/\/[^/]*$/, '')}/${name}`;
	const store = await openMysqlStore(url);
	try {
		// Each account its own salt at the production iteration count, as `parley user add` makes it.
		await pool(users, 8, async (user) =>
			store.createUser(user, await deriveVerifier(password, undefined, DEFAULT_ITERATIONS)),
		);
	} finally {
		await store.close();
	}
	return {
		url,
		async drop() {
			const connection = await mysql.createConnection(server);
			try {
				await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
			} finally {
				await connection.end();
			}
		},
	};
}

export interface NodeOptions {
	name: string;
	db: string;
	redisPort: number;
	prefix: string;
	room: string;
	/** Further `parley serve` flags (the raised limits). */
	args: string[];
}

export interface ParleyNode {
	name: string;
	port: number;
	pid: number;
	metricsUrl: string;
	/** What it printed so far (the start of it). */
	log(): string;
	stop(): Promise<void>;
}

/** A stock `parley serve` in cluster mode, TLS on, its own data directory (certificate, secrets). */
export async function startNode(options: NodeOptions): Promise<ParleyNode> {
	const dataDir = await mkdtemp(path.join(os.tmpdir(), `parley-bench-${options.name}-`));
	const [port, metricsPort] = [await freePort(), await freePort()];
	const serve = new Spawned(
		`parley serve (${options.name})`,
		spawn(
			process.execPath,
			[
				CLI,
				'serve',
				'--host',
				'127.0.0.1',
				'--udp-port',
				'0',
				'--tcp-port',
				String(port),
				'--data-dir',
				dataDir,
				'--db',
				options.db,
				'--redis',
				`redis://127.0.0.1:${options.redisPort}`,
				'--redis-prefix',
				options.prefix,
				'--node-name',
				options.name,
				'--room',
				options.room,
				'--metrics-port',
				String(metricsPort),
				...options.args,
			],
			{stdio: ['ignore', 'pipe', 'pipe']},
		),
	);
	try {
		await serve.waitFor(/tcp room ".*" listening on/, 30_000);
		await serve.waitFor(/metrics on http/, 10_000);
	} catch (error) {
		await serve.stop(1000);
		await rm(dataDir, {recursive: true, force: true});
		throw error;
	}
	return {
		name: options.name,
		port,
		pid: serve.pid,
		metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
		log: () => serve.output,
		async stop() {
			await serve.stop();
			await rm(dataDir, {recursive: true, force: true});
		},
	};
}

/** One scrape of a metrics endpoint: samples keyed as printed, `name{labels}`. */
export type Samples = ReadonlyMap<string, number>;

export async function scrape(url: string): Promise<Samples> {
	const response = await fetch(url);
	if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
	const samples = new Map<string, number>();
	for (const line of (await response.text()).split('\n')) {
		if (line === '' || line.startsWith('#')) continue;
		const space = line.lastIndexOf(' ');
		samples.set(line.slice(0, space), Number(line.slice(space + 1)));
	}
	return samples;
}

/** A Prometheus histogram's change between two scrapes (summed over nodes by the caller). */
export interface HistogramDelta {
	/** Upper bounds in seconds (ascending, +Inf last) and the cumulative counts under each. */
	bounds: number[];
	cumulative: number[];
	count: number;
	sum: number;
}

/** `labels` as printed after `le`, e.g. 'operation="appendMessages",outcome="ok"'; none: the unlabelled histogram. */
export function histogramDelta(name: string, before: Samples, after: Samples, labels = ''): HistogramDelta {
	const bounds: number[] = [];
	const cumulative: number[] = [];
	const prefix = `${name}_bucket{le="`;
	const suffix = labels === '' ? '"}' : `",${labels}}`;
	for (const [key, value] of after) {
		if (!key.startsWith(prefix) || !key.endsWith(suffix)) continue;
		const le = key.slice(prefix.length, key.length - suffix.length);
		bounds.push(le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le));
		cumulative.push(value - (before.get(key) ?? 0));
	}
	const at = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
	const tail = labels === '' ? '' : `{${labels}}`;
	return {bounds, cumulative, count: at(`${name}_count${tail}`), sum: at(`${name}_sum${tail}`)};
}

export function addHistograms(a: HistogramDelta, b: HistogramDelta): HistogramDelta {
	if (a.bounds.length === 0) return b;
	return {
		bounds: a.bounds,
		cumulative: a.cumulative.map((value, i) => value + (b.cumulative[i] ?? 0)),
		count: a.count + b.count,
		sum: a.sum + b.sum,
	};
}

/** A quantile in milliseconds, interpolated inside its bucket as Prometheus' histogram_quantile does. */
export function histogramQuantileMs(h: HistogramDelta, q: number): number | null {
	if (h.count === 0) return null;
	const rank = q * h.count;
	for (const [i, upper] of h.bounds.entries()) {
		const below = i === 0 ? 0 : h.cumulative[i - 1]!;
		if (h.cumulative[i]! < rank) continue;
		const lower = i === 0 ? 0 : h.bounds[i - 1]!;
		// Past the last finite bucket: say its bound, as Prometheus does.
		if (!Number.isFinite(upper)) return lower * 1000;
		const inBucket = h.cumulative[i]! - below;
		return (lower + (upper - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket)) * 1000;
	}
	return null;
}
