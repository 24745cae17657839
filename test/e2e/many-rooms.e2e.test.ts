// Issue #11's "done when", end to end over real processes: `parley user add`
// writes the accounts to the real MariaDB, one `parley serve --db mysql://…`
// hosts every room, and full-screen TUI clients (each in its own
// pseudo-terminal) do what a new team would: alice opens #general and #dev
// from one TUI over one login, makes bob an op, bob kicks and bans a troll
// (who cannot come back, not even from a new session), and alice keeps
// chatting from a second terminal logged in as herself, nothing kicked out.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readdirSync, readFileSync, readlinkSync} from 'node:fs';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {cliEnv, runCli} from '../cli/cli-process.js';
import {freePort, ServeProcess} from '../helpers/tcp-serve-process.js';
import {clientEnv, TuiProcess} from '../helpers/tui-process.js';
import {type Backend, MYSQL_URL, mysqlBackend, reportUnreachable, uniqueName} from '../store/backends.js';

const mysql = await mysqlBackend();

/**
 * The established TCP connections the process `pid` has open to `port`: the
 * kernel's view, from /proc (its sockets' inodes matched against /proc/net/tcp{,6}).
 */
function connectionsTo(pid: number, port: number): number {
	const inodes = new Set<string>();
	for (const fd of readdirSync(`/proc/${pid}/fd`)) {
		try {
			const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
			const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
			if (inode) inodes.add(inode);
		} catch {
			// closed meanwhile
		}
	}
	const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
	let count = 0;
	for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
		for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
			const fields = line.trim().split(/\s+/);
			// fields: sl local remote state … inode (the 10th)
			const [, , remote, state, , , , , , inode] = fields;
			if (state === '01' && remote?.endsWith(`:${hexPort}`) && inode && inodes.has(inode)) count++;
		}
	}
	return count;
}

