// Small helpers shared by the benchmark runner and its child processes.

import type {ChildProcess} from 'node:child_process';
import {monitorEventLoopDelay, performance} from 'node:perf_hooks';
import process from 'node:process';
import {sleep} from '../source/util/sleep.js';
import type {LoopDelay} from './protocol.js';

/** Marks benchmark traffic: "bench STEP SENDER N SENT-AT". */
export const BENCH_TAG = 'bench';

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const clock = (): number => performance.timeOrigin + performance.now();

export {sleep};

/** This process's user + system CPU time in milliseconds. */
export function cpuMs(): number {
	const usage = process.cpuUsage();
	return (usage.user + usage.system) / 1000;
}

/**
 * Waits out a step's deliveries: polls `countAll` (deliveries so far, all
 * members) until it reaches `expected`, or nothing more arrives for 750 ms (at most 3 s).
 */
export async function drainDeliveries(countAll: () => Promise<number>, expected: number): Promise<void> {
	const drainEnd = Date.now() + 3000;
	let last = -1;
	let stableSince = Date.now();
	for (;;) {
		const total = await countAll();
		if (total >= expected || Date.now() > drainEnd) return;
		if (total !== last) {
			last = total;
			stableSince = Date.now();
		} else if (Date.now() - stableSince >= 750) return;
		await sleep(100);
	}
}

/** Runs `work` over `items` with at most `concurrency` in flight; rejects on the first failure. */
export async function pool<T>(
	items: readonly T[],
	concurrency: number,
	work: (item: T) => Promise<void>,
): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < items.length) await work(items[next++]!);
	};
	await Promise.all(Array.from({length: Math.max(1, Math.min(concurrency, items.length))}, worker));
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, p: number): number {
	if (sorted.length === 0) return Number.NaN;
	const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
	return sorted[index]!;
}

export const round = (value: number, digits = 2) =>
	Number.isFinite(value) ? Number(value.toFixed(digits)) : value;

export interface LatencySummary {
	p50: number;
	p90: number;
	p99: number;
	max: number;
}

/** Joins per-process samples and summarises them. */
export function summarise(samples: readonly Float64Array[]): LatencySummary & {count: number} {
	const all = new Float64Array(samples.reduce((sum, s) => sum + s.length, 0));
	let offset = 0;
	for (const s of samples) {
		all.set(s, offset);
		offset += s.length;
	}
	all.sort();
	return {
		count: all.length,
		p50: round(percentile(all, 50)),
		p90: round(percentile(all, 90)),
		p99: round(percentile(all, 99)),
		max: round(all.length > 0 ? all[all.length - 1]! : Number.NaN),
	};
}

/** Waits for the first message from `child` that `match` accepts; an {type:'error'} message rejects. */
export function nextMessage<T>(
	child: ChildProcess,
	match: (message: unknown) => T | undefined,
	timeoutMs: number,
	what: string,
): Promise<T> {
	return new Promise((resolve, reject) => {
		const onMessage = (message: unknown) => {
			const typed = message as {type?: string; message?: string};
			if (typed.type === 'error') {
				finish();
				reject(new Error(typed.message));
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

/** A matcher for nextMessage: messages of one type (and, if given, one step). */
export function ofType<M extends {type: string}, K extends M['type']>(type: K, step?: number) {
	return (message: unknown): Extract<M, {type: K}> | undefined => {
		const typed = message as M & {step?: number};
		if (typed.type !== type) return undefined;
		if (step !== undefined && typed.step !== step) return undefined;
		return typed as Extract<M, {type: K}>;
	};
}

/** Resolves once `child` has exited, killing it after `graceMs`. */
export function exited(child: ChildProcess, graceMs = 3000): Promise<void> {
	return new Promise((resolve) => {
		if (child.exitCode !== null || child.signalCode !== null) return resolve();
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			resolve();
		}, graceMs);
		child.once('exit', () => {
			clearTimeout(timer);
			resolve();
		});
	});
}

/** Watches this process's event-loop delay; take() returns it since the last take() and starts over. */
export function loopDelayMonitor(): {take(): LoopDelay} {
	const histogram = monitorEventLoopDelay({resolution: 5});
	histogram.enable();
	return {
		take() {
			const ms = (ns: number) => round(ns / 1e6, 1);
			const delay =
				histogram.count === 0
					? {p99: 0, max: 0}
					: {p99: ms(histogram.percentile(99)), max: ms(histogram.max)};
			histogram.reset();
			return delay;
		},
	};
}
