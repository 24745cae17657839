// `npm run bench`: every benchmark target in one run on this machine, then a
// side-by-side summary. Machines are noisy, so the figures to quote are the
// ratios between targets measured here together, not the absolute numbers.
//
//   npm run bench                      build, then all targets and the client bench
//   npm run bench -- --only tcp        some of them (names below; "client" is the client bench)
//   npm run bench -- client            only the client bench (bench/client-responsiveness.ts)
//   npm run bench -- --only rooms      only the many-rooms bench (bench/many-rooms.ts, ~80 s)
//   npm run bench -- --only idle       only the idle-connections bench (bench/idle-connections.ts:
//                                      10,000 TLS connections to `parley serve --db mysql://…`, ~3 min)
//   npm run bench -- --only cluster    only the cluster bench: one node and two (bench/cluster-bench.ts, ~2 min)
//
// Each target writes bench/results/<target>-fanout.json; the summary goes to
// bench/results/summary.json. The fan-out targets stay under 3 minutes; the
// many-rooms bench (bench/results/rooms.json, and a `rooms` entry in the
// summary) adds about 80 s.
//
// The targets are set up one after another, then stepped through the rates
// interleaved (bench/fanout.ts runInterleaved), so a burst of load from
// elsewhere on the machine hits them alike.
//
// Adding a target (e.g. ngircd, Redis pub/sub): FanoutOptions whose
// startServer starts it (see udp-fanout.ts / tcp-fanout.ts), a TargetSpec
// variant and a connector in member-child.ts, and an entry in TARGETS.

