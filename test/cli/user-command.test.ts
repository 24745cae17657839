import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {mkdtemp, readdir, readFile, rm, stat} from 'node:fs/promises';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PassThrough} from 'node:stream';
import {fileURLToPath} from 'node:url';
import {after, before, describe, test} from 'node:test';
import type {ScramCredential} from '../../server/store/account-store.js';
import {openStore, StoreConfigError, StoreOpenError} from '../../server/store/open-store.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {deriveVerifier} from '../../source/protocol/scram.js';
import {
	checkNewPassword,
	PasswordInputError,
	promptPassword,
	readPassword,
	readPasswordLine,
} from '../../source/cli/password-input.js';
import {mysqlBackend, MYSQL_URL, reportUnreachable, uniqueName} from '../store/backends.js';

const USER_MAIN = fileURLToPath(new URL('fixtures/user-main.js', import.meta.url));

interface Run {
	code: number | null;
	stdout: string;
	stderr: string;
}

let scratch: string;

/** Runs the compiled `parley user` entry in a child process; stdin is a pipe (never a TTY). */
function runUser(args: string[], stdin?: string): Promise<Run> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [USER_MAIN, ...args], {
			// A stray default data directory lands in the scratch area, never in $HOME.
			env: {...process.env, XDG_DATA_HOME: join(scratch, 'xdg')},
			stdio: ['pipe', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
		const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
		child.on('error', reject);
		child.on('close', (code) => {
			clearTimeout(timer);
			resolve({code, stdout, stderr});
		});
		child.stdin.on('error', () => {}); // the child may exit before reading everything
		child.stdin.end(stdin ?? '');
	});
}

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

async function allFileBytes(dir: string): Promise<Buffer[]> {
	const found: Buffer[] = [];
	for (const entry of await readdir(dir, {withFileTypes: true, recursive: true})) {
		if (entry.isFile()) found.push(await readFile(join(entry.parentPath, entry.name)));
	}
	return found;
}

async function verifierIn(dir: string, name: string): Promise<ScramCredential | undefined> {
	const store = await openSqliteStore(dir);
	try {
		return await store.getVerifier(name);
	} finally {
		await store.close();
	}
}

async function matchesPassword(verifier: ScramCredential, password: string): Promise<boolean> {
	const again = await deriveVerifier(password, verifier.salt, verifier.iterations);
	return again.storedKey.equals(verifier.storedKey) && again.serverKey.equals(verifier.serverKey);
}

before(async () => {
	scratch = await mkdtemp(join(tmpdir(), 'parley-user-cli-'));
});

after(async () => {
	await rm(scratch, {recursive: true, force: true});
});

