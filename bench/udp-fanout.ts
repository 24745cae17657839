// UDP room fan-out benchmark: one room server (its own process,
// bench/udp-server-child.ts), 50 real members (RoomClients from
// createRoomClient, spread over a few member processes), a subset of them
// sending at a stepped total rate. Every message carries its send time, so
// each delivery gives a latency (receive − send, measured where the UI would
// see it: after in-order delivery and gap repair). Per step it reports the
// offered rate, fan-out deliveries a second, loss against members × messages
// sent, "lost" events, p50/p99 latency and CPU use, then the highest rate with
// zero loss and p99 under 50 ms. Everything runs on 127.0.0.1, bounded in
// count and time (well under 90 s).
//
// Running it (no npm scripts involved; Node ≥ 22, e.g. the project's pinned
// `npx node`):
//
//   npx tsc -p tsconfig.json
//   npx node dist/bench/udp-fanout.js
//   npx node dist/bench/udp-fanout.js --rates 50,100,200 --step-ms 2000 --members 50 --senders 10 --procs 2
//
// Results are printed as a table and written to bench/results/udp-fanout.json.
// The member processes are this same file started with --member-child.

import {fork, type ChildProcess} from 'node:child_process';
import {mkdir, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {createRoomClient} from '../source/client/create-room-client.js';
import type {RoomClient} from '../source/client/types.js';
import type {ServerChildReply, ServerChildRequest} from './udp-server-child.js';

// ---- messages between the runner and its member processes -------------------

type ToMembers =
	| {type: 'join'; url: string; nicks: string[]; senders: string[]}
	| {type: 'run'; step: number; ratePerSender: number; durationMs: number; startAt: number; senderCount: number}
	| {type: 'count'; step: number}
	| {type: 'report'; step: number}
	| {type: 'quit'};

type FromMembers =
	| {type: 'joined'; count: number}
	| {type: 'sent'; step: number; sent: number; durationMs: number}
	| {type: 'count'; step: number; received: number}
	| {
			type: 'report';
			step: number;
			received: number;
			latencies: Float64Array;
			lostEvents: number;
			lostMessages: number;
			failed: number;
			errors: number;
			/** CPU time used from the start of the step to the report, and that wall time. */
			cpuMs: number;
			windowMs: number;
			/** When the last delivery of this step arrived (clock()). */
			lastAt: number;
	  }
	| {type: 'error'; message: string};

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
const clock = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));
const TAG = 'bench';

// ---- member process ----------------------------------------------------------

