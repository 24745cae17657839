// The room fan-out benchmark, whatever the room: one server in its own
// process, `members` real clients spread over a few member processes
// (bench/member-child.ts), a subset of them sending at a stepped total rate.
// Every message carries its send time, so each delivery gives a latency.
// Per step it reports the offered rate, deliveries a second, loss against
// members × messages sent, "lost" events, disconnects, p50/p99 latency and
// CPU use, then the highest rate with zero loss and p99 under 50 ms. For
// rooms with a login it first measures logins a second.
//
// The targets (bench/udp-fanout.ts, bench/tcp-fanout.ts) only start their
// server and say how members reach it; bench/run.ts runs them side by side.

import {fork, type ChildProcess} from 'node:child_process';
import {mkdir, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import type {
	FromMembers,
	LoopDelay,
	ServerChildReply,
	ServerChildRequest,
	TargetSpec,
	ToMembers,
} from './protocol.js';
import {summariseHistograms} from './latency-histogram.js';
import {
	clock,
	drainDeliveries,
	exited,
	nextMessage,
	ofType,
	round,
	sleep,
	summarise,
	type LatencySummary,
} from './util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** bench/results in the source tree (this file runs from dist/bench). */
export const RESULTS_DIR = path.resolve(here, '../../bench/results');

export type ServerStats = Extract<ServerChildReply, {type: 'stats'}>;

export interface ServerChild {
	child: ChildProcess;
	port: number;
	detail: Record<string, unknown>;
	stats(): Promise<ServerStats>;
	stop(): Promise<void>;
}

/** Extra node flags for one kind of child, e.g. PARLEY_BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
export const nodeArgs = (variable: string) =>
	(process.env[variable] ?? '').split(' ').filter((arg) => arg !== '');

/** Forks a server child (bench/*-server-child.ts) and waits for it to listen. */
export async function forkServer(script: string, args: string[]): Promise<ServerChild> {
	const child = fork(path.join(here, script), args, {
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
		execArgv: [...process.execArgv, ...nodeArgs('PARLEY_BENCH_SERVER_NODE_ARGS')],
	});
	const request = (message: ServerChildRequest) => child.send(message);
	try {
		const ready = await nextMessage(
			child,
			ofType<ServerChildReply, 'ready'>('ready'),
			60_000,
			`the server (${script})`,
		);
		return {
			child,
			port: ready.port,
			detail: ready.detail,
			stats() {
				request({type: 'stats'});
				return nextMessage(child, ofType<ServerChildReply, 'stats'>('stats'), 10_000, 'server stats');
			},
			async stop() {
				if (child.connected) request({type: 'quit'});
				await exited(child);
			},
		};
	} catch (error) {
		child.kill('SIGKILL');
		throw error;
	}
}

export interface FanoutOptions {
	benchmark: string;
	/** Short name for summaries, e.g. "UDP". */
	label: string;
	members: number;
	senders: number;
	procs: number;
	rates: number[];
	stepMs: number;
	budgetMs: number;
	/** Copies of each message that arrive; default `members` (IRC does not echo a line to its sender: members − 1). */
	deliveriesPerMessage?: number;
	/** Members joining at once (over all member processes). */
	joinConcurrency: number;
	/** Login benchmark rounds before the members join; only for targets with a login. */
	logins?: Array<{count: number; concurrency: number}>;
	/** The raised server limits, for the record. */
	serverLimits: Record<string, unknown>;
	outFile: string;
	startServer(): Promise<{server: ServerChild; target: TargetSpec; address: string}>;
}

export interface StepResult {
	targetRate: number;
	offeredRate: number;
	sent: number;
	durationMs: number;
	expected: number;
	delivered: number;
	/** Deliveries over the time from the first send to the last delivery. */
	deliveriesPerSecond: number;
	lossPercent: number;
	lostEvents: number;
	lostMessages: number;
	failedSends: number;
	disconnects: number;
	latencyMs: LatencySummary;
	/** CPU over the whole step (sending and draining) as a share of one core, and the server's counters' change. */
	/** cpuUsPerDelivery: server CPU per delivered copy, its cost whoever else limited the rate. */
	server: {
		cpuPercent: number;
		cpuUsPerDelivery: number;
		/** Share of the step its main thread waited for a CPU while runnable (the machine's other jobs), when known. */
		cpuWaitPercent: number | null;
		/** Share of samples that found its main thread blocked on I/O (an fsync), when sampled (programs only). */
		diskBlockedPercent: number | null;
		loopDelayMs: LoopDelay;
		counters: Record<string, number>;
	};
	membersCpuPercent: number;
	/** Member processes' CPU per delivery: the load generator's cost, so its ceiling is about procs × 10⁶ / this a second. */
	membersCpuUsPerDelivery: number;
	/** The worst member process's event-loop delay. */
	membersLoopDelayMs: LoopDelay;
	clean: boolean;
	/** A dirty step is run again once (noise only ever adds latency); this is the attempt that was set aside. */
	discardedTry: {p99: number; lossPercent: number; disconnects: number} | null;
}

export interface PhaseResult {
	count: number;
	failures: number;
	firstError: string | null;
	concurrency: number;
	wallMs: number;
	perSecond: number;
	latencyMs: LatencySummary;
	serverCpuPercent: number;
	/** Server CPU per login (or join): its cost, whoever else limited the rate. */
	serverCpuMsEach: number;
	membersCpuPercent: number;
}

export interface FanoutReport {
	benchmark: string;
	label: string;
	date: string;
	/** loadAverageBefore: the 1-minute load before the run; near `cpus` means other work competed with it. */
	environment: {node: string; platform: string; cpus: number; cpuModel: string; loadAverageBefore: number};
	config: Record<string, unknown>;
	server: Record<string, unknown>;
	/** One result per login round, in order (e.g. unloaded, then many at once). */
	login: PhaseResult[];
	join: PhaseResult;
	steps: StepResult[];
	stopReason: string | null;
	highestCleanRate: number | null;
	/** Rates of lone dirty steps below the highest clean one. */
	noisySteps: number[];
	highestClean: {
		rate: number;
		members: number;
		deliveriesPerSecond: number;
		p50: number;
		p99: number;
		serverCpuPercent: number;
		serverCpuUsPerDelivery: number;
		membersCpuPercent: number;
	} | null;
	criteria: string;
	totalSeconds: number;
}

/** One rate grid for every target, so side-by-side figures have the same resolution. */
export const SHARED_RATES = [50, 100, 200, 400, 800, 1200, 1600, 2400, 3200];

/**
 * Issue 14's scenario, the same for the TCP room and its peers (ngircd, Redis):
 * 200 members in one room, 20 of them sending 100-byte lines, open loop, the
 * load split over two member processes, and one rate grid for all of them.
 */
export const PEER_SCENARIO = {
	members: 200,
	senders: 20,
	procs: 2,
	rates: [500, 1000, 2000, 3000, 4000, 6000, 8000, 12_000, 16_000, 20_000, 24_000, 32_000],
	stepMs: 2000,
	budgetMs: 150_000,
	joinConcurrency: 50,
} as const;

export const CRITERIA =
	'a step is clean when every copy arrived (members × sent; IRC, which does not echo a line to its sender: ' +
	'(members − 1) × sent), with no lost events, no disconnects and p99 latency < 50 ms ' +
	'(a dirty step is run twice, three times when the server was starved of CPU by other jobs; the best try counts); the highest clean rate is the highest clean step below ' +
	'the first saturated step or the first two dirty steps in a row; a lone dirty step below it is reported as noise';

const out = (line = '') => process.stdout.write(`${line}\n`);

/** Round-robin shares of `items` for `groups` processes. */
const share = <T>(items: readonly T[], groups: number) =>
	Array.from({length: groups}, (_, g) => items.filter((_, i) => i % groups === g));

/** The 1-minute load average before the benchmark started (ours is not in it yet). */
let loadAtStart = os.loadavg()[0]!;

/** Every child process of every session, so an interrupt can take them all down. */
const allChildren = new Set<ChildProcess>();
const killAll = () => {
	for (const child of allChildren)
		if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};

/** One target under test: its server and members, set up once, then stepped through the rates. */
export class FanoutSession {
	readonly steps: StepResult[] = [];
	stopReason: string | null = null;
	readonly #started = Date.now();
	/** Step numbers tag the messages; every try gets its own. */
	#tries = 0;

	private constructor(
		readonly options: FanoutOptions,
		private readonly server: ServerChild,
		private readonly members: Members,
		private readonly login: PhaseResult[],
		private readonly join: PhaseResult,
	) {}

	/** Starts the server and members, runs the login rounds, joins everyone and warms up. */
	static async open(options: FanoutOptions): Promise<FanoutSession> {
		const {server, target, address} = await options.startServer();
		allChildren.add(server.child);
		const members = new Members(options);
		const nicks = Array.from({length: options.members}, (_, i) => `m${String(i).padStart(3, '0')}`);
		const login: PhaseResult[] = [];
		for (const round of options.logins ?? [])
			login.push(await loginPhase(members, server, target, nicks, round));
		const join = await joinPhase(members, server, target, nicks, options);
		out(
			`${options.label}: ${join.count} members in ${options.procs} processes, ${options.senders} senders, ` +
				`server at ${address} (limits ${JSON.stringify(options.serverLimits)}); ${options.stepMs} ms a step; ${os.cpus().length} CPUs`,
		);
		for (const phase of login) out(`${options.label} logins: ${describePhase(phase)}`);
		out(`${options.label} joins:  ${describePhase(join)}`);
		// A short warm-up (JIT, socket buffers), not reported.
		await runStep(members, server, options, 0, Math.min(50, options.rates[0] ?? 50), 1000);
		return new FanoutSession(options, server, members, login, join);
	}

	get active(): boolean {
		return this.stopReason === null;
	}

	/**
	 * Runs one rate step and prints its row. A dirty step runs once more, and
	 * a third time when the server was starved of CPU by other jobs (see
	 * STARVED_WAIT_PERCENT); the best try counts: a burst of load elsewhere on
	 * the machine should not end the climb (it can even starve a server into
	 * what looks like saturation). Two dirty steps in a row, or one saturated
	 * step, stop the session.
	 */
	async step(rate: number, deadline = Number.POSITIVE_INFINITY): Promise<StepResult> {
		const tries: StepResult[] = [];
		for (;;) {
			const latest = await this.#try(rate);
			tries.push(latest);
			const again =
				!latest.clean &&
				tries.length < (starved(latest) ? 3 : 2) &&
				Date.now() + stepBudgetMs(this.options) < deadline;
			const note = again
				? `dirty${starved(latest) ? ', server starved' : ''}: again`
				: tries.length === 1
					? undefined
					: latest === bestTry(tries)
						? 'this try counts'
						: 'an earlier try counts';
			out(stepRow(this.options.label, latest, note));
			if (latest.delivered < latest.expected) await this.#settle(latest, this.#tries);
			if (!again) break;
			await sleep(300);
		}
		const best = bestTry(tries);
		const worst = tries.filter((t) => t !== best).sort((a, b) => b.latencyMs.p99 - a.latencyMs.p99)[0];
		const r: StepResult = worst
			? {
					...best,
					discardedTry: {
						p99: worst.latencyMs.p99,
						lossPercent: worst.lossPercent,
						disconnects: worst.disconnects,
					},
				}
			: best;
		this.steps.push(r);
		const previous = this.steps.at(-2);
		if (saturated(r))
			this.stopReason = `saturated at ${rate}/s (loss ${r.lossPercent}%, p99 ${r.latencyMs.p99} ms)`;
		else if (!r.clean && previous && !previous.clean)
			this.stopReason = `two steps in a row over the limits (last at ${rate}/s: p99 ${r.latencyMs.p99} ms, loss ${r.lossPercent}%)`;
		return r;
	}

	#try(rate: number): Promise<StepResult> {
		this.#tries++;
		return runStep(this.members, this.server, this.options, this.#tries, rate, this.options.stepMs);
	}

	/**
	 * After a try that left messages undelivered: waits (at most SETTLE_MS)
	 * until the rest has arrived, or nothing more arrives and the server is
	 * idle, so a backlog does not count against the next try.
	 */
	async #settle(r: StepResult, step: number): Promise<void> {
		const end = Date.now() + SETTLE_MS;
		let last = -1;
		let before = await this.server.stats();
		while (Date.now() < end) {
			await sleep(500);
			const counts = await this.members.ask(() => ({type: 'count', step}), 'count', 5000, step);
			const late = counts.reduce((sum, c) => sum + c.received, 0);
			const after = await this.server.stats();
			const idle = after.cpuMs - before.cpuMs < 50; // under 10 % of a core for 0.5 s
			if (r.delivered + late >= r.expected || (late === last && idle)) return;
			last = late;
			before = after;
		}
	}

	/** Prints the outcome, writes the JSON report and stops the processes. */
	async finish(): Promise<FanoutReport> {
		const {options, steps} = this;
		const {best: sustained, noisy} = highestClean(steps);
		out(
			sustained
				? `${options.label}: highest rate with zero loss and p99 < 50 ms: ${sustained.targetRate} msgs/s into the room ` +
						`(${sustained.deliveriesPerSecond} deliveries/s to ${options.members} members, p99 ${sustained.latencyMs.p99} ms)`
				: `${options.label}: no step had zero loss and p99 < 50 ms`,
		);
		if (noisy.length > 0)
			out(
				`${options.label}: put down to noise: the dirty step${noisy.length > 1 ? 's' : ''} at ${noisy.map((r) => r.targetRate).join(', ')}/s below it`,
			);
		if (this.stopReason) out(`${options.label}: stopped early: ${this.stopReason}`);
		const report = this.#report(sustained, noisy);
		await mkdir(path.dirname(options.outFile), {recursive: true});
		await writeFile(options.outFile, `${JSON.stringify(report, null, '\t')}\n`);
		out(`${options.label}: results in ${path.relative(process.cwd(), options.outFile)}`);
		await this.close();
		return report;
	}

	async close(): Promise<void> {
		this.members.tellAll({type: 'quit'});
		await Promise.all([this.server.stop(), ...this.members.procs.map((child) => exited(child))]);
	}

	#report(sustained: StepResult | undefined, noisy: StepResult[]): FanoutReport {
		const {options} = this;
		return {
			benchmark: options.benchmark,
			label: options.label,
			date: new Date().toISOString(),
			environment: {
				node: process.version,
				platform: `${os.platform()} ${os.release()}`,
				cpus: os.cpus().length,
				cpuModel: os.cpus()[0]?.model ?? 'unknown',
				loadAverageBefore: round(loadAtStart, 2),
			},
			config: {
				members: options.members,
				senders: options.senders,
				memberProcesses: options.procs,
				stepMs: options.stepMs,
				rates: options.rates,
				joinConcurrency: options.joinConcurrency,
				logins: options.logins ?? null,
				serverLimits: options.serverLimits,
				host: '127.0.0.1',
			},
			server: this.server.detail,
			login: this.login,
			join: this.join,
			steps: this.steps,
			stopReason: this.stopReason,
			highestCleanRate: sustained?.targetRate ?? null,
			noisySteps: noisy.map((r) => r.targetRate),
			highestClean: sustained
				? {
						rate: sustained.targetRate,
						members: options.members,
						deliveriesPerSecond: sustained.deliveriesPerSecond,
						p50: sustained.latencyMs.p50,
						p99: sustained.latencyMs.p99,
						serverCpuPercent: sustained.server.cpuPercent,
						serverCpuUsPerDelivery: sustained.server.cpuUsPerDelivery,
						membersCpuPercent: sustained.membersCpuPercent,
					}
				: null,
			criteria: CRITERIA,
			totalSeconds: round((Date.now() - this.#started) / 1000, 1),
		};
	}
}

/**
 * Opens every target, then steps them through the rates interleaved (each
 * rate for every target before the next rate, alternating who goes first),
 * so slow drifts in the machine's load hit all of them alike.
 */
export async function runInterleaved(all: FanoutOptions[], budgetMs: number): Promise<FanoutReport[]> {
	const deadline = Date.now() + budgetMs;
	const onSigint = () => {
		killAll();
		process.exit(130);
	};
	process.once('SIGINT', onSigint);
	loadAtStart = os.loadavg()[0]!;
	if (loadAtStart > os.cpus().length * 0.5)
		out(
			`note: load average ${round(loadAtStart, 2)} on ${os.cpus().length} CPUs before starting; other work competes, expect noisy figures\n`,
		);
	try {
		const sessions: FanoutSession[] = [];
		for (const options of all) sessions.push(await FanoutSession.open(options));
		out(`\n${row(['', ...HEADER])}`);
		const rates = [...new Set(all.flatMap((o) => o.rates))].sort((a, b) => a - b);
		for (const [index, rate] of rates.entries()) {
			const turn = index % 2 === 0 ? sessions : [...sessions].reverse();
			for (const session of turn) {
				if (!session.active || !session.options.rates.includes(rate)) continue;
				if (Date.now() + stepBudgetMs(session.options) > deadline) {
					session.stopReason = `time budget (${budgetMs / 1000} s) reached before ${rate}/s`;
					continue;
				}
				await session.step(rate, deadline);
				await sleep(300);
			}
		}
		out();
		const reports: FanoutReport[] = [];
		for (const session of sessions) reports.push(await session.finish());
		return reports;
	} finally {
		killAll();
		process.off('SIGINT', onSigint);
	}
}

/** One target on its own (the target scripts' command line). */
export async function runFanout(options: FanoutOptions): Promise<FanoutReport> {
	const [report] = await runInterleaved([options], options.budgetMs);
	return report!;
}

/** The member processes and how to talk to them. */
class Members {
	readonly procs: ChildProcess[];

	constructor(readonly options: FanoutOptions) {
		this.procs = Array.from({length: options.procs}, () => {
			const child = fork(path.join(here, 'member-child.js'), [], {
				stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
				execArgv: [...process.execArgv, ...nodeArgs('PARLEY_BENCH_MEMBER_NODE_ARGS')],
				serialization: 'advanced', // latency histograms as Float64Arrays
			});
			allChildren.add(child);
			return child;
		});
	}

	tell(child: ChildProcess, message: ToMembers): void {
		child.send(message);
	}

	tellAll(message: ToMembers): void {
		for (const child of this.procs) if (child.connected) child.send(message);
	}

	/** Sends each process its own message and collects one reply of `type` from each. */
	async ask<K extends FromMembers['type']>(
		messageFor: (index: number) => ToMembers,
		type: K,
		timeoutMs: number,
		step?: number,
	): Promise<Array<Extract<FromMembers, {type: K}>>> {
		return Promise.all(
			this.procs.map((child, index) => {
				const reply = nextMessage(
					child,
					ofType<FromMembers, K>(type, step),
					timeoutMs,
					`${type} from the members`,
				);
				this.tell(child, messageFor(index));
				return reply;
			}),
		);
	}
}

const describePhase = (p: PhaseResult) =>
	`${p.count} at concurrency ${p.concurrency} in ${p.wallMs} ms → ${p.perSecond}/s, p50 ${p.latencyMs.p50} ms, ` +
	`p99 ${p.latencyMs.p99} ms; server CPU ${p.serverCpuPercent}% (${p.serverCpuMsEach} ms each), members CPU ${p.membersCpuPercent}%` +
	(p.failures > 0 ? `; ${p.failures} FAILED (${p.firstError})` : '');

const cpuPercent = (before: ServerStats, after: ServerStats, windowMs: number) =>
	round(((after.cpuMs - before.cpuMs) / Math.max(1, windowMs)) * 100, 0);

async function loginPhase(
	members: Members,
	server: ServerChild,
	target: TargetSpec,
	nicks: string[],
	logins: {count: number; concurrency: number},
): Promise<PhaseResult> {
	const users = Array.from({length: logins.count}, (_, i) => nicks[i % nicks.length]!);
	// Low concurrency uses fewer processes, so "1 at a time" means exactly that.
	const used = Math.max(1, Math.min(members.procs.length, logins.concurrency));
	const groups = share(users, used);
	const perProcess = Math.max(1, Math.ceil(logins.concurrency / used));
	const before = await server.stats();
	const startAt = clock() + 150;
	const replies = await members.ask(
		(p) => ({type: 'logins', target, users: groups[p] ?? [], concurrency: perProcess, startAt}),
		'logins',
		120_000,
	);
	const after = await server.stats();
	const wallMs = Math.max(...replies.map((r) => r.endAt)) - startAt;
	const count = replies.reduce((sum, r) => sum + r.timesMs.length, 0);
	return {
		count,
		failures: replies.reduce((sum, r) => sum + r.failures, 0),
		firstError: replies.find((r) => r.firstError)?.firstError ?? null,
		concurrency: perProcess * used,
		...phaseCosts(before, after, wallMs, count, replies),
	};
}

/** Rate, latency and CPU shares of a login or join phase. */
function phaseCosts(
	before: ServerStats,
	after: ServerStats,
	wallMs: number,
	count: number,
	replies: ReadonlyArray<{timesMs: Float64Array; cpuMs: number}>,
) {
	return {
		wallMs: round(wallMs, 0),
		perSecond: round((count / wallMs) * 1000, 1),
		latencyMs: summarise(replies.map((r) => r.timesMs)),
		serverCpuPercent: cpuPercent(before, after, wallMs),
		serverCpuMsEach: round((after.cpuMs - before.cpuMs) / Math.max(1, count), 2),
		membersCpuPercent: round((replies.reduce((sum, r) => sum + r.cpuMs, 0) / wallMs) * 100, 0),
	};
}

async function joinPhase(
	members: Members,
	server: ServerChild,
	target: TargetSpec,
	nicks: string[],
	options: FanoutOptions,
): Promise<PhaseResult> {
	// The first `senders` nicks send; round-robin puts them in every process.
	const groups = share(nicks, members.procs.length);
	const senders = new Set(nicks.slice(0, options.senders));
	const perProcess = Math.max(1, Math.ceil(options.joinConcurrency / members.procs.length));
	const before = await server.stats();
	const startAt = clock() + 150;
	const replies = await members.ask(
		(p) => ({
			type: 'join',
			target,
			nicks: groups[p]!,
			senders: groups[p]!.filter((nick) => senders.has(nick)),
			concurrency: perProcess,
			startAt,
		}),
		'joined',
		120_000,
	);
	const after = await server.stats();
	const wallMs = Math.max(...replies.map((r) => r.endAt)) - startAt;
	const count = replies.reduce((sum, r) => sum + r.count, 0);
	return {
		count,
		failures: 0,
		firstError: null,
		concurrency: perProcess * members.procs.length,
		...phaseCosts(before, after, wallMs, count, replies),
	};
}

async function runStep(
	members: Members,
	server: ServerChild,
	options: FanoutOptions,
	step: number,
	targetRate: number,
	durationMs: number,
): Promise<StepResult> {
	const ratePerSender = targetRate / options.senders;
	const before = await server.stats();
	const beforeAt = clock();
	const startAt = clock() + 150;
	const sentAll = await members.ask(
		() => ({type: 'run', step, ratePerSender, durationMs, startAt}),
		'sent',
		durationMs + 15_000,
		step,
	);
	const sent = sentAll.reduce((sum, r) => sum + r.sent, 0);
	const sendMs = Math.max(1, ...sentAll.map((r) => r.durationMs));
	const expected = sent * (options.deliveriesPerMessage ?? options.members);

	await drainDeliveries(async () => {
		const counts = await members.ask(() => ({type: 'count', step}), 'count', 5000, step);
		return counts.reduce((sum, c) => sum + c.received, 0);
	}, expected);
	const after = await server.stats();
	const serverWindowMs = clock() - beforeAt;
	const reports = await members.ask(() => ({type: 'report', step}), 'report', 10_000, step);

	const delivered = reports.reduce((sum, r) => sum + r.received, 0);
	const latencyMs = summariseHistograms(reports);
	const lostEvents = reports.reduce((sum, r) => sum + r.lostEvents, 0);
	const disconnects = reports.reduce((sum, r) => sum + r.disconnects, 0);
	const lossPercent = expected === 0 ? 0 : (Math.max(0, expected - delivered) / expected) * 100;
	const counters: Record<string, number> = {};
	for (const [name, value] of Object.entries(after.counters)) {
		const delta = value - (before.counters[name] ?? 0);
		if (delta !== 0 || !name.includes('.')) counters[name] = delta; // "dropped.x" only when it happened
	}
	const lastAt = Math.max(...reports.map((r) => r.lastAt));
	const deliveryMs = Math.max(sendMs, lastAt - startAt);
	return {
		targetRate,
		offeredRate: round((sent / sendMs) * 1000, 1),
		sent,
		durationMs: round(sendMs, 0),
		expected,
		delivered,
		deliveriesPerSecond: round((delivered / deliveryMs) * 1000, 0),
		lossPercent: round(lossPercent, 3),
		lostEvents,
		lostMessages: reports.reduce((sum, r) => sum + r.lostMessages, 0),
		failedSends: reports.reduce((sum, r) => sum + r.failed, 0),
		disconnects,
		latencyMs,
		server: {
			cpuPercent: cpuPercent(before, after, serverWindowMs),
			cpuUsPerDelivery: round(((after.cpuMs - before.cpuMs) * 1000) / Math.max(1, delivered), 2),
			cpuWaitPercent:
				after.runQueueWaitMs === undefined || before.runQueueWaitMs === undefined
					? null
					: round(((after.runQueueWaitMs - before.runQueueWaitMs) / Math.max(1, serverWindowMs)) * 100, 0),
			diskBlockedPercent: blockedPercent(before, after),
			loopDelayMs: after.loopDelay,
			counters,
		},
		membersCpuPercent: round(reports.reduce((sum, r) => sum + r.cpuMs / Math.max(1, r.windowMs), 0) * 100, 0),
		membersCpuUsPerDelivery: round(
			(reports.reduce((sum, r) => sum + r.cpuMs, 0) * 1000) / Math.max(1, delivered),
			3,
		),
		membersLoopDelayMs: {
			p99: Math.max(...reports.map((r) => r.loopDelay.p99)),
			max: Math.max(...reports.map((r) => r.loopDelay.max)),
		},
		clean: delivered === expected && lostEvents === 0 && disconnects === 0 && latencyMs.p99 < 50,
		discardedTry: null,
	};
}

function blockedPercent(before: ServerStats, after: ServerStats): number | null {
	if (!before.stateSamples || !after.stateSamples) return null;
	const total = after.stateSamples.total - before.stateSamples.total;
	const blocked = after.stateSamples.blocked - before.stateSamples.blocked;
	return total === 0 ? null : round((blocked / total) * 100, 0);
}

const HEADER = [
	'offered/s',
	'(target)',
	'deliveries/s',
	'expected',
	'delivered',
	'loss %',
	'lost ev',
	'disc',
	'p50 ms',
	'p99 ms',
	'max ms',
	'srv CPU',
	'srv wait',
	'srv disk',
	'srv stall',
	'members CPU',
	'mbr stall',
];
const WIDTHS = [6, ...HEADER.map((h) => Math.max(h.length, 9))];
const row = (cells: Array<string | number>) =>
	cells
		.map((cell, i) => (i === 0 ? String(cell).padEnd(WIDTHS[i]!) : String(cell).padStart(WIDTHS[i]!)))
		.join('  ');

/** The longest wait for a saturated server's backlog to clear before its next try. */
const SETTLE_MS = 10_000;

/** The longest one try of a step takes: sending, up to 3 s of draining, the reports. */
const stepBudgetMs = (options: FanoutOptions) => options.stepMs + 4000;

/** The clean try if there is one, else the one with the lowest p99. */
const bestTry = (tries: readonly StepResult[]): StepResult =>
	tries.find((t) => t.clean) ?? [...tries].sort((a, b) => a.latencyMs.p99 - b.latencyMs.p99)[0]!;

/** A server whose main thread waited this share of a step for a CPU was held back by other jobs, not by its own work. */
export const STARVED_WAIT_PERCENT = 25;
const starved = (r: StepResult) => (r.server.cpuWaitPercent ?? 0) >= STARVED_WAIT_PERCENT;

const saturated = (r: StepResult) => r.lossPercent > 20 || r.latencyMs.p99 > 2000;

/** A table row; `note` marks a try that will be run again. */
function stepRow(label: string, r: StepResult, note?: string): string {
	const line = row([
		label,
		r.offeredRate,
		r.targetRate,
		r.deliveriesPerSecond,
		r.expected,
		r.delivered,
		r.lossPercent,
		r.lostEvents,
		r.disconnects,
		r.latencyMs.p50,
		r.latencyMs.p99,
		r.latencyMs.max,
		`${r.server.cpuPercent}%`,
		r.server.cpuWaitPercent === null ? '—' : `${r.server.cpuWaitPercent}%`,
		r.server.diskBlockedPercent === null ? '—' : `${r.server.diskBlockedPercent}%`,
		Number.isNaN(r.server.loopDelayMs.max) ? '—' : r.server.loopDelayMs.max,
		`${r.membersCpuPercent}%`,
		r.membersLoopDelayMs.max,
	]);
	return note ? `${line}  (${note})` : line;
}

/**
 * The highest clean step below where the climb ended (a saturated step, or
 * two dirty steps in a row), and the lone dirty steps under it, which are
 * put down to noise (both tries of them were dirty, the steps around not).
 */
export function highestClean(steps: readonly StepResult[]): {
	best: StepResult | undefined;
	noisy: StepResult[];
} {
	let end = steps.length;
	for (const [i, r] of steps.entries()) {
		const next = steps[i + 1];
		if (!r.clean && (saturated(r) || (next !== undefined && !next.clean) || next === undefined)) {
			end = i;
			break;
		}
	}
	const below = steps.slice(0, end);
	return {best: below.filter((r) => r.clean).at(-1), noisy: below.filter((r) => !r.clean)};
}

/** Command-line options shared by the target scripts; `defaults` differ per target. */
export const FANOUT_ARGS = {
	members: {type: 'string'},
	senders: {type: 'string'},
	procs: {type: 'string'},
	rates: {type: 'string'},
	'step-ms': {type: 'string'},
	'budget-s': {type: 'string'},
	out: {type: 'string'},
} as const;

export interface FanoutSettings {
	members: number;
	senders: number;
	procs: number;
	rates: number[];
	stepMs: number;
	budgetMs: number;
	outFile: string;
}

/** Clamps command-line values (strings, possibly absent) onto the target's defaults. */
export function fanoutSettings(
	values: Partial<Record<keyof typeof FANOUT_ARGS, string>>,
	defaults: FanoutSettings,
): FanoutSettings {
	const num = (text: string | undefined, fallback: number, min: number, max: number) => {
		const value = text === undefined ? fallback : Number(text);
		return Math.min(max, Math.max(min, Number.isFinite(value) ? value : fallback));
	};
	const members = num(values.members, defaults.members, 2, 1000);
	const rates = values.rates
		? values.rates
				.split(',')
				.map(Number)
				.filter((rate) => Number.isFinite(rate) && rate > 0)
				.slice(0, 12)
		: defaults.rates;
	return {
		members,
		senders: num(values.senders, defaults.senders, 1, members),
		procs: num(values.procs, defaults.procs, 1, Math.min(members, 8)),
		rates,
		stepMs: num(values['step-ms'], defaults.stepMs, 500, 10_000),
		budgetMs: num(values['budget-s'], defaults.budgetMs / 1000, 10, 300) * 1000,
		outFile: values.out ?? defaults.outFile,
	};
}

/** True when `importMetaUrl` is the script node was started with. */
export const isMain = (importMetaUrl: string) =>
	process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(importMetaUrl);
