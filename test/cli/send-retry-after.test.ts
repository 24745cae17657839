// `parley send` paces itself by the server's retry_after_ms when the room is
// stricter than it announced: a relay rewrites the welcome to promise a loose
// limit, the room enforces a tight one, and every line must still arrive
// without the sender being kicked for flooding.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {startUdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import {Recorder} from '../helpers/room-recorder.js';
import {peek} from '../helpers/udp-proxy.js';
import {waitFor} from '../helpers/wait.js';
import {cliEnv, runCli} from './cli-process.js';

/** A UDP relay for one client that replaces the limits in the server's welcome. */
async function lyingRelay(serverPort: number, announced: Record<string, number>) {
	const front = dgram.createSocket('udp4');
	const back = dgram.createSocket('udp4');
	let client: dgram.RemoteInfo | undefined;
	front.on('message', (datagram, rinfo) => {
		client = rinfo;
		back.send(datagram, serverPort, '127.0.0.1');
	});
	back.on('message', (datagram) => {
		if (!client) return;
		const message = peek(datagram);
		const out =
			message?.t === 'welcome'
				? Buffer.concat([Buffer.of(0x01), Buffer.from(JSON.stringify({...message, limits: announced}))])
				: datagram;
		front.send(out, client.port, client.address);
	});
	await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', () => resolve()));
	await new Promise<void>((resolve) => back.bind(0, '127.0.0.1', () => resolve()));
	return {
		port: front.address().port,
		close: () =>
			Promise.all([
				new Promise<void>((resolve) => front.close(() => resolve())),
				new Promise<void>((resolve) => back.close(() => resolve())),
			]),
	};
}

let home: string;
before(async () => {
	home = await mkdtemp(path.join(tmpdir(), 'parley-send-retry-'));
});
after(() => rm(home, {recursive: true, force: true}));

test('send slows to the pace retry_after_ms reveals: every line arrives, few refusals, no kick', async () => {
	const server = await startUdpRoomServer({port: 0, limits: {ratePerSecond: 5, burst: 2}});
	const relay = await lyingRelay(server.port, {maxTextBytes: 8192, ratePerSecond: 1000, burst: 1000});
	const watcher = createRoomClient(`udp://127.0.0.1:${server.port}`);
	const seen = new Recorder(watcher);
	try {
		await watcher.connect('watcher');
		const lines = Array.from({length: 16}, (_, i) => `line ${i + 1}`);
		const result = await runCli(
			['send', `udp://127.0.0.1:${relay.port}`, '--nick', 'eager'],
			cliEnv(home),
			`${lines.join('\n')}\n`,
		);
		assert.equal(result.code, 0, result.stderr);
		await waitFor(() => seen.of('message').filter((m) => m.from === 'eager').length >= lines.length, {
			what: 'every line at the watcher',
		});
		assert.deepEqual(
			seen
				.of('message')
				.filter((m) => m.from === 'eager')
				.map((m) => m.text),
			lines,
		);
		// Without retry_after_ms the sender would creep up on the real rate, one refusal at a time.
		assert.ok(server.room.stats.rateLimited <= 4, `refused ${server.room.stats.rateLimited} times`);
		assert.ok(!seen.of('presence').some((p) => p.kind === 'kick'), 'not kicked');
	} finally {
		await watcher.close();
		await relay.close();
		await server.close();
	}
});
