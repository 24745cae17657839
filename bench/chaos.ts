// `npm run chaos`: attacks and failures against real servers on loopback,
// each figure checked against its bound. Prints the table, writes it to
// bench/RESULTS.md and bench/results/chaos.json, exits 1 if any bound fails.
// Run it through the npm script, which raises the open-file limit first.
import {execFileSync} from 'node:child_process';
import {availableParallelism} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {row, type Row} from './chaos/kit.js';
import {amplification} from './chaos/amplification.js';
import {bruteForce} from './chaos/brute-force.js';
import {capture} from './chaos/capture.js';
import {durability} from './chaos/durability.js';
import {malformedFlood} from './chaos/malformed.js';
import {slowReader} from './chaos/slow-reader.js';
import {socketHoard} from './chaos/sockets.js';
import {table, writeResults} from './chaos/report.js';

const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench');

const scenarios: Array<[string, () => Promise<Row[]>]> = [
	['1 malformed flood', malformedFlood],
	['2 socket hoard', socketHoard],
	['3 brute force', bruteForce],
	['4 slow reader', slowReader],
	['5/6 database', durability],
	['7 UDP amplification', amplification],
	['8 capture', capture],
];

function fileLimit(): string {
	try {
		return execFileSync('sh', ['-c', 'ulimit -n'], {encoding: 'utf8'}).trim();
	} catch {
		return 'unknown';
	}
}

const only = process.argv.slice(2);
const started = Date.now();
const rows: Row[] = [];
for (const [name, run] of scenarios) {
	if (only.length > 0 && !only.some((o) => name.startsWith(o))) continue;
	const t0 = Date.now();
	process.stdout.write(`${name} … `);
	try {
		rows.push(...(await run()));
	} catch (error) {
		rows.push(
			row(
				name,
				'ran to the end',
				String((error as Error).message ?? error)
					.replace(/\s+/g, ' ')
					.slice(0, 300),
				'no error',
				false,
			),
		);
	}
	process.stdout.write(`${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
const seconds = Math.round((Date.now() - started) / 1000);
console.log(`\n${table(rows)}\n`);
await writeResults(BENCH_DIR, rows, {
	date: new Date().toISOString(),
	seconds,
	cpus: availableParallelism(),
	fileLimit: fileLimit(),
});
const failed = rows.filter((r) => !r.pass).length;
console.log(
	failed === 0 ? `all ${rows.length} bounds hold (${seconds} s)` : `${failed} of ${rows.length} bounds FAIL`,
);
process.exit(failed === 0 ? 0 : 1);
