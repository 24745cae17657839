// The in-process half of the client benchmark (forked with --expose-gc by
// bench/client-responsiveness.ts): heap taken by 10,000 lines of scrollback
// as the screen keeps them (entries plus the wrapped rows of every line that
// was drawn), and the time to search 100,000 lines as Ctrl+R does, key by key.

import process from 'node:process';
import {layoutEntry, type LogRow} from '../source/tui/log-format.js';
import {Scrollback} from '../source/tui/scrollback.js';
import {findMatches, openSearch, reduceSearch} from '../source/tui/search.js';
import {RowCache} from '../source/tui/viewport.js';
import {floodText} from './flood-text.js';
import {round} from './util.js';

const WIDTH = 100;
const gc = (globalThis as {gc?: () => void}).gc;

function heapMb(): number {
	gc?.();
	gc?.();
	return process.memoryUsage().heapUsed / 2 ** 20;
}

function fill(log: Scrollback, count: number, rows?: RowCache<LogRow>): void {
	for (let n = 1; n <= count; n++) {
		// Fresh strings per line, as the wire would give them.
		const entry = log.append({
			kind: 'message',
			from: `member${n % 50}`.slice(0),
			text: floodText(n),
			action: false,
			self: false,
			history: false,
		});
		// Following the bottom, the screen wraps (and caches) every line as it passes.
		rows?.rowsFor(entry, WIDTH);
	}
}

export interface StructuresReport {
	memory: {lines: number; heapMb: number; mbPer10kLines: number};
	search: {
		lines: number;
		/** One whole-log search, per query. */
		findMs: Record<string, number>;
		/** Ctrl+R, then the query typed key by key: the slowest key and all of them together. */
		typedQuery: string;
		slowestKeyMs: number;
		allKeysMs: number;
		/** A new line arriving while the search is open. */
		refreshMs: number;
	};
}

function measureMemory(): StructuresReport['memory'] {
	const lines = 10_000;
	const before = heapMb();
	const log = new Scrollback(lines);
	const rows = new RowCache<LogRow>((entry, width) => layoutEntry(entry, width, {ownNick: 'typist'}));
	fill(log, lines, rows);
	const used = heapMb() - before;
	// Keep both alive until measured.
	if (log.length !== lines || rows.wrapCount < 0) throw new Error('unexpected');
	return {lines, heapMb: round(used, 1), mbPer10kLines: round((used * 10_000) / lines, 1)};
}

function time(work: () => void): number {
	const started = performance.now();
	work();
	return performance.now() - started;
}

function measureSearch(): StructuresReport['search'] {
	const lines = 100_000;
	const log = new Scrollback(lines);
	fill(log, lines);
	const findMs: Record<string, number> = {};
	for (const query of ['fox', 'flood 99999', 'nowhere to be found'])
		findMs[query] = round(time(() => findMatches(log, query)));
	const typedQuery = 'lazy dog';
	let state = openSearch(log, undefined);
	let slowest = 0;
	let all = 0;
	for (const char of typedQuery) {
		const took = time(() => {
			state = reduceSearch(state, {type: 'type', text: char}, log);
		});
		slowest = Math.max(slowest, took);
		all += took;
	}
	log.append({
		kind: 'message',
		from: 'late',
		text: 'a lazy dog arrives',
		action: false,
		self: false,
		history: false,
	});
	const refreshMs = time(() => {
		state = reduceSearch(state, {type: 'refresh'}, log);
	});
	return {
		lines,
		findMs,
		typedQuery,
		slowestKeyMs: round(slowest),
		allKeysMs: round(all),
		refreshMs: round(refreshMs),
	};
}

const report: StructuresReport = {memory: measureMemory(), search: measureSearch()};
if (process.send) process.send(report);
else process.stdout.write(`${JSON.stringify(report, null, '\t')}\n`);