async function memberChild(): Promise<void> {
	const send = (message: FromMembers): void => {
		process.send?.(message);
	};
	const clients = new Map<string, RoomClient>();
	let senders: string[] = [];
	interface StepState {
		received: number;
		latencies: number[];
		lostEvents: number;
		lostMessages: number;
		failed: number;
		errors: number;
		cpuStart: number;
		clockStart: number;
		lastAt: number;
	}
	const steps = new Map<number, StepState>();
	let current: StepState | undefined;
	const cpuMs = () => {
		const usage = process.cpuUsage();
		return (usage.user + usage.system) / 1000;
	};
	const stateFor = (step: number): StepState => {
		let state = steps.get(step);
		if (!state) {
			state = {received: 0, latencies: [], lostEvents: 0, lostMessages: 0, failed: 0, errors: 0, cpuStart: cpuMs(), clockStart: clock(), lastAt: 0};
			steps.set(step, state);
		}
		return state;
	};

	const watch = (client: RoomClient) =>
		client.subscribe(event => {
			const now = clock();
			switch (event.type) {
				case 'message': {
					if (!event.text.startsWith(`${TAG} `)) return;
					// "bench STEP SENDER N SENT-AT"
					const parts = event.text.split(' ');
					const state = stateFor(Number(parts[1]));
					state.received++;
					state.latencies.push(now - Number(parts[4]));
					state.lastAt = now;
					return;
				}
				case 'lost':
					if (current) {
						current.lostEvents++;
						current.lostMessages += event.count;
					}
					return;
				case 'failed':
					if (current) current.failed++;
					return;
				case 'error':
					if (current) current.errors++;
					return;
				default:
					return;
			}
		});

	const run = async (message: Extract<ToMembers, {type: 'run'}>): Promise<void> => {
		current = stateFor(message.step);
		current.cpuStart = cpuMs();
		current.clockStart = clock();
		await sleep(Math.max(0, message.startAt - clock()));
		const mine = senders.map((nick, index) => ({
			client: clients.get(nick)!,
			nick,
			// Spread the senders' ticks so they do not all fire together.
			phase: (index + 1) / (senders.length + 1),
			sent: 0,
		}));
		const started = clock();
		const due = (elapsed: number, phase: number) => Math.floor((Math.min(elapsed, message.durationMs) / 1000) * message.ratePerSender + phase);
		await new Promise<void>(resolve => {
			const tick = () => {
				const elapsed = clock() - started;
				for (const sender of mine) {
					const target = due(elapsed, sender.phase);
					while (sender.sent < target) {
						sender.sent++;
						sender.client.say(`${TAG} ${message.step} ${sender.nick} ${sender.sent} ${clock().toFixed(3)}`);
					}
				}
				if (elapsed >= message.durationMs) {
					clearInterval(timer);
					resolve();
				}
			};
			const timer = setInterval(tick, 2);
			tick();
		});
		send({type: 'sent', step: message.step, sent: mine.reduce((sum, s) => sum + s.sent, 0), durationMs: clock() - started});
	};

	process.on('message', (raw: unknown) => {
		const message = raw as ToMembers;
		switch (message.type) {
			case 'join': {
				senders = message.senders;
				const joins = message.nicks.map(async nick => {
					const client = createRoomClient(message.url);
					clients.set(nick, client);
					watch(client);
					await client.connect(nick);
				});
				Promise.all(joins).then(
					() => send({type: 'joined', count: clients.size}),
					(error: unknown) => send({type: 'error', message: `join failed: ${String(error)}`}),
				);
				return;
			}
			case 'run':
				run(message).catch((error: unknown) => send({type: 'error', message: `run failed: ${String(error)}`}));
				return;
			case 'count':
				send({type: 'count', step: message.step, received: steps.get(message.step)?.received ?? 0});
				return;
			case 'report': {
				const state = stateFor(message.step);
				steps.delete(message.step);
				if (current === state) current = undefined;
				send({
					type: 'report',
					step: message.step,
					received: state.received,
					latencies: Float64Array.from(state.latencies),
					lostEvents: state.lostEvents,
					lostMessages: state.lostMessages,
					failed: state.failed,
					errors: state.errors,
					cpuMs: cpuMs() - state.cpuStart,
					windowMs: clock() - state.clockStart,
					lastAt: state.lastAt,
				});
				return;
			}
			case 'quit':
				Promise.all([...clients.values()].map(client => client.close())).finally(() => {
					process.disconnect?.();
					process.exit(0);
				});
				return;
		}
	});
	process.on('disconnect', () => process.exit(0));
}

// ---- runner ------------------------------------------------------------------

interface StepResult {
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
	latencyMs: {p50: number; p90: number; p99: number; max: number};
	server: {
		received: number;
		sentDatagrams: number;
		rateLimited: number;
		dropped: Record<string, number>;
		cpuPercent: number;
	};
	membersCpuPercent: number;
	clean: boolean;
}

/** Waits for the first message from `child` that `match` accepts. */
function nextMessage<T>(child: ChildProcess, match: (message: unknown) => T | undefined, timeoutMs: number, what: string): Promise<T> {
	return new Promise((resolve, reject) => {
		const onMessage = (message: unknown) => {
			const error = (message as {type?: string; message?: string}).type === 'error' ? (message as {message: string}).message : undefined;
			if (error !== undefined) {
				finish();
				reject(new Error(error));
				return;
			}
			const value = match(message);
			if (value === undefined) return;
			finish();
			resolve(value);
		};
		const onExit = (code: number | null) => {
			finish();
			reject(new Error(`child exited (${code}) while waiting for ${what}`));
		};
		const timer = setTimeout(() => {
			finish();
			reject(new Error(`timed out waiting for ${what}`));
		}, timeoutMs);
		const finish = () => {
			clearTimeout(timer);
			child.off('message', onMessage);
			child.off('exit', onExit);
		};
		child.on('message', onMessage);
		child.once('exit', onExit);
	});
}

