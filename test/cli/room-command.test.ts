// `parley room` as the real CLI process on a real store (an SQLite data
// directory, and once the real MariaDB): rooms created, changed, listed and
// removed, what each refuses, and that a refusal changes nothing.
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {PassThrough} from 'node:stream';
import {after, before, describe, test} from 'node:test';
import type {AccountStore, StoredRoom} from '../../server/store/account-store.js';
import {openStore} from '../../server/store/open-store.js';
import {applyRoomChange, RoomChangeError} from '../../source/cli/room-change.js';
import {runRoomCommand} from '../../source/cli/room-command.js';
import {runUserCommand} from '../../source/cli/user-command.js';
import {MYSQL_URL, mysqlBackend, reportUnreachable, uniqueName} from '../store/backends.js';
import {type CliResult, cliEnv, runCli} from './cli-process.js';

let home: string;
before(async () => {
	home = await mkdtemp(path.join(tmpdir(), 'parley-room-cli-'));
});
after(() => rm(home, {recursive: true, force: true}));

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

/** The command in this process, for what needs no store (usage errors) or a terminal of its own. */
async function roomCommand(
	args: string[],
	stdin?: NodeJS.ReadableStream & {isTTY?: boolean},
): Promise<CliResult> {
	const stdout = new PassThrough();
	const stderr = new PassThrough();
	let out = '';
	let err = '';
	stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
	stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
	const code = await runRoomCommand(args, {stdout, stderr, ...(stdin ? {stdin} : {})});
	return {code, signal: null, stdout: out, stderr: err};
}

async function addUser(name: string, where: string[], admin = false): Promise<void> {
	const stdin = new PassThrough();
	stdin.end('a long password\n');
	const stderr = new PassThrough();
	let err = '';
	stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
	const code = await runUserCommand(
		['add', name, ...where, '--password-stdin', ...(admin ? ['--admin'] : [])],
		{
			stdin,
			stdout: new PassThrough(),
			stderr,
		},
	);
	assert.equal(code, 0, err);
}

async function withStore<T>(
	where: {db?: string; dataDir: string},
	use: (store: AccountStore) => Promise<T>,
): Promise<T> {
	const store = await openStore(where);
	try {
		return await use(store);
	} finally {
		await store.close();
	}
}

interface JsonRoom {
	name: string;
	owner: string | null;
	topic: string | null;
	modes: string;
	ops: string[];
	bans: number;
	created: string;
}

