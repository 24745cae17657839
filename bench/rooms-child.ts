// A client process of the many-rooms benchmark (bench/many-rooms.ts): its
// accounts each log in once over one TLS connection and join their rooms
// through it (RoomSession.sibling: one connection, many rooms, as the TUI's
// tabs do), then it sends into random rooms at the rate it is told and records
// when each message arrives. It also runs the probes (join latency, one join
// at a time), fills a room with history and pages back through it
// (RoomSession.loadOlder). Forked by bench/many-rooms.ts; not run by hand.

import {rmSync} from 'node:fs';
import {mkdtemp} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {KnownHosts} from '../source/client/known-hosts.js';
import {RoomSession} from '../source/client/room-session.js';
import {TcpConnectionPool} from '../source/client/tcp-connection-pool.js';
import type {RoomEvent} from '../source/client/types.js';
import {closeAndExit, sendToRunner, serveRunner} from './child-loop.js';
import type {FromRoomsChild, RoomsTarget, ToRoomsChild} from './protocol.js';
import {BENCH_TAG, clock, cpuMs, loopDelayMonitor, pool, sleep} from './util.js';

const scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-rooms-'));
// One known_hosts file and one connection pool for the process: the first login pins the certificate.
const knownHosts = new KnownHosts(path.join(scratch, 'known_hosts'));
const connections = new TcpConnectionPool();
const TAG_PREFIX = `${BENCH_TAG} `;

const send = sendToRunner<FromRoomsChild>;

/** A client for `room` (undefined: the server's default room), not yet joined. */
function session(target: RoomsTarget, room: string | undefined): RoomSession {
	const endpoint = {host: target.host, port: target.port, knownHosts, confirmNewHost: async () => true};
	return new RoomSession(connections.channel(endpoint, room));
}

/** Logs `user` in over a new connection, joining `room` on it. */
async function login(target: RoomsTarget, user: string, room: string | undefined): Promise<RoomSession> {
	const client = session(target, room);
	await client.connect(user, target.password);
	return client;
}

/** Joins `room` over the connection `from` is on (hello → welcome), timing it. */
async function timedJoin(
	from: RoomSession,
	user: string,
	room: string,
	times: number[],
): Promise<RoomSession> {
	const sibling = from.sibling(room);
	const started = clock();
	await sibling.connect(user);
	times.push(clock() - started);
	return sibling;
}

// ---- the accounts: memberships, sending, receiving --------------------------------

interface StepState {
	received: number;
	latencies: number[];
	lost: number;
	failed: number;
	errors: number;
	disconnects: number;
	cpuStart: number;
	clockStart: number;
}

const memberships: RoomSession[] = [];
const steps = new Map<number, StepState>();
let current: StepState | undefined;
const loop = loopDelayMonitor();

function stateFor(step: number): StepState {
	let state = steps.get(step);
	if (!state) {
		state = {
			received: 0,
			latencies: [],
			lost: 0,
			failed: 0,
			errors: 0,
			disconnects: 0,
			cpuStart: cpuMs(),
			clockStart: clock(),
		};
		steps.set(step, state);
	}
	return state;
}

function onEvent(event: RoomEvent): void {
	const now = clock();
	switch (event.type) {
		case 'message': {
			// "bench STEP SENDER N SENT-AT"
			const text = event.text;
			if (event.history || !text.startsWith(TAG_PREFIX)) return;
			const state = stateFor(Number(text.slice(TAG_PREFIX.length, text.indexOf(' ', TAG_PREFIX.length))));
			state.received++;
			state.latencies.push(now - Number(text.slice(text.lastIndexOf(' ') + 1)));
			return;
		}
		case 'lost':
			if (current) current.lost += event.count;
			return;
		case 'failed':
			if (current) current.failed++;
			return;
		case 'error':
			if (current) current.errors++;
			return;
		case 'state':
			if (current && event.state !== 'connected' && event.state !== 'connecting') current.disconnects++;
			return;
		default:
			return;
	}
}

async function accounts(message: Extract<ToRoomsChild, {type: 'accounts'}>): Promise<void> {
	const cpuStart = cpuMs();
	const loginMs: number[] = [];
	const joinMs: number[] = [];
	const firsts = new Map<string, RoomSession>();
	await sleep(Math.max(0, message.startAt - clock()));
	await pool(message.accounts, message.loginConcurrency, async ({user, rooms}) => {
		const started = clock();
		const client = await login(message.target, user, rooms[0]);
		loginMs.push(clock() - started);
		firsts.set(user, client);
		memberships.push(client);
		client.subscribe(onEvent);
	});
	const loginsEndAt = clock();
	const joins = message.accounts.flatMap(({user, rooms}) => rooms.slice(1).map((room) => ({user, room})));
	await pool(joins, message.joinConcurrency, async ({user, room}) => {
		const client = await timedJoin(firsts.get(user)!, user, room, joinMs);
		memberships.push(client);
		client.subscribe(onEvent);
	});
	send({
		type: 'accounts',
		loginMs: Float64Array.from(loginMs),
		joinMs: Float64Array.from(joinMs),
		loginsEndAt,
		joinsStartAt: loginsEndAt,
		joinsEndAt: clock(),
		memberships: memberships.length,
		cpuMs: cpuMs() - cpuStart,
	});
}

