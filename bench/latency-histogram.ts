// Latencies as a histogram with logarithmic bins (0.2 % wide) instead of a list:
// at millions of deliveries a second a member process could neither keep
// every sample nor send them to the runner. Percentiles come out within
// 0.2 % (the bin's upper edge, so never flattering); the maximum is exact.

import {round, type LatencySummary} from './util.js';

/** Each bin is this much wider than the one before. */
const RATIO = 1.002;
const LOG_RATIO = Math.log(RATIO);
/** Bins from 1 µs to 100 s; a latency under 1 µs (or a clock a hair apart between processes) goes in the first. */
export const HISTOGRAM_BINS = Math.ceil(Math.log(100e6) / LOG_RATIO) + 1;

/** The upper edge of bin `index`, in ms. */
const binMs = (index: number) => RATIO ** index / 1000;

export class LatencyHistogram {
	readonly counts = new Float64Array(HISTOGRAM_BINS);
	count = 0;
	max = 0;

	record(ms: number): void {
		const us = ms * 1000;
		const index = us <= 1 ? 0 : Math.min(HISTOGRAM_BINS - 1, Math.ceil(Math.log(us) / LOG_RATIO));
		this.counts[index]!++;
		this.count++;
		if (ms > this.max) this.max = ms;
	}

	/** Adds another process's counts (as sent over IPC). */
	add(counts: Float64Array, max: number): void {
		for (let i = 0; i < counts.length && i < HISTOGRAM_BINS; i++) {
			const n = counts[i]!;
			if (n === 0) continue;
			this.counts[i]! += n;
			this.count += n;
		}
		if (max > this.max) this.max = max;
	}

	/** Nearest rank, as util.percentile: the smallest bin edge with at least p % of the samples at or below it. */
	percentile(p: number): number {
		if (this.count === 0) return Number.NaN;
		const rank = Math.max(1, Math.ceil((p / 100) * this.count));
		let seen = 0;
		for (let i = 0; i < HISTOGRAM_BINS; i++) {
			seen += this.counts[i]!;
			if (seen >= rank) return Math.min(binMs(i), this.max);
		}
		return this.max;
	}

	summary(): LatencySummary & {count: number} {
		return {
			count: this.count,
			p50: round(this.percentile(50)),
			p90: round(this.percentile(90)),
			p99: round(this.percentile(99)),
			max: round(this.count === 0 ? Number.NaN : this.max),
		};
	}
}

/** One summary over the histograms of all member processes. */
export function summariseHistograms(
	parts: ReadonlyArray<{histogram: Float64Array; max: number}>,
): LatencySummary & {count: number} {
	const all = new LatencyHistogram();
	for (const part of parts) all.add(part.histogram, part.max);
	return all.summary();
}
