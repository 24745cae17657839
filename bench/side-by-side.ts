// The summary of one `npm run bench` fan-out run: per target its highest
// clean rate and what it cost, the ratios issue 14 asks for (Parley's TCP
// room against ngircd and Redis), the load generator's own ceiling, and the
// "Side by side" section of bench/RESULTS.md (other sections kept).

import {readFile, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {STARVED_WAIT_PERCENT, type FanoutReport} from './fanout.js';
import {round} from './util.js';

export interface SummaryRow {
	target: string;
	description: string;
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
	stopReason: string | null;
	noisySteps: number[];
	/** The load generator's CPU per delivery at the best step (µs). */
	membersCpuUsPerDelivery: number | null;
	/** Share of the best step the server waited for a CPU (other jobs on the machine), when known. */
	serverCpuWaitPercent: number | null;
	/** Dirty steps in which the server waited for a CPU a quarter of the time or more: starved, not slow. */
	starvedSteps: number[];
	/** Why it did not run (e.g. not installed). */
	skipped?: string;
}

export function summaryRow(name: string, description: string, report: FanoutReport): SummaryRow {
	const best = report.highestClean;
	// The last login round is the concurrent one; the first, one at a time.
	const concurrent = report.login.at(-1);
	const unloaded = report.login.length > 1 ? report.login[0] : undefined;
	const bestStep = report.steps.find((s) => s.clean && s.targetRate === best?.rate);
	return {
		target: name,
		description,
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
		stopReason: report.stopReason,
		noisySteps: report.noisySteps,
		membersCpuUsPerDelivery: bestStep?.membersCpuUsPerDelivery ?? null,
		serverCpuWaitPercent: bestStep?.server.cpuWaitPercent ?? null,
		starvedSteps: report.steps
			.filter((s) => !s.clean && (s.server.cpuWaitPercent ?? 0) >= STARVED_WAIT_PERCENT)
			.map((s) => s.targetRate),
	};
}

export const skippedRow = (name: string, description: string, why: string): SummaryRow => ({
	target: name,
	description,
	members: 0,
	cleanRate: null,
	deliveriesPerSecond: null,
	p50: null,
	p99: null,
	serverCpuPercent: null,
	serverCpuUsPerDelivery: null,
	loginsPerSecond: null,
	loginP99: null,
	loginConcurrency: null,
	unloadedLoginP99: null,
	stopReason: null,
	noisySteps: [],
	membersCpuUsPerDelivery: null,
	serverCpuWaitPercent: null,
	starvedSteps: [],
	skipped: why,
});

export interface Ratio {
	/** e.g. "TCP / NGIRCD". */
	pair: string;
	cleanRate: number | null;
	deliveriesPerSecond: number | null;
	serverCpuUsPerDelivery: number | null;
}

const ratio = (a: number | null, b: number | null) =>
	a === null || b === null || b === 0 ? null : round(a / b, 2);

/** Each Parley target against each peer that ran. */
export function ratios(rows: SummaryRow[], parley: string[], peers: string[]): Ratio[] {
	const found = (name: string) => rows.find((r) => r.target === name && !r.skipped);
	const out: Ratio[] = [];
	for (const p of parley)
		for (const q of peers) {
			const a = found(p);
			const b = found(q);
			if (!a || !b) continue;
			out.push({
				pair: `${p} / ${q}`,
				cleanRate: ratio(a.cleanRate, b.cleanRate),
				deliveriesPerSecond: ratio(a.deliveriesPerSecond, b.deliveriesPerSecond),
				serverCpuUsPerDelivery: ratio(a.serverCpuUsPerDelivery, b.serverCpuUsPerDelivery),
			});
		}
	return out;
}

/** The load generator (member processes): the most it took in any step, and what a delivery cost it. */
export interface GeneratorCeiling {
	target: string;
	rate: number;
	procs: number;
	deliveriesPerSecond: number;
	membersCpuPercent: number;
	usPerDelivery: number;
	/** procs × 10⁶ / µs per delivery: what the processes would take with a core each. */
	ceilingPerSecond: number;
	/** Whether every delivery of that step arrived. */
	complete: boolean;
}

export function generatorCeiling(
	named: ReadonlyArray<{name: string; report: FanoutReport}>,
): GeneratorCeiling | null {
	let best: GeneratorCeiling | null = null;
	for (const {name, report} of named)
		for (const step of report.steps) {
			if (step.delivered === 0 || (best && step.deliveriesPerSecond <= best.deliveriesPerSecond)) continue;
			const procs = Number(report.config.memberProcesses);
			best = {
				target: name,
				rate: step.targetRate,
				procs,
				deliveriesPerSecond: step.deliveriesPerSecond,
				membersCpuPercent: step.membersCpuPercent,
				usPerDelivery: step.membersCpuUsPerDelivery,
				ceilingPerSecond: Math.round((procs * 1e6) / Math.max(0.001, step.membersCpuUsPerDelivery)),
				complete: step.delivered === step.expected,
			};
		}
	return best;
}

const cell = (value: number | string | null, suffix = '') => (value === null ? '—' : `${value}${suffix}`);
const millions = (value: number | null) => (value === null ? '—' : `${round(value / 1e6, 2)} M`);

/** A Markdown table with padded columns (as the chaos table lays them out). */
function markdownTable(header: string[], rows: string[][]): string {
	const width = (text: string) => [...text].length;
	const widths = header.map((h, i) => Math.max(3, width(h), ...rows.map((row) => width(row[i]!))));
	const line = (cells: string[]) =>
		`| ${cells.map((c, i) => c + ' '.repeat(widths[i]! - width(c))).join(' | ')} |`;
	return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const TABLE_HEADER = [
	'system',
	'members',
	'highest clean msg/s',
	'deliveries/s',
	'p50 ms',
	'p99 ms',
	'server CPU',
	'server µs/delivery',
	'server waited for a CPU',
	'generator µs/delivery',
];

function tableRows(rows: SummaryRow[]): string[][] {
	return rows.map((r) =>
		r.skipped
			? [r.description, '—', `not run: ${r.skipped}`, '—', '—', '—', '—', '—', '—', '—']
			: [
					r.description,
					String(r.members),
					r.cleanRate === null ? 'none clean' : r.cleanRate.toLocaleString('en-US'),
					millions(r.deliveriesPerSecond),
					cell(r.p50),
					cell(r.p99),
					cell(r.serverCpuPercent, '%'),
					cell(r.serverCpuUsPerDelivery),
					cell(r.serverCpuWaitPercent, '%'),
					cell(r.membersCpuUsPerDelivery),
				],
	);
}

export interface SideBySide {
	date: string;
	loadAverageBefore: number;
	rows: SummaryRow[];
	ratios: Ratio[];
	generator: GeneratorCeiling | null;
	seconds: number;
	criteria: string;
}

/** The summary as text lines for stdout. */
export function describe(summary: SideBySide): string[] {
	const lines = [
		'',
		'=== side by side (one run, this machine; quote the ratios) ===',
		`highest step with every delivery, no disconnect and p99 < 50 ms; load average before: ${summary.loadAverageBefore}`,
		markdownTable(TABLE_HEADER, tableRows(summary.rows)),
		'',
	];
	for (const r of summary.ratios)
		lines.push(
			`${r.pair}: highest clean rate ×${cell(r.cleanRate)}, deliveries/s there ×${cell(r.deliveriesPerSecond)}, ` +
				`server CPU per delivery ×${cell(r.serverCpuUsPerDelivery)}`,
		);
	if (summary.generator) lines.push(generatorLine(summary.generator));
	for (const row of summary.rows) {
		if (row.noisySteps.length > 0)
			lines.push(
				`${row.target}: lone dirty steps below its highest clean rate (noise): ${row.noisySteps.join(', ')}/s`,
			);
		if (row.stopReason) lines.push(`${row.target}: ${row.stopReason}`);
		if (row.starvedSteps.length > 0) lines.push(starvedLine(row));
		if (row.loginsPerSecond !== null)
			lines.push(
				`${row.target}: ${row.loginsPerSecond} logins/s at ${row.loginConcurrency} in flight, p99 ${row.loginP99} ms ` +
					`(one at a time: p99 ${cell(row.unloadedLoginP99)} ms)`,
			);
	}
	return lines;
}

const starvedLine = (row: SummaryRow) =>
	`${row.target}: dirty steps where the server waited ≥ ${STARVED_WAIT_PERCENT}% of the time for a CPU ` +
	`(starved by other jobs, not slow): ${row.starvedSteps.join(', ')}/s`;

function generatorLine(g: GeneratorCeiling): string {
	return (
		`load generator: took ${millions(g.deliveriesPerSecond)} deliveries/s at most (${g.target} at ${g.rate} msg/s` +
		`${g.complete ? '' : ', not all delivered'}) with ${g.procs} processes using ${g.membersCpuPercent}% of a core, ` +
		`${g.usPerDelivery} µs CPU per delivery: about ${millions(g.ceilingPerSecond)}/s with a core per process`
	);
}

/** Writes (or replaces) the section under `heading` in bench/RESULTS.md. */
async function replaceSection(file: string, heading: string, body: string): Promise<void> {
	const existing = await readFile(file, 'utf8').catch(() => '# Parley benchmark results\n');
	const section = `${heading}\n\n${body.trimEnd()}\n`;
	const start = existing.indexOf(`\n${heading}\n`);
	if (start === -1) {
		await writeFile(file, `${existing.trimEnd()}\n\n${section}`);
		return;
	}
	const after = existing.slice(start + 1 + heading.length).search(/^## /m);
	const end = after === -1 ? existing.length : start + 1 + heading.length + after;
	await writeFile(
		file,
		`${existing.slice(0, start + 1)}${section}${after === -1 ? '' : `\n${existing.slice(end)}`}`,
	);
}

export const RESULTS_HEADING = '## Side by side with ngircd and Redis (issue 14)';

export async function writeSideBySide(benchDir: string, summary: SideBySide): Promise<void> {
	const cpus = os.cpus();
	const body = [
		'`npm run bench` (or `npm run bench -- --only tcp,tcp-plain,ngircd,redis`), written by bench/run.ts;',
		"figures in bench/results/summary.json and bench/results/<target>-fanout.json. Peers from Debian's",
		'packages (`sudo scripts/install-bench-peers.sh`), each its own instance on a free 127.0.0.1 port.',
		'',
		'Scenario (bench/fanout.ts `PEER_SCENARIO`): 200 members in one room, 20 of them sending 100-byte',
		'lines at a stepped total rate, open loop (latency from the time each line was scheduled), the',
		'members split over 2 processes; every target steps through the same rates, interleaved. Parley',
		'is the stock `parley serve` with flags (`--rate-limit 100000 --rate-burst 100000',
		'--max-conns-per-address 4096 …`), accounts made in its store before it starts; ngircd runs with',
		'`MaxPenaltyTime = 0` and no connection caps; Redis with `--save "" --appendonly no`.',
		`Clean: ${summary.criteria}.`,
		'',
		`Machine: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores shared with other jobs; ${os.platform()} ${os.release()};`,
		`Node ${process.versions.node}. Date: ${summary.date}. Load average before the run: ${summary.loadAverageBefore}.`,
		`The fan-out targets took ${summary.seconds} s.`,
		'',
		markdownTable(TABLE_HEADER, tableRows(summary.rows)),
		'',
		...(summary.ratios.length > 0
			? [
					markdownTable(
						['ratio', 'highest clean rate', 'deliveries/s there', 'server CPU per delivery'],
						summary.ratios.map((r) => [
							r.pair,
							`×${cell(r.cleanRate)}`,
							`×${cell(r.deliveriesPerSecond)}`,
							`×${cell(r.serverCpuUsPerDelivery)}`,
						]),
					),
					'',
				]
			: []),
		...(summary.generator ? [`${generatorLine(summary.generator)}.`, ''] : []),
		...summary.rows.flatMap((row) => [
			...(row.stopReason ? [`- ${row.target}: ${row.stopReason}`] : []),
			...(row.starvedSteps.length > 0 ? [`- ${starvedLine(row)}`] : []),
		]),
	].join('\n');
	await replaceSection(path.join(benchDir, 'RESULTS.md'), RESULTS_HEADING, body);
}
