// `parley token` as the real CLI process on both store backends: a token is
// printed once and stored only as its hash; list, revoke, and the usage errors.
import assert from 'node:assert/strict';
import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {parseToken, tokenMatches} from '../../server/auth/bot-tokens.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {PassThrough} from 'node:stream';
import {runTokenCommand} from '../../source/cli/token-command.js';
import {runUserCommand} from '../../source/cli/user-command.js';
import {MYSQL_URL, mysqlBackend, reportUnreachable, uniqueName} from '../store/backends.js';
import {cliEnv, runCli, type CliResult} from './cli-process.js';

/** The command in this process (a child process per call is slow); cli.tsx's wiring is checked once below. */
async function tokenCommand(args: string[]): Promise<CliResult> {
	const stdout = new PassThrough();
	const stderr = new PassThrough();
	let out = '';
	let err = '';
	stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
	stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
	const code = await runTokenCommand(args, {stdout, stderr});
	return {code, signal: null, stdout: out, stderr: err};
}

let home: string;
before(async () => {
	home = await mkdtemp(path.join(tmpdir(), 'parley-token-'));
});
after(() => rm(home, {recursive: true, force: true}));

async function allFileText(dir: string): Promise<string> {
	let text = '';
	for (const entry of await readdir(dir, {withFileTypes: true, recursive: true}))
		if (entry.isFile()) text += (await readFile(path.join(entry.parentPath, entry.name))).toString('latin1');
	return text;
}

const mysql = await mysqlBackend();

for (const backend of ['sqlite', 'mysql'] as const) {
	if (backend === 'mysql' && 'unreachable' in mysql) {
		reportUnreachable('parley token on mysql', mysql);
		continue;
	}
	describe(`parley token on ${backend}`, () => {
		let dataDir: string;
		let where: string[];
		const user = uniqueName('ci');
		before(async () => {
			dataDir = await mkdtemp(path.join(home, `${backend}-`));
			where = backend === 'mysql' ? ['--db', MYSQL_URL] : ['--data-dir', dataDir];
			const stdin = new PassThrough();
			stdin.end('ci password\n');
			const added = await runUserCommand(['add', user, ...where, '--password-stdin'], {
				stdin,
				stdout: new PassThrough(),
				stderr: new PassThrough(),
			});
			assert.equal(added, 0);
		});
		after(async () => {
			if (backend === 'mysql' && !('unreachable' in mysql)) await mysql.cleanup();
		});

		test('create prints the token once, alone on stdout; list shows it; revoke removes it', async () => {
			const created = await tokenCommand(['create', user, '--label', 'build bot', ...where]);
			assert.equal(created.code, 0, created.stderr);
			const token = created.stdout.trim();
			assert.match(created.stdout, /^parley_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/);
			const id = parseToken(token)?.id;
			assert.ok(id);
			assert.match(created.stderr, /shown only now/);
			assert.ok(!created.stderr.includes(token));

			const listed = await tokenCommand(['list', user, ...where]);
			assert.equal(listed.code, 0, listed.stderr);
			const rows = listed.stdout.trim().split('\n');
			assert.match(rows[0] ?? '', /^ID\s+CREATED\s+LAST USED\s+LABEL$/);
			assert.match(rows[1] ?? '', new RegExp(`^${id}\\s+\\d{4}-\\d\\d-\\d\\dT\\S+Z\\s+never\\s+build bot$`));
			assert.ok(!listed.stdout.includes(token.slice(-43)), 'the secret is never shown again');

			if (backend === 'sqlite') {
				// Only the hash is kept: the secret appears in no file of the data directory.
				const files = await allFileText(dataDir);
				assert.ok(!files.includes(token.slice(-43)));
				const store = await openSqliteStore(dataDir);
				try {
					const stored = await store.findToken(id);
					assert.ok(stored && tokenMatches(parseToken(token)!.hash, stored.hash));
				} finally {
					await store.close();
				}
			}

			const revoked = await tokenCommand(['revoke', user, id, ...where]);
			assert.equal(revoked.code, 0, revoked.stderr);
			assert.match(revoked.stdout, new RegExp(`revoked token ${id}`));
			const again = await tokenCommand(['revoke', user, id, ...where]);
			assert.equal(again.code, 1);
			assert.match(again.stderr, /has no token/);
			assert.equal((await tokenCommand(['list', user, ...where])).stdout, '');
		});

		test('an unknown user is an error, not an empty list or a token', async () => {
			const nobody = uniqueName('nobody');
			const created = await tokenCommand(['create', nobody, ...where]);
			assert.equal(created.code, 1);
			assert.equal(created.stdout, '');
			assert.match(created.stderr, /no such user/);
			assert.equal((await tokenCommand(['list', nobody, ...where])).code, 1);
		});
	});
}

test('parley token refuses unknown flags, actions and malformed arguments (status 2)', async () => {
	const dataDir = path.join(home, 'usage');
	for (const args of [
		['create', 'ci', '--bogus'],
		['mint', 'ci'],
		[],
		['create'],
		['revoke', 'ci'],
		['revoke', 'ci', 'not-an-id'],
		['list', 'ci', '--label', 'x'],
		['create', 'ci', '--label', 'a\u001b[2Jb'],
	]) {
		const result = await tokenCommand([...args, '--data-dir', dataDir]);
		assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
		assert.match(result.stderr, /see parley token --help/);
		assert.ok(!result.stderr.includes('\u001b'), 'nothing the user typed reaches the terminal raw');
	}
});

test('`parley token` is a subcommand of the real CLI, which also rejects its unknown flags', async () => {
	const env = cliEnv(home);
	const help = await runCli(['token', '--help'], env);
	assert.equal(help.code, 0, help.stderr);
	assert.match(help.stdout, /parley token create USER/);
	const bogus = await runCli(['token', 'list', 'ci', '--bogus', '--data-dir', path.join(home, 'usage')], env);
	assert.equal(bogus.code, 2);
	assert.match(bogus.stderr, /unknown option --bogus/);
});
