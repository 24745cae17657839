// End to end over real processes: `parley serve` and two full-screen TUI
// clients, each a separate OS process in its own pseudo-terminal (see
// test/helpers/tui-process.ts).
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, type ChildProcessByStdio} from 'node:child_process';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import type {Readable} from 'node:stream';
import {CLI, clientEnv, TuiProcess, within} from '../helpers/tui-process.js';
import {waitFor} from '../helpers/wait.js';

const TIMEOUT = 10_000;

describe('UDP chat end to end (server and two TUI clients as processes)', () => {
	let home: string;
	let server: ChildProcessByStdio<null, Readable, Readable> | undefined;
	let serverLog = '';
	let serverExit: Promise<number | null>;
	let url: string;
	let alice: TuiProcess;
	let bob: TuiProcess;

	const statusOk = (client: TuiProcess, members: number) =>
		client.waitForScreen(
			(lines) =>
				/│ connected │/.test(lines[0] ?? '') &&
				(lines[0] ?? '').includes(`│ ${members} ${members === 1 ? 'member' : 'members'} │`),
			`connected with ${members} members`,
		);

	before(async () => {
		home = await mkdtemp(path.join(tmpdir(), 'parley-e2e-'));
		const env = clientEnv(home);
		// Free ports for every listener (`serve` may run a TCP room beside the UDP one;
		// meow ignores a flag an older build does not know), so parallel runs never collide.
		const args = [
			CLI,
			'serve',
			'--host',
			'127.0.0.1',
			'--udp-port',
			'0',
			'--tcp-port',
			'0',
			'--data-dir',
			path.join(home, 'server'),
		];
		const spawned = spawn(process.execPath, args, {
			stdio: ['ignore', 'pipe', 'pipe'],
			env,
		});
		server = spawned;
		serverExit = new Promise((resolve) => spawned.once('exit', (code) => resolve(code)));
		spawned.stdout.setEncoding('utf8');
		spawned.stderr.setEncoding('utf8');
		spawned.stdout.on('data', (chunk: string) => (serverLog += chunk));
		spawned.stderr.on('data', (chunk: string) => (serverLog += chunk));
		const port = await waitFor(
			() => /udp room "[^"]*" listening on 127\.0\.0\.1:(\d+)/.exec(serverLog)?.[1],
			{
				timeout: TIMEOUT,
				what: `the server's "listening on" line (log so far: ${JSON.stringify(serverLog)})`,
			},
		);
		url = `udp://127.0.0.1:${port}`;

		alice = new TuiProcess('alice', [url, '--nick', 'alice'], env);
		await statusOk(alice, 1).catch(() => statusOk(alice, 2));
		bob = new TuiProcess('bob', [url, '--nick', 'bob'], env);
		await statusOk(bob, 2);
		await statusOk(alice, 2);
	});

	after(async () => {
		await Promise.all([alice?.kill(), bob?.kill()]);
		if (server && server.exitCode === null && server.signalCode === null) {
			server.kill('SIGKILL');
			await within(serverExit, 2000);
		}
		if (home) await rm(home, {recursive: true, force: true});
	});

	it('shows each message on the other member’s screen', async () => {
		await alice.type('hello from alice', {enter: true});
		await bob.waitForText('alice: hello from alice');
		await bob.type('hi alice, bob here', {enter: true});
		await alice.waitForText('bob: hi alice, bob here');
		// Each sees its own line too, acknowledged (no "sending…" left).
		await alice.waitForScreen(
			(lines) => lines.some((l) => l.includes('alice: hello from alice') && !l.includes('sending')),
			'own message acknowledged',
		);
		for (const client of [alice, bob])
			await client.waitForScreen(
				() => client.inputLine().trim() === '>',
				'an empty input line after sending',
			);
	});

	it('keeps a half-typed line while messages arrive, then sends it whole', async () => {
		await alice.type('half typed li');
		await alice.waitForScreen(() => alice.inputLine().trimEnd() === '> half typed li', 'the half-typed line');
		await bob.type('interrupting you', {enter: true});
		await alice.waitForText('bob: interrupting you');
		assert.equal(
			alice.inputLine().trimEnd(),
			'> half typed li',
			'the incoming message left the input line alone',
		);

		await alice.type('ne, now finished', {enter: true});
		await bob.waitForText('alice: half typed line, now finished');
		await alice.waitForScreen(() => alice.inputLine().trim() === '>', 'an empty input line after sending');
		// Nothing was sent early: bob never saw the fragment as a message of its own.
		assert.ok(!bob.lines().some((line) => /alice: half typed li(?!ne)/.test(line)));
	});

	it('leaves on Ctrl+C: the other member sees it and the client exits with 0', async () => {
		alice.press('\x03');
		await bob.waitForText('-- alice left');
		assert.equal(await alice.waitForExit(), 0);
		await bob.waitForScreen(
			(lines) => (lines[0] ?? '').includes('│ 1 member │'),
			'the member count down to 1',
		);
		assert.match(serverLog, /leave alice/);
	});

	it('leaves properly when the terminal goes away (SIGHUP), instead of timing out', async () => {
		const carol = new TuiProcess('carol', [url, '--nick', 'carol'], clientEnv(home));
		try {
			await statusOk(carol, 2);
			await bob.waitForText('-- carol joined');
			await waitFor(() => carol.pid, {timeout: TIMEOUT, what: 'carol’s pid'});
			process.kill(carol.pid!, 'SIGHUP');
			await bob.waitForText('-- carol left');
			assert.equal(await carol.waitForExit(), 0);
		} finally {
			await carol.kill();
		}
	});

	it('stops the server cleanly on SIGTERM', async () => {
		assert.ok(server);
		server.kill('SIGTERM');
		const code = await within(serverExit, TIMEOUT);
		assert.notEqual(code, 'timeout', `the server did not stop; log:\n${serverLog}`);
		assert.equal(code, 0, serverLog);
		assert.match(serverLog, /SIGTERM: shutting down/);
		assert.match(serverLog, /^\S+ stopped$/m);
		// Bob is told the server went away (it then keeps trying to reconnect).
		await bob.waitForScreen(
			(lines) => !/│ connected │/.test(lines[0] ?? ''),
			'the status bar leaving "connected"',
		);
	});
});
