// A server under test that is an ordinary program (stock `parley serve`,
// ngircd, redis-server) rather than a bench child: spawned with its own
// flags, ready when a line of its output says so, measured from outside
// through /proc (CPU of the process and its children, RSS, time spent waiting
// for a CPU or blocked on the disk), stopped with SIGTERM by its pid.

import {execFileSync, spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import process from 'node:process';
import type {ServerChild, ServerStats} from './fanout.js';
import {exited} from './util.js';

/** PARLEY_BENCH_SERVER_OUTPUT=1 passes the servers' output on to stderr. */
export interface ProcessServerOptions {
	command: string;
	args: string[];
	env?: NodeJS.ProcessEnv;
	/** The port it serves on, once a line of its output shows it is ready; undefined until then. */
	ready(line: string): number | undefined;
	detail: Record<string, unknown>;
	/** Run after it has exited (e.g. removing its temporary directory). */
	cleanup?(): Promise<void>;
	timeoutMs?: number;
}

let ticksPerSecond: number | undefined;
/** Linux's clock ticks per second for the CPU times in /proc (USER_HZ, nearly always 100). */
function clockTicks(): number {
	if (ticksPerSecond === undefined) {
		try {
			ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim()) || 100;
		} catch {
			ticksPerSecond = 100;
		}
	}
	return ticksPerSecond;
}

const readProc = (file: string): string | undefined => {
	try {
		return readFileSync(file, 'utf8');
	} catch {
		return undefined;
	}
};

/** utime, stime, cutime, cstime of /proc/PID/stat in ticks (the fields after the parenthesised name). */
function cpuTicks(pid: number, withReaped: boolean): number {
	const stat = readProc(`/proc/${pid}/stat`);
	if (!stat) return 0;
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	// fields[0] is field 3 (state): utime is field 14, so index 11.
	const own = Number(fields[11]) + Number(fields[12]);
	return withReaped ? own + Number(fields[13]) + Number(fields[14]) : own;
}

/** The live descendants of `pid` (needs /proc/PID/task/TID/children, Linux ≥ 3.5). */
function descendants(pid: number): number[] {
	const found: number[] = [];
	const tasks = readProc(`/proc/${pid}/task/${pid}/children`);
	for (const child of (tasks ?? '').split(' ').filter(Boolean).map(Number))
		found.push(child, ...descendants(child));
	return found;
}

/** CPU ms of the process, its live descendants and its reaped children. */
export function processTreeCpuMs(pid: number): number {
	let ticks = cpuTicks(pid, true);
	for (const child of descendants(pid)) ticks += cpuTicks(child, false);
	return (ticks / clockTicks()) * 1000;
}

function rssBytes(pid: number): number | undefined {
	const match = /^VmRSS:\s+(\d+) kB/m.exec(readProc(`/proc/${pid}/status`) ?? '');
	return match ? Number(match[1]) * 1024 : undefined;
}

function runQueueWaitMs(pid: number): number | undefined {
	const schedstat = readProc(`/proc/${pid}/schedstat`);
	return schedstat ? Number(schedstat.split(' ')[1]) / 1e6 : undefined;
}

/**
 * Samples the main thread's scheduler state every few ms: the share found in
 * D (uninterruptible sleep: waiting for the disk, e.g. an fsync) is time the
 * server could do nothing else, which neither its CPU nor its wait for a CPU
 * shows. (The kernel's own I/O delay accounting is off on most machines.)
 */
function stateSampler(pid: number): {readonly total: number; readonly blocked: number; stop(): void} {
	const counts = {total: 0, blocked: 0};
	const file = `/proc/${pid}/task/${pid}/stat`;
	const timer = setInterval(() => {
		const stat = readProc(file);
		if (!stat) return;
		counts.total++;
		if (stat[stat.lastIndexOf(')') + 2] === 'D') counts.blocked++;
	}, 5);
	timer.unref();
	return {
		get total() {
			return counts.total;
		},
		get blocked() {
			return counts.blocked;
		},
		stop: () => clearInterval(timer),
	};
}

/** Starts the program and resolves once it is ready, with stats from /proc. */
export async function spawnServer(options: ProcessServerOptions): Promise<ServerChild> {
	const child = spawn(options.command, options.args, {
		stdio: ['ignore', 'pipe', 'pipe'],
		env: options.env ?? process.env,
	});
	const name = options.command.split('/').at(-1)!;
	const recent: string[] = [];
	const port = await new Promise<number>((resolve, reject) => {
		let found = false;
		let partial = '';
		const onData = (chunk: Buffer) => {
			const lines = (partial + chunk.toString('utf8')).split('\n');
			partial = lines.pop()!;
			for (const line of lines) {
				if (process.env.PARLEY_BENCH_SERVER_OUTPUT) process.stderr.write(`[${name}] ${line}\n`);
				recent.push(line);
				if (recent.length > 20) recent.shift();
				const ready = found ? undefined : options.ready(line);
				if (ready !== undefined) {
					found = true;
					clearTimeout(timer);
					resolve(ready);
				}
			}
		};
		child.stdout.on('data', onData);
		child.stderr.on('data', onData);
		const fail = (why: string) => {
			clearTimeout(timer);
			child.kill('SIGKILL');
			reject(new Error(`${name} ${why}; its last lines:\n${recent.join('\n')}`));
		};
		const timer = setTimeout(() => fail('was not ready in time'), options.timeoutMs ?? 30_000);
		child.once('error', (error) => fail(`could not start (${error.message})`));
		child.once('exit', (code, signal) => {
			if (!found) fail(`exited (${code ?? signal}) before it was ready`);
		});
	});
	const pid = child.pid!;
	const states = stateSampler(pid);
	return {
		child,
		port,
		detail: {...options.detail, pid},
		async stats(): Promise<ServerStats> {
			const rss = rssBytes(pid);
			const wait = runQueueWaitMs(pid);
			return {
				type: 'stats',
				members: Number.NaN,
				cpuMs: processTreeCpuMs(pid),
				counters: {},
				loopDelay: {p99: Number.NaN, max: Number.NaN},
				...(rss === undefined ? {} : {rssBytes: rss}),
				...(wait === undefined ? {} : {runQueueWaitMs: wait}),
				stateSamples: {total: states.total, blocked: states.blocked},
			};
		},
		async stop() {
			states.stop();
			if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
			await exited(child, 10_000);
			await options.cleanup?.();
		},
	};
}