function ofType<K extends FromMembers['type']>(type: K, step?: number) {
	return (message: unknown): Extract<FromMembers, {type: K}> | undefined => {
		const typed = message as FromMembers;
		if (typed.type !== type) return undefined;
		if (step !== undefined && 'step' in typed && typed.step !== step) return undefined;
		return typed as Extract<FromMembers, {type: K}>;
	};
}

function percentile(sorted: Float64Array, p: number): number {
	if (sorted.length === 0) return Number.NaN;
	const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
	return sorted[index]!;
}

const round = (value: number, digits = 2) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : value);

async function runner(): Promise<void> {
	const {values} = parseArgs({
		options: {
			members: {type: 'string', default: '50'},
			senders: {type: 'string', default: '10'},
			procs: {type: 'string', default: '2'},
			rates: {type: 'string', default: '50,100,200,400,800,1600,3200'},
			'step-ms': {type: 'string', default: '3000'},
			'budget-s': {type: 'string', default: '80'},
			out: {type: 'string'},
		},
	});
	const members = Math.min(200, Math.max(2, Number(values.members)));
	const senderCount = Math.min(members, Math.max(1, Number(values.senders)));
	const procs = Math.min(members, Math.max(1, Number(values.procs)));
	const rates = values.rates
		.split(',')
		.map(Number)
		.filter(rate => Number.isFinite(rate) && rate > 0)
		.slice(0, 10);
	const stepMs = Math.min(10_000, Math.max(500, Number(values['step-ms'])));
	const budgetMs = Math.min(300_000, Math.max(10_000, Number(values['budget-s']) * 1000));
	const here = path.dirname(fileURLToPath(import.meta.url));
	const outFile = values.out ?? path.resolve(here, '../../bench/results/udp-fanout.json');
	const started = Date.now();

	const children: ChildProcess[] = [];
	const killAll = () => {
		for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
	};
	process.once('SIGINT', () => {
		killAll();
		process.exit(130);
	});

	try {
		// The server: raised per-member limits so the offered rate, not the room's flood control, is what is measured.
		const limits = {ratePerSecond: 100_000, burst: 100_000};
		const server = fork(
			path.join(here, 'udp-server-child.js'),
			['--rate', String(limits.ratePerSecond), '--burst', String(limits.burst), '--max-members', String(members + 16)],
			{stdio: ['ignore', 'inherit', 'inherit', 'ipc']},
		);
		children.push(server);
		const ready = await nextMessage(
			server,
			m => ((m as ServerChildReply).type === 'ready' ? (m as Extract<ServerChildReply, {type: 'ready'}>) : undefined),
			10_000,
			'the server',
		);
		const url = `udp://127.0.0.1:${ready.port}`;
		const serverStats = async () => {
			const request: ServerChildRequest = {type: 'stats'};
			server.send(request);
			return nextMessage(
				server,
				m => ((m as ServerChildReply).type === 'stats' ? (m as Extract<ServerChildReply, {type: 'stats'}>) : undefined),
				10_000,
				'server stats',
			);
		};

		// The members, round-robin over the processes; the first `senderCount` send.
		const nicks = Array.from({length: members}, (_, i) => `m${String(i).padStart(3, '0')}`);
		const groups = Array.from({length: procs}, (_, p) => nicks.filter((_, i) => i % procs === p));
		const senderNicks = new Set(nicks.slice(0, senderCount));
		const memberProcs = groups.map(() => {
			const child = fork(fileURLToPath(import.meta.url), ['--member-child'], {
				stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
				serialization: 'advanced',
			});
			children.push(child);
			return child;
		});
		const tell = (child: ChildProcess, message: ToMembers) => child.send(message);
		await Promise.all(
			memberProcs.map((child, p) => {
				const group = groups[p]!;
				tell(child, {type: 'join', url, nicks: group, senders: group.filter(nick => senderNicks.has(nick))});
				return nextMessage(child, ofType('joined'), 30_000, 'members to join');
			}),
		);
		const joined = await serverStats();
		process.stdout.write(
			`UDP fan-out: ${joined.members} members in ${procs} processes, ${senderCount} senders, server at ${url} ` +
				`(per-member limit raised to ${limits.ratePerSecond}/s); ${stepMs} ms a step; ${os.cpus().length} CPUs\n\n`,
		);

		const runStep = async (step: number, targetRate: number, durationMs: number): Promise<StepResult> => {
			const ratePerSender = targetRate / senderCount;
			const before = await serverStats();
			const beforeAt = clock();
			const startAt = clock() + 150;
			const sentReplies = Promise.all(memberProcs.map(child => nextMessage(child, ofType('sent', step), durationMs + 15_000, 'sending')));
			for (const child of memberProcs) tell(child, {type: 'run', step, ratePerSender, durationMs, startAt, senderCount});
			const sentAll = await sentReplies;
			const sent = sentAll.reduce((sum, r) => sum + r.sent, 0);
			const sendMs = Math.max(...sentAll.map(r => r.durationMs));
			const expected = sent * members;

			// Drain: until everything arrived, or nothing more arrives for 750 ms (at most 3 s).
			const drainEnd = Date.now() + 3000;
			let last = -1;
			let stableSince = Date.now();
			for (;;) {
				const counts = await Promise.all(
					memberProcs.map(child => {
						tell(child, {type: 'count', step});
						return nextMessage(child, ofType('count', step), 5000, 'a count');
					}),
				);
				const total = counts.reduce((sum, c) => sum + c.received, 0);
				if (total >= expected || Date.now() > drainEnd) break;
				if (total !== last) {
					last = total;
					stableSince = Date.now();
				} else if (Date.now() - stableSince >= 750) break;
				await sleep(100);
			}
			const after = await serverStats();
			const serverWindowMs = Math.max(1, clock() - beforeAt);
			const reports = await Promise.all(
				memberProcs.map(child => {
					tell(child, {type: 'report', step});
					return nextMessage(child, ofType('report', step), 10_000, 'a report');
				}),
			);
			const wallMs = Math.max(1, sendMs);
			const delivered = reports.reduce((sum, r) => sum + r.received, 0);
			const latencies = new Float64Array(reports.reduce((sum, r) => sum + r.latencies.length, 0));
			let offset = 0;
			for (const r of reports) {
				latencies.set(r.latencies, offset);
				offset += r.latencies.length;
			}
			latencies.sort();
			const lostEvents = reports.reduce((sum, r) => sum + r.lostEvents, 0);
			const lossPercent = expected === 0 ? 0 : (Math.max(0, expected - delivered) / expected) * 100;
			const p99 = percentile(latencies, 99);
			const dropped: Record<string, number> = {};
			for (const [reason, count] of Object.entries(after.dropped)) {
				const delta = count - (before.dropped[reason] ?? 0);
				if (delta > 0) dropped[reason] = delta;
			}
			const lastAt = Math.max(...reports.map(r => r.lastAt));
			const deliveryMs = Math.max(wallMs, lastAt - startAt);
			return {
				targetRate,
				offeredRate: round((sent / wallMs) * 1000, 1),
				sent,
				durationMs: round(wallMs, 0),
				expected,
				delivered,
				deliveriesPerSecond: round((delivered / deliveryMs) * 1000, 0),
				lossPercent: round(lossPercent, 3),
				lostEvents,
				lostMessages: reports.reduce((sum, r) => sum + r.lostMessages, 0),
				failedSends: reports.reduce((sum, r) => sum + r.failed, 0),
				latencyMs: {
					p50: round(percentile(latencies, 50)),
					p90: round(percentile(latencies, 90)),
					p99: round(p99),
					max: round(latencies.length > 0 ? latencies[latencies.length - 1]! : Number.NaN),
				},
				server: {
					received: after.received - before.received,
					sentDatagrams: after.sentDatagrams - before.sentDatagrams,
					rateLimited: after.rateLimited - before.rateLimited,
					dropped,
					// CPU over the whole step (sending and draining), as a share of one core.
					cpuPercent: round(((after.cpuMs - before.cpuMs) / serverWindowMs) * 100, 0),
				},
				membersCpuPercent: round(reports.reduce((sum, r) => sum + r.cpuMs / Math.max(1, r.windowMs), 0) * 100, 0),
				clean: delivered === expected && lostEvents === 0 && p99 < 50,
			};
		};

		// A short warm-up (JIT, socket buffers), not reported.
		await runStep(0, Math.min(50, rates[0] ?? 50), 1000);

		const header = [
			'offered/s',
			'(target)',
			'deliveries/s',
			'expected',
			'delivered',
			'loss %',
			'lost ev',
			'p50 ms',
			'p99 ms',
			'max ms',
			'srv CPU',
			'members CPU',
		];
		const widths = header.map(h => Math.max(h.length, 9));
		const line = (cells: Array<string | number>) => cells.map((cell, i) => String(cell).padStart(widths[i]!)).join('  ');
		process.stdout.write(`${line(header)}\n`);

		const results: StepResult[] = [];
		let stopReason: string | undefined;
		for (const [index, rate] of rates.entries()) {
			const elapsed = Date.now() - started;
			if (elapsed + stepMs + 4000 > budgetMs) {
				stopReason = `time budget (${budgetMs / 1000} s) reached before ${rate}/s`;
				break;
			}
			const result = await runStep(index + 1, rate, stepMs);
			results.push(result);
			process.stdout.write(
				`${line([
					result.offeredRate,
					rate,
					result.deliveriesPerSecond,
					result.expected,
					result.delivered,
					result.lossPercent,
					result.lostEvents,
					result.latencyMs.p50,
					result.latencyMs.p99,
					result.latencyMs.max,
					`${result.server.cpuPercent}%`,
					`${result.membersCpuPercent}%`,
				])}\n`,
			);
			if (result.lossPercent > 20 || result.latencyMs.p99 > 2000) {
				stopReason = `saturated at ${rate}/s (loss ${result.lossPercent}%, p99 ${result.latencyMs.p99} ms)`;
				break;
			}
			await sleep(300);
		}

		const best = results.filter(r => r.clean).reduce<StepResult | undefined>((top, r) => (!top || r.targetRate > top.targetRate ? r : top), undefined);
		// Only counts if every lower step was clean too.
		const firstDirty = results.find(r => !r.clean);
		const sustained = results.filter(r => r.clean && (!firstDirty || r.targetRate < firstDirty.targetRate)).at(-1);
		process.stdout.write('\n');
		if (stopReason) process.stdout.write(`stopped early: ${stopReason}\n`);
		process.stdout.write(
			sustained
				? `highest rate with zero loss and p99 < 50 ms: ${sustained.targetRate} msgs/s into the room ` +
						`(${sustained.deliveriesPerSecond} deliveries/s to ${members} members, p99 ${sustained.latencyMs.p99} ms)\n`
				: 'no step had zero loss and p99 < 50 ms\n',
		);
		if (best && best !== sustained) process.stdout.write(`(a higher step, ${best.targetRate}/s, was clean too, above a step that was not)\n`);

		const report = {
			benchmark: 'udp-fanout',
			date: new Date().toISOString(),
			environment: {
				node: process.version,
				platform: `${os.platform()} ${os.release()}`,
				cpus: os.cpus().length,
				cpuModel: os.cpus()[0]?.model ?? 'unknown',
			},
			config: {members, senders: senderCount, memberProcesses: procs, stepMs, rates, serverLimits: limits, host: '127.0.0.1'},
			steps: results,
			stopReason: stopReason ?? null,
			highestCleanRate: sustained?.targetRate ?? null,
			criteria: 'delivered === members × sent, no lost events, p99 latency < 50 ms',
			totalSeconds: round((Date.now() - started) / 1000, 1),
		};
		await mkdir(path.dirname(outFile), {recursive: true});
		await writeFile(outFile, `${JSON.stringify(report, null, '\t')}\n`);
		process.stdout.write(`results: ${outFile} (${report.totalSeconds} s)\n`);

		for (const child of memberProcs) tell(child, {type: 'quit'});
		server.send({type: 'quit'} satisfies ServerChildRequest);
		await Promise.all(
			children.map(
				child =>
					new Promise<void>(resolve => {
						if (child.exitCode !== null || child.signalCode !== null) return resolve();
						const timer = setTimeout(() => {
							child.kill('SIGKILL');
							resolve();
						}, 3000);
						child.once('exit', () => {
							clearTimeout(timer);
							resolve();
						});
					}),
			),
		);
	} finally {
		killAll();
	}
}

if (process.argv.includes('--member-child')) {
	await memberChild();
} else {
	runner().catch((error: unknown) => {
		process.stderr.write(`udp-fanout: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
		process.exitCode = 1;
	});
}
