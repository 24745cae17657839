// A member process of the fan-out benchmarks: it holds a share of the room's
// members as clients, logs them in, sends at the rate it is told (open loop:
// every text carries the time it was scheduled to go) and counts what
// arrives, with a latency histogram per step. Forked by bench/fanout.ts; not
// run by hand.
//
// UDP rooms are reached through the real client (RoomClient: deliveries count
// after in-order delivery and gap repair, where the UI would see them); the
// TCP room, IRC and Redis through the lean clients of bench/peer-members.ts,
// which only scan for the benchmark tail, so this process takes millions of
// deliveries a second.

import {createRoomClient} from '../source/client/create-room-client.js';
import type {RoomEvent} from '../source/client/types.js';
import {TailReader, benchText} from './delivery-scan.js';
import {LatencyHistogram} from './latency-histogram.js';
import {paceSenders} from './pace-senders.js';
import {peerConnector, type BenchMember, type Connector, type DeliverySink} from './peer-members.js';
import {closeAndExit, sendToRunner, serveRunner} from './child-loop.js';
import {clock, cpuMs, loopDelayMonitor, pool, sleep} from './util.js';
import type {FromMembers, TargetSpec, ToMembers} from './protocol.js';

/** The benchmark's message size, as in the scenario. */
const TEXT_BYTES = 100;

function connectorFor(target: TargetSpec): Connector {
	if (target.kind !== 'udp') return peerConnector(target, sink);
	return {
		async join(nick) {
			const client = createRoomClient(target.url);
			await client.connect(nick);
			client.subscribe(onRoomEvent);
			return {say: (text) => client.say(text), flush() {}, close: () => client.close()};
		},
	};
}

interface StepState {
	received: number;
	latency: LatencyHistogram;
	lostEvents: number;
	lostMessages: number;
	failed: number;
	errors: number;
	disconnects: number;
	cpuStart: number;
	clockStart: number;
	lastAt: number;
}

const send = sendToRunner<FromMembers>;

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
			latency: new LatencyHistogram(),
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

/** The state of the step of the last delivery: deliveries come in runs of one step. */
let lastState: StepState | undefined;
let lastStep = -1;

const sink: DeliverySink = {
	delivered(step, scheduledUs, nowUs) {
		if (step !== lastStep || !lastState) {
			lastState = stateFor(step);
			lastStep = step;
		}
		lastState.received++;
		lastState.latency.record((nowUs - scheduledUs) / 1000);
		lastState.lastAt = nowUs / 1000;
	},
	disconnected() {
		if (current) current.disconnects++;
	},
	error() {
		if (current) current.errors++;
	},
};

const tail = new TailReader();

function onRoomEvent(event: RoomEvent): void {
	switch (event.type) {
		case 'message':
			if (tail.readText(event.text)) sink.delivered(tail.step, tail.scheduledUs, clock() * 1000);
			return;
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
			return sink.error();
		case 'state':
			if (event.state !== 'connected' && event.state !== 'connecting') sink.disconnected();
			return;
		default:
			return;
	}
}

async function logins(message: Extract<ToMembers, {type: 'logins'}>): Promise<void> {
	const connector = connectorFor(message.target);
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
	const connector = connectorFor(message.target);
	const sending = new Set(message.senders);
	senders = message.senders;
	const cpuStart = cpuMs();
	const times: number[] = [];
	await sleep(Math.max(0, message.startAt - clock()));
	await pool(message.nicks, message.concurrency, async (nick) => {
		const started = clock();
		const client = await connector.join(nick, sending.has(nick));
		times.push(clock() - started);
		clients.set(nick, client);
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
		// Spread the senders' schedules so they do not all fall due together.
		phase: (index + 1) / (senders.length + 1),
		sent: 0,
	}));
	// Every process schedules from the same instant, and each message from when it falls due.
	const origin = message.startAt;
	const perMessageMs = 1000 / message.ratePerSender;
	await paceSenders(
		mine,
		{...message, origin},
		(sender) => {
			const scheduledMs = origin + (sender.sent - sender.phase) * perMessageMs;
			sender.client.say(
				benchText(sender.nick, sender.sent, message.step, scheduledMs * 1000, TEXT_BYTES),
				`${message.step}-${sender.sent}`,
			);
		},
		(sender) => sender.client.flush(),
	);
	send({
		type: 'sent',
		step: message.step,
		sent: mine.reduce((sum, s) => sum + s.sent, 0),
		durationMs: clock() - origin,
	});
}

function report(step: number): void {
	const state = stateFor(step);
	steps.delete(step);
	if (current === state) current = undefined;
	if (lastState === state) lastState = undefined;
	send({
		type: 'report',
		step,
		received: state.received,
		histogram: state.latency.counts,
		max: state.latency.max,
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

serveRunner<ToMembers>({
	logins,
	join,
	run,
	count: ({step}) => send({type: 'count', step, received: steps.get(step)?.received ?? 0}),
	report: ({step}) => report(step),
	quit: () => closeAndExit(clients.values()),
});
