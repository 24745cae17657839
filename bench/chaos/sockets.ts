// 10,000 sockets from one address (as many as the open-file limit allows)
// against a `parley serve`: its memory stays bounded and another address
// (127.0.0.2) still logs in and chats promptly.
import net from 'node:net';
import {delay} from '../../test/helpers/wait.js';
import {chat, p99, rawJoin, rawTalker, row, rssMb, startServe, type Row} from './kit.js';

const SCENARIO = '2 socket hoard';
const WANTED = 10_000;

function open(port: number): Promise<net.Socket | undefined> {
	const socket = net.connect({port, host: '127.0.0.1', localAddress: '127.0.0.1'});
	return new Promise((resolve) => {
		socket.once('connect', () => resolve(socket));
		socket.once('error', () => resolve(undefined));
	});
}

export async function socketHoard(): Promise<Row[]> {
	const served = await startServe(['alice', 'bob']);
	try {
		await delay(300);
		const rssBefore = rssMb(served.serve.pid);
		const sockets: net.Socket[] = [];
		for (let i = 0; i < WANTED; i += 500) {
			const batch = await Promise.all(
				Array.from({length: Math.min(500, WANTED - i)}, () => open(served.port)),
			);
			for (const s of batch) if (s) sockets.push(s);
		}
		const opened = sockets.length;
		const started = Date.now();
		const alice = await rawJoin(served.port, 'alice', '127.0.0.2');
		const bob = await rawJoin(served.port, 'bob', '127.0.0.2');
		const loginMs = Date.now() - started;
		const figures = await chat(rawTalker(alice), rawTalker(bob), () => true, {minLines: 20, label: 'other'});
		const held = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
		const rssAfter = rssMb(served.serve.pid);
		for (const s of sockets) s.destroy();
		alice.close();
		bob.close();
		return [
			row(
				SCENARIO,
				'sockets opened from 127.0.0.1',
				opened,
				`${WANTED} (fd limit permitting)`,
				opened >= WANTED * 0.9,
			),
			row(SCENARIO, 'of them still held by the server', held, '≤ 64', held <= 64),
			row(
				SCENARIO,
				'server RSS before → during (MB)',
				`${rssBefore} → ${rssAfter}`,
				'≤ +100 MB',
				rssAfter - rssBefore <= 100,
			),
			row(SCENARIO, '127.0.0.2: two logins + joins (ms)', loginMs, '< 5000', loginMs < 5000),
			row(
				SCENARIO,
				'127.0.0.2: lines delivered',
				`${figures.delivered}/${figures.sent}`,
				'all',
				figures.delivered === figures.sent,
			),
			row(
				SCENARIO,
				'127.0.0.2: chat p99 (ms)',
				p99(figures.latencies),
				'< 250',
				p99(figures.latencies) < 250,
			),
		];
	} finally {
		await served.serve.stop();
	}
}