describe('parley user (sqlite, as a child process)', () => {
	let dataDir: string;
	before(async () => {
		dataDir = join(scratch, 'data', 'nested');
	});

	test('add with --password-stdin, then list shows the user', async () => {
		const added = await runUser(
			['add', 'alice', '--password-stdin', '--data-dir', dataDir],
			'first password\r\n',
		);
		assert.equal(added.code, 0, added.stderr);
		assert.equal(added.stderr, '');
		const listed = await runUser(['list', '--data-dir', dataDir]);
		assert.equal(listed.code, 0, listed.stderr);
		assert.deepEqual(lines(listed.stdout), ['alice']);
		assert.equal((await stat(dataDir)).mode & 0o777, 0o700, 'the data directory is private');

		const verifier = await verifierIn(dataDir, 'alice');
		assert.ok(verifier);
		assert.ok(
			await matchesPassword(verifier, 'first password'),
			'the first line, without CR/LF, is the password',
		);
	});

	test('no file in the data directory contains the password', async () => {
		const password = `pw-${randomBytes(12).toString('hex')}`;
		const added = await runUser(['add', 'carol', '--password-stdin', '--data-dir', dataDir], `${password}\n`);
		assert.equal(added.code, 0, added.stderr);
		const files = await allFileBytes(dataDir);
		assert.ok(files.length > 0);
		assert.ok(
			files.some((bytes) => bytes.includes('carol')),
			'the files read are the ones holding the accounts',
		);
		for (const needle of [
			Buffer.from(password, 'utf8'),
			Buffer.from(password, 'utf16le'),
			Buffer.from(password.slice(3), 'utf8'),
		]) {
			for (const bytes of files)
				assert.equal(bytes.indexOf(needle), -1, 'password bytes found in the data directory');
		}
	});

	test('passwd replaces the verifier', async () => {
		const before = await verifierIn(dataDir, 'alice');
		assert.ok(before);
		const changed = await runUser(
			['passwd', 'ALICE', '--password-stdin', '--data-dir', dataDir],
			'second password\n',
		);
		assert.equal(changed.code, 0, changed.stderr);
		const afterChange = await verifierIn(dataDir, 'alice');
		assert.ok(afterChange);
		assert.notDeepEqual(afterChange, before);
		assert.ok(await matchesPassword(afterChange, 'second password'));
		assert.ok(!(await matchesPassword(afterChange, 'first password')));
	});

	test('passwd for an unknown user fails with exit 1', async () => {
		const result = await runUser(
			['passwd', 'nobody', '--password-stdin', '--data-dir', dataDir],
			'whatever123\n',
		);
		assert.equal(result.code, 1);
		assert.equal(result.stderr, 'parley: no such user nobody\n');
	});

	test('a duplicate add fails with exit 1 and a clear message, and the original survives', async () => {
		const before = await verifierIn(dataDir, 'alice');
		const result = await runUser(
			['add', 'alice', '--password-stdin', '--data-dir', dataDir],
			'another password\n',
		);
		assert.equal(result.code, 1);
		assert.equal(result.stderr, 'parley: user alice already exists\n');
		const differentCase = await runUser(
			['add', 'Alice', '--password-stdin', '--data-dir', dataDir],
			'another password\n',
		);
		assert.equal(differentCase.code, 1);
		assert.equal(differentCase.stderr, 'parley: user Alice already exists\n');
		assert.deepEqual(await verifierIn(dataDir, 'alice'), before);
	});

	test('a name that looks like an existing one fails with exit 1 (UTS #39 skeleton)', async () => {
		const owner = await runUser(['add', 'paula', '--password-stdin', '--data-dir', dataDir], 'a password\n');
		assert.equal(owner.code, 0, owner.stderr);
		for (const name of ['pau1a', 'pauIa']) {
			const result = await runUser(['add', name, '--password-stdin', '--data-dir', dataDir], 'a password\n');
			assert.equal(result.code, 1, name);
			assert.equal(result.stderr, `parley: the user name ${name} looks too much like paula\n`);
		}
		assert.equal(
			(await runUser(['remove', 'paula', '--data-dir', dataDir])).code,
			0,
			'the other tests see their users only',
		);
	});

	test('invalid and injection-shaped names fail with exit 1, and the table survives', async () => {
		for (const name of ["x'); DROP TABLE parley_users; --", 'bad name', 'a'.repeat(33), 'émile']) {
			const result = await runUser(
				['add', name, '--password-stdin', '--data-dir', dataDir],
				'long enough password\n',
			);
			assert.equal(result.code, 1, `${JSON.stringify(name)}: ${result.stderr}`);
			assert.match(
				result.stderr,
				/^parley: invalid user name: .*letters, digits|^parley: invalid user name: .*at most 32/,
			);
			assert.equal(lines(result.stderr).length, 1);
		}
		const removed = await runUser(['remove', "x' OR '1'='1", '--data-dir', dataDir]);
		assert.equal(removed.code, 1);
		assert.match(removed.stderr, /^parley: invalid user name/);
		const listed = await runUser(['list', '--data-dir', dataDir]);
		assert.equal(listed.code, 0, listed.stderr);
		assert.deepEqual(lines(listed.stdout), ['alice', 'carol']);
	});

	test('without --password-stdin a non-TTY stdin is refused with a hint', async () => {
		const result = await runUser(['add', 'dave', '--data-dir', dataDir], 'a piped password\n');
		assert.equal(result.code, 2);
		assert.match(result.stderr, /^parley: standard input is not a terminal.*--password-stdin/);
		assert.equal(lines(result.stderr).length, 1);
		assert.ok(!lines((await runUser(['list', '--data-dir', dataDir])).stdout).includes('dave'));
	});

	test('a password shorter than 8 characters is refused', async () => {
		const result = await runUser(['add', 'erin', '--password-stdin', '--data-dir', dataDir], 'seven77\n');
		assert.equal(result.code, 1);
		assert.equal(result.stderr, 'parley: the password is too short: use at least 8 characters\n');
		const empty = await runUser(['add', 'erin', '--password-stdin', '--data-dir', dataDir], '');
		assert.equal(empty.code, 1);
		assert.match(empty.stderr, /^parley: no password on standard input/);
		const eight = await runUser(['add', 'erin', '--password-stdin', '--data-dir', dataDir], '8 chars!\n');
		assert.equal(eight.code, 0, eight.stderr);
	});

	test('remove deletes the user; removing again fails with exit 1', async () => {
		const removed = await runUser(['remove', 'Erin', '--data-dir', dataDir]);
		assert.equal(removed.code, 0, removed.stderr);
		assert.ok(!lines((await runUser(['list', '--data-dir', dataDir])).stdout).includes('erin'));
		assert.equal(await verifierIn(dataDir, 'erin'), undefined);
		const again = await runUser(['remove', 'erin', '--data-dir', dataDir]);
		assert.equal(again.code, 1);
		assert.equal(again.stderr, 'parley: no such user erin\n');
	});

	test('--admin: add makes a server admin, set gives and takes it, list marks admins', async () => {
		const added = await runUser(
			['add', 'dora', '--admin', '--password-stdin', '--data-dir', dataDir],
			'dora password\n',
		);
		assert.equal(added.code, 0, added.stderr);
		assert.equal(added.stdout, 'added user dora (admin)\n');
		const given = await runUser(['set', 'Alice', '--admin', '--data-dir', dataDir]);
		assert.equal(given.code, 0, given.stderr);
		assert.equal(given.stdout, 'Alice is now a server admin\n');
		assert.deepEqual(lines((await runUser(['list', '--data-dir', dataDir])).stdout), [
			'alice (admin)',
			'carol',
			'dora (admin)',
		]);
		const store = await openSqliteStore(dataDir);
		try {
			assert.equal(await store.isAdmin('ALICE'), true);
			assert.equal(await store.isAdmin('carol'), false);
		} finally {
			await store.close();
		}

		for (const name of ['alice', 'dora']) {
			const taken = await runUser(['set', name, '--no-admin', '--data-dir', dataDir]);
			assert.equal(taken.code, 0, taken.stderr);
			assert.equal(taken.stdout, `${name} is no longer a server admin\n`);
		}
		assert.deepEqual(lines((await runUser(['list', '--data-dir', dataDir])).stdout), [
			'alice',
			'carol',
			'dora',
		]);
		const nobody = await runUser(['set', 'nobody', '--admin', '--data-dir', dataDir]);
		assert.equal(nobody.code, 1);
		assert.equal(nobody.stderr, 'parley: no such user nobody\n');
		assert.equal((await runUser(['remove', 'dora', '--data-dir', dataDir])).code, 0);
	});

	test('usage errors exit 2; --help explains the commands', async () => {
		for (const args of [
			[],
			['frob'],
			['add'],
			['add', 'a', 'b'],
			['list', 'x'],
			['list', '--password-stdin'],
			['list', '--frobnicate'],
			['set', 'alice'],
			['set', 'alice', '--admin', '--password-stdin'],
			['list', '--admin'],
			['remove', 'alice', '--no-admin'],
			['passwd', 'alice', '--admin', '--password-stdin'],
		]) {
			const result = await runUser([...args, '--data-dir', dataDir]);
			assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
			assert.match(result.stderr, /^parley: .*parley user --help/);
		}
		const badScheme = await runUser(['list', '--db', 'postgres://u:topsecret@host/db']);
		assert.equal(badScheme.code, 2);
		assert.match(badScheme.stderr, /unsupported database URL scheme "postgres"/);
		assert.doesNotMatch(badScheme.stderr, /topsecret/);

		const help = await runUser(['--help']);
		assert.equal(help.code, 0);
		for (const expected of [
			'parley user add NAME',
			'passwd',
			'remove',
			'list',
			'--db',
			'--data-dir',
			'--password-stdin',
			'parley user set NAME --[no-]admin',
			'--admin',
			'Examples',
		])
			assert.ok(help.stdout.includes(expected), `help mentions ${expected}`);
		const subHelp = await runUser(['add', '--help']);
		assert.equal(subHelp.code, 0);
		assert.equal(subHelp.stdout, help.stdout);
	});
});

