// `parley token`: access tokens that let a bot or script log in to a TLS room
// as one account without a password and without SCRAM (see
// server/auth/bot-tokens.ts). A token is printed once, at creation; the store
// keeps only its hash, so a lost token is revoked and replaced, not recovered.
import meow from 'meow';
import {issueToken, isTokenId, tokenLabelProblem} from '../../server/auth/bot-tokens.js';
import {InvalidUsernameError, NoSuchUserError, type AccountStore} from '../../server/store/account-store.js';
import {usernameProblem} from '../protocol/names.js';
import {DATABASE_URL_FORM, StoreConfigError, StoreOpenError} from '../../server/store/open-store.js';
import {failureReporter, withAdminStore} from './admin-store.js';
import {dataDir} from './paths.js';
import {SELF_REPORTING} from './subcommand-options.js';

const TOKEN_ACTIONS = ['create', 'list', 'revoke'] as const;
type TokenAction = (typeof TOKEN_ACTIONS)[number];

const helpText = (defaultDataDir: string): string => `
	Usage
	  $ parley token create USER [--label TEXT]   make a token for USER; prints it ONCE
	  $ parley token list USER                    USER's tokens: id, created, last used, label
	  $ parley token revoke USER ID               delete the token ID of USER

	A token logs a bot or script in to the TLS room as USER in one step, with no
	password: the client sends {"t":"auth-token","token":"…"} instead of SCRAM
	(see PROTOCOL.md and examples/bot.py). Anyone holding it can speak as USER,
	so keep it like a password (an environment variable such as PARLEY_TOKEN, a
	secret store), and revoke it when it leaks. The server keeps only the token's
	SHA-256 hash: it cannot be shown again. Token logins count against the same
	failed-login throttle as passwords, and are refused on plaintext servers.

	Options
	  --label TEXT        what the token is for (create), shown by list
	  --db URL            accounts in MySQL/MariaDB: ${DATABASE_URL_FORM}
	                      (default: the embedded SQLite file in the data directory)
	  --data-dir DIR      data directory for the SQLite file (default ${defaultDataDir})
	  --help              this help

	Exit status
	  0 done; 1 no such user or token, an invalid name, or a database problem;
	  2 a usage error

	Examples
	  $ parley token create ci --label 'build notices'
	  $ PARLEY_TOKEN=parley_… python3 examples/bot.py tcp://chat.example:7668 --fingerprint SHA256:…
	  $ parley token list ci
	  $ parley token revoke ci 3f9a0c1d2e4b
`;

export interface TokenCommandIo {
	stdout: NodeJS.WritableStream;
	stderr: NodeJS.WritableStream;
}

class UsageError extends Error {}

class NoSuchTokenError extends Error {}

const KNOWN_FLAGS = new Set(['db', 'dataDir', 'label', 'help', 'h']);

