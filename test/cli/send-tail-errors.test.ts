// What `parley send` and `parley tail` do when something is wrong, and the
// exit status that says so (see EXIT in source/cli/room-script.ts).
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {loadOrCreateServerSecret} from '../../server/auth/server-secret.js';
import type {AccountStore} from '../../server/store/account-store.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {startTcpRoomServer, type TcpRoomServer} from '../../server/tcp/tcp-room-server.js';
import {loadOrCreateCertificate} from '../../server/tls/certificate.js';
import {startUdpRoomServer, type UdpRoomServer} from '../../server/udp/udp-room-server.js';
import {EXIT} from '../../source/cli/room-script.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomClient} from '../../source/client/types.js';
import {fingerprintOf} from '../../source/protocol/fingerprint.js';
import {deriveVerifier} from '../../source/protocol/scram.js';
import {Recorder} from '../helpers/room-recorder.js';
import {waitFor} from '../helpers/wait.js';
import {CliProcess, cliEnv, runCli, unusedTcpPort, unusedUdpPort} from './cli-process.js';

let home: string;
let env: NodeJS.ProcessEnv;

before(async () => {
	home = await mkdtemp(path.join(tmpdir(), 'parley-send-errors-'));
	env = cliEnv(home);
});

after(async () => {
	await rm(home, {recursive: true, force: true});
});

describe('cannot connect: status 3', () => {
	test('UDP: no server at the address (send and tail)', async () => {
		const url = `udp://127.0.0.1:${await unusedUdpPort()}`;
		const [sent, tailed] = await Promise.all([
			runCli(['send', url, '--nick', 'x'], env, 'hello\n'),
			runCli(['tail', url, '--nick', 'y'], env),
		]);
		for (const result of [sent, tailed]) {
			assert.equal(result.code, EXIT.connect, result.stderr);
			assert.match(result.stderr, /^parley (send|tail): .*(connection refused|no answer)/);
			assert.ok(result.stderr.includes(url), result.stderr);
		}
	});

	test('UDP: something at the address that never answers (the handshake gives up)', async () => {
		const silent = dgram.createSocket('udp4');
		await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
		try {
			const url = `udp://127.0.0.1:${silent.address().port}`;
			const result = await runCli(['send', url, '--nick', 'x'], env, 'hello\n');
			assert.equal(result.code, EXIT.connect, result.stderr);
			assert.equal(result.stderr, `parley send: no answer from ${url} (is a Parley server running there?)\n`);
		} finally {
			silent.close();
		}
	});

	test('TCP: connection refused', async () => {
		const url = `tcp://127.0.0.1:${await unusedTcpPort()}`;
		const result = await runCli(
			['send', url, '--user', 'alice'],
			{...env, PARLEY_PASSWORD: 'whatever1'},
			'hello\n',
		);
		assert.equal(result.code, EXIT.connect, result.stderr);
		assert.match(result.stderr, /cannot connect to tcp:\/\/127\.0\.0\.1:\d+: connection refused/);
	});
});

describe('TCP room: auth and host keys', () => {
	let store: AccountStore;
	let server: TcpRoomServer;
	let url: string;
	let fingerprint: string;
	let knownHosts: string;

	before(async () => {
		const dataDir = path.join(home, 'tcp-server');
		store = await openSqliteStore(dataDir);
		const tls = await loadOrCreateCertificate(dataDir);
		fingerprint = fingerprintOf(tls.cert);
		server = await startTcpRoomServer({
			port: 0,
			store,
			serverSecret: await loadOrCreateServerSecret(dataDir),
			tls,
		});
		url = `tcp://127.0.0.1:${server.port}`;
		knownHosts = path.join(home, 'config', 'parley', 'known_hosts');
		await store.createUser('alice', await deriveVerifier('right password'));
	});

	after(async () => {
		await server.close();
		await store.close();
	});

	test('an unknown server is not trusted without --accept-new (status 6, fingerprint shown), and nothing is pinned', async () => {
		for (const command of ['send', 'tail']) {
			const result = await runCli(
				[command, url, '--user', 'alice'],
				{...env, PARLEY_PASSWORD: 'right password'},
				'hello\n',
			);
			assert.equal(result.code, EXIT.hostKey, result.stderr);
			assert.ok(result.stderr.includes(fingerprint), result.stderr);
			assert.match(result.stderr, /not trusted/);
			assert.match(result.stderr, /--accept-new/);
		}
		await assert.rejects(readFile(knownHosts, 'utf8'), {code: 'ENOENT'});
		assert.equal(server.room.stats.messages, 0);
	});

	test('a wrong password is status 4 (and --accept-new pins the server anyway)', async () => {
		const result = await runCli(
			['send', url, '--user', 'alice', '--password-stdin', '--accept-new'],
			env,
			'wrong password\nhello\n',
		);
		assert.equal(result.code, EXIT.auth, result.stderr);
		assert.match(result.stderr, /invalid user name or password/);
		assert.ok((await readFile(knownHosts, 'utf8')).includes(fingerprint));
		assert.equal(server.room.stats.messages, 0);
	});

	test('the right password after pinning works without --accept-new', async () => {
		const result = await runCli(
			['send', url, '--user', 'alice'],
			{...env, PARLEY_PASSWORD: 'right password'},
			'hello\n',
		);
		assert.equal(result.code, EXIT.ok, result.stderr);
		assert.equal(result.stderr, '');
	});

	test('a changed certificate is status 6 with a warning, even with --accept-new', async () => {
		const other = path.join(home, 'changed');
		await mkdir(path.join(other, 'config', 'parley'), {recursive: true});
		await writeFile(
			path.join(other, 'config', 'parley', 'known_hosts'),
			`127.0.0.1:${server.port} SHA256:${'A'.repeat(43)}=\n`,
		);
		const result = await runCli(
			['tail', url, '--user', 'alice', '--accept-new'],
			cliEnv(other, {PARLEY_PASSWORD: 'right password'}),
		);
		assert.equal(result.code, EXIT.hostKey, result.stderr);
		assert.match(result.stderr, /CHANGED/);
	});

	test('no password source is a usage error (status 2) before connecting', async () => {
		const result = await runCli(['send', url, '--user', 'alice'], env, 'hello\n');
		assert.equal(result.code, EXIT.usage, result.stderr);
		assert.match(result.stderr, /--password-stdin.*PARLEY_PASSWORD/);
	});
});

