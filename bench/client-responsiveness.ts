// `npm run bench -- client`: is the chat client still responsive under a
// flood? A real `parley` client runs in a pseudo-terminal (bench/pty-client.ts)
// joined to a real room server (UDP, then TLS TCP), while another process
// (bench/flood-child.ts) floods the room. Keys are typed at a steady pace and
// each one's echo is timed: from writing it to the pty until it shows on the
// input line of the screen. Also the client's CPU and RSS over the flood, and
// (in-process, bench/client-structures.ts) heap per 10k lines of scrollback
// and search over 100k lines.
//
// Results: bench/results/client.json, and printed. Targets: echo p99 < 50 ms
// at 1,000 msg/s on either transport, < 20 MB per 10k lines, search of 100k
// lines < 100 ms.

import {fork, type ChildProcess} from 'node:child_process';
import {mkdtemp, mkdir, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {clientEnv} from '../test/helpers/tui-process.js';
import type {StructuresReport} from './client-structures.js';
import {RESULTS_DIR, forkServer, isMain, type ServerChild} from './fanout.js';
import type {FloodTarget, FromFlooder, ToFlooder} from './flood-child.js';
import {PtyClient} from './pty-client.js';
import {clock, exited, nextMessage, round, sleep, summarise} from './util.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export const CLIENT_DEFAULTS = {
	ratePerSecond: 1000,
	floodMs: Number(process.env.PARLEY_BENCH_CLIENT_FLOOD_MS ?? 25_000),
	scrollback: 20_000,
	/** One key every this many ms while measuring. */
	keyIntervalMs: 40,
	/** An echo slower than this counts as this (and as a timeout). */
	echoTimeoutMs: 2000,
	idleKeys: 60,
	/** Echoes in the first seconds of the flood are left out: the log is still short. */
	warmupMs: 3000,
};

const PASSWORD = 'bench password';

interface EchoRun {
	samples: number;
	timeouts: number;
	p50: number;
	p90: number;
	p99: number;
	max: number;
}

export interface TransportReport {
	transport: 'udp' | 'tcp';
	idle: EchoRun;
	flood: EchoRun & {
		ratePerSecond: number;
		sent: number;
		seconds: number;
		clientCpuPercent: number;
		rssStartMb: number;
		rssEndMb: number;
		/** RSS growth over the flood per 10k lines kept (lines = min(sent, scrollback)). */
		rssMbPer10kLines: number;
	};
}

export interface ClientReport {
	date: string;
	environment: {node: string; cpus: number; cpuModel: string};
	config: typeof CLIENT_DEFAULTS;
	transports: TransportReport[];
	structures: StructuresReport;
	targets: {echoP99Ms: number; mbPer10kLines: number; search100kMs: number};
	met: {echo: boolean; memory: boolean; search: boolean};
}

const KEYS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const LINE_KEYS = 30;

async function waitUntil(
	probe: () => boolean,
	timeoutMs: number,
	what: string,
	client: PtyClient,
): Promise<void> {
	const deadline = clock() + timeoutMs;
	while (!probe()) {
		if (clock() > deadline)
			throw new Error(`timed out waiting for ${what}\n--- screen ---\n${client.text()}\n---`);
		await sleep(10);
	}
}

/** Types keys at a steady pace until `until()` (or `count` keys), timing each echo. */
async function typeAndTime(
	client: PtyClient,
	options: {count?: number; until?: () => boolean; keep?: () => boolean},
): Promise<{latencies: number[]; timeouts: number}> {
	const {keyIntervalMs, echoTimeoutMs} = CLIENT_DEFAULTS;
	const latencies: number[] = [];
	let timeouts = 0;
	let typed = '';
	for (let n = 0; options.count === undefined || n < options.count; n++) {
		if (options.until?.()) break;
		if (typed.length >= LINE_KEYS) {
			client.write('\x15'); // Ctrl+U: start a fresh line (not timed)
			// A client that fell far behind may take long; it is the echoes that count.
			await waitUntil(() => !client.inputLine().includes(typed), 60_000, 'Ctrl+U', client);
			typed = '';
		}
		const expected = typed + KEYS[n % KEYS.length]!;
		const started = clock();
		const shown = new Promise<number>((resolve) => {
			const check = () => {
				if (client.inputLine().includes(expected)) {
					client.onScreen = undefined;
					clearTimeout(timer);
					resolve(clock() - started);
				}
			};
			const timer = setTimeout(() => {
				client.onScreen = undefined;
				resolve(Number.POSITIVE_INFINITY);
			}, echoTimeoutMs);
			client.onScreen = check;
		});
		client.write(expected.at(-1)!);
		const latency = await shown;
		// A late echo still comes (keys arrive in order): go on typing, as a person would.
		if (!Number.isFinite(latency)) timeouts++;
		typed = expected;
		if (options.keep?.() ?? true) latencies.push(Number.isFinite(latency) ? latency : echoTimeoutMs);
		await sleep(Math.max(0, keyIntervalMs - (clock() - started)));
	}
	client.write('\x15');
	return {latencies, timeouts};
}

