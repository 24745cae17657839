// The flooder of the client benchmark: one real room client in a process of
// its own that joins and then sends at a steady rate, so the client under
// test receives a flood it did not make. Forked by
// bench/client-responsiveness.ts; not run by hand.
//
//   parent → {type:'flood', ratePerSecond, durationMs}   child → {type:'flooded', sent}
//   child → {type:'ready'} once joined; {type:'quit'} or the parent going away stop it.

import {mkdtemp, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {createRoomClient} from '../source/client/create-room-client.js';
import {KnownHosts} from '../source/client/known-hosts.js';
import {RoomSession} from '../source/client/room-session.js';
import {TcpTransport} from '../source/client/tcp-transport.js';
import type {RoomClient} from '../source/client/types.js';
import {floodText} from './flood-text.js';
import {clock} from './util.js';

export type FloodTarget =
	| {kind: 'udp'; url: string}
	| {kind: 'tcp'; host: string; port: number; user: string; password: string};

export type ToFlooder = {type: 'flood'; ratePerSecond: number; durationMs: number} | {type: 'quit'};
export type FromFlooder =
	| {type: 'ready'}
	| {type: 'flooded'; sent: number}
	| {type: 'error'; message: string};

const send = (message: FromFlooder): void => {
	process.send?.(message);
};

let scratch: string | undefined;
let client: RoomClient | undefined;

async function join(target: FloodTarget): Promise<RoomClient> {
	if (target.kind === 'udp') {
		const udp = createRoomClient(target.url);
		await udp.connect('flooder');
		return udp;
	}
	scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-flood-'));
	const knownHosts = new KnownHosts(path.join(scratch, 'known_hosts'));
	const session = new RoomSession(
		new TcpTransport({host: target.host, port: target.port, knownHosts, confirmNewHost: async () => true}),
	);
	await session.connect(target.user, target.password);
	return session;
}

async function flood(ratePerSecond: number, durationMs: number): Promise<number> {
	let sent = 0;
	const started = clock();
	await new Promise<void>((resolve) => {
		const timer = setInterval(() => {
			const elapsed = Math.min(clock() - started, durationMs);
			const due = Math.floor((elapsed / 1000) * ratePerSecond);
			// Nobody waits for the acknowledgement: a flood does not pace itself.
			while (sent < due) client?.say(floodText(++sent)).catch(() => undefined);
			if (elapsed >= durationMs) {
				clearInterval(timer);
				resolve();
			}
		}, 2);
	});
	return sent;
}

const stop = async (): Promise<void> => {
	await client?.close().catch(() => undefined);
	if (scratch) await rm(scratch, {recursive: true, force: true});
	process.exit(0);
};

process.on('message', (raw: unknown) => {
	const message = raw as ToFlooder;
	if (message.type === 'quit') void stop();
	else if (message.type === 'flood')
		void flood(message.ratePerSecond, message.durationMs).then((sent) => send({type: 'flooded', sent}));
});
process.on('disconnect', () => void stop());

const target = JSON.parse(process.argv[2] ?? '{}') as FloodTarget;
join(target).then(
	(joined) => {
		client = joined;
		send({type: 'ready'});
	},
	(error: unknown) => send({type: 'error', message: String(error)}),
);
