// `npm run bench`: every benchmark target in one run on this machine, then a
// side-by-side summary. Machines are noisy, so the figures to quote are the
// ratios between targets measured here together, not the absolute numbers.
//
//   npm run bench                          build, then all targets and the other benches
//   npm run bench -- --only tcp,ngircd     some of them (names below; "rooms", "idle", "cluster" and "client" are the other benches)
//   npm run bench -- client                only the client bench (bench/client-responsiveness.ts)
//   npm run bench -- --only rooms          only the many-rooms bench (bench/many-rooms.ts, ~80 s)
//   npm run bench -- --only idle           only the idle-connections bench (bench/idle-connections.ts:
//                                          10,000 TLS connections to `parley serve --db mysql://…`, ~3 min)
//   npm run bench -- --only cluster        only the cluster bench: one node and two (bench/cluster-bench.ts, ~2 min)
//
// The fan-out targets (issue 14's scenario, bench/fanout.ts PEER_SCENARIO):
// Parley's TCP room through the stock `parley serve` with TLS and in
// plaintext, ngircd and Redis pub/sub (scripts/install-bench-peers.sh
// installs them; a missing one is left out and named), and the UDP room.
// They are set up one after another, then stepped through the rates
// interleaved (bench/fanout.ts runInterleaved), so a burst of load from
// elsewhere on the machine hits them alike. Each writes
// bench/results/<target>-fanout.json; the summary goes to
// bench/results/summary.json and the "Side by side" section of
// bench/RESULTS.md (bench/side-by-side.ts).
//
// Adding a target: FanoutOptions whose startServer starts it (see
// tcp-fanout.ts, peer-fanout.ts), a TargetSpec variant and a connector
// (peer-members.ts), and an entry in TARGETS.

