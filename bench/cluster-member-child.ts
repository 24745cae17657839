// A member process of the cluster benchmark (bench/cluster-bench.ts): it holds
// a share of the room's members as real TLS clients (TcpTransport +
// RoomSession, as `parley chat` uses them), each logged in on its own node,
// sends at the rate it is told, and records when each message arrives, split
// by whether sender and receiver sit on the same node or on different ones:
// the difference is the cross-node hop. Forked by the runner; not run by hand.

import {rmSync} from 'node:fs';
import {mkdtemp} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {KnownHosts} from '../source/client/known-hosts.js';
import {RoomSession} from '../source/client/room-session.js';
import {TcpTransport} from '../source/client/tcp-transport.js';
import type {RoomEvent} from '../source/client/types.js';
import {closeAndExit, sendToRunner, serveRunner} from './child-loop.js';
import {paceSenders} from './pace-senders.js';
import type {StepReply, StepReportBase, StepRequest} from './protocol.js';
import {BENCH_TAG, clock, cpuMs, loopDelayMonitor, pool, sleep} from './util.js';

export interface ClusterMember {
	nick: string;
	/** Index of the node it logs in to. */
	node: number;
	port: number;
}

export type ToClusterMembers =
	| {type: 'join'; members: ClusterMember[]; senders: string[]; password: string; concurrency: number}
	| StepRequest;

export type FromClusterMembers =
	| {type: 'joined'; count: number; timesMs: Float64Array}
	| StepReply
	| (StepReportBase & {
			/** Send → arrival, sender and receiver on one node, and on different nodes. */
			sameNode: Float64Array;
			crossNode: Float64Array;
	  });

interface StepState {
	received: number;
	sameNode: number[];
	crossNode: number[];
	lostEvents: number;
	failed: number;
	disconnects: number;
	cpuStart: number;
	clockStart: number;
	lastAt: number;
}

const TAG_PREFIX = `${BENCH_TAG} `;
const send = sendToRunner<FromClusterMembers>;

let scratch: string | undefined;
const clients = new Map<string, {session: RoomSession; node: number}>();
let senders: string[] = [];
const steps = new Map<number, StepState>();
let current: StepState | undefined;
const loop = loopDelayMonitor();

function stateFor(step: number): StepState {
	let state = steps.get(step);
	if (!state) {
		state = {
			received: 0,
			sameNode: [],
			crossNode: [],
			lostEvents: 0,
			failed: 0,
			disconnects: 0,
			cpuStart: cpuMs(),
			clockStart: clock(),
			lastAt: 0,
		};
		steps.set(step, state);
	}
	return state;
}

/** Events of a member on node `node`; messages read "bench STEP NODE SENDER N SENT-AT". */
const onEvent =
	(node: number) =>
	(event: RoomEvent): void => {
		const now = clock();
		switch (event.type) {
			case 'message': {
				const text = event.text;
				if (event.history || !text.startsWith(TAG_PREFIX)) return;
				// Picked apart without split(): this runs for every delivery.
				const stepEnd = text.indexOf(' ', TAG_PREFIX.length);
				const state = stateFor(Number(text.slice(TAG_PREFIX.length, stepEnd)));
				const from = Number(text.slice(stepEnd + 1, text.indexOf(' ', stepEnd + 1)));
				state.received++;
				(from === node ? state.sameNode : state.crossNode).push(
					now - Number(text.slice(text.lastIndexOf(' ') + 1)),
				);
				state.lastAt = now;
				return;
			}
			case 'lost':
				if (current) current.lostEvents++;
				return;
			case 'failed':
				if (current) current.failed++;
				return;
			case 'state':
				if (current && event.state !== 'connected' && event.state !== 'connecting') current.disconnects++;
				return;
			default:
				return;
		}
	};

async function join(message: Extract<ToClusterMembers, {type: 'join'}>): Promise<void> {
	// One known_hosts per process; the first login to each node pins its certificate, as a user's would.
	scratch ??= await mkdtemp(path.join(os.tmpdir(), 'parley-bench-cluster-'));
	const knownHosts = new KnownHosts(path.join(scratch, 'known_hosts'));
	senders = message.senders;
	const times: number[] = [];
	await pool(message.members, message.concurrency, async (member) => {
		const started = clock();
		const session = new RoomSession(
			new TcpTransport({host: '127.0.0.1', port: member.port, knownHosts, confirmNewHost: async () => true}),
		);
		await session.connect(member.nick, message.password);
		times.push(clock() - started);
		clients.set(member.nick, {session, node: member.node});
		session.subscribe(onEvent(member.node));
	});
	send({type: 'joined', count: clients.size, timesMs: Float64Array.from(times)});
}

async function run(message: Extract<ToClusterMembers, {type: 'run'}>): Promise<void> {
	current = stateFor(message.step);
	current.cpuStart = cpuMs();
	current.clockStart = clock();
	loop.take();
	await sleep(Math.max(0, message.startAt - clock()));
	const state = current;
	const mine = senders.map((nick, index) => {
		const client = clients.get(nick)!;
		return {
			session: client.session,
			head: `${TAG_PREFIX}${message.step} ${client.node} ${nick} `,
			// Spread the senders' ticks so they do not all fire together.
			phase: (index + 1) / (senders.length + 1),
			sent: 0,
		};
	});
	const started = clock();
	await paceSenders(mine, {...message, origin: started}, (sender) => {
		sender.session.say(`${sender.head}${sender.sent} ${clock().toFixed(3)}`).catch(() => {
			state.failed++;
		});
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
		sameNode: Float64Array.from(state.sameNode),
		crossNode: Float64Array.from(state.crossNode),
		lostEvents: state.lostEvents,
		failed: state.failed,
		disconnects: state.disconnects,
		cpuMs: cpuMs() - state.cpuStart,
		windowMs: clock() - state.clockStart,
		lastAt: state.lastAt,
		loopDelay: loop.take(),
	});
}

serveRunner<ToClusterMembers>({
	join,
	run,
	count: ({step}) => send({type: 'count', step, received: steps.get(step)?.received ?? 0}),
	report: ({step}) => report(step),
	quit: () => closeAndExit([...clients.values()].map((client) => client.session)),
});
process.on('exit', () => {
	if (scratch) rmSync(scratch, {recursive: true, force: true});
});
