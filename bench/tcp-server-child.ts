// The TCP room server for benchmarks, in a process of its own, set up as in
// production: TLS 1.3 with the self-signed certificate of
// server/tls/certificate.ts, the node:sqlite store (in a temporary data
// directory) with accounts made by deriveVerifier at the production iteration
// count, and SCRAM-SHA-256-PLUS logins. What differs from `parley serve`:
// the per-member rate limit and the per-address connection cap are options,
// since every benchmark client comes from 127.0.0.1 and a fast sender would
// otherwise be throttled to 5 messages a second.
//
//   node dist/bench/tcp-server-child.js --users 200 --password PW [--rate 100000] [--burst 100000] [--max-members 256] [--max-per-address 4096]
//
// Accounts are m000, m001, … all with the one password. Forked, it reports
// {type:'ready', port, detail} and answers {type:'stats'} (bench/protocol.ts);
// {type:'quit'}, SIGINT, SIGTERM or the parent going away stop it and remove
// the data directory.
import {readFileSync} from 'node:fs';
import {mkdtemp, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {parseArgs} from 'node:util';
import {LoginThrottle} from '../server/auth/login-throttle.js';
import {loadOrCreateServerSecret} from '../server/auth/server-secret.js';
import {openSqliteStore} from '../server/store/sqlite-store.js';
import {startTcpRoomServer} from '../server/tcp/tcp-room-server.js';
import {loadOrCreateCertificate} from '../server/tls/certificate.js';
import {DEFAULT_ITERATIONS, deriveVerifier} from '../source/protocol/scram.js';
import type {ServerChildReply, ServerChildRequest} from './protocol.js';
import {cpuMs, pool, loopDelayMonitor} from './util.js';

const {values} = parseArgs({
	options: {
		host: {type: 'string', default: '127.0.0.1'},
		port: {type: 'string', default: '0'},
		users: {type: 'string', default: '200'},
		password: {type: 'string', default: 'bench password'},
		rate: {type: 'string', default: '100000'},
		burst: {type: 'string', default: '100000'},
		'max-members': {type: 'string', default: '256'},
		'max-per-address': {type: 'string', default: '4096'},
	},
});

const number = (name: keyof typeof values): number => {
	const value = Number(values[name]);
	if (!Number.isFinite(value) || value < 0)
		throw new Error(`--${name} must be a non-negative number, not ${values[name]}`);
	return value;
};

const forked = typeof process.send === 'function';
const loop = loopDelayMonitor();
const reply = (message: ServerChildReply): void => {
	process.send?.(message);
};
const log = forked
	? undefined
	: (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-tcp-'));
const store = await openSqliteStore(dataDir);
const certificate = await loadOrCreateCertificate(dataDir);
// Each account gets its own salt, as `parley user add` would make it.
const users = Array.from({length: number('users')}, (_, i) => `m${String(i).padStart(3, '0')}`);
await pool(users, 8, async (user) =>
	store.createUser(user, await deriveVerifier(values.password, undefined, DEFAULT_ITERATIONS)),
);

const maxPerAddress = number('max-per-address');
const server = await startTcpRoomServer({
	host: values.host,
	port: number('port'),
	store,
	// The local journal on disk (fsynced), as `parley serve` has it: acknowledged means durable.
	dataDir,
	serverSecret: await loadOrCreateServerSecret(dataDir),
	tls: certificate,
	maxMembers: number('max-members'),
	maxConnectionsPerAddress: maxPerAddress,
	maxConnections: Math.max(2048, maxPerAddress),
	limits: {ratePerSecond: number('rate'), burst: number('burst')},
	// Every client is 127.0.0.1, logging in many at once (`parley serve --login-attempts-per-address`).
	throttle: new LoginThrottle({perAddress: {maxFailures: 100_000, windowMs: 60_000}}),
	...(log ? {log} : {}),
});

let stopping = false;
const stop = async (): Promise<void> => {
	if (stopping) return;
	stopping = true;
	await server.close();
	await store.close();
	await rm(dataDir, {recursive: true, force: true});
	process.disconnect?.();
	process.exit(0);
};

/** Linux: how long the main thread has waited for a CPU (other jobs on the machine), from /proc/self/schedstat. */
const runQueueWait = (): {runQueueWaitMs?: number} => {
	try {
		return {runQueueWaitMs: Number(readFileSync('/proc/self/schedstat', 'utf8').split(' ')[1]) / 1e6};
	} catch {
		return {};
	}
};

/** Members of all rooms (a connection in five rooms counts five times). */
const memberships = (): number => {
	let count = 0;
	for (const room of server.hub.all()) count += room.size;
	return count;
};

process.on('message', (raw: unknown) => {
	const message = raw as ServerChildRequest;
	if (message.type === 'quit') void stop();
	else if (message.type === 'stats')
		reply({
			type: 'stats',
			members: server.room.size,
			cpuMs: cpuMs(),
			loopDelay: loop.take(),
			rssBytes: process.memoryUsage.rss(),
			rooms: server.hub.openRooms,
			memberships: memberships(),
			...runQueueWait(),
			counters: {
				messages: server.room.stats.messages,
				rateLimited: server.room.stats.rateLimited,
				connections: server.stats.connections,
				logins: server.stats.logins,
				failedLogins: server.stats.failedLogins,
				violations: server.stats.violations,
			},
		});
});
process.on('disconnect', () => void stop());
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

reply({
	type: 'ready',
	port: server.port,
	detail: {
		tls: 'TLSv1.3',
		certificate: certificate.fingerprint,
		mechanism: 'SCRAM-SHA-256-PLUS (tls-exporter)',
		iterations: DEFAULT_ITERATIONS,
		store: 'node:sqlite (WAL, synchronous=NORMAL)',
		accounts: users.length,
	},
});