const mysql = await mysqlBackend();
if ('unreachable' in mysql) {
	reportUnreachable('parley user against MySQL/MariaDB', mysql);
} else {
	describe('parley user against MySQL/MariaDB (as a child process)', () => {
		const name = uniqueName('cli');
		after(async () => {
			await mysql.cleanup();
		});

		test('add, list, passwd, set --admin and remove', async () => {
			const added = await runUser(['add', name, '--password-stdin', '--db', MYSQL_URL], 'maria password\n');
			assert.equal(added.code, 0, added.stderr);
			const listed = await runUser(['list', '--db', MYSQL_URL]);
			assert.equal(listed.code, 0, listed.stderr);
			assert.ok(lines(listed.stdout).includes(name), listed.stdout);

			const store = await mysql.open();
			let before: ScramCredential | undefined;
			try {
				before = await store.getVerifier(name);
				assert.ok(before);
				assert.ok(await matchesPassword(before, 'maria password'));
			} finally {
				await store.close();
			}
			const duplicate = await runUser(
				['add', name, '--password-stdin', '--db', MYSQL_URL],
				'maria password\n',
			);
			assert.equal(duplicate.code, 1);
			assert.equal(duplicate.stderr, `parley: user ${name} already exists\n`);

			const changed = await runUser(
				['passwd', name, '--password-stdin', '--db', MYSQL_URL],
				'new maria password\n',
			);
			assert.equal(changed.code, 0, changed.stderr);
			const second = await mysql.open();
			try {
				const afterChange = await second.getVerifier(name);
				assert.ok(afterChange);
				assert.notDeepEqual(afterChange, before);
			} finally {
				await second.close();
			}

			const admin = await runUser(['set', name, '--admin', '--db', MYSQL_URL]);
			assert.equal(admin.code, 0, admin.stderr);
			assert.ok(lines((await runUser(['list', '--db', MYSQL_URL])).stdout).includes(`${name} (admin)`));
			const notAdmin = await runUser(['set', name, '--no-admin', '--db', MYSQL_URL]);
			assert.equal(notAdmin.code, 0, notAdmin.stderr);
			assert.ok(lines((await runUser(['list', '--db', MYSQL_URL])).stdout).includes(name));

			const removed = await runUser(['remove', name, '--db', MYSQL_URL]);
			assert.equal(removed.code, 0, removed.stderr);
			assert.ok(!lines((await runUser(['list', '--db', MYSQL_URL])).stdout).includes(name));
		});
	});
}

