// The peers the TCP room is measured against, in the same scenario
// (bench/fanout.ts PEER_SCENARIO): ngircd (a C IRC server: 200 users in one
// channel, PRIVMSG, plaintext) and Redis pub/sub (200 subscribers of one
// channel, PUBLISH). Each runs as its own instance, from Debian's packages
// (scripts/install-bench-peers.sh), with its own config in a temporary
// directory on a free 127.0.0.1 port, never a system-wide one; stopped by pid.
//
//   npm run build
//   node dist/bench/peer-fanout.js ngircd|redis [--rates 1000,2000 --step-ms 2000 --procs 2]

import {execFileSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdtemp, mkdir, rm, writeFile} from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {parseArgs} from 'node:util';
import {
	FANOUT_ARGS,
	PEER_SCENARIO,
	RESULTS_DIR,
	fanoutSettings,
	isMain,
	runFanout,
	type FanoutOptions,
	type FanoutSettings,
} from './fanout.js';
import {spawnServer} from './process-server.js';

const CHANNEL = '#bench';
const INSTALL_HINT = 'install it with: sudo scripts/install-bench-peers.sh';

export const peerDefaults = (name: string): FanoutSettings => ({
	...PEER_SCENARIO,
	rates: [...PEER_SCENARIO.rates],
	outFile: path.join(RESULTS_DIR, `${name}-fanout.json`),
});

/** The program's path, looked up in PATH and the sbin directories (Debian puts ngircd in /usr/sbin). */
export function findProgram(name: string): string | undefined {
	const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'];
	for (const dir of dirs) {
		const candidate = path.join(dir, name);
		if (dir !== '' && existsSync(candidate)) return candidate;
	}
	return undefined;
}

/** Why a peer cannot run here (not installed), or undefined when it can. */
export function peerMissing(program: 'ngircd' | 'redis-server'): string | undefined {
	return findProgram(program) ? undefined : `${program} is not installed; ${INSTALL_HINT}`;
}

/** A port free on 127.0.0.1 a moment ago (for servers that cannot pick their own and tell it). */
function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const probe = net.createServer();
		probe.once('error', reject);
		probe.listen(0, '127.0.0.1', () => {
			const {port} = probe.address() as net.AddressInfo;
			probe.close(() => resolve(port));
		});
	});
}

const versionOf = (program: string, flag: string) => {
	try {
		return execFileSync(program, [flag], {encoding: 'utf8'}).split('\n')[0]!.trim();
	} catch {
		return 'unknown';
	}
};

/**
 * ngircd's limits opened up for 200 users from one address sending far past a
 * person's rate: no connection caps, no penalty time (its flood control delays
 * a client's next command by a second per command), pings rare.
 */
function ngircdConfig(port: number, dir: string): string {
	return `[Global]
Name = bench.parley.test
Info = Parley benchmark peer
AdminInfo1 = Parley benchmark
AdminInfo2 = 127.0.0.1 only
AdminEMail = bench@parley.test
Listen = 127.0.0.1
Ports = ${port}
MotdPhrase = "bench"
[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
MaxNickLength = 31
MaxPenaltyTime = 0
PingTimeout = 600
PongTimeout = 600
[Options]
DNS = no
Ident = no
PAM = no
IncludeDir = ${dir}/conf.d
`;
}

export function ngircdFanoutOptions(settings: FanoutSettings = peerDefaults('ngircd')): FanoutOptions {
	const program = findProgram('ngircd') ?? 'ngircd';
	return {
		benchmark: 'ngircd-fanout',
		label: 'NGIRCD',
		...settings,
		joinConcurrency: PEER_SCENARIO.joinConcurrency,
		// IRC does not echo a PRIVMSG to its sender.
		deliveriesPerMessage: settings.members - 1,
		serverLimits: {MaxPenaltyTime: 0, MaxConnectionsIP: 0, MaxConnections: 0},
		async startServer() {
			const dir = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-ngircd-'));
			await mkdir(path.join(dir, 'conf.d'));
			const port = await freePort();
			const config = path.join(dir, 'ngircd.conf');
			await writeFile(config, ngircdConfig(port, dir));
			const server = await spawnServer({
				command: program,
				// -n: in the foreground, logging to stdout; it drops root for "nobody" by itself.
				args: ['-n', '-f', config],
				ready: (line) => (/Server ".*" .*ready/.test(line) ? port : undefined),
				detail: {program: versionOf(program, '--version'), config: 'MaxPenaltyTime = 0, no connection caps'},
				cleanup: () => rm(dir, {recursive: true, force: true}),
			});
			return {
				server,
				target: {kind: 'irc', host: '127.0.0.1', port, channel: CHANNEL},
				address: `irc://127.0.0.1:${port}/${CHANNEL} (plaintext)`,
			};
		},
	};
}

export function redisFanoutOptions(settings: FanoutSettings = peerDefaults('redis')): FanoutOptions {
	const program = findProgram('redis-server') ?? 'redis-server';
	const flags = ['--save', '', '--appendonly', 'no'];
	return {
		benchmark: 'redis-fanout',
		label: 'REDIS',
		...settings,
		joinConcurrency: PEER_SCENARIO.joinConcurrency,
		serverLimits: {flags: '--save "" --appendonly no (otherwise stock)'},
		async startServer() {
			const dir = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-redis-'));
			const port = await freePort();
			const server = await spawnServer({
				command: program,
				args: ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...flags],
				ready: (line) => (line.includes('Ready to accept connections') ? port : undefined),
				detail: {program: versionOf(program, '--version'), flags: flags.join(' ')},
				cleanup: () => rm(dir, {recursive: true, force: true}),
			});
			return {
				server,
				target: {kind: 'redis', host: '127.0.0.1', port, channel: CHANNEL},
				address: `redis://127.0.0.1:${port} channel ${CHANNEL}`,
			};
		},
	};
}

if (isMain(import.meta.url)) {
	const {values, positionals} = parseArgs({options: FANOUT_ARGS, allowPositionals: true});
	const which = positionals[0] === 'redis' ? 'redis' : 'ngircd';
	const missing = peerMissing(which === 'redis' ? 'redis-server' : 'ngircd');
	if (missing) {
		process.stderr.write(`peer-fanout: ${missing}\n`);
		process.exit(1);
	}
	const settings = fanoutSettings(values, peerDefaults(which));
	runFanout(which === 'redis' ? redisFanoutOptions(settings) : ngircdFanoutOptions(settings)).catch(
		(error: unknown) => {
			process.stderr.write(
				`peer-fanout: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
			);
			process.exitCode = 1;
		},
	);
}
