// `parley send` reads a line as the chat does: /me is an action, /msg a direct
// message only its recipient sees, // escapes a leading slash, and any other
// command is refused (exit 5) while the other lines still go out.
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {startUdpRoomServer, type UdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomClient} from '../../source/client/types.js';
import {Recorder} from '../helpers/room-recorder.js';
import {cliEnv, runCli} from './cli-process.js';

describe('parley send reads lines as the chat does', () => {
	let home: string;
	let server: UdpRoomServer;
	let url: string;
	let bob: RoomClient;
	let carol: RoomClient;
	let b: Recorder;
	let c: Recorder;

	before(async () => {
		home = await mkdtemp(path.join(tmpdir(), 'parley-send-lines-'));
		server = await startUdpRoomServer({port: 0, limits: {ratePerSecond: 1000, burst: 50}});
		url = `udp://127.0.0.1:${server.port}`;
		bob = createRoomClient(url);
		b = new Recorder(bob);
		await bob.connect('bob');
		carol = createRoomClient(url);
		c = new Recorder(carol);
		await carol.connect('carol');
	});

	after(async () => {
		await Promise.all([bob.close(), carol.close()]);
		await server.close();
		await rm(home, {recursive: true, force: true});
	});

	test('/me, /msg and // work; /who and a /msg to nobody are refused, the rest still sent', async () => {
		const input = [
			'/me waves',
			'/msg bob the secret',
			'//etc/hosts is a path',
			'/who',
			'/MSG nobody-here hello?',
			'plain text',
		].join('\n');
		const result = await runCli(['send', url, '--nick', 'ci'], cliEnv(home), `${input}\n`);
		assert.equal(result.code, 5, result.stderr);
		assert.match(result.stderr, /line 4 not sent: \/who is a chat command/);
		assert.match(result.stderr, /line 5 not sent: no one called nobody-here is here/);
		assert.match(result.stderr, /2 of 6 lines not sent/);

		for (const r of [b, c]) await r.waitFor('message', (m) => m.from === 'ci' && m.text === 'plain text');
		const fromCi = (r: Recorder) => r.of('message').filter((m) => m.from === 'ci');
		assert.deepEqual(
			fromCi(c).map((m) => [m.text, m.action]),
			[
				['waves', true],
				['/etc/hosts is a path', false],
				['plain text', false],
			],
		);
		assert.deepEqual(
			fromCi(b).map((m) => m.text),
			fromCi(c).map((m) => m.text),
		);
		const direct = await b.waitFor('direct', (d) => d.from === 'ci');
		assert.equal(direct.text, 'the secret');
		assert.equal(direct.to, 'bob');
		assert.ok(!c.events.some((e) => JSON.stringify(e).includes('the secret')), 'only bob sees it');
	});
});
