// The UDP room server for benchmarks, in a process of its own so the load
// generators' CPU does not skew it. Unlike `parley serve` it takes the
// per-member rate limit as options: one fast sender would otherwise be
// throttled to the default 5 messages a second.
//
//   node dist/bench/udp-server-child.js [--port 0] [--rate 100000] [--burst 100000] [--max-members 256]
//
// Forked (with an IPC channel) it reports {type:'ready', port} and answers
// {type:'stats'} with counters and its CPU time (bench/protocol.ts); {type:'quit'}, SIGINT, SIGTERM
// or the parent going away stop it. Run by hand, it logs to stdout.
import process from 'node:process';
import {parseArgs} from 'node:util';
import {startUdpRoomServer} from '../server/udp/udp-room-server.js';
import type {ServerChildReply, ServerChildRequest} from './protocol.js';
import {cpuMs, loopDelayMonitor} from './util.js';

const {values} = parseArgs({
	options: {
		host: {type: 'string', default: '127.0.0.1'},
		port: {type: 'string', default: '0'},
		rate: {type: 'string', default: '100000'},
		burst: {type: 'string', default: '100000'},
		'max-members': {type: 'string', default: '256'},
	},
});

const number = (name: string, text: string): number => {
	const value = Number(text);
	if (!Number.isFinite(value) || value < 0)
		throw new Error(`--${name} must be a non-negative number, not ${text}`);
	return value;
};

const forked = typeof process.send === 'function';
const loop = loopDelayMonitor();
const reply = (message: ServerChildReply): void => {
	process.send?.(message);
};

const server = await startUdpRoomServer({
	host: values.host,
	port: number('port', values.port),
	maxMembers: number('max-members', values['max-members']),
	// Every simulated member comes from this one host: no per-address caps here.
	maxMembersPerAddress: number('max-members', values['max-members']),
	helloPerMinute: 1_000_000,
	limits: {ratePerSecond: number('rate', values.rate), burst: number('burst', values.burst)},
	...(forked ? {} : {log: (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`)}),
});

let stopping = false;
const stop = async (): Promise<void> => {
	if (stopping) return;
	stopping = true;
	await server.close();
	process.disconnect?.();
	process.exit(0);
};

process.on('message', (raw: unknown) => {
	const message = raw as ServerChildRequest;
	if (message.type === 'quit') void stop();
	else if (message.type === 'stats') {
		const dropped = Object.entries(server.stats.dropped).map(([reason, count]) => [
			`dropped.${reason}`,
			count,
		]);
		reply({
			type: 'stats',
			members: server.room.size,
			cpuMs: cpuMs(),
			loopDelay: loop.take(),
			counters: {
				received: server.stats.received,
				sentDatagrams: server.stats.sentDatagrams,
				messages: server.room.stats.messages,
				rateLimited: server.room.stats.rateLimited,
				...Object.fromEntries(dropped),
			},
		});
	}
});
process.on('disconnect', () => void stop());
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

reply({type: 'ready', port: server.port, detail: {}});