import {mkdir, readFile, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {parseArgs} from 'node:util';
import {runClientBench} from './client-responsiveness.js';
import {runClusterBench} from './cluster-bench.js';
import {RESULTS_DIR, isMain, runInterleaved, type FanoutOptions, type FanoutReport} from './fanout.js';
import {runIdleConnections} from './idle-connections.js';
import {runManyRooms} from './many-rooms.js';
import {TCP_DEFAULTS, tcpFanoutOptions} from './tcp-fanout.js';
import {UDP_DEFAULTS, udpFanoutOptions} from './udp-fanout.js';
import {round} from './util.js';

export interface BenchTarget {
	name: string;
	description: string;
	options(): FanoutOptions;
}

/** The first is the baseline the others are compared with. */
export const TARGETS: BenchTarget[] = [
	{
		name: 'udp',
		description: `UDP broadcast room, ${UDP_DEFAULTS.members} members`,
		options: () => udpFanoutOptions(UDP_DEFAULTS),
	},
	{
		name: 'tcp',
		description: `TCP room (TLS 1.3, SCRAM-SHA-256-PLUS, node:sqlite journal), ${TCP_DEFAULTS.members} members`,
		options: () => tcpFanoutOptions(TCP_DEFAULTS),
	},
];

/** Leaves room for the build that `prebench` ran and for shutting down. */
const TOTAL_BUDGET_MS = 160_000;

interface SummaryRow {
	target: string;
	members: number;
	cleanRate: number | null;
	deliveriesPerSecond: number | null;
	p50: number | null;
	p99: number | null;
	serverCpuPercent: number | null;
	serverCpuUsPerDelivery: number | null;
	loginsPerSecond: number | null;
	loginP99: number | null;
	loginConcurrency: number | null;
	unloadedLoginP99: number | null;
	serverCpuMsPerLogin: number | null;
	stopReason: string | null;
	noisySteps: number[];
}

function summaryRow(name: string, report: FanoutReport): SummaryRow {
	const best = report.highestClean;
	// The last login round is the concurrent one; the first, one at a time.
	const concurrent = report.login.at(-1);
	const unloaded = report.login.length > 1 ? report.login[0] : undefined;
	return {
		target: name,
		members: Number(report.config.members),
		cleanRate: best?.rate ?? null,
		deliveriesPerSecond: best?.deliveriesPerSecond ?? null,
		p50: best?.p50 ?? null,
		p99: best?.p99 ?? null,
		serverCpuPercent: best?.serverCpuPercent ?? null,
		serverCpuUsPerDelivery: best?.serverCpuUsPerDelivery ?? null,
		loginsPerSecond: concurrent?.perSecond ?? null,
		loginP99: concurrent?.latencyMs.p99 ?? null,
		loginConcurrency: concurrent?.concurrency ?? null,
		unloadedLoginP99: unloaded?.latencyMs.p99 ?? null,
		serverCpuMsPerLogin: concurrent?.serverCpuMsEach ?? null,
		stopReason: report.stopReason,
		noisySteps: report.noisySteps,
	};
}

/** All targets at one rate: the highest at which every one was clean (and not above its highest clean rate). */
interface Matched {
	rate: number;
	targets: Array<{
		target: string;
		deliveriesPerSecond: number;
		p50: number;
		p99: number;
		serverCpuPercent: number;
		serverCpuUsPerDelivery: number;
	}>;
}

function matchedRate(names: string[], reports: FanoutReport[]): Matched | null {
	const cleanRates = reports.map((report) => {
		const top = report.highestCleanRate ?? 0;
		return new Set(report.steps.filter((s) => s.clean && s.targetRate <= top).map((s) => s.targetRate));
	});
	const common = [...(cleanRates[0] ?? [])].filter((rate) => cleanRates.every((set) => set.has(rate)));
	if (common.length === 0) return null;
	const rate = Math.max(...common);
	return {
		rate,
		targets: reports.map((report, i) => {
			const s = report.steps.find((step) => step.targetRate === rate)!;
			return {
				target: names[i]!,
				deliveriesPerSecond: s.deliveriesPerSecond,
				p50: s.latencyMs.p50,
				p99: s.latencyMs.p99,
				serverCpuPercent: s.server.cpuPercent,
				serverCpuUsPerDelivery: s.server.cpuUsPerDelivery,
			};
		}),
	};
}

interface Ratios {
	target: string;
	baseline: string;
	cleanRate: number | null;
	deliveriesPerSecond: number | null;
	p99: number | null;
	serverCpuUsPerDelivery: number | null;
	/** At the matched rate. */
	matchedP99: number | null;
	matchedServerCpuUsPerDelivery: number | null;
}

const ratio = (a: number | null, b: number | null) =>
	a === null || b === null || b === 0 ? null : round(a / b, 2);
const cell = (value: number | string | null, suffix = '') => (value === null ? '—' : `${value}${suffix}`);

function printSummary(rows: SummaryRow[], ratios: Ratios[], matched: Matched | null): void {
	const header = [
		'target',
		'members',
		'clean msgs/s',
		'deliveries/s',
		'p50 ms',
		'p99 ms',
		'srv CPU',
		'srv µs/delivery',
		'logins/s',
		'login p99',
	];
	const table = rows.map((r) => [
		r.target,
		r.members,
		cell(r.cleanRate),
		cell(r.deliveriesPerSecond),
		cell(r.p50),
		cell(r.p99),
		cell(r.serverCpuPercent, '%'),
		cell(r.serverCpuUsPerDelivery),
		r.loginsPerSecond === null ? '—' : `${r.loginsPerSecond} (×${r.loginConcurrency})`,
		r.loginP99 === null ? '—' : `${r.loginP99} ms (alone ${cell(r.unloadedLoginP99)} ms)`,
	]);
	const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => String(row[i]).length)));
	const line = (cells: Array<string | number>) =>
		cells.map((c, i) => String(c).padEnd(widths[i]!)).join('  ');
	const out = (text = '') => process.stdout.write(`${text}\n`);
	out('\n=== side by side (one run, this machine; quote the ratios) ===');
	out('highest step with zero loss, no disconnects and p99 < 50 ms:');
	out(line(header));
	for (const row of table) out(line(row));
	if (matched) {
		out(`\nat ${matched.rate} msgs/s, the highest rate clean for all:`);
		for (const t of matched.targets)
			out(
				`  ${t.target}: ${t.deliveriesPerSecond} deliveries/s, p50 ${t.p50} ms, p99 ${t.p99} ms, ` +
					`server CPU ${t.serverCpuPercent}% (${t.serverCpuUsPerDelivery} µs/delivery)`,
			);
	}
	out();
	for (const r of ratios)
		out(
			`${r.target}/${r.baseline}: highest clean msg rate ×${cell(r.cleanRate)}, deliveries/s there ×${cell(r.deliveriesPerSecond)}, ` +
				`p99 there ×${cell(r.p99)}; at the matched rate p99 ×${cell(r.matchedP99)}, ` +
				`server µs/delivery ×${cell(r.matchedServerCpuUsPerDelivery)}`,
		);
	for (const row of rows) {
		if (row.noisySteps.length > 0)
			out(
				`${row.target}: lone dirty steps below its highest clean rate (put down to noise): ${row.noisySteps.join(', ')}/s`,
			);
		if (row.stopReason) out(`${row.target}: ${row.stopReason}`);
	}
}

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
	let summary: Record<string, unknown> = {};
	try {
		summary = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
	} catch {
		// none yet
	}
	summary[key] = figures;
	await mkdir(RESULTS_DIR, {recursive: true});
	await writeFile(file, `${JSON.stringify(summary, null, '\t')}\n`);
}