describe('UDP room: rejected lines and usage', () => {
	let server: UdpRoomServer;
	let url: string;
	let watcher: RoomClient;
	let seen: Recorder;

	before(async () => {
		server = await startUdpRoomServer({port: 0});
		url = `udp://127.0.0.1:${server.port}`;
		watcher = createRoomClient(url);
		seen = new Recorder(watcher);
		await watcher.connect('watcher');
	});

	after(async () => {
		await watcher.close();
		await server.close();
	});

	test('an oversized line and one with control characters are rejected (status 5); the others are sent', async () => {
		const input = ['before', 'x'.repeat(9000), '', 'bell \u0007 here', 'after'].join('\n');
		const result = await runCli(['send', url, '--nick', 'sender'], env, `${input}\n`);
		assert.equal(result.code, EXIT.rejected, result.stderr);
		assert.match(result.stderr, /line 2 not sent: message is 9000 bytes; the limit is 8192/);
		assert.match(result.stderr, /line 4 not sent: message contains control characters/);
		assert.match(result.stderr, /2 of 4 lines not sent/);
		await waitFor(() => seen.texts().includes('after'), {what: 'the last line'});
		assert.deepEqual(
			seen
				.of('message')
				.filter((m) => m.from === 'sender')
				.map((m) => m.text),
			['before', 'after'],
		);
	});

	test('a nick already in the room is status 4', async () => {
		const result = await runCli(['send', url, '--nick', 'watcher'], env, 'hello\n');
		assert.equal(result.code, EXIT.auth, result.stderr);
		assert.match(result.stderr, /taken/);
	});

	test('usage errors are status 2 with a reason', async () => {
		const cases: Array<{args: string[]; pattern: RegExp}> = [
			{args: ['send', url], pattern: /UDP room: pass --nick NAME/},
			{args: ['send'], pattern: /expected a room/},
			{args: ['send', url, url, '--nick', 'a'], pattern: /expected one room/},
			{args: ['send', url, '--nick', 'a', '--bogus'], pattern: /unknown option --bogus/},
			{args: ['tail', url, '--nick', 'a', '--history', 'many'], pattern: /--history needs a number/},
			{args: ['send', 'nowhere', '--nick', 'a'], pattern: /no room named nowhere \(no rooms are configured/},
			{args: ['send', 'ftp://host', '--nick', 'a'], pattern: /unknown room type ftp:/},
			{args: ['send', url, '--nick', 'a', '--password-stdin'], pattern: /only for tcp:\/\/ rooms/},
		];
		for (const {args, pattern} of cases) {
			const result = await runCli(args, env, 'hello\n');
			assert.equal(result.code, EXIT.usage, `${args.join(' ')}: ${result.stderr}`);
			assert.match(result.stderr, pattern, args.join(' '));
		}
		assert.equal(seen.of('message').filter((m) => m.from === 'a').length, 0);
	});

	test('--help documents the exit statuses', async () => {
		for (const command of ['send', 'tail']) {
			const result = await runCli([command, '--help'], env);
			assert.equal(result.code, 0);
			assert.match(result.stdout, /Exit status/);
			assert.match(result.stdout, /6 {2}the TCP server's certificate is not trusted/);
		}
		const send = await runCli(['send', '--help'], env);
		assert.match(send.stdout, /FIRST line of standard input is the password/);
	});

	test('tail exits 3 when the server goes away and does not come back within --timeout', async () => {
		const lonely = await startUdpRoomServer({port: 0});
		const tail = new CliProcess(
			['tail', `udp://127.0.0.1:${lonely.port}`, '--nick', 'waiting', '--timeout', '1'],
			env,
		);
		await waitFor(() => lonely.room.findMember('waiting'), {timeout: 10_000, what: 'tail to join'});
		await lonely.close(); // says bye with retry: tail reconnects, then gives up
		const result = await tail.exited;
		assert.equal(result.code, EXIT.connect, result.stderr);
		assert.match(result.stderr, /reconnecting/);
		assert.match(result.stderr, /could not get back into udp:\/\/127\.0\.0\.1:\d+ within 1 s/);
	});
});