const flagName = (key: string): string =>
	key.length === 1 ? `-${key}` : `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;

const isAction = (value: string): value is TokenAction =>
	(TOKEN_ACTIONS as readonly string[]).includes(value);

interface Invocation {
	action: TokenAction;
	user: string;
	id: string | undefined;
	label: string | undefined;
	db: string | undefined;
	dataDir: string;
}

function parseInvocation(input: readonly string[], flags: Record<string, unknown>): Invocation {
	const unknown = Object.keys(flags).filter((key) => !KNOWN_FLAGS.has(key));
	if (unknown.length > 0) throw new UsageError(`unknown option ${unknown.map(flagName).join(', ')}`);
	const [action, user, ...rest] = input;
	if (action === undefined) throw new UsageError(`expected an action: ${TOKEN_ACTIONS.join(', ')}`);
	if (!isAction(action))
		throw new UsageError(`unknown action ${JSON.stringify(action)}; expected ${TOKEN_ACTIONS.join(', ')}`);
	if (user === undefined) throw new UsageError(`${action} needs a user name`);
	const problem = usernameProblem(user);
	// JSON quoting shows control characters instead of sending them to the terminal.
	if (problem !== undefined) throw new InvalidUsernameError(`${JSON.stringify(user)}: ${problem}`);
	if (action === 'revoke' ? rest.length !== 1 : rest.length > 0)
		throw new UsageError(
			action === 'revoke' ? 'revoke takes a user name and a token id' : `${action} takes one user name`,
		);
	const id = rest[0];
	if (id !== undefined && !isTokenId(id))
		throw new UsageError(`${JSON.stringify(id)} is not a token id (12 hex digits, as token list shows)`);
	const label = typeof flags.label === 'string' ? flags.label : undefined;
	if (label !== undefined) {
		if (action !== 'create') throw new UsageError('--label only applies to create');
		const labelProblem = tokenLabelProblem(label);
		if (labelProblem) throw new UsageError(labelProblem);
	}
	const db = typeof flags.db === 'string' ? flags.db : undefined;
	if (db === '') throw new UsageError(`--db needs a URL: ${DATABASE_URL_FORM}`);
	const directory = typeof flags.dataDir === 'string' ? flags.dataDir : '';
	if (directory === '') throw new UsageError('--data-dir needs a directory');
	return {action, user, id, label, db, dataDir: directory};
}

const when = (ms: number | undefined): string =>
	ms === undefined ? 'never' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

async function perform(store: AccountStore, invocation: Invocation, io: TokenCommandIo): Promise<void> {
	const {action, user} = invocation;
	if (action === 'create') {
		const issued = issueToken();
		await store.createToken(user, {
			id: issued.id,
			label: invocation.label ?? '',
			hash: issued.hash,
			createdAt: Date.now(),
		});
		// The token alone on stdout, so `TOKEN=$(parley token create …)` works; the rest on stderr.
		io.stdout.write(`${issued.token}\n`);
		io.stderr.write(
			`parley: created token ${issued.id} for ${user}. It is shown only now: store it safely (e.g. PARLEY_TOKEN).\n`,
		);
		return;
	}
	if (action === 'list') {
		const tokens = await store.listTokens(user);
		if (tokens.length === 0 && (await store.getVerifier(user)) === undefined) throw new NoSuchUserError(user);
		if (tokens.length === 0) return;
		const rows = tokens.map((t) => [t.id, when(t.createdAt), when(t.lastUsedAt), t.label]);
		const header = ['ID', 'CREATED', 'LAST USED', 'LABEL'];
		const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
		for (const row of [header, ...rows])
			io.stdout.write(
				`${row
					.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] as number) : cell))
					.join('  ')
					.trimEnd()}\n`,
			);
		return;
	}
	if (!(await store.revokeToken(user, invocation.id as string)))
		throw new NoSuchTokenError(`${user} has no token ${invocation.id}`);
	io.stdout.write(`revoked token ${invocation.id} of ${user}\n`);
}

function classify(error: unknown): {code: number; message: string} {
	if (error instanceof UsageError) return {code: 2, message: `${error.message} (see parley token --help)`};
	if (error instanceof StoreConfigError) return {code: 2, message: error.message};
	if (
		error instanceof NoSuchUserError ||
		error instanceof NoSuchTokenError ||
		error instanceof StoreOpenError
	)
		return {code: 1, message: error.message};
	if (error instanceof InvalidUsernameError) return {code: 1, message: `invalid user name: ${error.message}`};
	const message = error instanceof Error ? error.message : String(error);
	return {code: 1, message: `database error: ${message}`};
}

export async function runTokenCommand(
	argv: string[],
	streams: Partial<TokenCommandIo> = {},
): Promise<number> {
	const io: TokenCommandIo = {
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
			label: {type: 'string'},
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
	} catch (error) {
		return fail(error);
	}
	return withAdminStore({db: invocation.db, dataDir: invocation.dataDir, stderr: io.stderr, fail}, (store) =>
		perform(store, invocation, io),
	);
}
