// A member process of the fan-out benchmarks: it holds a share of the room's
// members as real clients, logs them in, sends at the rate it is told and
// records when each message arrives (after in-order delivery and gap repair,
// where the UI would see it). Forked by bench/fanout.ts; not run by hand.
//
// A target is reached through a connector; a new target (an IRC server,
// Redis pub/sub) adds one that returns a BenchMember.

import {rmSync} from 'node:fs';
import {mkdtemp} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {createRoomClient} from '../source/client/create-room-client.js';
import {KnownHosts} from '../source/client/known-hosts.js';
import {RoomSession} from '../source/client/room-session.js';
import {TcpTransport} from '../source/client/tcp-transport.js';
import type {RoomEvent} from '../source/client/types.js';
import {BENCH_TAG, clock, cpuMs, loopDelayMonitor, pool, sleep} from './util.js';
import type {FromMembers, TargetSpec, ToMembers} from './protocol.js';

/** The little of a room client the benchmark needs; RoomClient has it all. */
export interface BenchMember {
	say(text: string): void;
	subscribe(listener: (event: RoomEvent) => void): () => void;
	close(): Promise<void>;
}

interface Connector {
	/** A member that has joined the room. */
	join(nick: string): Promise<BenchMember>;
	/** Authenticates and disconnects at once; only for targets with a login. */
	login?(user: string): Promise<void>;
}

let scratch: string | undefined;
const TAG_PREFIX = `${BENCH_TAG} `;

async function connectorFor(target: TargetSpec): Promise<Connector> {
	switch (target.kind) {
		case 'udp':
			return {
				async join(nick) {
					const client = createRoomClient(target.url);
					await client.connect(nick);
					return client;
				},
			};
		case 'tcp': {
			// One known_hosts file per process; the first login pins the certificate, as a user's first would.
			scratch ??= await mkdtemp(path.join(os.tmpdir(), 'parley-bench-member-'));
			const knownHosts = new KnownHosts(path.join(scratch, 'known_hosts'));
			const transport = () =>
				new TcpTransport({
					host: target.host,
					port: target.port,
					knownHosts,
					confirmNewHost: async () => true,
				});
			return {
				async join(nick) {
					const client = new RoomSession(transport());
					await client.connect(nick, target.password);
					return client;
				},
				async login(user) {
					const link = transport();
					try {
						await link.open({nick: user, password: target.password});
					} finally {
						link.close();
					}
				},
			};
		}
	}
}

interface StepState {
	received: number;
	latencies: number[];
	lostEvents: number;
	lostMessages: number;
	failed: number;
	errors: number;
	disconnects: number;
	cpuStart: number;
	clockStart: number;
	lastAt: number;
}

const send = (message: FromMembers): void => {
	process.send?.(message);
};

const clients = new Map<string, BenchMember>();
let senders: string[] = [];
const steps = new Map<number, StepState>();
let current: StepState | undefined;
const loop = loopDelayMonitor();

function stateFor(step: number): StepState {
	let state = steps.get(step);
	if (!state) {
		state = {
			received: 0,
			latencies: [],
			lostEvents: 0,
			lostMessages: 0,
			failed: 0,
			errors: 0,
			disconnects: 0,
			cpuStart: cpuMs(),
			clockStart: clock(),
			lastAt: 0,
		};
		steps.set(step, state);
	}
	return state;
}