async function run(message: Extract<ToRoomsChild, {type: 'run'}>): Promise<void> {
	current = stateFor(message.step);
	current.cpuStart = cpuMs();
	current.clockStart = clock();
	loop.take();
	await sleep(Math.max(0, message.startAt - clock()));
	const started = clock();
	let sent = 0;
	await new Promise<void>((resolve) => {
		const tick = () => {
			const elapsed = Math.min(clock() - started, message.durationMs);
			const due = Math.floor((elapsed / 1000) * message.rate);
			while (sent < due) {
				sent++;
				const client = memberships[Math.floor(Math.random() * memberships.length)]!;
				client.say(`${BENCH_TAG} ${message.step} ${client.nick} ${sent} ${clock().toFixed(3)}`);
			}
			if (elapsed >= message.durationMs) {
				clearInterval(timer);
				resolve();
			}
		};
		const timer = setInterval(tick, 2);
		tick();
	});
	send({type: 'sent', step: message.step, sent});
}

function report(step: number): void {
	const state = stateFor(step);
	steps.delete(step);
	if (current === state) current = undefined;
	send({
		type: 'report',
		step,
		received: state.received,
		latencies: Float64Array.from(state.latencies),
		lost: state.lost,
		failed: state.failed,
		errors: state.errors,
		disconnects: state.disconnects,
		cpuMs: cpuMs() - state.cpuStart,
		windowMs: clock() - state.clockStart,
		loopDelay: loop.take(),
	});
}

// ---- probes, filling, paging ---------------------------------------------------

async function probe(message: Extract<ToRoomsChild, {type: 'probe'}>): Promise<void> {
	const lobby = await login(message.target, message.user, undefined);
	const times: number[] = [];
	const joined: RoomSession[] = [];
	for (const room of message.rooms) joined.push(await timedJoin(lobby, message.user, room, times));
	await Promise.all([...joined, lobby].map((client) => client.close()));
	send({type: 'probe', joinMs: Float64Array.from(times)});
}

async function fill(message: Extract<ToRoomsChild, {type: 'fill'}>): Promise<void> {
	const started = clock();
	const client = await login(message.target, message.user, message.room);
	let lastSeq = 0;
	const numbers = Array.from({length: message.count}, (_, i) => i + 1);
	// In batches, so the echoes never outgrow the server's output queue for the connection.
	for (let i = 0; i < numbers.length; i += 250) {
		const acks = await Promise.all(numbers.slice(i, i + 250).map((n) => client.say(`fill ${n}`)));
		for (const ack of acks) lastSeq = Math.max(lastSeq, ack.seq);
	}
	await client.close();
	send({type: 'fill', lastSeq, ms: clock() - started});
}

interface Reader {
	client: RoomSession;
	seqs: Map<number, number>;
	fills: Set<number>;
	complete: boolean;
}

async function read(message: Extract<ToRoomsChild, {type: 'read'}>): Promise<void> {
	const readers: Reader[] = [];
	for (const user of message.users)
		readers.push({
			client: await login(message.target, user, message.room),
			seqs: new Map(),
			fills: new Set(),
			complete: false,
		});
	const pageMs: number[] = [];
	const errors: string[] = [];
	const started = clock();
	let announced = false;
	await Promise.all(
		readers.map(async (reader) => {
			let before = message.before;
			let askedAt = Number.NEGATIVE_INFINITY;
			while (!reader.complete && before > 1) {
				// Within the server's read budget (4 a second per member): a user scrolling fast.
				await sleep(Math.max(0, askedAt + message.intervalMs - clock()));
				askedAt = clock();
				const page = nextPage(reader.client, before, errors);
				if (!reader.client.loadOlder(before, message.pageSize)) throw new Error('the server cannot page');
				if (!announced && reader === readers.at(-1)) {
					announced = true;
					send({type: 'reading'});
				}
				const answer = await page;
				if (answer === undefined) continue; // refused (rate-limited): ask again
				pageMs.push(clock() - askedAt);
				for (const event of answer.events) {
					if (event.seq !== undefined) reader.seqs.set(event.seq, (reader.seqs.get(event.seq) ?? 0) + 1);
					if (event.t === 'msg' && event.text.startsWith('fill '))
						reader.fills.add(Number(event.text.slice(5)));
				}
				reader.complete = answer.complete;
				const oldest = answer.events[0]?.seq;
				if (oldest === undefined) break;
				before = oldest;
			}
		}),
	);
	const ms = clock() - started;
	send({
		type: 'read',
		pageMs: Float64Array.from(pageMs),
		pages: pageMs.length,
		readers: readers.map((reader) => {
			let missing = 0;
			for (let seq = 1; seq < message.before; seq++) if (!reader.seqs.has(seq)) missing++;
			return {
				messages: reader.fills.size,
				events: reader.seqs.size,
				missing,
				duplicates: [...reader.seqs.values()].filter((n) => n > 1).length,
				complete: reader.complete,
			};
		}),
		errors: errors.slice(0, 5),
		ms,
	});
	await Promise.all(readers.map((reader) => reader.client.close()));
}

/** The next `page` event answering `before`, or undefined when the server refused the request. */
function nextPage(
	client: RoomSession,
	before: number,
	errors: string[],
): Promise<Extract<RoomEvent, {type: 'page'}> | undefined> {
	return new Promise((resolve) => {
		const unsubscribe = client.subscribe((event) => {
			if (event.type === 'page' && event.before === before) {
				unsubscribe();
				resolve(event);
			} else if (event.type === 'error') {
				errors.push(`${event.code}: ${event.text}`);
				unsubscribe();
				setTimeout(() => resolve(undefined), 300);
			}
		});
	});
}

serveRunner<ToRoomsChild>({
	accounts,
	probe,
	fill,
	read,
	run,
	count: ({step}) => send({type: 'count', step, received: steps.get(step)?.received ?? 0}),
	report: ({step}) => report(step),
	quit: () => closeAndExit(memberships),
});
process.on('exit', () => rmSync(scratch, {recursive: true, force: true}));
