// The local room of `parley` without arguments outlives its first user: the
// chat starts `parley serve` in the background (detached, with a pid file),
// the first client quits, and the others keep chatting until
// `parley serve --stop`. Everything runs as real processes in pseudo-terminals.
import assert from 'node:assert/strict';
import {readFile, mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import {cliEnv, runCli} from '../cli/cli-process.js';
import {clientEnv, TuiProcess} from '../helpers/tui-process.js';
import {waitFor} from '../helpers/wait.js';

const TIMEOUT = 15_000;

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

describe('the local room server outlives the chat that started it', () => {
	let home: string;
	let env: NodeJS.ProcessEnv;
	let pidFile: string;
	/** The background server this test's first chat started (killed by this pid if the test fails midway). */
	let serverPid: number | undefined;
	const clients: TuiProcess[] = [];

	const chat = (name: string): TuiProcess => {
		const client = new TuiProcess(name, ['--nick', name], env);
		clients.push(client);
		return client;
	};
	const connected = (client: TuiProcess, members: number) =>
		client.waitForScreen(
			(lines) =>
				/│ connected │/.test(lines[0] ?? '') &&
				(lines[0] ?? '').includes(`│ ${members} ${members === 1 ? 'member' : 'members'}`),
			`connected with ${members} members`,
			TIMEOUT,
		);

	before(async () => {
		home = await mkdtemp(path.join(tmpdir(), 'parley-local-'));
		// Free ports, so parallel runs and a real local server never collide; the pid file says which.
		env = clientEnv(home, {PARLEY_LOCAL_UDP_PORT: '0', PARLEY_LOCAL_TCP_PORT: '0'});
		pidFile = path.join(home, 'data', 'parley', 'serve.pid');
	});

	after(async () => {
		await Promise.all(clients.map((client) => client.kill()));
		// Failed before reading it: the pid file still names the server this test started.
		serverPid ??= await readFile(pidFile, 'utf8').then(
			(text) => (JSON.parse(text) as {pid: number}).pid,
			() => undefined,
		);
		if (serverPid !== undefined && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
		await rm(home, {recursive: true, force: true});
	});

	it('keeps the room for the others when its first user quits, reports it, and stops on --stop', async () => {
		const alice = chat('alice');
		await connected(alice, 1);
		const record = JSON.parse(await readFile(pidFile, 'utf8')) as {pid: number; udpPort: number};
		serverPid = record.pid;
		assert.notEqual(serverPid, alice.pid, 'the server is a process of its own');
		assert.ok(record.udpPort > 0, 'the pid file names the bound port');

		const bob = chat('bob');
		await connected(bob, 2);
		alice.press('\x03');
		assert.equal(await alice.waitForExit(), 0);
		await bob.waitForText('-- alice left');
		assert.ok(alive(serverPid), 'the server stayed when the chat that started it quit');

		// A newcomer finds the same server through the pid file, and bob and carol chat.
		const carol = chat('carol');
		await connected(carol, 2);
		await bob.type('still here after alice left', {enter: true});
		await carol.waitForText('bob: still here after alice left');
		assert.ok(!bob.text().includes('shutting down'), bob.text());

		const status = await runCli(['serve', '--status'], cliEnv(home));
		assert.equal(status.code, 0, status.stderr);
		assert.match(
			status.stdout,
			new RegExp(`runs for .*: pid ${serverPid}, UDP 127\\.0\\.0\\.1:${record.udpPort}`),
		);

		const stop = await runCli(['serve', '--stop'], cliEnv(home));
		assert.equal(stop.code, 0, stop.stderr);
		assert.match(stop.stdout, new RegExp(`stopped parley serve \\(pid ${serverPid}\\)`));
		assert.equal(alive(serverPid), false);
		await bob.waitForScreen((lines) => !/│ connected │/.test(lines[0] ?? ''), 'bob told the server went');
		await waitFor(() => !alive(serverPid!), {timeout: TIMEOUT, what: 'the server process to end'});

		const after = await runCli(['serve', '--status'], cliEnv(home));
		assert.equal(after.code, 3);
		assert.match(after.stdout, /no parley serve runs/);
	});
});
