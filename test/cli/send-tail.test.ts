// `parley send` and `parley tail` end to end: real room servers in this
// process, the built CLI as child processes talking to them over sockets.
import assert from 'node:assert/strict';
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {loadOrCreateServerSecret} from '../../server/auth/server-secret.js';
import type {AccountStore} from '../../server/store/account-store.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {startTcpRoomServer, type TcpRoomServer} from '../../server/tcp/tcp-room-server.js';
import {loadOrCreateCertificate} from '../../server/tls/certificate.js';
import {startUdpRoomServer, type UdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomClient} from '../../source/client/types.js';
import {deriveVerifier} from '../../source/protocol/scram.js';
import {Recorder} from '../helpers/room-recorder.js';
import {peek, startUdpProxy} from '../helpers/udp-proxy.js';
import {waitFor} from '../helpers/wait.js';
import {CliProcess, cliEnv, parseJsonLines, runCli} from './cli-process.js';

const numbered = (count: number, prefix: string): string[] =>
	Array.from({length: count}, (_, index) => `${prefix} ${index + 1} ✓ "quoted" \\ tab\there`);

/** tail's JSON message lines from `nick`, parsed. */
const messagesFrom = (lines: readonly string[], nick: string) =>
	parseJsonLines(lines).filter((event) => event.kind === 'message' && event.nick === nick);

async function stopTail(tail: CliProcess): Promise<void> {
	tail.kill('SIGTERM');
	const result = await tail.exited;
	assert.equal(result.code, 0, `tail exits 0 on SIGTERM\n${result.stderr}`);
}

describe('parley send/tail in a UDP room', () => {
	let home: string;
	let env: NodeJS.ProcessEnv;
	let server: UdpRoomServer;
	let url: string;
	let watcher: RoomClient;
	let seen: Recorder;

	before(async () => {
		home = await mkdtemp(path.join(tmpdir(), 'parley-send-udp-'));
		// Generous limits so 200 lines take well under a second; pacing has its own tests below.
		server = await startUdpRoomServer({port: 0, limits: {ratePerSecond: 1000, burst: 50}});
		url = `udp://127.0.0.1:${server.port}`;
		env = cliEnv(home);
		await mkdir(path.join(home, 'config', 'parley'), {recursive: true});
		await writeFile(
			path.join(home, 'config', 'parley', 'rooms.json'),
			JSON.stringify({rooms: {lobby: {url, nick: 'sender'}}}, null, '\t'),
		);
		watcher = createRoomClient(url);
		seen = new Recorder(watcher);
		await watcher.connect('watcher');
	});

	after(async () => {
		await watcher.close();
		await server.close();
		await rm(home, {recursive: true, force: true});
	});

	test('200 lines sent to a named room reach tail --json and another member in order, exactly once', async () => {
		const tail = new CliProcess(['tail', 'lobby', '--nick', 'tailer', '--json'], env);
		try {
			await waitFor(() => server.room.findMember('tailer'), {timeout: 10_000, what: 'tail to join'});
			const sent = numbered(200, 'udp line');
			const before = seen.of('message').length;
			// The nick comes from rooms.json; blank lines are skipped, CRLF is accepted.
			const result = await runCli(
				['send', 'lobby'],
				env,
				`${sent.slice(0, 100).join('\n')}\n\n   \n${sent.slice(100).join('\r\n')}\n`,
			);
			assert.equal(result.code, 0, result.stderr);
			assert.equal(result.stderr, '');
			assert.equal(result.stdout, '');

			// send exits only after every line was acknowledged, so the room has them all now.
			const inRoom = seen
				.of('message')
				.slice(before)
				.filter((m) => m.from === 'sender');
			assert.deepEqual(
				inRoom.map((m) => m.text),
				sent,
			);

			const received = await tail.waitForLines((lines) => {
				const messages = messagesFrom(lines, 'sender');
				return messages.length >= sent.length && messages;
			}, 'all 200 lines in tail');
			assert.deepEqual(
				received.map((event) => event.text),
				sent,
				'in order, exactly once',
			);
			const seqs = received.map((event) => event.seq ?? -1);
			assert.ok(
				seqs.every((seq, index) => index === 0 || seq > seqs[index - 1]!),
				'sequence numbers increase',
			);
			assert.ok(
				received.every((event) => typeof event.time === 'string' && !Number.isNaN(Date.parse(event.time))),
			);
			// The sender left properly rather than timing out.
			await tail.waitForLines(
				(lines) => parseJsonLines(lines).some((event) => event.kind === 'leave' && event.nick === 'sender'),
				"the sender's leave",
			);
			assert.ok(
				!parseJsonLines(tail.lines()).some((event) => event.nick === 'tailer' && event.kind === 'join'),
				'tail does not announce itself',
			);
			assert.equal(server.room.stats.rateLimited, 0);
		} finally {
			await stopTail(tail);
		}
	});

	test('tail prints plain text lines, actions and presence', async () => {
		const tail = new CliProcess(['tail', url, '--nick', 'plain'], env);
		try {
			await waitFor(() => server.room.findMember('plain'), {timeout: 10_000, what: 'tail to join'});
			const result = await runCli(['send', url, '--nick', 'bob'], env, 'hello there\nsecond\n');
			assert.equal(result.code, 0, result.stderr);
			watcher.say('waves', {action: true});
			await tail.waitForLines(
				(lines) => lines.some((line) => line.endsWith('* watcher waves')),
				'the action',
			);
			const lines = tail.lines();
			const time = String.raw`\d\d:\d\d:\d\d`;
			assert.ok(
				lines.some((line) => new RegExp(`^${time} -- bob joined$`).test(line)),
				lines.join('\n'),
			);
			assert.ok(
				lines.some((line) => new RegExp(`^${time} bob: hello there$`).test(line)),
				lines.join('\n'),
			);
			assert.ok(
				lines.some((line) => new RegExp(`^${time} bob: second$`).test(line)),
				lines.join('\n'),
			);
			assert.ok(
				lines.some((line) => new RegExp(`^${time} -- bob left$`).test(line)),
				lines.join('\n'),
			);
			assert.ok(
				lines.some((line) => new RegExp(`^${time} \\* watcher waves$`).test(line)),
				lines.join('\n'),
			);
		} finally {
			await stopTail(tail);
		}
	});
});

