// A connection generator of the idle-connections benchmark
// (bench/idle-connections.ts): it logs its accounts in, each over a TLS
// connection of its own (SCRAM-SHA-256-PLUS, as the real client does), joins
// each to its one room, times every login, then holds the connections open and
// idle (the client's own keepalive pings only) until told to quit. Started by
// bench/idle-connections.ts with a raised open-file limit; not run by hand.

import {rmSync} from 'node:fs';
import {mkdtemp} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {KnownHosts} from '../source/client/known-hosts.js';
import {RoomSession} from '../source/client/room-session.js';
import {TcpConnectionPool} from '../source/client/tcp-connection-pool.js';
import {clock, cpuMs, pool} from './util.js';

export type ToIdleChild =
	| {
			type: 'connect';
			host: string;
			port: number;
			password: string;
			/** Each account and the one room it joins. */
			accounts: Array<{user: string; room: string}>;
			concurrency: number;
			/** When to start (clock()), so every generator starts together. */
			startAt: number;
	  }
	| {type: 'status'}
	| {type: 'quit'};

export type FromIdleChild =
	| {
			type: 'connected';
			count: number;
			failures: number;
			firstError: string | null;
			/** Login + join time of each connection, ms. */
			timesMs: Float64Array;
			endAt: number;
			cpuMs: number;
	  }
	/** State changes away from connected since the logins (a connection the server dropped). */
	| {type: 'status'; sessions: number; dropped: number}
	| {type: 'failed'; error: string};

const scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-idle-client-'));
const knownHosts = new KnownHosts(path.join(scratch, 'known_hosts'));
const connections = new TcpConnectionPool();
const sessions: RoomSession[] = [];
let dropped = 0;

const reply = (message: FromIdleChild): void => {
	process.send?.(message);
};

async function connect(message: Extract<ToIdleChild, {type: 'connect'}>): Promise<void> {
	const endpoint = {host: message.host, port: message.port, knownHosts, confirmNewHost: async () => true};
	// The first login pins the certificate (known_hosts) before the others go in parallel.
	const [first, ...rest] = message.accounts;
	const times: number[] = [];
	let failures = 0;
	let firstError: string | null = null;
	const cpuStart = cpuMs();
	await new Promise((resolve) => setTimeout(resolve, Math.max(0, message.startAt - clock())));
	const login = async ({user, room}: {user: string; room: string}) => {
		const started = clock();
		const session = new RoomSession(connections.channel(endpoint, room));
		try {
			await session.connect(user, message.password);
			times.push(clock() - started);
			// A connection the server dropped would reconnect: counted, so the bench can tell.
			session.subscribe((event) => {
				if (event.type === 'state' && event.state !== 'connected') dropped++;
			});
			sessions.push(session);
		} catch (error) {
			failures++;
			firstError ??= error instanceof Error ? error.message : String(error);
		}
	};
	if (first) await login(first);
	await pool(rest, message.concurrency, login);
	reply({
		type: 'connected',
		count: times.length,
		failures,
		firstError,
		timesMs: Float64Array.from(times),
		endAt: clock(),
		cpuMs: cpuMs() - cpuStart,
	});
}

const quit = (): never => {
	for (const session of sessions) void session.close();
	rmSync(scratch, {recursive: true, force: true});
	process.exit(0);
};

process.on('message', (raw: unknown) => {
	const message = raw as ToIdleChild;
	if (message.type === 'quit') return quit();
	if (message.type === 'status') {
		reply({type: 'status', sessions: sessions.length, dropped});
		return;
	}
	connect(message).catch((error: unknown) => reply({type: 'failed', error: String(error)}));
});
process.on('disconnect', quit);
