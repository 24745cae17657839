// `parley user`: add, re-password, remove and list the accounts that may log
// in to TLS rooms, and make them server admins. Only the SCRAM verifier
// derived from a password is stored; the password itself never leaves this process.
import meow from 'meow';
import {
	InvalidUsernameError,
	NoSuchUserError,
	UserExistsError,
	type AccountStore,
} from '../../server/store/account-store.js';
import {DATABASE_URL_FORM, StoreConfigError, StoreOpenError} from '../../server/store/open-store.js';
import {LookalikeNameError, lookalikeAccount} from '../../server/store/lookalike.js';
import {usernameProblem} from '../protocol/names.js';
import {deriveVerifier} from '../protocol/scram.js';
import {
	MIN_PASSWORD_LENGTH,
	PasswordInputError,
	passwordSourceProblem,
	readPassword,
	type PasswordInput,
} from './password-input.js';
import {failureReporter, withAdminStore} from './admin-store.js';
import {flagGiven} from './given-flags.js';
import {dataDir} from './paths.js';
import {SELF_REPORTING} from './subcommand-options.js';

export const USER_ACTIONS = ['add', 'passwd', 'set', 'remove', 'list'] as const;
export type UserAction = (typeof USER_ACTIONS)[number];

const helpText = (defaultDataDir: string): string => `
	Usage
	  $ parley user add NAME [options]       create an account; asks for its password
	  $ parley user passwd NAME [options]    set a new password for an account
	  $ parley user set NAME --[no-]admin    make an account a server admin, or not
	  $ parley user remove NAME [options]    delete an account
	  $ parley user list [options]           print every account name, one per line,
	                                         admins as "NAME (admin)"

	Accounts log in to Parley's TLS rooms with SCRAM-SHA-256. Only a salted
	verifier derived from the password is stored, never the password itself.

	Names are 1-32 characters: letters, digits, _ - and . only. They are
	case-insensitive: Alice and alice are the same account.

	Server admins moderate every room of the server: they can do what a room's
	owner can (op, kick, ban, mute, topic, modes, invite) in all of them, and
	remove rooms. \`parley room\` manages rooms from the shell.

	Passwords need at least ${MIN_PASSWORD_LENGTH} characters. On a terminal they are asked
	for twice, echoing only '*'. Scripts pass --password-stdin and write the
	password as the first line of standard input (a trailing newline is removed).

	Options
	  --db URL            keep accounts in MySQL/MariaDB: ${DATABASE_URL_FORM}
	                      (default: the embedded SQLite file in the data directory)
	  --data-dir DIR      data directory for the SQLite file
	                      (default ${defaultDataDir})
	  --password-stdin    read the password from standard input (add, passwd)
	  --admin             add, set: a server admin; set --no-admin takes it back
	  --help              this help

	Exit status
	  0 done; 1 the user exists, no such user, an invalid name or password, or a
	  database problem; 2 a usage error

	Examples
	  $ parley user add alice
	  $ printf '%s\\n' "$ALICE_PASSWORD" | parley user add alice --password-stdin
	  $ parley user passwd alice
	  $ parley user set alice --admin
	  $ parley user remove alice
	  $ parley user list --data-dir /srv/parley
	  $ parley user list --db mysql://parley:secret@127.0.0.1:3306/parley
`;

export interface UserCommandIo {
	stdin: PasswordInput;
	stdout: NodeJS.WritableStream;
	stderr: NodeJS.WritableStream;
}

class UsageError extends Error {}

const KNOWN_FLAGS = new Set(['db', 'dataDir', 'passwordStdin', 'admin', 'help', 'h']);