describe('parley send over a lossy path', () => {
	test('dropped sends and dropped acknowledgements are retried: every line arrives once, in order', async () => {
		const home = await mkdtemp(path.join(tmpdir(), 'parley-send-lossy-'));
		const server = await startUdpRoomServer({port: 0, limits: {ratePerSecond: 1000, burst: 50}});
		// Drop the first copy of two messages on the way up and of two echoes on the way down.
		const dropOnce = {up: new Set(['lossy 10', 'lossy 20']), down: new Set(['lossy 30', 'lossy 40'])};
		const proxy = await startUdpProxy(server.port, (datagram, direction) => {
			const message = peek(datagram);
			if (message === undefined || typeof message.text !== 'string') return false;
			if (message.t !== (direction === 'up' ? 'say' : 'msg')) return false;
			return dropOnce[direction].delete(message.text);
		});
		const watcher = createRoomClient(`udp://127.0.0.1:${server.port}`);
		const seen = new Recorder(watcher);
		try {
			await watcher.connect('watcher');
			const sent = Array.from({length: 50}, (_, index) => `lossy ${index + 1}`);
			const result = await runCli(
				['send', `udp://127.0.0.1:${proxy.port}`, '--nick', 'lossy'],
				cliEnv(home),
				`${sent.join('\n')}\n`,
			);
			assert.equal(result.code, 0, result.stderr);
			assert.equal(proxy.dropped, 4);
			await waitFor(() => seen.texts().includes('lossy 50'), {what: 'the last line'});
			assert.deepEqual(
				seen
					.of('message')
					.filter((m) => m.from === 'lossy')
					.map((m) => m.text),
				sent,
			);
		} finally {
			await watcher.close();
			await proxy.close();
			await server.close();
			await rm(home, {recursive: true, force: true});
		}
	});
});

