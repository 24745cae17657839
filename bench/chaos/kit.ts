// Shared pieces of the chaos run: a result row, a server's RSS, a `parley
// serve` child with accounts, honest members that chat and time each line,
// and raw TLS logins for the attackers.
import {randomBytes} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {mkdtemp} from 'node:fs/promises';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {KnownHosts} from '../../source/client/known-hosts.js';
import type {RoomClient} from '../../source/client/types.js';
import {ScramClient, deriveVerifier, tlsExporterChannelBinding} from '../../source/protocol/scram.js';
import {tcpClient, type TcpTestClient} from '../../test/helpers/tcp-fixture.js';
import {RawMember} from '../../test/helpers/tcp-raw-client.js';
import {ServeProcess, freePort} from '../../test/helpers/tcp-serve-process.js';
import {delay, waitFor} from '../../test/helpers/wait.js';

/** One figure of the table: what was measured, its bound, and whether it held. */
export interface Row {
	scenario: string;
	figure: string;
	value: string;
	bound: string;
	pass: boolean;
}

export const row = (
	scenario: string,
	figure: string,
	value: string | number,
	bound: string,
	pass: boolean,
): Row => ({
	scenario,
	figure,
	value: String(value),
	bound,
	pass,
});

export const password = (user: string) => `${user} chaos password`;

/** Resident memory of a process in MB, from /proc (Linux). */
export function rssMb(pid: number | undefined): number {
	if (pid === undefined) return Number.NaN;
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
	return Math.round(kb / 102.4) / 10;
}

export function p99(samples: number[]): number {
	if (samples.length === 0) return Number.NaN;
	const sorted = [...samples].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

export interface Served {
	serve: ServeProcess;
	port: number;
	udpPort: number;
	dataDir: string;
	knownHosts: KnownHosts;
}

/** A `parley serve` child on 127.0.0.1 with a fresh data dir (SQLite accounts unless `db`). */
export async function startServe(
	users: string[],
	options: {db?: string; room?: string; extraArgs?: string[]; dataDir?: string; port?: number} = {},
): Promise<Served> {
	const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'parley-chaos-')));
	if (!options.db) {
		const store = await openSqliteStore(dataDir);
		for (const user of users)
			if (!(await store.getVerifier(user)))
				await store.createUser(user, await deriveVerifier(password(user)));
		await store.close();
	}
	const port = options.port ?? (await freePort());
	const serve = await ServeProcess.start({
		tcpPort: port,
		dataDir,
		...(options.db ? {db: options.db} : {}),
		...(options.room ? {room: options.room} : {}),
		...(options.extraArgs ? {extraArgs: options.extraArgs} : {}),
	});
	const udpLine = await serve.waitForLine(/udp room ".*" listening on/);
	const udpPort = Number(/:(\d+)\s*$/.exec(udpLine)?.[1]);
	return {serve, port, udpPort, dataDir, knownHosts: new KnownHosts(path.join(dataDir, 'chaos_known_hosts'))};
}

/** A logged-in, joined TCP member of a served room (the real client). */
export async function member(served: Served, user: string): Promise<TcpTestClient> {
	const made = tcpClient({host: '127.0.0.1', port: served.port, knownHosts: served.knownHosts});
	await made.client.connect(user, password(user));
	return made;
}

/** What chat() needs of a member: say a line, hear others' lines. */
export interface Talker {
	say(text: string): void;
	/** Calls back with the text of each line another member said; returns an unsubscribe. */
	hear(listener: (text: string) => void): () => void;
}

export function talker(client: RoomClient): Talker {
	return {
		say: (text) => void client.say(text),
		hear: (listener) =>
			client.subscribe((event) => {
				if (event.type === 'message' && !event.self && !event.history) listener(event.text);
			}),
	};
}

/** A raw member (any source address) as a talker: its msg frames are the lines it hears. */
export function rawTalker(raw: RawMember): Talker {
	return {
		say: (text) => raw.send({t: 'say', ref: randomBytes(6).toString('hex'), text}),
		hear(listener) {
			let seen = raw.frames.length;
			const onData = () => {
				for (; seen < raw.frames.length; seen++) {
					const frame = raw.frames[seen]!;
					if (frame.t === 'msg' && typeof frame.text === 'string') listener(frame.text);
				}
			};
			raw.socket.on('data', onData);
			return () => raw.socket.off('data', onData);
		},
	};
}

