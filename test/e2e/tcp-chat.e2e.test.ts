// The TCP room's "done when", end to end over real processes: `parley user add`
// writes two accounts to the real MariaDB, `parley serve --db mysql://…` runs
// the TLS room on it, and two full-screen TUI clients (each in its own
// pseudo-terminal, see test/helpers/tui-process.ts) trust the certificate, log
// in through the form and chat.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {runCli, cliEnv} from '../cli/cli-process.js';
import {freePort, ServeProcess} from '../helpers/tcp-serve-process.js';
import {clientEnv, TuiProcess} from '../helpers/tui-process.js';
import {mysqlBackend, MYSQL_URL, reportUnreachable, uniqueName, type Backend} from '../store/backends.js';

const mysql = await mysqlBackend();

if ('unreachable' in mysql) {
	reportUnreachable('TCP chat end to end against MySQL/MariaDB', mysql);
} else {
	describe('TCP chat end to end (parley user, serve --db mysql, two TUI clients as processes)', () => {
		const backend: Backend = mysql;
		const alice = {name: uniqueName('alice'), password: 'correct horse 🐎 battery'};
		const bob = {name: uniqueName('bob'), password: 'tr0ub4dor&3'};
		let home: string;
		let serve: ServeProcess | undefined;
		let url: string;
		const clients: TuiProcess[] = [];

		const connected = (client: TuiProcess) =>
			client.waitForScreen(
				(lines) => /│ connected │/.test(lines[0] ?? ''),
				'the status bar saying "connected"',
			);

		before(async () => {
			home = await mkdtemp(path.join(tmpdir(), 'parley-e2e-tcp-'));
			for (const user of [alice, bob]) {
				const added = await runCli(
					['user', 'add', user.name, '--db', MYSQL_URL, '--password-stdin'],
					cliEnv(home),
					`${user.password}\n`,
				);
				assert.equal(added.code, 0, `parley user add ${user.name}: ${added.stderr}`);
			}
			const port = await freePort();
			serve = await ServeProcess.start({
				tcpPort: port,
				dataDir: path.join(home, 'server'),
				db: MYSQL_URL,
				room: uniqueName('room'),
			});
			url = `tcp://127.0.0.1:${port}`;
		});

		after(async () => {
			await Promise.all(clients.map((client) => client.kill()));
			await serve?.stop();
			await backend.cleanup();
			if (home) await rm(home, {recursive: true, force: true});
		});

		it('asks to trust the new certificate, refuses a wrong password in the form, then logs in', async () => {
			const client = new TuiProcess('alice', [url, '--user', alice.name], clientEnv(home));
			clients.push(client);
			await client.waitForText('— trust');
			client.press('y');
			await client.waitForText('log in to this room');

			await client.type('not the password', {enter: true});
			await client.waitForText('invalid user name or password');
			assert.ok(!/│ connected │/.test(client.statusLine()), 'a wrong password does not connect');

			await client.type(alice.password, {enter: true});
			await connected(client);
			assert.ok(
				!client.text().includes('not the password') && !client.text().includes('horse'),
				'no password is ever drawn',
			);
			assert.match(serve!.log, new RegExp(`failed login for "${alice.name}" from 127\\.0\\.0\\.1`));
		});

		it('carries messages both ways between two logged-in clients over TLS', async () => {
			const [aliceClient] = clients;
			// --accept-new pins the first-seen certificate without asking (bob has his own known_hosts).
			const bobClient = new TuiProcess(
				'bob',
				[url, '--user', bob.name, '--accept-new'],
				clientEnv(path.join(home, 'bob')),
			);
			clients.push(bobClient);
			await bobClient.waitForText('log in to this room');
			await bobClient.type(bob.password, {enter: true});
			await connected(bobClient);
			await aliceClient!.waitForText(`${bob.name} joined`);

			await aliceClient!.type('hello bob, this is TLS', {enter: true});
			await bobClient.waitForText(`${alice.name}: hello bob, this is TLS`);
			await bobClient.type('你好 alice 👋', {enter: true});
			await aliceClient!.waitForText(`${bob.name}: 你好 alice 👋`);
		});
	});
}