const flagName = (key: string): string =>
	key.length === 1 ? `-${key}` : `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;

const isAction = (value: string): value is UserAction => (USER_ACTIONS as readonly string[]).includes(value);

interface Invocation {
	action: UserAction;
	name: string | undefined;
	db: string | undefined;
	dataDir: string;
	passwordStdin: boolean;
	/** add: make it an admin; set: the new admin flag. */
	admin: boolean | undefined;
}

function parseInvocation(
	argv: readonly string[],
	input: readonly string[],
	flags: Record<string, unknown>,
): Invocation {
	const unknown = Object.keys(flags).filter((key) => !KNOWN_FLAGS.has(key));
	if (unknown.length > 0) throw new UsageError(`unknown option ${unknown.map(flagName).join(', ')}`);
	const [action, ...rest] = input;
	if (action === undefined) throw new UsageError(`expected an action: ${USER_ACTIONS.join(', ')}`);
	if (!isAction(action))
		throw new UsageError(`unknown action "${action}"; expected ${USER_ACTIONS.join(', ')}`);
	const passwordStdin = flags.passwordStdin === true;
	if (action === 'list') {
		if (rest.length > 0) throw new UsageError('list takes no arguments');
	} else if (rest.length !== 1) {
		throw new UsageError(`${action} takes exactly one user name`);
	}
	if (passwordStdin && (action === 'list' || action === 'remove' || action === 'set'))
		throw new UsageError(`--password-stdin only applies to add and passwd, not ${action}`);
	// meow reports a left-out boolean as false, like --no-admin: only the words tell them apart.
	const admin = flagGiven(argv, 'admin') ? flags.admin === true : undefined;
	if (admin !== undefined && action !== 'add' && action !== 'set')
		throw new UsageError(`--admin only applies to add and set, not ${action}`);
	if (action === 'set' && admin === undefined) throw new UsageError('set needs --admin or --no-admin');
	const db = typeof flags.db === 'string' ? flags.db : undefined;
	if (db === '') throw new UsageError(`--db needs a URL: ${DATABASE_URL_FORM}`);
	const directory = typeof flags.dataDir === 'string' ? flags.dataDir : '';
	if (directory === '') throw new UsageError('--data-dir needs a directory');
	return {action, name: rest[0], db, dataDir: directory, passwordStdin, admin};
}

/** Runs the action on an open store; errors propagate to runUserCommand's reporting. */
async function perform(store: AccountStore, invocation: Invocation, io: UserCommandIo): Promise<void> {
	const {action, name} = invocation;
	if (action === 'list') {
		const names = await store.listUsers();
		const admins = await Promise.all(names.map((user) => store.isAdmin(user)));
		const shown = names.map((user, i) => (admins[i] ? `${user} (admin)` : user));
		if (shown.length > 0) io.stdout.write(`${shown.join('\n')}\n`);
		return;
	}
	if (name === undefined) throw new UsageError(`${action} takes exactly one user name`);
	if (action === 'set') {
		const admin = invocation.admin === true;
		await store.setAdmin(name, admin);
		io.stdout.write(`${name} ${admin ? 'is now a server admin' : 'is no longer a server admin'}\n`);
		return;
	}
	if (action === 'remove') {
		if (!(await store.removeUser(name))) throw new NoSuchUserError(name);
		io.stdout.write(`removed user ${name}\n`);
		return;
	}
	// Check before asking, so nobody types a password twice only to be told the name is taken;
	// the store's own constraint still decides a race.
	const exists = (await store.getVerifier(name)) !== undefined;
	if (action === 'add' && exists) throw new UserExistsError(name);
	const lookalike = action === 'add' ? await lookalikeAccount(store, name) : undefined;
	if (lookalike !== undefined) throw new LookalikeNameError(name, lookalike);
	if (action === 'passwd' && !exists) throw new NoSuchUserError(name);
	const password = await readPassword({
		fromStdin: invocation.passwordStdin,
		isNew: true,
		input: io.stdin,
		output: io.stderr,
		prompt: action === 'add' ? `Password for new user ${name}: ` : `New password for ${name}: `,
		confirmPrompt: 'Repeat the password: ',
	});
	const verifier = await deriveVerifier(password);
	if (action === 'add') {
		await store.createUser(name, verifier);
		if (invocation.admin === true) await store.setAdmin(name, true);
		io.stdout.write(`added user ${name}${invocation.admin === true ? ' (admin)' : ''}\n`);
	} else {
		await store.setVerifier(name, verifier);
		io.stdout.write(`changed the password of ${name}\n`);
	}
}

/** 2 for usage mistakes, 1 for everything else; the message is for `parley: …`. */
function classify(error: unknown): {code: number; message: string} {
	if (error instanceof UsageError) return {code: 2, message: `${error.message} (see parley user --help)`};
	if (error instanceof StoreConfigError) return {code: 2, message: error.message};
	if (error instanceof PasswordInputError)
		return {code: error.kind === 'usage' ? 2 : 1, message: error.message};
	if (
		error instanceof UserExistsError ||
		error instanceof NoSuchUserError ||
		error instanceof LookalikeNameError
	)
		return {code: 1, message: error.message};
	if (error instanceof InvalidUsernameError) return {code: 1, message: `invalid user name: ${error.message}`};
	if (error instanceof StoreOpenError) return {code: 1, message: error.message};
	const message = error instanceof Error ? error.message : String(error);
	return {code: 1, message: `database error: ${message}`};
}

export async function runUserCommand(argv: string[], streams: Partial<UserCommandIo> = {}): Promise<number> {
	const io: UserCommandIo = {
		stdin: streams.stdin ?? process.stdin,
		stdout: streams.stdout ?? process.stdout,
		stderr: streams.stderr ?? process.stderr,
	};
	const fail = failureReporter(io.stderr, classify);

	const cli = meow(helpText(dataDir()), {
		importMeta: import.meta,
		argv,
		...SELF_REPORTING,
		flags: {
			db: {type: 'string'},
			dataDir: {type: 'string', default: dataDir()},
			passwordStdin: {type: 'boolean', default: false},
			admin: {type: 'boolean'},
			help: {type: 'boolean', shortFlag: 'h', default: false},
		},
	});
	if (cli.flags.help) {
		io.stdout.write(cli.help);
		return 0;
	}

	let invocation: Invocation;
	try {
		invocation = parseInvocation(argv, cli.input, cli.flags);
		const {name, action} = invocation;
		if (name !== undefined) {
			const problem = usernameProblem(name);
			// JSON quoting shows control characters instead of sending them to the terminal.
			if (problem !== undefined) throw new InvalidUsernameError(`${JSON.stringify(name)}: ${problem}`);
		}
		if (action === 'add' || action === 'passwd') {
			// Before opening the database, which may wait for a slow server.
			const problem = passwordSourceProblem(invocation.passwordStdin, io.stdin);
			if (problem !== undefined) throw new PasswordInputError('usage', problem);
		}
	} catch (error) {
		return fail(error);
	}

	return withAdminStore({db: invocation.db, dataDir: invocation.dataDir, stderr: io.stderr, fail}, (store) =>
		perform(store, invocation, io),
	);
}