describe('openStore', () => {
	test('creates a missing data directory owner-only and opens SQLite there', async () => {
		const dir = join(scratch, 'open-store', 'a', 'b');
		const store = await openStore({dataDir: dir});
		try {
			await store.ping();
		} finally {
			await store.close();
		}
		assert.equal((await stat(dir)).mode & 0o777, 0o700);
	});

	test('rejects other URL schemes and malformed URLs without echoing them', async () => {
		await assert.rejects(openStore({db: 'postgres://u:hunter2@h/db', dataDir: scratch}), (error: unknown) => {
			assert.ok(error instanceof StoreConfigError);
			assert.match(error.message, /unsupported database URL scheme "postgres"/);
			assert.doesNotMatch(error.message, /hunter2/);
			return true;
		});
		await assert.rejects(openStore({db: 'not a url hunter2', dataDir: scratch}), /--db must be a URL/);
		await assert.rejects(
			openStore({db: 'mysql://root@127.0.0.1:3306/', dataDir: scratch}),
			/must name one database/,
		);
	});

	test('logs each retry with the URL but never the password', async () => {
		// A port that was free a moment ago: connections are refused, which is worth retrying.
		const port = await new Promise<number>((resolve) => {
			const server = createServer();
			server.listen(0, '127.0.0.1', () => {
				const address = server.address();
				server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
			});
		});
		const logged: string[] = [];
		await assert.rejects(
			openStore({
				db: `mysql://root:pa%24%24word@127.0.0.1:${port}/test`,
				dataDir: scratch,
				log: (line) => logged.push(line),
				retry: {maxAttempts: 3, initialDelayMs: 250, sleep: async () => {}},
			}),
			(error: unknown) => {
				assert.ok(error instanceof StoreOpenError);
				assert.match(
					error.message,
					new RegExp(`^cannot open database mysql://root@127\\.0\\.0\\.1:${port}/test: `),
				);
				return true;
			},
		);
		assert.equal(logged.length, 2);
		assert.match(
			logged[0] ?? '',
			new RegExp(
				`^waiting for database mysql://root@127\\.0\\.0\\.1:${port}/test \\(attempt 1, retrying in 0\\.25 s\\): .+`,
			),
		);
		assert.match(logged[1] ?? '', /\(attempt 2, retrying in 0\.5 s\)/);
		for (const line of logged) assert.doesNotMatch(line, /pa(%24|\$){2}word/);
	});
});