describe('parley send paces itself under the room rate limit', () => {
	let home: string;
	let env: NodeJS.ProcessEnv;

	before(async () => {
		home = await mkdtemp(path.join(tmpdir(), 'parley-send-pace-'));
		env = cliEnv(home);
	});

	after(async () => {
		await rm(home, {recursive: true, force: true});
	});

	const paced = async (limits: {ratePerSecond: number; burst: number} | undefined, count: number) => {
		const server = await startUdpRoomServer({port: 0, ...(limits ? {limits} : {})});
		const url = `udp://127.0.0.1:${server.port}`;
		const watcher = createRoomClient(url);
		const seen = new Recorder(watcher);
		try {
			await watcher.connect('watcher');
			const sent = numbered(count, 'paced');
			const result = await runCli(['send', url, '--nick', 'flood'], env, `${sent.join('\n')}\n`);
			assert.equal(result.code, 0, result.stderr);
			assert.equal(server.room.stats.rateLimited, 0, 'never over the limit');
			await waitFor(() => seen.of('message').filter((m) => m.from === 'flood').length >= count, {
				what: 'every line at the watcher',
			});
			assert.deepEqual(
				seen
					.of('message')
					.filter((m) => m.from === 'flood')
					.map((m) => m.text),
				sent,
			);
			assert.ok(!seen.of('presence').some((p) => p.kind === 'kick'), 'not kicked');
		} finally {
			await watcher.close();
			await server.close();
		}
	};

	// Three times the burst: without pacing the server would refuse some. The pacing itself is
	// measured on a fake clock in pacer.test.ts.
	test('the default limits (5 a second, bursts of 10): 30 lines arrive whole, none refused', async () => {
		await paced(undefined, 30);
	});

	test('1,000 lines against a tight limit arrive whole, none refused', async () => {
		await paced({ratePerSecond: 400, burst: 10}, 1000);
	});
});

describe('parley send/tail in a TCP room', () => {
	let home: string;
	let env: NodeJS.ProcessEnv;
	let store: AccountStore;
	let server: TcpRoomServer;
	let url: string;

	before(async () => {
		home = await mkdtemp(path.join(tmpdir(), 'parley-send-tcp-'));
		const dataDir = path.join(home, 'server');
		store = await openSqliteStore(dataDir);
		server = await startTcpRoomServer({
			port: 0,
			store,
			serverSecret: await loadOrCreateServerSecret(dataDir),
			tls: await loadOrCreateCertificate(dataDir),
			limits: {ratePerSecond: 1000, burst: 50},
		});
		url = `tcp://127.0.0.1:${server.port}`;
		env = cliEnv(home);
		// One account each: an account is in the room once, a second login replaces the first.
		await store.createUser('alice', await deriveVerifier('alice password'));
		await store.createUser('bob', await deriveVerifier('bob password'));
		await store.createUser('carol', await deriveVerifier('carol password'));
	});

	after(async () => {
		await server.close();
		await store.close();
		await rm(home, {recursive: true, force: true});
	});

	test('200 lines with --password-stdin reach tail --json in order, exactly once; --history replays the end', async () => {
		// tail trusts the new server (--accept-new); send then finds it pinned in known_hosts.
		const tail = new CliProcess(['tail', url, '--user', 'bob', '--accept-new', '--json'], {
			...env,
			PARLEY_PASSWORD: 'bob password',
		});
		try {
			await waitFor(() => server.room.findMember('bob'), {timeout: 10_000, what: 'tail to log in'});
			assert.match(tail.stderr, /trusting the new server 127\.0\.0\.1:\d+, certificate SHA256:/);
			const sent = numbered(200, 'tcp line');
			const result = await runCli(
				['send', url, '--user', 'alice', '--password-stdin'],
				env,
				`alice password\n${sent.join('\n')}\n`,
			);
			assert.equal(result.code, 0, result.stderr);
			assert.equal(result.stderr, '');

			const received = await tail.waitForLines((lines) => {
				const messages = messagesFrom(lines, 'alice');
				return messages.length >= sent.length && messages;
			}, 'all 200 lines in tail');
			assert.deepEqual(
				received.map((event) => event.text),
				sent,
				'in order, exactly once',
			);
			const seqs = received.map((event) => event.seq ?? -1);
			assert.ok(
				seqs.every((seq, index) => index === 0 || seq === seqs[index - 1]! + 1),
				'consecutive sequence numbers',
			);
			assert.ok(!received.some((event) => event.history));
		} finally {
			await stopTail(tail);
		}

		// A new tail asks for the last 3 of the history the server replays on joining; plain text.
		// Its password is stdin's first line; stdin then stays open, unread.
		const late = new CliProcess(['tail', url, '--user', 'carol', '--history', '3', '--password-stdin'], env);
		late.write('carol password\nnot a message\n');
		try {
			const replayed = await late.waitForLines((lines) => lines.length >= 3 && lines, 'three history lines');
			assert.deepEqual(
				replayed.map((line) => line.replace(/^\d\d:\d\d:\d\d /, '')),
				numbered(200, 'tcp line')
					.slice(-3)
					.map((text) => `alice: ${text}`),
			);
		} finally {
			late.kill('SIGINT');
			const result = await late.exited;
			assert.equal(result.code, 0, `tail exits 0 on SIGINT\n${result.stderr}`);
		}
	});
});
