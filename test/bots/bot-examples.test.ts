// The example bots (examples/bot.py, standard-library Python, and
// examples/bot.mjs, node:tls only) as real child processes against a real TLS
// room server: they post their standard input, print what others say with
// --listen, check the certificate before the token leaves, and obey the
// server's refusals. Without python3 the Python half is skipped loudly (and
// fails under CI).
import assert from 'node:assert/strict';
import {spawn, spawnSync, type ChildProcessWithoutNullStreams} from 'node:child_process';
import {existsSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {after, before, describe, test} from 'node:test';
import {issueToken} from '../../server/auth/bot-tokens.js';
import type {AccountStore} from '../../server/store/account-store.js';
import {loadOrCreateCertificate} from '../../server/tls/certificate.js';
import {fingerprintOf} from '../../source/protocol/fingerprint.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {waitFor} from '../helpers/wait.js';
import {sqliteBackend, uniqueName, type Backend} from '../store/backends.js';

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../examples');

function findPython(): string | undefined {
	for (const candidate of ['/usr/bin/python3', 'python3']) {
		if (candidate.startsWith('/') && !existsSync(candidate)) continue;
		const probe = spawnSync(candidate, ['-c', 'import ssl, json, struct, socket'], {encoding: 'utf8'});
		if (probe.status === 0) return candidate;
	}
	return undefined;
}

interface BotKind {
	name: string;
	command: string | undefined;
	script: string;
}

const python = findPython();
const bots: BotKind[] = [
	{name: 'examples/bot.py', command: python, script: path.join(EXAMPLES, 'bot.py')},
	{name: 'examples/bot.mjs', command: process.execPath, script: path.join(EXAMPLES, 'bot.mjs')},
];

class BotProcess {
	stdout = '';
	stderr = '';
	readonly exited: Promise<number | null>;
	readonly child: ChildProcessWithoutNullStreams;

	constructor(bot: BotKind, args: string[], token: string) {
		const env: NodeJS.ProcessEnv = {...process.env, PARLEY_TOKEN: token};
		delete env.NODE_OPTIONS;
		this.child = spawn(bot.command as string, [bot.script, ...args], {env, stdio: ['pipe', 'pipe', 'pipe']});
		this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
		this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
		this.child.stdin.on('error', () => {});
		const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
		this.exited = new Promise((resolve) =>
			this.child.on('close', (code) => {
				clearTimeout(timer);
				resolve(code);
			}),
		);
	}

	async finish(stdin: string): Promise<number | null> {
		this.child.stdin.end(stdin);
		return this.exited;
	}

	waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, what: string): Promise<true> {
		return waitFor(() => pattern.test(this[stream]) || undefined, {timeout: 15_000, what}).catch((error) => {
			throw new Error(
				`${(error as Error).message}\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`,
			);
		});
	}
}