/** The client bench: a real client in a pty under a flood (bench/client-responsiveness.ts). */
const CLIENT_TARGET = 'client';

async function runFanout(targets: BenchTarget[]): Promise<void> {
	const started = Date.now();
	process.stdout.write(`targets: ${targets.map((t) => `${t.name} (${t.description})`).join('; ')}\n\n`);
	const reports = await runInterleaved(
		targets.map((t) => t.options()),
		TOTAL_BUDGET_MS,
	);
	const names = targets.map((t) => t.name.toUpperCase());
	const rows = reports.map((report, i) => summaryRow(names[i]!, report));
	const matched = matchedRate(names, reports);
	const atMatched = (name: string) => matched?.targets.find((t) => t.target === name);
	const [baseline, ...others] = rows;
	const ratios = others.map(
		(r): Ratios => ({
			target: r.target,
			baseline: baseline!.target,
			cleanRate: ratio(r.cleanRate, baseline!.cleanRate),
			deliveriesPerSecond: ratio(r.deliveriesPerSecond, baseline!.deliveriesPerSecond),
			p99: ratio(r.p99, baseline!.p99),
			serverCpuUsPerDelivery: ratio(r.serverCpuUsPerDelivery, baseline!.serverCpuUsPerDelivery),
			matchedP99: ratio(atMatched(r.target)?.p99 ?? null, atMatched(baseline!.target)?.p99 ?? null),
			matchedServerCpuUsPerDelivery: ratio(
				atMatched(r.target)?.serverCpuUsPerDelivery ?? null,
				atMatched(baseline!.target)?.serverCpuUsPerDelivery ?? null,
			),
		}),
	);
	printSummary(rows, ratios, matched);
	const summary = {
		date: new Date().toISOString(),
		environment: {node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown'},
		note: 'measured side by side in one run; compare ratios, not absolute figures across machines',
		targets: rows,
		matched,
		ratios,
		totalSeconds: round((Date.now() - started) / 1000, 1),
	};
	const file = path.join(RESULTS_DIR, 'summary.json');
	await mkdir(RESULTS_DIR, {recursive: true});
	await writeFile(file, `${JSON.stringify(summary, null, '\t')}\n`);
	process.stdout.write(
		`\nsummary: ${path.relative(process.cwd(), file)} (benchmarks took ${summary.totalSeconds} s)\n`,
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