if ('unreachable' in mysql) {
	reportUnreachable('many rooms end to end against MySQL/MariaDB', mysql);
} else {
	describe('many rooms, moderation and one account in two terminals (serve --db mysql, TUI processes)', () => {
		const backend: Backend = mysql;
		const password = 'a long enough password';
		const alice = uniqueName('alice');
		const bob = uniqueName('bob');
		const troll = uniqueName('troll');
		const general = `#${uniqueName('general')}`;
		const dev = `#${uniqueName('dev')}`;
		const lobby = uniqueName('lobby');
		let home: string;
		let serve: ServeProcess | undefined;
		let port: number;
		const clients: TuiProcess[] = [];

		const connected = (client: TuiProcess) =>
			client.waitForScreen(
				(lines) => /│ connected │/.test(lines[0] ?? ''),
				'the status bar saying "connected"',
			);

		/** A TUI logged in as `user` at `room` (the default room when absent). */
		async function tui(label: string, user: string, room = ''): Promise<TuiProcess> {
			const client = new TuiProcess(
				label,
				[`tcp://127.0.0.1:${port}/${room}`, '--user', user, '--accept-new'],
				clientEnv(path.join(home, label)),
			);
			clients.push(client);
			await client.waitForText('log in to this room');
			await client.type(password, {enter: true});
			await connected(client);
			await inputReady(client);
			return client;
		}

		/** The input line is drawn (a tab that just joined takes its keys only once it is). */
		const inputReady = (client: TuiProcess) =>
			client.waitForScreen(() => client.inputLine().startsWith('>'), 'the input line');

		/** Types a line (a command or chat) into the shown tab. */
		const say = (client: TuiProcess, line: string) => client.type(line, {enter: true});

		/** Shows tab `n` (1-based) with Alt+n and waits until the tab bar brackets it. */
		async function showTab(client: TuiProcess, n: number, name: string): Promise<void> {
			client.press(`\u001b${n}`);
			await client.waitForScreen(
				(lines) =>
					(lines[1] ?? '').includes(`[${n}:tcp #${name.slice(0, 6)}`) && client.inputLine().startsWith('>'),
				`tab ${n} (${name}) shown`,
			);
		}

		/** `/join ROOM`, which opens as tab `n`, and waits until that tab has joined. */
		async function joinRoom(client: TuiProcess, room: string, n: number): Promise<void> {
			await say(client, `/join ${room}`);
			await client.waitForScreen(
				(lines) =>
					(lines[1] ?? '').includes(`[${n}:tcp ${room.slice(0, 7)}`) &&
					lines.some((line) => line.includes(`${alice} joined`)) &&
					client.inputLine().startsWith('>'),
				`${room} joined in tab ${n}`,
			);
		}

		before(async () => {
			home = await mkdtemp(path.join(tmpdir(), 'parley-e2e-rooms-'));
			for (const user of [alice, bob, troll]) {
				const added = await runCli(
					['user', 'add', user, '--db', MYSQL_URL, '--password-stdin'],
					cliEnv(home),
					`${password}\n`,
				);
				assert.equal(added.code, 0, `parley user add ${user}: ${added.stderr}`);
			}
			port = await freePort();
			serve = await ServeProcess.start({
				tcpPort: port,
				dataDir: path.join(home, 'server'),
				db: MYSQL_URL,
				room: lobby,
			});
		});

		after(async () => {
			await Promise.all(clients.map((client) => client.kill()));
			await serve?.stop();
			await backend.cleanup();
			if (home) await rm(home, {recursive: true, force: true});
		});

		it('two rooms over one login, an op who kicks and bans a troll, and alice in two terminals at once', async () => {
			// alice: one TUI, one login, two rooms she creates (so she owns them).
			const aliceOne = await tui('alice-1', alice);
			await joinRoom(aliceOne, general, 2);
			await joinRoom(aliceOne, dev, 3);
			assert.equal(connectionsTo(aliceOne.pid!, port), 1, 'one TCP connection carries all of alice’s rooms');

			const bobTui = await tui('bob', bob, dev);
			const trollTui = await tui('troll', troll, dev);
			await aliceOne.waitForText(`${troll} joined`);

			// Messages go to the room they were typed in.
			await say(aliceOne, 'hello dev');
			await bobTui.waitForText(`${alice}: hello dev`);
			await showTab(aliceOne, 2, general.slice(1));
			await say(aliceOne, 'hello general');
			await aliceOne.waitForText(`${alice}: hello general`);
			await showTab(aliceOne, 3, dev.slice(1));
			await say(aliceOne, `/op ${bob}`);
			await bobTui.waitForText(`${alice} made ${bob} an op`);
			assert.ok(!bobTui.text().includes('hello general'), 'bob, only in the dev room, never saw #general');

			// bob, now an op, kicks and then bans the troll.
			await say(trollTui, 'spam spam spam');
			await bobTui.waitForText(`${troll}: spam spam spam`);
			await say(bobTui, `/kick ${troll} spamming`);
			await trollTui.waitForText(`kicked by ${bob}`);
			await aliceOne.waitForText(`${troll} was kicked by ${bob} (spamming)`);
			await say(bobTui, `/ban ${troll} for good`);
			await aliceOne.waitForText(`${troll} was banned by ${bob} (for good)`);
			await say(trollTui, `/join ${dev}`);
			await trollTui.waitForText('banned');

			// A new session of the troll (a fresh process, a fresh login) is refused too.
			await trollTui.kill();
			const trollAgain = new TuiProcess(
				'troll-2',
				[`tcp://127.0.0.1:${port}/${dev}`, '--user', troll, '--accept-new'],
				clientEnv(path.join(home, 'troll-2')),
			);
			clients.push(trollAgain);
			await trollAgain.waitForText('log in to this room');
			await say(trollAgain, password);
			await trollAgain.waitForText('banned');

			// The topic shows under bob's tab bar; /list lets him pick #general, opened on his one connection.
			await say(aliceOne, '/topic ship it on friday');
			await bobTui.waitForScreen(
				(lines) => (lines[2] ?? '').includes('ship it on friday'),
				'the topic under the tab bar',
			);
			await say(bobTui, '/list');
			await bobTui.waitForText('Enter open');
			for (let step = 0; ; step++) {
				const chosen = bobTui.lines().find((line) => line.startsWith('› '));
				if (chosen?.includes(general)) break;
				assert.ok(step < 50, `${general} is listed:\n${bobTui.text()}`);
				bobTui.press('\u001b[B');
				await bobTui.waitForScreen(
					(lines) => lines.find((line) => line.startsWith('› ')) !== chosen,
					'the choice to move',
				);
			}
			assert.match(
				bobTui.lines().find((line) => line.startsWith('› '))!,
				/\(1 member\)/,
				'one member: alice',
			);
			bobTui.press('\r');
			await bobTui.waitForText(`${alice}: hello general`);
			assert.match(bobTui.lines()[1] ?? '', /\[2:tcp #/);
			assert.equal(connectionsTo(bobTui.pid!, port), 1, 'bob’s two rooms share one connection');
			await showTab(bobTui, 1, dev.slice(1));

			// alice logs in from a second terminal: her rooms open there too, the first stays.
			const joinsOfAlice = () => bobTui.text().split(`${alice} joined`).length - 1;
			const joinsBefore = joinsOfAlice();
			const aliceTwo = await tui('alice-2', alice);
			await aliceTwo.waitForText('reopened your rooms on this server');
			await aliceTwo.waitForScreen(
				(lines) => lines.some((line) => line.includes('3:tcp')),
				'tabs for both of alice’s rooms',
			);
			await showTab(aliceTwo, 3, dev.slice(1));
			await say(aliceTwo, 'from the second terminal');
			await aliceOne.waitForText(`${alice}: from the second terminal`);
			await bobTui.waitForText(`${alice}: from the second terminal`);
			await say(aliceOne, 'and from the first');
			await aliceTwo.waitForText(`${alice}: and from the first`);
			await bobTui.waitForText(`${alice}: and from the first`);
			await showTab(aliceTwo, 2, general.slice(1));
			await aliceTwo.waitForText(`${alice}: hello general`);
			assert.equal(connectionsTo(aliceOne.pid!, port), 1, 'the first terminal still has its one connection');
			assert.ok(!/elsewhere/.test(aliceOne.text()), 'the first terminal was not logged out');
			assert.match(aliceOne.statusLine(), /│ connected │/);

			// Unread counts follow the account's read marker: reading in one terminal clears the other's.
			await showTab(aliceOne, 2, general.slice(1));
			await say(bobTui, 'unread until alice looks');
			const unread = /3:tcp [^\]]*\(1\)/;
			await aliceTwo.waitForScreen((lines) => unread.test(lines[1] ?? ''), 'one unread line in #dev');
			await aliceOne.waitForScreen((lines) => unread.test(lines[1] ?? ''), 'one unread line in #dev');
			await showTab(aliceOne, 3, dev.slice(1));
			await aliceOne.waitForText(`${bob}: unread until alice looks`);
			await aliceTwo.waitForScreen(
				(lines) => (lines[1] ?? '').includes('3:tcp') && !/\(\d+\)/.test(lines[1] ?? ''),
				'read in the other terminal',
			);

			// One member per account, however many sessions.
			await say(bobTui, '/who');
			await bobTui.waitForText('in the room (2)');
			const who = bobTui.lines().find((line) => line.includes('in the room (2)'))!;
			assert.equal(who.split(alice).length - 1, 1, `alice once in ${who}`);
			assert.equal(joinsOfAlice(), joinsBefore, `her second session announced nothing:\n${bobTui.text()}`);
		});

		it('brings every room back over one login after the server restarts, with topic, roles and bans kept', async () => {
			const [aliceOne, bobTui, , , aliceTwo] = clients as [
				TuiProcess,
				TuiProcess,
				TuiProcess,
				TuiProcess,
				TuiProcess,
			];
			// alice-2 closes #general (still a member: /close is not /part); the restart must not reopen it.
			await showTab(aliceTwo, 2, general.slice(1));
			await say(aliceTwo, '/close');
			await aliceTwo.waitForScreen(
				(lines) => !(lines[1] ?? '').includes(general.slice(1)) && (lines[1] ?? '').includes('2:tcp'),
				'#general closed',
			);
			await serve!.kill9();
			await aliceOne.waitForScreen(
				(lines) => /reconnecting/.test(lines[0] ?? ''),
				'the status bar reconnecting',
			);
			serve = await ServeProcess.start({
				tcpPort: port,
				dataDir: path.join(home, 'server'),
				db: MYSQL_URL,
				room: lobby,
			});
			for (const client of [aliceOne, bobTui, aliceTwo]) await connected(client);
			await say(aliceOne, 'after the restart');
			await bobTui.waitForText(`${alice}: after the restart`);
			await showTab(aliceTwo, 2, dev.slice(1));
			await aliceTwo.waitForText(`${alice}: after the restart`);
			assert.doesNotMatch(
				aliceTwo.lines()[1] ?? '',
				/3:tcp/,
				`the reconnect reopened no closed tab:\n${aliceTwo.text()}`,
			);
			assert.equal(connectionsTo(aliceOne.pid!, port), 1, 'one login brought all three rooms back');
			assert.ok((bobTui.lines()[2] ?? '').includes('ship it on friday'), 'the topic was kept');
			assert.ok(
				bobTui.lines().some((line) => line.includes(`@${bob}`)),
				`bob is still an op:\n${bobTui.text()}`,
			);
			const trollAfter = new TuiProcess(
				'troll-3',
				[`tcp://127.0.0.1:${port}/${dev}`, '--user', troll, '--accept-new'],
				clientEnv(path.join(home, 'troll-3')),
			);
			clients.push(trollAfter);
			await trollAfter.waitForText('log in to this room');
			await say(trollAfter, password);
			await trollAfter.waitForText('banned');
		});
	});
}
