// `parley user`: add, re-password, remove and list the accounts that may log
// in to TLS rooms. Only the SCRAM verifier derived from a password is stored;
// the password itself never leaves this process.
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
import {withAdminStore} from './admin-store.js';
import {dataDir} from './paths.js';
import {SELF_REPORTING} from './subcommand-options.js';

export const USER_ACTIONS = ['add', 'passwd', 'remove', 'list'] as const;
export type UserAction = (typeof USER_ACTIONS)[number];

const helpText = (defaultDataDir: string): string => `
	Usage
	  $ parley user add NAME [options]       create an account; asks for its password
	  $ parley user passwd NAME [options]    set a new password for an account
	  $ parley user remove NAME [options]    delete an account
	  $ parley user list [options]           print every account name, one per line

	Accounts log in to Parley's TLS rooms with SCRAM-SHA-256. Only a salted
	verifier derived from the password is stored, never the password itself.

	Names are 1-32 characters: letters, digits, _ - and . only. They are
	case-insensitive: Alice and alice are the same account.

	Passwords need at least ${MIN_PASSWORD_LENGTH} characters. On a terminal they are asked
	for twice, echoing only '*'. Scripts pass --password-stdin and write the
	password as the first line of standard input (a trailing newline is removed).

	Options
	  --db URL            keep accounts in MySQL/MariaDB: ${DATABASE_URL_FORM}
	                      (default: the embedded SQLite file in the data directory)
	  --data-dir DIR      data directory for the SQLite file
	                      (default ${defaultDataDir})
	  --password-stdin    read the password from standard input (add, passwd)
	  --help              this help

	Exit status
	  0 done; 1 the user exists, no such user, an invalid name or password, or a
	  database problem; 2 a usage error

	Examples
	  $ parley user add alice
	  $ printf '%s\\n' "$ALICE_PASSWORD" | parley user add alice --password-stdin
	  $ parley user passwd alice
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

const KNOWN_FLAGS = new Set(['db', 'dataDir', 'passwordStdin', 'help', 'h']);

const flagName = (key: string): string =>
	key.length === 1 ? `-${key}` : `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();

const isAction = (value: string): value is UserAction => (USER_ACTIONS as readonly string[]).includes(value);

interface Invocation {
	action: UserAction;
	name: string | undefined;
	db: string | undefined;
	dataDir: string;
	passwordStdin: boolean;
}

function parseInvocation(input: readonly string[], flags: Record<string, unknown>): Invocation {
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
	if (passwordStdin && (action === 'list' || action === 'remove'))
		throw new UsageError(`--password-stdin only applies to add and passwd, not ${action}`);
	const db = typeof flags.db === 'string' ? flags.db : undefined;
	if (db === '') throw new UsageError(`--db needs a URL: ${DATABASE_URL_FORM}`);
	const directory = typeof flags.dataDir === 'string' ? flags.dataDir : '';
	if (directory === '') throw new UsageError('--data-dir needs a directory');
	return {action, name: rest[0], db, dataDir: directory, passwordStdin};
}

/** Runs the action on an open store; errors propagate to runUserCommand's reporting. */
async function perform(store: AccountStore, invocation: Invocation, io: UserCommandIo): Promise<void> {
	const {action, name} = invocation;
	if (action === 'list') {
		const names = await store.listUsers();
		if (names.length > 0) io.stdout.write(`${names.join('\n')}\n`);
		return;
	}
	if (name === undefined) throw new UsageError(`${action} takes exactly one user name`);
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
		io.stdout.write(`added user ${name}\n`);
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
	const fail = (error: unknown): number => {
		const {code, message} = classify(error);
		io.stderr.write(`parley: ${oneLine(message)}\n`);
		return code;
	};

	const cli = meow(helpText(dataDir()), {
		importMeta: import.meta,
		argv,
		...SELF_REPORTING,
		flags: {
			db: {type: 'string'},
			dataDir: {type: 'string', default: dataDir()},
			passwordStdin: {type: 'boolean', default: false},
			help: {type: 'boolean', shortFlag: 'h', default: false},
		},
	});
	if (cli.flags.help) {
		io.stdout.write(cli.help);
		return 0;
	}

	let invocation: Invocation;
	try {
		invocation = parseInvocation(cli.input, cli.flags);
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