/** A terminal as the prompt sees it: raw mode switchable, bytes typed by the test. */
class FakeTty extends PassThrough {
	isTTY = true;
	isRaw = false;
	readonly rawModes: boolean[] = [];
	setRawMode(mode: boolean): this {
		this.isRaw = mode;
		this.rawModes.push(mode);
		return this;
	}
}

function fakeTerminal(): {input: FakeTty; output: PassThrough; written: () => string} {
	const input = new FakeTty();
	const output = new PassThrough();
	let text = '';
	output.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
	return {input, output, written: () => text};
}

describe('masked password prompt', () => {
	test('typed characters, backspace and Enter give the password; only * is echoed', async () => {
		const {input, output, written} = fakeTerminal();
		const answer = promptPassword('Password: ', {input, output});
		assert.equal(input.isRaw, true, 'raw mode while typing');
		input.write('hunter22');
		input.write('\x7f');
		input.write('X\x1b[D'); // a cursor key is ignored
		input.write(Buffer.from('é', 'utf8').subarray(0, 1)); // a character split across reads
		input.write(Buffer.from('é', 'utf8').subarray(1));
		input.write('\r');
		assert.equal(await answer, 'hunter2Xé');
		assert.equal(written(), `Password: ${'*'.repeat(8)}\b \b**\n`);
		assert.deepEqual(input.rawModes, [true, false]);
		assert.equal(input.isRaw, false, 'raw mode restored');
	});

	test('mask "" echoes nothing at all', async () => {
		const {input, output, written} = fakeTerminal();
		const answer = promptPassword('pw: ', {input, output, mask: ''});
		input.write('secret12\x7f3\r');
		assert.equal(await answer, 'secret13');
		assert.equal(written(), 'pw: \n');
	});

	test('Ctrl+C aborts with a clear error and restores the terminal', async () => {
		const {input, output} = fakeTerminal();
		const answer = promptPassword('Password: ', {input, output});
		input.write('abc\x03');
		await assert.rejects(answer, (error: unknown) => {
			assert.ok(error instanceof PasswordInputError);
			assert.equal(error.kind, 'aborted');
			assert.match(error.message, /aborted \(Ctrl\+C\)/);
			return true;
		});
		assert.equal(input.isRaw, false);
	});

	test('a new password is asked twice and must match and be long enough', async () => {
		const ok = fakeTerminal();
		const answer = readPassword({
			fromStdin: false,
			isNew: true,
			input: ok.input,
			output: ok.output,
			prompt: 'New: ',
			confirmPrompt: 'Again: ',
		});
		ok.input.write('longpassword\rlongpassword\r'); // typed ahead: the repeat waits for its prompt
		assert.equal(await answer, 'longpassword');
		assert.equal(ok.written(), `New: ${'*'.repeat(12)}\nAgain: ${'*'.repeat(12)}\n`);

		const mismatch = fakeTerminal();
		const mismatched = readPassword({
			fromStdin: false,
			isNew: true,
			input: mismatch.input,
			output: mismatch.output,
		});
		mismatch.input.write('longpassword\r');
		mismatch.input.write('longpassworx\r');
		await assert.rejects(mismatched, /the passwords do not match/);

		const short = fakeTerminal();
		const tooShort = readPassword({fromStdin: false, isNew: true, input: short.input, output: short.output});
		short.input.write('short\r');
		await assert.rejects(tooShort, /at least 8 characters/);
	});

	test('a stream that is not a terminal is refused with a hint about --password-stdin', async () => {
		const input = new PassThrough();
		await assert.rejects(
			readPassword({fromStdin: false, isNew: true, input, output: new PassThrough()}),
			(error: unknown) => {
				assert.ok(error instanceof PasswordInputError);
				assert.equal(error.kind, 'usage');
				assert.match(error.message, /--password-stdin/);
				return true;
			},
		);
	});

	test('stdin: the first line without CR/LF; length counts characters after SASLprep', async () => {
		const input = new PassThrough();
		const line = readPasswordLine(input);
		input.end('pass word\r\nsecond line\n');
		assert.equal(await line, 'pass word');
		const unterminated = new PassThrough();
		const last = readPasswordLine(unterminated);
		unterminated.end('no newline');
		assert.equal(await last, 'no newline');
		assert.throws(() => checkNewPassword('\u00AD1234567'), /at least 8/, 'soft hyphen maps to nothing');
		assert.equal(checkNewPassword('ｐａｓｓｗｏｒｄ'), 'ｐａｓｓｗｏｒｄ');
		assert.throws(() => checkNewPassword('password\u0007'), /prohibited/);
	});
});
