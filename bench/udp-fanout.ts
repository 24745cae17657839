// UDP room fan-out benchmark: the stock `parley serve` (its own process, with
// flags only: the per-member rate raised so the offered rate is what is
// measured, and the per-address caps raised as every member comes from
// 127.0.0.1), 50 real members (RoomClients from createRoomClient) spread over
// member processes, 10 of them sending at a stepped total rate. The measuring
// is bench/fanout.ts; this file only starts the server. Everything runs on
// 127.0.0.1, well under 90 s. bench/run.ts runs it interleaved with the other
// targets. The server's CPU comes from /proc (bench/process-server.ts).
//
//   npm run build
//   npx node dist/bench/udp-fanout.js
//   npx node dist/bench/udp-fanout.js --rates 50,100,200 --step-ms 2000 --members 50 --senders 10 --procs 2
//
// Results: a table on stdout and bench/results/udp-fanout.json.

import {mkdtemp, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {
	FANOUT_ARGS,
	RESULTS_DIR,
	SHARED_RATES,
	fanoutSettings,
	isMain,
	runFanout,
	type FanoutOptions,
	type FanoutReport,
	type FanoutSettings,
} from './fanout.js';
import {spawnServer} from './process-server.js';

/** The built `parley` executable (this file runs from dist/bench). */
const PARLEY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../parley.js');
const serverNodeArgs = () =>
	(process.env.PARLEY_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
const UDP_READY = /udp room "[^"]*" listening on [^ ]+:(\d+)$/;

export const UDP_DEFAULTS: FanoutSettings = {
	members: 50,
	senders: 10,
	procs: 2,
	rates: SHARED_RATES,
	stepMs: 3000,
	budgetMs: 80_000,
	outFile: path.join(RESULTS_DIR, 'udp-fanout.json'),
};

/** The UDP room as a benchmark target. */
export function udpFanoutOptions(settings: FanoutSettings = UDP_DEFAULTS): FanoutOptions {
	// Raised per-member limits so the offered rate, not the room's flood control, is what is measured.
	const limits = {ratePerSecond: 100_000, burst: 100_000};
	return {
		benchmark: 'udp-fanout',
		label: 'UDP',
		...settings,
		joinConcurrency: settings.members,
		serverLimits: limits,
		async startServer() {
			const dataDir = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-udp-'));
			const flags = [
				'--host',
				'127.0.0.1',
				'--udp-port',
				'0',
				'--tcp-port',
				'0',
				'--data-dir',
				dataDir,
				'--rate-limit',
				String(limits.ratePerSecond),
				'--rate-burst',
				String(limits.burst),
				'--max-members',
				String(settings.members + 16),
				// Every simulated member comes from this one host.
				'--max-members-per-address',
				String(settings.members + 16),
				'--hello-per-minute',
				'1000000',
			];
			let udpPort: number | undefined;
			const server = await spawnServer({
				command: process.execPath,
				// PARLEY_BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles it, as for the children.
				args: [...serverNodeArgs(), PARLEY, 'serve', ...flags],
				// Ready once both rooms listen; the UDP room's line comes first.
				ready(line) {
					const udp = UDP_READY.exec(line);
					if (udp) udpPort = Number(udp[1]);
					return /tcp room .* listening on/.test(line) ? udpPort : undefined;
				},
				detail: {server: 'parley serve (stock)', flags: flags.filter((flag) => flag !== dataDir)},
				cleanup: () => rm(dataDir, {recursive: true, force: true}),
			});
			const url = `udp://127.0.0.1:${server.port}`;
			return {server, target: {kind: 'udp', url}, address: url};
		},
	};
}

export const runUdpFanout = (settings: FanoutSettings = UDP_DEFAULTS): Promise<FanoutReport> =>
	runFanout(udpFanoutOptions(settings));

if (isMain(import.meta.url)) {
	const {values} = parseArgs({options: FANOUT_ARGS});
	runUdpFanout(fanoutSettings(values, UDP_DEFAULTS)).catch((error: unknown) => {
		process.stderr.write(
			`udp-fanout: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
		);
		process.exitCode = 1;
	});
}