for (const bot of bots) {
	if (bot.command === undefined) {
		const reason = 'python3 is not installed (looked at /usr/bin/python3 and PATH)';
		if (process.env.CI) {
			test(bot.name, () => {
				throw new Error(`${reason}; CI is set, so this fails instead of skipping`);
			});
		} else {
			console.warn(`\n${'!'.repeat(72)}\n!!! SKIPPING ${bot.name}: ${reason}\n${'!'.repeat(72)}\n`);
			test(bot.name, {skip: reason}, () => {});
		}
		continue;
	}

	describe(`${bot.name} against a TLS room`, () => {
		let source: Backend;
		let store: AccountStore;
		let room: TcpFixture;
		let url: string;
		let fingerprint: string;
		let token: string;
		const botUser = uniqueName('bot');
		const human = uniqueName('human');

		before(async () => {
			source = await sqliteBackend();
			store = await source.open();
			room = await tcpFixture(store, {roomName: uniqueName('room')});
			await room.addUser(botUser, 'bot password');
			await room.addUser(human, 'human password');
			fingerprint = fingerprintOf((await loadOrCreateCertificate(room.dir)).cert);
			const issued = issueToken();
			await store.createToken(botUser, {
				id: issued.id,
				label: 'test',
				hash: issued.hash,
				createdAt: Date.now(),
			});
			token = issued.token;
			url = `tcp://127.0.0.1:${room.server.port}`;
		});
		after(async () => {
			await room.close();
			await store.close();
			await source.cleanup();
		});

		test('posts each line of standard input; a RoomSession in the room receives them in order', async () => {
			const {events} = await room.login(human, 'human password');
			const lines = ['build 1234 passed', 'déjà vu ✓ "quoted" \\ \ttab', '', 'last line'];
			const run = new BotProcess(bot, [url, '--fingerprint', fingerprint], token);
			const code = await run.finish(`${lines.join('\n')}\n`);
			assert.equal(code, 0, run.stderr);
			const expected = lines.filter((line) => line !== '');
			await waitFor(() => events.of('message').filter((m) => m.from === botUser).length >= expected.length, {
				what: 'the bot’s lines',
			});
			assert.deepEqual(
				events
					.of('message')
					.filter((m) => m.from === botUser)
					.map((m) => m.text),
				expected,
			);
			assert.match(run.stderr, new RegExp(`joined ${url} as ${botUser}`));
			await events.waitFor('presence', (p) => p.kind === 'leave' && p.nick === botUser);
		});

		test('--listen prints what another client says', async () => {
			const listening = new BotProcess(bot, [url, '--fingerprint', fingerprint, '--listen'], token);
			try {
				await listening.waitFor('stderr', /joined/, 'the bot joining');
				const {client} = await room.login(human, 'human password');
				await client.say('hello bot, are you there?');
				await client.say('second line');
				await listening.waitFor('stdout', /second line/, 'the bot printing the room');
				const printed = listening.stdout.split('\n').filter((line) => line !== '');
				assert.deepEqual(printed.slice(-2), [`${human}: hello bot, are you there?`, `${human}: second line`]);
			} finally {
				listening.child.kill('SIGTERM');
				await listening.exited;
			}
		});

		test('a wrong fingerprint stops it before the token is sent (status 6)', async () => {
			const logins = room.server.stats.logins;
			const failed = room.server.stats.failedLogins;
			const wrong = `SHA256:${'A'.repeat(43)}`;
			const run = new BotProcess(bot, [url, '--fingerprint', wrong], token);
			assert.equal(await run.finish('never sent\n'), 6, run.stderr);
			assert.match(run.stderr, /certificate mismatch/);
			assert.match(
				run.stderr,
				new RegExp(fingerprint.replace(/[+/]/g, '\\$&')),
				'says what the server showed',
			);
			assert.equal(room.server.stats.logins, logins);
			assert.equal(room.server.stats.failedLogins, failed, 'no token reached the server');
		});

		test('--insecure-accept-any-cert works but says so; a bad token is status 4; no trust option is usage', async () => {
			const insecure = new BotProcess(bot, [url, '--insecure-accept-any-cert'], token);
			assert.equal(await insecure.finish('unchecked\n'), 0, insecure.stderr);
			assert.match(insecure.stderr, /WARNING: accepting the certificate SHA256:\S+ unchecked/);

			const bad = new BotProcess(bot, [url, '--fingerprint', fingerprint], `${token.slice(0, -1)}#`);
			assert.equal(await bad.finish('x\n'), 4, bad.stderr);
			assert.match(bad.stderr, /auth-failed: invalid user name or password/);

			const untrusting = new BotProcess(bot, [url], token);
			assert.equal(await untrusting.finish(''), 2, untrusting.stderr);
			assert.match(untrusting.stderr, /--fingerprint/);
		});

		test('a line the room refuses is reported, the others still go (status 5)', async () => {
			const {events} = await room.login(human, 'human password');
			const run = new BotProcess(bot, [url, '--fingerprint', fingerprint], token);
			const code = await run.finish(`before\n${'x'.repeat(9000)}\nafter\n`);
			assert.equal(code, 5, run.stderr);
			assert.match(run.stderr, /line 2 not sent: message is 9000 bytes; the limit is 8192/);
			await events.waitFor('message', (m) => m.from === botUser && m.text === 'after');
		});
	});
}