function onEvent(event: RoomEvent): void {
	const now = clock();
	switch (event.type) {
		case 'message': {
			// "bench STEP SENDER N SENT-AT", picked apart without split(): this runs for every delivery.
			const text = event.text;
			if (!text.startsWith(TAG_PREFIX)) return;
			const state = stateFor(Number(text.slice(TAG_PREFIX.length, text.indexOf(' ', TAG_PREFIX.length))));
			state.received++;
			state.latencies.push(now - Number(text.slice(text.lastIndexOf(' ') + 1)));
			state.lastAt = now;
			return;
		}
		case 'lost':
			if (current) {
				current.lostEvents++;
				current.lostMessages += event.count;
			}
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

async function logins(message: Extract<ToMembers, {type: 'logins'}>): Promise<void> {
	const connector = await connectorFor(message.target);
	const login = connector.login;
	if (!login) throw new Error(`${message.target.kind} rooms have no login`);
	const cpuStart = cpuMs();
	const times: number[] = [];
	let failures = 0;
	let firstError: string | null = null;
	await sleep(Math.max(0, message.startAt - clock()));
	await pool(message.users, message.concurrency, async (user) => {
		const started = clock();
		try {
			await login(user);
			times.push(clock() - started);
		} catch (error) {
			failures++;
			firstError ??= (error as Error).message;
		}
	});
	send({
		type: 'logins',
		timesMs: Float64Array.from(times),
		failures,
		firstError,
		endAt: clock(),
		cpuMs: cpuMs() - cpuStart,
	});
}

async function join(message: Extract<ToMembers, {type: 'join'}>): Promise<void> {
	const connector = await connectorFor(message.target);
	senders = message.senders;
	const cpuStart = cpuMs();
	const times: number[] = [];
	await sleep(Math.max(0, message.startAt - clock()));
	await pool(message.nicks, message.concurrency, async (nick) => {
		const started = clock();
		const client = await connector.join(nick);
		times.push(clock() - started);
		clients.set(nick, client);
		client.subscribe(onEvent);
	});
	send({
		type: 'joined',
		count: clients.size,
		timesMs: Float64Array.from(times),
		endAt: clock(),
		cpuMs: cpuMs() - cpuStart,
	});
}

async function run(message: Extract<ToMembers, {type: 'run'}>): Promise<void> {
	current = stateFor(message.step);
	current.cpuStart = cpuMs();
	current.clockStart = clock();
	loop.take();
	await sleep(Math.max(0, message.startAt - clock()));
	const mine = senders.map((nick, index) => ({
		client: clients.get(nick)!,
		nick,
		// Spread the senders' ticks so they do not all fire together.
		phase: (index + 1) / (senders.length + 1),
		sent: 0,
	}));
	const started = clock();
	const due = (elapsed: number, phase: number) =>
		Math.floor((Math.min(elapsed, message.durationMs) / 1000) * message.ratePerSender + phase);
	await new Promise<void>((resolve) => {
		const tick = () => {
			const elapsed = clock() - started;
			for (const sender of mine) {
				const target = due(elapsed, sender.phase);
				while (sender.sent < target) {
					sender.sent++;
					sender.client.say(
						`${BENCH_TAG} ${message.step} ${sender.nick} ${sender.sent} ${clock().toFixed(3)}`,
					);
				}
			}
			if (elapsed >= message.durationMs) {
				clearInterval(timer);
				resolve();
			}
		};
		const timer = setInterval(tick, 2);
		tick();
	});
	send({
		type: 'sent',
		step: message.step,
		sent: mine.reduce((sum, s) => sum + s.sent, 0),
		durationMs: clock() - started,
	});
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
		lostEvents: state.lostEvents,
		lostMessages: state.lostMessages,
		failed: state.failed,
		errors: state.errors,
		disconnects: state.disconnects,
		cpuMs: cpuMs() - state.cpuStart,
		windowMs: clock() - state.clockStart,
		lastAt: state.lastAt,
		loopDelay: loop.take(),
	});
}

async function quit(): Promise<void> {
	await Promise.allSettled([...clients.values()].map((client) => client.close()));
	process.disconnect?.();
	process.exit(0);
}

const failWith = (what: string) => (error: unknown) =>
	send({type: 'error', message: `${what} failed: ${String(error)}`});

process.on('message', (raw: unknown) => {
	const message = raw as ToMembers;
	switch (message.type) {
		case 'logins':
			return void logins(message).catch(failWith('logins'));
		case 'join':
			return void join(message).catch(failWith('join'));
		case 'run':
			return void run(message).catch(failWith('run'));
		case 'count':
			return send({type: 'count', step: message.step, received: steps.get(message.step)?.received ?? 0});
		case 'report':
			return report(message.step);
		case 'quit':
			return void quit();
	}
});
process.on('disconnect', () => process.exit(0));
process.on('exit', () => {
	if (scratch) rmSync(scratch, {recursive: true, force: true});
});
