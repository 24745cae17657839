// TCP room fan-out benchmark: the stock `parley serve` (dist/parley.js, the
// same build users run) in its own process with its limits set by flags, a
// fresh data directory whose 200 accounts are made through the account store
// before it starts (each with its own salt, at the production SCRAM iteration
// count, as `parley user add` makes them), and issue 14's scenario from
// bench/fanout.ts: 200 members, 20 senders, 100-byte lines, open loop. It
// measures logins a second (TLS handshake + SCRAM-SHA-256-PLUS), then the
// stepped rates. With `tls: false` the same server runs --insecure-plaintext.
//
//   npm run build
//   node dist/bench/tcp-fanout.js [--plaintext] [--rates 1000,2000 --members 200 --procs 2 --logins 200]
//
// Results: a table on stdout and bench/results/tcp-fanout.json (tcp-plain-fanout.json).
// bench/run.ts runs it interleaved with the other targets.

import {randomBytes} from 'node:crypto';
import {mkdtemp, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {openStore} from '../server/store/open-store.js';
import {DEFAULT_ITERATIONS, deriveVerifier} from '../source/protocol/scram.js';
import {
	FANOUT_ARGS,
	PEER_SCENARIO,
	RESULTS_DIR,
	fanoutSettings,
	isMain,
	nodeArgs,
	runFanout,
	type FanoutOptions,
	type FanoutReport,
	type FanoutSettings,
} from './fanout.js';
import {spawnServer} from './process-server.js';
import {pool} from './util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The built executable, next to dist/bench. */
const PARLEY = path.resolve(here, '../parley.js');

export interface TcpSettings extends FanoutSettings {
	logins: number;
	loginConcurrency: number;
	joinConcurrency: number;
}

export const TCP_DEFAULTS: TcpSettings = {
	...PEER_SCENARIO,
	rates: [...PEER_SCENARIO.rates],
	outFile: path.join(RESULTS_DIR, 'tcp-fanout.json'),
	logins: 200,
	// The login throttle counts a login in flight as a failure until it succeeds (bench/RESULTS.md, "Many rooms").
	loginConcurrency: 16,
};

/**
 * The flags the benchmark gives `parley serve`: every client is 127.0.0.1 and
 * a sender goes far past a person's 5 lines a second, so the per-member rate,
 * the per-address caps and the failed-login throttle per address are raised.
 */
export function serveFlags(members: number): string[] {
	return [
		'--rate-limit',
		'100000',
		'--rate-burst',
		'100000',
		'--max-members',
		String(members + 16),
		'--max-conns-per-address',
		'4096',
		'--max-conns',
		'8192',
		'--login-attempts-per-address',
		'100000',
		// At 3,000 msg/s the default 1 MiB queue cut members off as too slow.
		'--max-send-queue-bytes',
		'8388608',
	];
}

/** Accounts m000, m001, … with one password, made through the store in `dataDir` before the server starts. */
async function makeAccounts(dataDir: string, count: number, password: string): Promise<void> {
	const store = await openStore({dataDir, log: () => {}});
	try {
		const users = Array.from({length: count}, (_, i) => `m${String(i).padStart(3, '0')}`);
		await pool(users, 8, async (user) =>
			store.createUser(user, await deriveVerifier(password, undefined, DEFAULT_ITERATIONS)),
		);
	} finally {
		await store.close();
	}
}

/** The TCP room of stock `parley serve` as a benchmark target (TLS, or plaintext). */
export function tcpFanoutOptions(settings: TcpSettings = TCP_DEFAULTS, {tls = true} = {}): FanoutOptions {
	const password = randomBytes(12).toString('base64url');
	const flags = [...serveFlags(settings.members), ...(tls ? [] : ['--insecure-plaintext'])];
	const {logins, loginConcurrency, ...fanout} = settings;
	return {
		benchmark: tls ? 'tcp-fanout' : 'tcp-plain-fanout',
		label: tls ? 'TCP' : 'TCP-PLAIN',
		...fanout,
		// Logins only where they are the product's (TLS): first one at a time (the latency a user sees), then many at once.
		...(tls
			? {
					logins: [
						{count: Math.min(20, logins), concurrency: 1},
						{count: logins, concurrency: loginConcurrency},
					],
				}
			: {}),
		serverLimits: {serve: flags.join(' ')},
		async startServer() {
			const dataDir = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-serve-'));
			await makeAccounts(dataDir, settings.members, password);
			const server = await spawnServer({
				command: process.execPath,
				// PARLEY_BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles it, as the forked servers.
				args: [
					...nodeArgs('PARLEY_BENCH_SERVER_NODE_ARGS'),
					PARLEY,
					'serve',
					'--host',
					'127.0.0.1',
					'--tcp-port',
					'0',
					'--udp-port',
					'0',
					'--data-dir',
					dataDir,
					...flags,
				],
				// No server.toml of the user's: only the flags count.
				env: {...process.env, XDG_CONFIG_HOME: dataDir},
				ready: (line) => {
					const match = /tcp room .* listening on \S+:(\d+)/.exec(line);
					return match ? Number(match[1]) : undefined;
				},
				detail: {
					program: `parley serve ${flags.join(' ')}`,
					tls: tls
						? 'TLSv1.3, SCRAM-SHA-256-PLUS (tls-exporter)'
						: 'none (--insecure-plaintext), SCRAM-SHA-256',
					store: 'node:sqlite in a fresh data dir',
					iterations: DEFAULT_ITERATIONS,
					accounts: settings.members,
				},
				cleanup: () => rm(dataDir, {recursive: true, force: true}),
			});
			return {
				server,
				target: {kind: 'parley', host: '127.0.0.1', port: server.port, password, tls},
				address: `tcp://127.0.0.1:${server.port} (${tls ? 'TLS' : 'plaintext'})`,
			};
		},
	};
}

export const runTcpFanout = (settings: TcpSettings = TCP_DEFAULTS, tls = true): Promise<FanoutReport> =>
	runFanout(tcpFanoutOptions(settings, {tls}));

const TCP_ARGS = {
	...FANOUT_ARGS,
	plaintext: {type: 'boolean'},
	logins: {type: 'string'},
	'login-concurrency': {type: 'string'},
	'join-concurrency': {type: 'string'},
} as const;

function tcpSettings(
	values: Partial<Record<Exclude<keyof typeof TCP_ARGS, 'plaintext'>, string>>,
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
	const {plaintext, ...rest} = values;
	const defaults = plaintext
		? {...TCP_DEFAULTS, outFile: path.join(RESULTS_DIR, 'tcp-plain-fanout.json')}
		: TCP_DEFAULTS;
	runTcpFanout(tcpSettings(rest, defaults), !plaintext).catch((error: unknown) => {
		process.stderr.write(
			`tcp-fanout: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
		);
		process.exitCode = 1;
	});
}
