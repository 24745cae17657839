// TCP room fan-out benchmark: the TLS-authenticated room server
// (bench/tcp-server-child.ts: TLS 1.3, node:sqlite store, production SCRAM
// iteration count) in its own process, 200 members as real clients
// (TcpTransport + RoomSession, certificate pinned in a temporary known_hosts)
// over a few member processes. It measures logins a second (TLS handshake +
// SCRAM-SHA-256-PLUS, many at once), then the stepped message rates of
// bench/fanout.ts with fan-out to all 200. Everything runs on 127.0.0.1.
//
//   npm run build
//   npx node dist/bench/tcp-fanout.js
//   npx node dist/bench/tcp-fanout.js --rates 25,50,100 --members 200 --procs 3 --logins 400 --login-concurrency 50
//
// Results: a table on stdout and bench/results/tcp-fanout.json. bench/run.ts
// runs it interleaved with the other targets.

import {randomBytes} from 'node:crypto';
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

export interface TcpSettings extends FanoutSettings {
	logins: number;
	loginConcurrency: number;
	joinConcurrency: number;
}

export const TCP_DEFAULTS: TcpSettings = {
	members: 200,
	senders: 10,
	procs: 3,
	rates: SHARED_RATES,
	stepMs: 3000,
	budgetMs: 90_000,
	outFile: path.join(RESULTS_DIR, 'tcp-fanout.json'),
	logins: 400,
	loginConcurrency: 50,
	joinConcurrency: 50,
};

/** The TCP room as a benchmark target. */
export function tcpFanoutOptions(settings: TcpSettings = TCP_DEFAULTS): FanoutOptions {
	// Raised limits, as for the UDP room: the per-member rate, and the per-address
	// connection cap (16 in production) since every client here is 127.0.0.1.
	const limits = {ratePerSecond: 100_000, burst: 100_000, maxConnectionsPerAddress: 4096};
	const password = randomBytes(12).toString('base64url');
	return {
		benchmark: 'tcp-fanout',
		label: 'TCP',
		...settings,
		// First unloaded (one at a time: the latency a user sees), then many at once (throughput).
		logins: [
			{count: Math.min(30, settings.logins), concurrency: 1},
			{count: settings.logins, concurrency: settings.loginConcurrency},
		],
		serverLimits: limits,
		async startServer() {
			const server = await forkServer('tcp-server-child.js', [
				'--users',
				String(settings.members),
				// One argument: a base64url password may start with '-'.
				`--password=${password}`,
				'--rate',
				String(limits.ratePerSecond),
				'--burst',
				String(limits.burst),
				'--max-members',
				String(settings.members + 16),
				'--max-per-address',
				String(limits.maxConnectionsPerAddress),
			]);
			return {
				server,
				target: {kind: 'tcp', host: '127.0.0.1', port: server.port, password},
				address: `tcp://127.0.0.1:${server.port} (TLS)`,
			};
		},
	};
}

export const runTcpFanout = (settings: TcpSettings = TCP_DEFAULTS): Promise<FanoutReport> =>
	runFanout(tcpFanoutOptions(settings));

export const TCP_ARGS = {
	...FANOUT_ARGS,
	logins: {type: 'string'},
	'login-concurrency': {type: 'string'},
	'join-concurrency': {type: 'string'},
} as const;

export function tcpSettings(
	values: Partial<Record<keyof typeof TCP_ARGS, string>>,
	defaults = TCP_DEFAULTS,
): TcpSettings {
	const count = (text: string | undefined, fallback: number) =>
		Math.min(5000, Math.max(1, Number(text ?? fallback) || fallback));
	return {
		...fanoutSettings(values, defaults),
		logins: count(values.logins, defaults.logins),
		loginConcurrency: count(values['login-concurrency'], defaults.loginConcurrency),
		joinConcurrency: count(values['join-concurrency'], defaults.joinConcurrency),
	};
}

if (isMain(import.meta.url)) {
	const {values} = parseArgs({options: TCP_ARGS});
	runTcpFanout(tcpSettings(values)).catch((error: unknown) => {
		process.stderr.write(
			`tcp-fanout: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
		);
		process.exitCode = 1;
	});
}
