// UDP room fan-out benchmark: one UDP room server (its own process,
// bench/udp-server-child.ts), 50 real members (RoomClients from
// createRoomClient) spread over member processes, 10 of them sending at a
// stepped total rate. The measuring is bench/fanout.ts; this file only
// starts the server. Everything runs on 127.0.0.1, well under 90 s.
// bench/run.ts runs it interleaved with the other targets.
//
//   npm run build
//   npx node dist/bench/udp-fanout.js
//   npx node dist/bench/udp-fanout.js --rates 50,100,200 --step-ms 2000 --members 50 --senders 10 --procs 2
//
// Results: a table on stdout and bench/results/udp-fanout.json.

import path from 'node:path';
import process from 'node:process';
import {parseArgs} from 'node:util';
import {
	FANOUT_ARGS,
	RESULTS_DIR,
	SHARED_RATES,
	fanoutSettings,
	forkServer,
	isMain,
	runFanout,
	type FanoutOptions,
	type FanoutReport,
	type FanoutSettings,
} from './fanout.js';

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
			const server = await forkServer('udp-server-child.js', [
				'--rate',
				String(limits.ratePerSecond),
				'--burst',
				String(limits.burst),
				'--max-members',
				String(settings.members + 16),
			]);
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
