// The chaos table: printed, written as the "Chaos" section of
// bench/RESULTS.md (other sections kept), and as JSON.
import {mkdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import type {Row} from './kit.js';

/** A Markdown table, columns padded the way the formatter (Biome) lays them out. */
export function table(rows: Row[]): string {
	const cells = [
		['Scenario', 'Figure', 'Value', 'Bound', 'Result'],
		...rows.map((r) => [r.scenario, r.figure, r.value, r.bound, r.pass ? 'PASS' : '**FAIL**']),
	];
	const width = (text: string) => [...text].length;
	const widths = cells[0]!.map((_, i) => Math.max(3, ...cells.map((line) => width(line[i]!))));
	const format = (line: string[]) =>
		`| ${line.map((cell, i) => cell + ' '.repeat(widths[i]! - width(cell))).join(' | ')} |`;
	return [format(cells[0]!), format(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(format)].join(
		'\n',
	);
}

/** Replaces (or appends) the "## Chaos" section of the results file. */
export async function writeResults(
	benchDir: string,
	rows: Row[],
	meta: Record<string, unknown>,
): Promise<void> {
	const file = path.join(benchDir, 'RESULTS.md');
	const existing = await readFile(file, 'utf8').catch(() => '# Parley benchmark results\n');
	const section = [
		'## Chaos',
		'',
		`\`npm run chaos\`, ${meta.date} (${meta.seconds} s, Node ${process.versions.node}, ${meta.cpus} CPUs, open-file limit ${meta.fileLimit}).`,
		'Everything on loopback (127.x), servers are `parley serve` children unless the scenario says otherwise.',
		'',
		table(rows),
		'',
	].join('\n');
	const start = existing.search(/^## Chaos$/m);
	let next: string;
	if (start === -1) next = `${existing.trimEnd()}\n\n${section}`;
	else {
		const after = existing.slice(start + 1).search(/^## /m);
		const end = after === -1 ? existing.length : start + 1 + after;
		next = `${existing.slice(0, start)}${section}${after === -1 ? '' : `\n${existing.slice(end)}`}`;
	}
	await writeFile(file, next);
	await mkdir(path.join(benchDir, 'results'), {recursive: true});
	await writeFile(
		path.join(benchDir, 'results', 'chaos.json'),
		`${JSON.stringify({...meta, rows}, null, '\t')}\n`,
	);
}