describe('parley room on sqlite (child processes)', () => {
	let dataDir: string;
	let where: string[];
	let env: NodeJS.ProcessEnv;
	const room = (args: string[]): Promise<CliResult> => runCli(['room', ...args, ...where], env);
	const stored = (key: string): Promise<StoredRoom | undefined> =>
		withStore({dataDir}, (store) => store.getRoom(key));

	before(async () => {
		dataDir = path.join(home, 'sqlite');
		where = ['--data-dir', dataDir];
		env = cliEnv(home);
		for (const name of ['alice', 'bob', 'carol']) await addUser(name, where);
	});

	test('create with owner, topic and modes; list shows it as a table and as JSON', async () => {
		const created = await room(['create', 'Dev', '--owner', 'ALICE', '--topic', 'Builds', '--invite-only']);
		assert.equal(created.code, 0, created.stderr);
		assert.equal(created.stdout, 'created room #Dev (owner alice)\n');
		assert.equal(created.stderr, '');

		const plain = await room(['create', 'ops']);
		assert.equal(plain.code, 0, plain.stderr);
		assert.equal(plain.stdout, 'created room #ops\n');

		const dev = await stored('dev');
		assert.ok(dev, 'stored under its key');
		assert.equal(dev.name, 'Dev', 'as created, without the #');
		assert.equal(dev.owner, 'alice', 'the owner as registered');
		assert.deepEqual(dev.settings.roles, {alice: 'owner'});
		assert.equal(dev.settings.topic, 'Builds');
		assert.equal(dev.settings.inviteOnly, true);
		assert.ok(!dev.settings.moderated);

		const listed = await room(['list']);
		assert.equal(listed.code, 0, listed.stderr);
		const rows = lines(listed.stdout);
		assert.match(rows[0] ?? '', /^NAME\s+OWNER\s+MODES\s+BANS\s+TOPIC$/);
		assert.match(rows[1] ?? '', /^#Dev\s+alice\s+\+i\s+0\s+Builds$/);
		assert.match(rows[2] ?? '', /^#ops\s+-\s+-\s+0$/);
		assert.equal(rows.length, 3);

		const json = await room(['list', '--json']);
		assert.equal(json.code, 0, json.stderr);
		const objects = lines(json.stdout).map((line) => JSON.parse(line) as JsonRoom);
		assert.deepEqual(
			objects.map(({created: _, ...rest}) => rest),
			[
				{name: '#Dev', owner: 'alice', topic: 'Builds', modes: 'i', ops: [], bans: 0},
				{name: '#ops', owner: null, topic: null, modes: '', ops: [], bans: 0},
			],
		);
		assert.match(objects[0]?.created ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
	});

	test('create refuses a taken name in any spelling, bad names and unknown owners, creating nothing', async () => {
		for (const name of ['dev', '#DEV']) {
			const again = await room(['create', name, '--owner', 'bob']);
			assert.equal(again.code, 1, name);
			assert.match(again.stderr, /^parley: room #\S+ already exists\n$/i);
		}
		assert.deepEqual((await stored('dev'))?.settings.roles, {alice: 'owner'}, 'the first one is untouched');

		for (const name of ['bad name', 'x'.repeat(51), '#', "dev'; DROP TABLE parley_rooms; --"]) {
			const bad = await roomCommand(['create', name, ...where]);
			assert.equal(bad.code, 1, `${name}: ${bad.stderr}`);
			assert.match(bad.stderr, /^parley: invalid room name ".*": a room name /);
			assert.equal(lines(bad.stderr).length, 1);
		}
		const nobody = await room(['create', 'qa', '--owner', 'nobody']);
		assert.equal(nobody.code, 1);
		assert.equal(nobody.stderr, 'parley: no such user nobody\n');
		assert.equal(await stored('qa'), undefined);
		assert.equal(lines((await room(['list'])).stdout).length, 3, 'still #Dev and #ops only');
	});

	test('set changes topic, modes, ops and owner; the previous owner stays an op', async () => {
		const ops = await room([
			'set',
			'#dev',
			'--op',
			'bob',
			'--op',
			'Carol',
			'--moderated',
			'--no-invite-only',
		]);
		assert.equal(ops.code, 0, ops.stderr);
		assert.equal(ops.stdout, 'changed #Dev: not invite-only (-i), moderated (+m), op bob, op carol\n');
		let dev = await stored('dev');
		assert.deepEqual(dev?.settings.roles, {alice: 'owner', bob: 'op', carol: 'op'});
		assert.equal(dev?.settings.inviteOnly, false);
		assert.equal(dev?.settings.moderated, true);
		assert.equal(dev?.settings.topic, 'Builds', 'what was not named stays');

		const owner = await room(['set', 'dev', '--owner', 'bob', '--deop', 'carol', '--topic', '']);
		assert.equal(owner.code, 0, owner.stderr);
		assert.equal(owner.stdout, 'changed #Dev: topic cleared, owner bob (alice now an op), deop carol\n');
		dev = await stored('dev');
		assert.deepEqual(dev?.settings.roles, {alice: 'op', bob: 'owner'});
		assert.equal(dev?.settings.topic, undefined);

		const json = await room(['list', '--json']);
		const listed = lines(json.stdout).map((line) => JSON.parse(line) as JsonRoom);
		assert.equal(listed[0]?.owner, 'bob', 'the owner role decides, not who created it');
		assert.deepEqual(listed[0]?.ops, ['alice']);
		assert.equal(listed[0]?.modes, 'm');
	});

	test('set refuses changes that do not fit the room, and saves none of them', async () => {
		const before = await stored('dev');
		const cases: [string[], string][] = [
			[['set', 'dev', '--topic', 'New', '--deop', 'carol'], 'parley: carol is not an op of #Dev\n'],
			[['set', 'dev', '--op', 'bob'], 'parley: bob owns #Dev; --owner gives the room to someone else\n'],
			[
				['set', 'dev', '--deop', 'bob'],
				'parley: bob owns #Dev; give it to someone else with --owner first\n',
			],
			[['set', 'dev', '--op', 'nobody', '--moderated'], 'parley: no such user nobody\n'],
			[['set', 'dev', '--owner', 'nobody'], 'parley: no such user nobody\n'],
			[['set', 'qa', '--topic', 'x'], 'parley: no such room #qa\n'],
		];
		// In this process (a child each is slow); the same store, and the real CLI ran the cases above.
		for (const [args, message] of cases) {
			const result = await roomCommand([...args, ...where]);
			assert.equal(result.code, 1, args.join(' '));
			assert.equal(result.stderr, message);
			assert.equal(result.stdout, '');
		}
		assert.deepEqual(await stored('dev'), before);
	});

	test('list counts the bans still in force and never prints control characters from the store', async () => {
		await withStore({dataDir}, async (store) => {
			const ops = await store.getRoom('ops');
			assert.ok(ops);
			await store.saveRoomSettings('ops', {
				...ops.settings,
				topic: 'red \u001b[31malert\u0007',
				bans: {
					troll: {account: 'troll', by: 'alice'},
					spammer: {account: 'spammer', until: Date.now() + 3_600_000},
					pardoned: {account: 'pardoned', until: Date.now() - 1000},
				},
			});
		});
		const listed = await room(['list']);
		assert.equal(listed.code, 0, listed.stderr);
		const row = lines(listed.stdout).find((line) => line.startsWith('#ops'));
		assert.match(row ?? '', /^#ops\s+-\s+-\s+2\s+red \\u001b\[31malert\\u0007$/);
		assert.ok(!listed.stdout.includes('\u001b'));
	});

	test('remove asks first: without a terminal it needs --yes; it removes the messages with the room', async () => {
		await withStore({dataDir}, async (store) => {
			for (let i = 1; i <= 3; i++)
				await store.appendMessage('ops', {from: 'alice', text: `note ${i}`, action: false, ts: Date.now()});
		});
		const refused = await room(['remove', 'ops']);
		assert.equal(refused.code, 2);
		assert.match(refused.stderr, /^parley: remove asks first, .*--yes/);
		assert.ok(await stored('ops'), 'still there');

		const removed = await room(['remove', '#OPS', '--yes']);
		assert.equal(removed.code, 0, removed.stderr);
		assert.equal(removed.stdout, 'removed #ops and its 3 stored messages\n');
		assert.equal(await stored('ops'), undefined);
		await withStore({dataDir}, async (store) => {
			assert.deepEqual(await store.lastMessages('ops', 10), [], 'its messages went with it');
			assert.equal(await store.latestSeq('ops'), 0);
		});
		assert.deepEqual(
			lines((await room(['list'])).stdout).map((line) => line.split(/\s+/)[0]),
			['NAME', '#Dev'],
		);

		const again = await room(['remove', 'ops', '--yes']);
		assert.equal(again.code, 1);
		assert.equal(again.stderr, 'parley: no such room #ops\n');
	});

	test('remove on a terminal removes only after a yes', async () => {
		const created = await room(['create', 'scratch']);
		assert.equal(created.code, 0, created.stderr);
		const answer = async (typed: string): Promise<CliResult> => {
			const tty = Object.assign(new PassThrough(), {isTTY: true});
			const result = roomCommand(['remove', 'scratch', ...where], tty);
			tty.end(typed);
			return result;
		};
		const no = await answer('n\n');
		assert.equal(no.code, 1);
		assert.match(no.stderr, /^Remove #scratch and its 0 stored messages\? This cannot be undone\. \[y\/N\] /);
		assert.match(no.stderr, /parley: #scratch was not removed\n$/);
		assert.ok(await stored('scratch'));
		const closed = await answer('');
		assert.equal(closed.code, 1, 'end of input is a no');
		assert.ok(await stored('scratch'));

		const yes = await answer('Yes\n');
		assert.equal(yes.code, 0, yes.stderr);
		assert.equal(yes.stdout, 'removed #scratch and its 0 stored messages\n');
		assert.equal(await stored('scratch'), undefined);
	});

	test('`parley room` is a subcommand of the real CLI; --help names every action and option', async () => {
		const help = await runCli(['room', '--help'], env);
		assert.equal(help.code, 0, help.stderr);
		for (const expected of [
			'parley room list',
			'parley room create NAME',
			'parley room set NAME',
			'parley room remove NAME',
			'--owner',
			'--topic',
			'--invite-only',
			'--moderated',
			'--op',
			'--deop',
			'--yes',
			'--json',
			'--db',
			'--data-dir',
			'messages',
			'Examples',
		])
			assert.ok(help.stdout.includes(expected), `help mentions ${expected}`);
		const bogus = await room(['list', '--bogus']);
		assert.equal(bogus.code, 2);
		assert.equal(bogus.stderr, 'parley: unknown option --bogus (see parley room --help)\n');
	});
});

test('parley room refuses unknown flags, actions and malformed arguments (status 2), before opening a store', async () => {
	const dataDir = path.join(home, 'usage');
	for (const args of [
		[],
		['frob'],
		['list', 'x'],
		['create'],
		['create', 'a', 'b'],
		['set', 'dev'],
		['set', 'dev', '--topic'],
		['set', 'dev', '--op'],
		['set', 'dev', '--op', 'bob', '--deop', 'BOB'],
		['set', 'dev', '--owner', 'bob', '--deop', 'bob'],
		['set', 'dev', '--topic', 'a\u001b[2Jb'],
		['set', 'dev', '--topic', 'x'.repeat(513)],
		['create', 'dev', '--op', 'bob'],
		['create', 'dev', '--topic', ''],
		['create', 'dev', '--yes'],
		['list', '--owner', 'bob'],
		['list', '--frobnicate'],
		['remove', 'dev', '--json'],
		['remove', 'dev'],
		['list', '--db', ''],
	]) {
		const result = await roomCommand([...args, '--data-dir', dataDir]);
		assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
		assert.match(result.stderr, /^parley: .*\(see parley room --help\)\n$/);
		assert.ok(!result.stderr.includes('\u001b'), 'nothing the user typed reaches the terminal raw');
	}
	const badScheme = await roomCommand(['list', '--db', 'postgres://u:topsecret@host/db']);
	assert.equal(badScheme.code, 2);
	assert.doesNotMatch(badScheme.stderr, /topsecret/);
	const help = await roomCommand(['set', '--help']);
	assert.equal(help.code, 0);
	assert.match(help.stdout, /parley room set NAME/);
});

describe('room settings changes (no store)', () => {
	const settings = () => ({
		roles: {alice: 'owner' as const, bob: 'voice' as const},
		bans: {},
		mutes: {},
		invites: [],
	});

	test('owner moves first, then op, then deop; the input is not modified', () => {
		const original = settings();
		const {settings: next, changes} = applyRoomChange('#dev', original, {
			owner: 'Bob',
			op: ['carol'],
			deop: ['alice'],
		});
		assert.deepEqual(next.roles, {bob: 'owner', carol: 'op'});
		assert.deepEqual(changes, ['owner Bob (alice now an op)', 'op carol', 'deop alice']);
		assert.deepEqual(original, settings());
	});

	test('op replaces voice; the owner can be neither opped nor deopped', () => {
		assert.deepEqual(applyRoomChange('#dev', settings(), {op: ['bob'], deop: []}).settings.roles, {
			alice: 'owner',
			bob: 'op',
		});
		assert.throws(() => applyRoomChange('#dev', settings(), {op: ['Alice'], deop: []}), RoomChangeError);
		assert.throws(
			() => applyRoomChange('#dev', settings(), {op: [], deop: ['bob']}),
			/bob is not an op of #dev/,
		);
	});
});

const mysql = await mysqlBackend();
if ('unreachable' in mysql) {
	reportUnreachable('parley room against MySQL/MariaDB', mysql);
} else {
	describe('parley room against MySQL/MariaDB (child processes)', () => {
		const owner = uniqueName('owner');
		const op = uniqueName('op');
		// Room names are this run's too, so runs sharing a database never collide.
		const name = uniqueName('room');
		const where = ['--db', MYSQL_URL];
		let env: NodeJS.ProcessEnv;
		before(async () => {
			env = cliEnv(home);
			await addUser(owner, where);
			await addUser(op, where);
		});
		after(async () => {
			await withStore({db: MYSQL_URL, dataDir: home}, (store) => store.removeRoom(name.toLowerCase()));
			await mysql.cleanup();
		});

		test('create, set, list --json and remove', async () => {
			const room = (args: string[]): Promise<CliResult> => runCli(['room', ...args, ...where], env);
			const created = await room(['create', name, '--owner', owner, '--topic', 'On MariaDB', '--moderated']);
			assert.equal(created.code, 0, created.stderr);
			const duplicate = await room(['create', name.toUpperCase()]);
			assert.equal(duplicate.code, 1);
			assert.match(duplicate.stderr, /already exists/);

			const changed = await room(['set', name, '--op', op, '--invite-only']);
			assert.equal(changed.code, 0, changed.stderr);
			const listed = await room(['list', '--json']);
			assert.equal(listed.code, 0, listed.stderr);
			const mine = lines(listed.stdout)
				.map((line) => JSON.parse(line) as JsonRoom)
				.find((row) => row.name === `#${name}`);
			assert.ok(mine, listed.stdout);
			assert.equal(mine.owner, owner);
			assert.deepEqual(mine.ops, [op]);
			assert.equal(mine.modes, 'im');
			assert.equal(mine.topic, 'On MariaDB');

			const removed = await room(['remove', `#${name}`, '--yes']);
			assert.equal(removed.code, 0, removed.stderr);
			assert.equal(
				await withStore({db: MYSQL_URL, dataDir: home}, (store) => store.getRoom(name.toLowerCase())),
				undefined,
			);
		});
	});
}