import {mkdir, readFile, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {parseArgs} from 'node:util';
import {runClientBench} from './client-responsiveness.js';
import {runClusterBench} from './cluster-bench.js';
import {CRITERIA, RESULTS_DIR, isMain, runInterleaved, type FanoutOptions} from './fanout.js';
import {runIdleConnections} from './idle-connections.js';
import {runManyRooms} from './many-rooms.js';
import {ngircdFanoutOptions, peerDefaults, peerMissing, redisFanoutOptions} from './peer-fanout.js';
import {
	describe,
	generatorCeiling,
	ratios,
	skippedRow,
	summaryRow,
	writeSideBySide,
	type SideBySide,
} from './side-by-side.js';
import {TCP_DEFAULTS, tcpFanoutOptions} from './tcp-fanout.js';
import {UDP_DEFAULTS, udpFanoutOptions} from './udp-fanout.js';
import {round} from './util.js';

export interface BenchTarget {
	name: string;
	description: string;
	/** Why it cannot run here (a program not installed); it is then left out and named in the summary. */
	missing?(): string | undefined;
	options(): FanoutOptions;
}

export const TARGETS: BenchTarget[] = [
	{
		name: 'tcp',
		description: 'Parley TCP room, TLS 1.3 (stock parley serve)',
		options: () => tcpFanoutOptions(TCP_DEFAULTS, {tls: true}),
	},
	{
		name: 'tcp-plain',
		description: 'Parley TCP room, plaintext (--insecure-plaintext)',
		options: () =>
			tcpFanoutOptions(
				{...TCP_DEFAULTS, outFile: path.join(RESULTS_DIR, 'tcp-plain-fanout.json')},
				{tls: false},
			),
	},
	{
		name: 'ngircd',
		description: 'ngircd (C IRC server, plaintext, MaxPenaltyTime = 0)',
		missing: () => peerMissing('ngircd'),
		options: () => ngircdFanoutOptions(peerDefaults('ngircd')),
	},
	{
		name: 'redis',
		description: 'Redis pub/sub (redis-server, plaintext)',
		missing: () => peerMissing('redis-server'),
		options: () => redisFanoutOptions(peerDefaults('redis')),
	},
	{
		name: 'udp',
		description: `Parley UDP room, ${UDP_DEFAULTS.members} members`,
		options: () => udpFanoutOptions(UDP_DEFAULTS),
	},
];

/** Parley's TCP targets and the peers they are held against (issue 14). */
const PARLEY = ['TCP', 'TCP-PLAIN'];
const PEERS = ['NGIRCD', 'REDIS'];

/** The fan-out targets' share of the run's ~6 minutes (the many-rooms and client benches take the rest). */
const TOTAL_BUDGET_MS = 220_000;

async function main(): Promise<void> {
	const {values, positionals} = parseArgs({options: {only: {type: 'string'}}, allowPositionals: true});
	const named = [...(values.only?.split(',') ?? []), ...positionals].map((name) => name.trim().toLowerCase());
	const wanted = named.length === 0 ? undefined : named;
	const targets = TARGETS.filter((t) => !wanted || wanted.includes(t.name));
	const client = !wanted || wanted.includes(CLIENT_TARGET);
	const rooms = !wanted || wanted.includes(ROOMS_TARGET);
	const idle = !wanted || wanted.includes(IDLE_TARGET);
	const cluster = !wanted || wanted.includes(CLUSTER_TARGET);
	if (targets.length === 0 && !client && !rooms && !idle && !cluster)
		throw new Error(
			`no such target; choose from ${[...TARGETS.map((t) => t.name), ROOMS_TARGET, IDLE_TARGET, CLUSTER_TARGET, CLIENT_TARGET].join(', ')}`,
		);
	if (targets.length > 0) await runFanout(targets);
	if (rooms) await addToSummary('rooms', await runManyRooms());
	if (idle) await addToSummary('idle', await runIdleConnections());
	if (cluster) await addToSummary('cluster', await runClusterBench());
	if (client) await runClientBench();
}

/** The many-rooms bench: 1,000 rooms and 5,000 memberships on one TCP server (bench/many-rooms.ts). */
const ROOMS_TARGET = 'rooms';

/** The idle-connections bench: memory per idle TLS connection at 10,000, logins/s against MariaDB (bench/idle-connections.ts). */
const IDLE_TARGET = 'idle';

/** The cluster bench: one room on one `parley serve` node and on two, Redis between them (bench/cluster-bench.ts). */
const CLUSTER_TARGET = 'cluster';

/** Puts a bench's figures into summary.json beside what is there (the fan-out targets may not have run). */
async function addToSummary(key: string, figures: unknown): Promise<void> {
	const file = path.join(RESULTS_DIR, 'summary.json');
	const summary = await readSummary(file);
	summary[key] = figures;
	await mkdir(RESULTS_DIR, {recursive: true});
	await writeFile(file, `${JSON.stringify(summary, null, '\t')}\n`);
}

async function readSummary(file: string): Promise<Record<string, unknown>> {
	try {
		return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
	} catch {
		return {}; // none yet
	}
}

/** The summary.json entries the fan-out run leaves as they are. */
const OTHER_BENCHES = [ROOMS_TARGET, IDLE_TARGET, CLUSTER_TARGET];

/** The client bench: a real client in a pty under a flood (bench/client-responsiveness.ts). */
const CLIENT_TARGET = 'client';

async function runFanout(targets: BenchTarget[]): Promise<void> {
	const started = Date.now();
	const loadAverageBefore = round(os.loadavg()[0]!, 2);
	const missing = new Map(targets.map((t) => [t.name, t.missing?.()]));
	for (const [name, why] of missing) if (why) process.stdout.write(`${name}: left out: ${why}\n`);
	const running = targets.filter((t) => !missing.get(t.name));
	process.stdout.write(`targets: ${running.map((t) => `${t.name} (${t.description})`).join('; ')}\n\n`);
	const reports = await runInterleaved(
		running.map((t) => t.options()),
		TOTAL_BUDGET_MS,
	);
	const named = running.map((t, i) => ({name: t.name.toUpperCase(), report: reports[i]!}));
	const rows = targets.map((t) => {
		const why = missing.get(t.name);
		if (why) return skippedRow(t.name.toUpperCase(), t.description, why);
		const report = named.find((n) => n.name === t.name.toUpperCase())!.report;
		return summaryRow(t.name.toUpperCase(), t.description, report);
	});
	const summary: SideBySide = {
		date: new Date().toISOString(),
		loadAverageBefore,
		rows,
		ratios: ratios(rows, PARLEY, PEERS),
		generator: generatorCeiling(named.filter((n) => n.name !== 'UDP')),
		seconds: round((Date.now() - started) / 1000, 1),
		criteria: CRITERIA,
	};
	for (const line of describe(summary)) process.stdout.write(`${line}\n`);
	await writeSideBySide(path.resolve(RESULTS_DIR, '..'), summary);
	const file = path.join(RESULTS_DIR, 'summary.json');
	await mkdir(RESULTS_DIR, {recursive: true});
	const environment = {
		node: process.version,
		cpus: os.cpus().length,
		cpuModel: os.cpus()[0]?.model ?? 'unknown',
	};
	// The other benches' entries (rooms, idle, cluster) stay: they are not rerun with the fan-out.
	const others = Object.fromEntries(
		Object.entries(await readSummary(file)).filter(([key]) => OTHER_BENCHES.includes(key)),
	);
	await writeFile(file, `${JSON.stringify({environment, ...summary, ...others}, null, '\t')}\n`);
	process.stdout.write(
		`\nsummary: ${path.relative(process.cwd(), file)} and bench/RESULTS.md (fan-out took ${summary.seconds} s)\n`,
	);
}

if (isMain(import.meta.url)) {
	main().catch((error: unknown) => {
		process.stderr.write(
			`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
		);
		process.exitCode = 1;
	});
}