function echoRun(run: {latencies: number[]; timeouts: number}): EchoRun {
	const summary = summarise([Float64Array.from(run.latencies)]);
	return {
		samples: summary.count,
		timeouts: run.timeouts,
		p50: summary.p50,
		p90: summary.p90,
		p99: summary.p99,
		max: summary.max,
	};
}

async function startFlooder(target: FloodTarget): Promise<ChildProcess> {
	const child = fork(path.join(here, 'flood-child.js'), [JSON.stringify(target)], {
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
	});
	await nextMessage(
		child,
		(m) => ((m as FromFlooder).type === 'ready' ? true : undefined),
		30_000,
		'the flooder to join',
	);
	return child;
}

async function measureTransport(transport: 'udp' | 'tcp', home: string): Promise<TransportReport> {
	const {ratePerSecond, floodMs, scrollback, idleKeys, warmupMs} = CLIENT_DEFAULTS;
	let server: ServerChild | undefined;
	let client: PtyClient | undefined;
	let flooder: ChildProcess | undefined;
	try {
		server =
			transport === 'udp'
				? await forkServer('udp-server-child.js', [])
				: await forkServer('tcp-server-child.js', ['--users', '2', '--password', PASSWORD]);
		const port = server.port;
		const env = clientEnv(path.join(home, transport), transport === 'tcp' ? {PARLEY_PASSWORD: PASSWORD} : {});
		const args =
			transport === 'udp'
				? [`udp://127.0.0.1:${port}`, '--nick', 'typist', '--scrollback', String(scrollback)]
				: [`tcp://127.0.0.1:${port}`, '--user', 'm000', '--accept-new', '--scrollback', String(scrollback)];
		// e.g. PARLEY_BENCH_CLIENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to see where the client spends its time.
		const nodeArgs = (process.env.PARLEY_BENCH_CLIENT_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
		client = new PtyClient(args, env, nodeArgs);
		const pty = client;
		await waitUntil(() => /│ connected │/.test(pty.statusLine()), 30_000, 'the client to connect', pty);
		flooder = await startFlooder(
			transport === 'udp'
				? {kind: 'udp', url: `udp://127.0.0.1:${port}`}
				: {kind: 'tcp', host: '127.0.0.1', port, user: 'm001', password: PASSWORD},
		);
		await sleep(500);
		const idle = echoRun(await typeAndTime(pty, {count: idleKeys}));

		const rssStartMb = pty.rssMb();
		const cpuStart = pty.cpuMs();
		const started = clock();
		const request: ToFlooder = {type: 'flood', ratePerSecond, durationMs: floodMs};
		flooder.send(request);
		const done = nextMessage(
			flooder,
			(m) => ((m as FromFlooder).type === 'flooded' ? (m as {sent: number}) : undefined),
			floodMs + 60_000,
			'the flood to end',
		);
		let finished = false;
		void done.then(() => (finished = true));
		const run = await typeAndTime(pty, {until: () => finished, keep: () => clock() - started > warmupMs});
		const {sent} = await done;
		const seconds = (clock() - started) / 1000;
		const cpuPercent = ((pty.cpuMs() - cpuStart) / (seconds * 1000)) * 100;
		const rssEndMb = pty.rssMb();
		const lines = Math.min(sent, scrollback);
		return {
			transport,
			idle,
			flood: {
				...echoRun(run),
				ratePerSecond,
				sent,
				seconds: round(seconds, 1),
				clientCpuPercent: round(cpuPercent, 1),
				rssStartMb: round(rssStartMb, 1),
				rssEndMb: round(rssEndMb, 1),
				rssMbPer10kLines: round(((rssEndMb - rssStartMb) * 10_000) / lines, 1),
			},
		};
	} finally {
		if (flooder?.connected) flooder.send({type: 'quit'} satisfies ToFlooder);
		if (flooder) await exited(flooder);
		await client?.kill();
		await server?.stop();
	}
}

async function measureStructures(): Promise<StructuresReport> {
	const child = fork(path.join(here, 'client-structures.js'), [], {
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
		execArgv: ['--expose-gc'],
	});
	const report = await nextMessage(child, (m) => m as StructuresReport, 120_000, 'the structures benchmark');
	await exited(child);
	return report;
}

const TARGETS = {echoP99Ms: 50, mbPer10kLines: 20, search100kMs: 100};

function printReport(report: ClientReport): void {
	const out = (text = '') => process.stdout.write(`${text}\n`);
	out('\n=== client responsiveness ===');
	for (const t of report.transports) {
		const f = t.flood;
		out(
			`${t.transport.toUpperCase()}: idle echo p50 ${t.idle.p50} ms, p99 ${t.idle.p99} ms; ` +
				`at ${f.ratePerSecond} msg/s (${f.sent} lines in ${f.seconds} s): echo p50 ${f.p50} ms, p99 ${f.p99} ms, ` +
				`max ${f.max} ms (${f.samples} keys, ${f.timeouts} timeouts), client CPU ${f.clientCpuPercent}%, ` +
				`RSS ${f.rssStartMb} → ${f.rssEndMb} MB (${f.rssMbPer10kLines} MB per 10k lines)`,
		);
	}
	const s = report.structures;
	out(`scrollback heap: ${s.memory.mbPer10kLines} MB per 10k lines (entries + wrapped rows)`);
	out(
		`search ${s.search.lines} lines: ${Object.entries(s.search.findMs)
			.map(([q, ms]) => `"${q}" ${ms} ms`)
			.join(', ')}; typing "${s.search.typedQuery}": slowest key ${s.search.slowestKeyMs} ms; ` +
			`refresh on a new line ${s.search.refreshMs} ms`,
	);
	out(`targets met: ${JSON.stringify(report.met)}`);
}

export async function runClientBench(): Promise<ClientReport> {
	const home = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-client-'));
	try {
		const transports: TransportReport[] = [];
		for (const transport of ['udp', 'tcp'] as const) {
			const measured = await measureTransport(transport, home);
			process.stdout.write(`${transport}: ${JSON.stringify(measured)}\n`);
			transports.push(measured);
		}
		const structures = await measureStructures();
		const searchWorst = Math.max(...Object.values(structures.search.findMs), structures.search.slowestKeyMs);
		const report: ClientReport = {
			date: new Date().toISOString(),
			environment: {
				node: process.version,
				cpus: os.cpus().length,
				cpuModel: os.cpus()[0]?.model ?? 'unknown',
			},
			config: CLIENT_DEFAULTS,
			transports,
			structures,
			targets: TARGETS,
			met: {
				echo: transports.every((t) => t.flood.p99 < TARGETS.echoP99Ms),
				memory: structures.memory.mbPer10kLines < TARGETS.mbPer10kLines,
				search: searchWorst < TARGETS.search100kMs,
			},
		};
		printReport(report);
		await mkdir(RESULTS_DIR, {recursive: true});
		const file = path.join(RESULTS_DIR, 'client.json');
		await writeFile(file, `${JSON.stringify(report, null, '\t')}\n`);
		process.stdout.write(`results: ${path.relative(process.cwd(), file)}\n`);
		return report;
	} finally {
		await rm(home, {recursive: true, force: true});
	}
}

if (isMain(import.meta.url)) {
	runClientBench().catch((error: unknown) => {
		process.stderr.write(
			`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
		);
		process.exitCode = 1;
	});
}