/** Logs in over a raw TLS socket from `localAddress` and joins; resolves at the welcome. */
export async function rawJoin(port: number, user: string, localAddress: string): Promise<RawMember> {
	const made = await tlsMember(port, localAddress);
	const scram = new ScramClient({
		username: user,
		password: password(user),
		channelBinding: tlsExporterChannelBinding(made.socket),
		serverOffersPlus: true,
	});
	made.send({t: 'auth', mech: scram.mechanism, data: scram.first()});
	const challenge = await made.next('auth-challenge', 0, () => true, 10_000);
	made.send({t: 'auth-final', data: await scram.final(challenge.data as string)});
	const ok = await made.next('auth-ok', 0, () => true, 10_000);
	scram.verifyServer(ok.data as string);
	made.send({t: 'hello', nick: user, v: 1});
	await made.next('welcome', 0, () => true, 10_000);
	return made;
}

export interface ChatFigures {
	sent: number;
	delivered: number;
	latencies: number[];
}

/**
 * Two members take turns saying a line, `gapMs` apart, until `until()`; each
 * line is timed from say() to its arrival at the other. Waits for the last
 * lines before returning, so `delivered` is what arrived, not what was late.
 */
export async function chat(
	a: Talker,
	b: Talker,
	until: () => boolean,
	{gapMs = 150, label = 'chat', minLines = 10} = {},
): Promise<ChatFigures> {
	const sentAt = new Map<string, number>();
	const latencies: number[] = [];
	const arrived = new Set<string>();
	const listen = (who: Talker) =>
		who.hear((text) => {
			if (!sentAt.has(text) || arrived.has(text)) return;
			arrived.add(text);
			latencies.push(Date.now() - sentAt.get(text)!);
		});
	const stops = [listen(a), listen(b)];
	const tag = randomBytes(3).toString('hex');
	let sent = 0;
	while (sent < minLines || !until()) {
		const text = `${label} ${tag} ${sent}`;
		sentAt.set(text, Date.now());
		(sent % 2 === 0 ? a : b).say(text);
		sent++;
		await delay(gapMs);
	}
	await waitFor(() => arrived.size === sent || undefined, {timeout: 5000, what: 'the last lines'}).catch(
		() => {},
	);
	for (const stop of stops) stop();
	return {sent, delivered: arrived.size, latencies};
}

/** TLS over a TCP socket from a chosen loopback address; resolves after auth-mechs. */
export async function tlsMember(port: number, localAddress: string): Promise<RawMember> {
	const raw = net.connect({port, host: '127.0.0.1', localAddress});
	const socket = tls.connect({socket: raw, rejectUnauthorized: false, minVersion: 'TLSv1.3'});
	await new Promise<void>((resolve, reject) => {
		socket.once('secureConnect', resolve);
		socket.once('error', reject);
	});
	const made = new RawMember(socket);
	await made.next('auth-mechs', 0, () => true, 10_000);
	return made;
}

/** One SCRAM login; the outcome frame (auth-ok, error) or {t: 'closed'}. */
export async function guess(
	port: number,
	user: string,
	secret: string,
	localAddress: string,
): Promise<{t: string; code?: unknown}> {
	const made = await tlsMember(port, localAddress);
	try {
		const scram = new ScramClient({
			username: user,
			password: secret,
			channelBinding: tlsExporterChannelBinding(made.socket),
			serverOffersPlus: true,
		});
		made.send({t: 'auth', mech: scram.mechanism, data: scram.first()});
		const end = (from: number, types: string[]) =>
			waitFor(
				() =>
					made.frames.slice(from).find((f) => types.includes(f.t)) ??
					(made.closed ? {t: 'closed'} : undefined),
				{timeout: 15_000, what: 'a login step'},
			);
		const first = await end(0, ['auth-challenge', 'error']);
		if (first.t !== 'auth-challenge') return first;
		const from = made.frames.length;
		made.send({t: 'auth-final', data: await scram.final(first.data as string)});
		return await end(from, ['auth-ok', 'error']);
	} finally {
		made.close();
	}
}
