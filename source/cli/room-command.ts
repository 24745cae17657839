// `parley room`: the TCP server's rooms as its store keeps them (topic, modes,
// owner, ops, bans), managed from the shell: list, create, change, remove.
// Rights inside a room come from its settings, so this is also how an
// operator fixes a room whose owner is gone.
import meow from 'meow';
import {
	type AccountStore,
	emptyRoomSettings,
	InvalidUsernameError,
	NoSuchUserError,
	RoomExistsError,
	type RoomSettings,
	type StoredRoom,
} from '../../server/store/account-store.js';
import {DATABASE_URL_FORM, StoreConfigError, StoreOpenError} from '../../server/store/open-store.js';
import {identityKey, roomKey, roomLabel, roomNameProblem, usernameProblem} from '../protocol/names.js';
import {failureReporter, withAdminStore} from './admin-store.js';
import {type ConfirmInput, confirm} from './confirm.js';
import {flagGiven, flagGivenEmpty} from './given-flags.js';
import {dataDir} from './paths.js';
import {applyRoomChange, isEmptyChange, type RoomChange, RoomChangeError} from './room-change.js';
import {SELF_REPORTING} from './subcommand-options.js';

export const ROOM_ACTIONS = ['list', 'create', 'remove', 'set'] as const;
type RoomAction = (typeof ROOM_ACTIONS)[number];

/** As the protocol's topic request allows. */
export const MAX_TOPIC_LENGTH = 512;

const helpText = (defaultDataDir: string): string => `
	Usage
	  $ parley room list [--json]          every room: name, owner, modes, bans, topic
	  $ parley room create NAME [options]  make a room
	  $ parley room set NAME [options]     change a room's topic, modes, owner or ops
	  $ parley room remove NAME [--yes]    delete a room and all its messages

	These are the TCP server's rooms, kept in its store with their topic, modes,
	roles and bans. NAME is 1-50 letters, digits, _ - and . (case-insensitive:
	dev, Dev and #dev are one room); write it without the # or quote it ('#dev'),
	since an unquoted # starts a shell comment. UDP rooms are not stored: they
	exist while someone is in them, and have no owners or ops.

	A room's owner gives and takes op; ops kick, ban, mute, invite and set the
	topic and modes. Server admins (parley user set NAME --admin) may do all of
	it in every room.

	Options
	  --owner USER           create, set: the room's owner; set makes the previous
	                         owner an op
	  --topic TEXT           create, set: the topic, one line of at most ${MAX_TOPIC_LENGTH}
	                         characters (set: --topic '' clears it)
	  --invite-only          create, set: only invited accounts may join (+i);
	                         set: --no-invite-only lets anyone in again
	  --moderated            create, set: only ops and voiced members speak (+m);
	                         set: --no-moderated lets everyone speak
	  --op USER              set: make USER an op (may be repeated)
	  --deop USER            set: take op from USER (may be repeated)
	  --yes                  remove: do not ask first (needed when standard input
	                         is not a terminal)
	  --json                 list: one JSON object per room and line
	  --db URL               the server's MySQL/MariaDB: ${DATABASE_URL_FORM}
	                         (default: the embedded SQLite file in the data directory)
	  --data-dir DIR         data directory for the SQLite file (default ${defaultDataDir})
	  --help                 this help

	Removing a room deletes its stored messages, memberships and read markers
	with it: this cannot be undone.

	Exit status
	  0 done; 1 no such room or user, the room exists, an invalid name, a change
	  that does not fit the room, a removal not confirmed, or a database problem;
	  2 a usage error

	Examples
	  $ parley room create dev --owner alice --topic 'Builds and releases'
	  $ parley room set dev --op bob --invite-only
	  $ parley room set dev --owner bob --no-moderated --topic ''
	  $ parley room list --json --db mysql://parley:secret@127.0.0.1:3306/parley
	  $ parley room remove dev --yes
`;

export interface RoomCommandIo {
	/** Where remove reads its confirmation (a terminal), when --yes is not given. */
	stdin: ConfirmInput;
	stdout: NodeJS.WritableStream;
	stderr: NodeJS.WritableStream;
}

class UsageError extends Error {}

class InvalidRoomNameError extends Error {}

class NoSuchRoomError extends Error {
	constructor(room: string) {
		super(`no such room ${roomLabel(room)}`);
	}
}

class NotConfirmedError extends Error {}

/** Which flags each action takes; the rest are refused, so a typo never does nothing quietly. */
const ACTION_FLAGS: Record<RoomAction, readonly string[]> = {
	list: ['json'],
	create: ['owner', 'topic', 'inviteOnly', 'moderated'],
	remove: ['yes'],
	set: ['owner', 'topic', 'inviteOnly', 'moderated', 'op', 'deop'],
};
const COMMON_FLAGS = ['db', 'dataDir', 'help', 'h'];
const KNOWN_FLAGS = new Set([...COMMON_FLAGS, ...Object.values(ACTION_FLAGS).flat()]);

const kebab = (key: string): string => key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
const flagName = (key: string): string => (key.length === 1 ? `-${key}` : `--${kebab(key)}`);

const isAction = (value: string): value is RoomAction => (ROOM_ACTIONS as readonly string[]).includes(value);

/** JSON quoting shows control characters instead of sending them to the terminal. */
const shown = (text: string): string => JSON.stringify(text);

/** A topic or name read from the store may hold anything: never let it drive the terminal. */
const printable = (text: string): string => text.replace(/[\p{Cc}]/gu, (c) => shown(c).slice(1, -1));

interface Invocation {
	action: RoomAction;
	/** As typed, without its #. */
	room: string | undefined;
	change: RoomChange;
	json: boolean;
	yes: boolean;
	db: string | undefined;
	dataDir: string;
}

function checkedRoomName(name: string): string {
	const problem = roomNameProblem(name);
	if (problem !== undefined) throw new InvalidRoomNameError(`invalid room name ${shown(name)}: ${problem}`);
	return name.startsWith('#') ? name.slice(1) : name;
}

function checkedUserName(name: string, flag: string): string {
	if (name === '') throw new UsageError(`${flag} needs a user name`);
	const problem = usernameProblem(name);
	if (problem !== undefined) throw new InvalidUsernameError(`${shown(name)}: ${problem}`);
	return name;
}

function checkedTopic(topic: string): string {
	if ([...topic].length > MAX_TOPIC_LENGTH)
		throw new UsageError(`a topic is at most ${MAX_TOPIC_LENGTH} characters`);
	if (/\p{Cc}/u.test(topic)) throw new UsageError('a topic is one line of text, without control characters');
	return topic;
}

function parseInvocation(
	argv: readonly string[],
	input: readonly string[],
	flags: Record<string, unknown>,
): Invocation {
	const unknown = Object.keys(flags).filter((key) => !KNOWN_FLAGS.has(key));
	if (unknown.length > 0) throw new UsageError(`unknown option ${unknown.map(flagName).join(', ')}`);
	const [action, ...rest] = input;
	if (action === undefined) throw new UsageError(`expected an action: ${ROOM_ACTIONS.join(', ')}`);
	if (!isAction(action))
		throw new UsageError(`unknown action ${shown(action)}; expected ${ROOM_ACTIONS.join(', ')}`);
	if (action === 'list') {
		if (rest.length > 0) throw new UsageError('list takes no arguments');
	} else if (rest.length !== 1) {
		throw new UsageError(`${action} takes exactly one room name`);
	}
	const given = (key: string): boolean => flagGiven(argv, kebab(key));
	const stray = [...KNOWN_FLAGS].filter(
		(key) => !COMMON_FLAGS.includes(key) && !ACTION_FLAGS[action].includes(key) && given(key),
	);
	if (stray.length > 0) throw new UsageError(`${stray.map(flagName).join(', ')} does not apply to ${action}`);

	const change: RoomChange = {op: [], deop: []};
	if (given('topic')) {
		const topic = typeof flags.topic === 'string' ? flags.topic : '';
		if (topic === '' && !(action === 'set' && flagGivenEmpty(argv, 'topic')))
			throw new UsageError(
				action === 'set' ? "--topic needs a text (--topic '' clears it)" : '--topic needs a text',
			);
		change.topic = checkedTopic(topic);
	}
	if (given('inviteOnly')) change.inviteOnly = flags.inviteOnly === true;
	if (given('moderated')) change.moderated = flags.moderated === true;
	if (given('owner'))
		change.owner = checkedUserName(typeof flags.owner === 'string' ? flags.owner : '', '--owner');
	for (const key of ['op', 'deop'] as const) {
		if (!given(key)) continue;
		const names = Array.isArray(flags[key]) ? (flags[key] as string[]) : [];
		if (names.length === 0) throw new UsageError(`--${key} needs a user name`);
		change[key] = names.map((name) => checkedUserName(name, `--${key}`));
	}
	const both = change.op.find((name) =>
		change.deop.some((other) => identityKey(other) === identityKey(name)),
	);
	if (both !== undefined) throw new UsageError(`${both} is given both --op and --deop`);
	const owner = change.owner;
	if (owner !== undefined && change.deop.some((name) => identityKey(name) === identityKey(owner)))
		throw new UsageError(`${owner} is given both --owner and --deop`);
	if (action === 'set' && isEmptyChange(change))
		throw new UsageError(
			'set needs something to change: --topic, --[no-]invite-only, --[no-]moderated, --owner, --op or --deop',
		);

	const db = typeof flags.db === 'string' ? flags.db : undefined;
	if (db === '') throw new UsageError(`--db needs a URL: ${DATABASE_URL_FORM}`);
	const directory = typeof flags.dataDir === 'string' ? flags.dataDir : '';
	if (directory === '') throw new UsageError('--data-dir needs a directory');
	const room = rest[0] === undefined ? undefined : checkedRoomName(rest[0]);
	return {
		action,
		room,
		change,
		json: flags.json === true,
		yes: flags.yes === true,
		db,
		dataDir: directory,
	};
}

/** Account keys to names as registered (settings keep keys; people read names). */
async function registeredNames(store: AccountStore): Promise<Map<string, string>> {
	return new Map((await store.listUsers()).map((name) => [identityKey(name), name]));
}

/** The name as registered; throws NoSuchUserError. */
function existingUser(names: Map<string, string>, name: string): string {
	const registered = names.get(identityKey(name));
	if (registered === undefined) throw new NoSuchUserError(name);
	return registered;
}

const holders = (settings: RoomSettings, role: string, names: Map<string, string>): string[] =>
	Object.keys(settings.roles)
		.filter((key) => settings.roles[key] === role)
		.map((key) => names.get(key) ?? key)
		.sort();

/** "im" as welcome.modes has it: i invite-only, m moderated. */
const modesOf = (settings: RoomSettings): string =>
	`${settings.inviteOnly ? 'i' : ''}${settings.moderated ? 'm' : ''}`;

/** Bans still in force: a ban with an `until` in the past no longer keeps anyone out. */
const activeBans = (settings: RoomSettings, now: number): number =>
	Object.values(settings.bans).filter((ban) => ban.until === undefined || ban.until > now).length;

interface RoomRow {
	name: string;
	owner: string | null;
	topic: string | null;
	modes: string;
	ops: string[];
	bans: number;
	created: string;
}

function roomRow(room: StoredRoom, names: Map<string, string>, now: number): RoomRow {
	// The owner role decides rights; `room.owner` is who created it, which --owner may since have changed.
	const owner = holders(room.settings, 'owner', names)[0] ?? room.owner ?? null;
	return {
		name: roomLabel(room.name),
		owner,
		topic: room.settings.topic ?? null,
		modes: modesOf(room.settings),
		ops: holders(room.settings, 'op', names),
		bans: activeBans(room.settings, now),
		created: new Date(room.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
	};
}

function writeTable(rows: readonly RoomRow[], out: NodeJS.WritableStream): void {
	const header = ['NAME', 'OWNER', 'MODES', 'BANS', 'TOPIC'];
	const cells = rows.map((row) => [
		printable(row.name),
		row.owner ?? '-',
		row.modes === '' ? '-' : `+${row.modes}`,
		String(row.bans),
		printable(row.topic ?? ''),
	]);
	const widths = header.map((title, i) =>
		Math.max(title.length, ...cells.map((cell) => (cell[i] as string).length)),
	);
	for (const row of [header, ...cells])
		out.write(
			`${row
				.map((cell, i) => (i < header.length - 1 ? cell.padEnd(widths[i] as number) : cell))
				.join('  ')
				.trimEnd()}\n`,
		);
}

async function listRooms(store: AccountStore, invocation: Invocation, io: RoomCommandIo): Promise<void> {
	const rooms = await store.listRooms();
	if (rooms.length === 0) return;
	const names = await registeredNames(store);
	const now = Date.now();
	const rows = rooms.map((room) => roomRow(room, names, now));
	if (invocation.json) for (const row of rows) io.stdout.write(`${JSON.stringify(row)}\n`);
	else writeTable(rows, io.stdout);
}

async function createRoom(
	store: AccountStore,
	name: string,
	change: RoomChange,
	io: RoomCommandIo,
): Promise<void> {
	const label = roomLabel(name);
	const names = change.owner === undefined ? new Map<string, string>() : await registeredNames(store);
	const owner = change.owner === undefined ? undefined : existingUser(names, change.owner);
	const {settings} = applyRoomChange(label, emptyRoomSettings(), {...change, ...(owner ? {owner} : {})});
	await store.createRoom({
		name,
		key: roomKey(name),
		...(owner === undefined ? {} : {owner}),
		createdAt: Date.now(),
		settings,
	});
	io.stdout.write(`created room ${label}${owner === undefined ? '' : ` (owner ${owner})`}\n`);
}

async function changeRoom(
	store: AccountStore,
	name: string,
	change: RoomChange,
	io: RoomCommandIo,
): Promise<void> {
	const room = await store.getRoom(roomKey(name));
	if (room === undefined) throw new NoSuchRoomError(name);
	const label = roomLabel(room.name);
	const names = await registeredNames(store);
	// Whoever gets a role must be an account; taking op from a removed account is fine.
	const owner = change.owner === undefined ? undefined : existingUser(names, change.owner);
	const op = change.op.map((user) => existingUser(names, user));
	const {settings, changes} = applyRoomChange(label, room.settings, {
		...change,
		...(owner === undefined ? {} : {owner}),
		op,
	});
	await store.saveRoomSettings(room.key, settings);
	io.stdout.write(`changed ${label}: ${changes.join(', ')}\n`);
}

async function removeRoom(store: AccountStore, invocation: Invocation, io: RoomCommandIo): Promise<void> {
	const name = invocation.room as string;
	const room = await store.getRoom(roomKey(name));
	if (room === undefined) throw new NoSuchRoomError(name);
	const label = roomLabel(room.name);
	const messages = await store.latestSeq(room.key);
	const what = `${label} and its ${messages} stored message${messages === 1 ? '' : 's'}`;
	if (!invocation.yes && !(await confirm(`Remove ${what}? This cannot be undone.`, io.stdin, io.stderr)))
		throw new NotConfirmedError(`${label} was not removed`);
	if (!(await store.removeRoom(room.key))) throw new NoSuchRoomError(name);
	io.stdout.write(`removed ${what}\n`);
}

/** Runs the action on an open store; errors propagate to runRoomCommand's reporting. */
async function perform(store: AccountStore, invocation: Invocation, io: RoomCommandIo): Promise<void> {
	const {action, room, change} = invocation;
	if (action === 'list') return listRooms(store, invocation, io);
	if (room === undefined) throw new UsageError(`${action} takes exactly one room name`);
	if (action === 'create') return createRoom(store, room, change, io);
	if (action === 'set') return changeRoom(store, room, change, io);
	return removeRoom(store, invocation, io);
}

/** 2 for usage mistakes, 1 for everything else; the message is for `parley: …`. */
function classify(error: unknown): {code: number; message: string} {
	if (error instanceof UsageError) return {code: 2, message: `${error.message} (see parley room --help)`};
	if (error instanceof StoreConfigError) return {code: 2, message: error.message};
	if (error instanceof InvalidUsernameError) return {code: 1, message: `invalid user name: ${error.message}`};
	if (
		error instanceof RoomExistsError ||
		error instanceof NoSuchRoomError ||
		error instanceof NoSuchUserError ||
		error instanceof InvalidRoomNameError ||
		error instanceof RoomChangeError ||
		error instanceof NotConfirmedError ||
		error instanceof StoreOpenError
	)
		return {code: 1, message: error.message};
	const message = error instanceof Error ? error.message : String(error);
	return {code: 1, message: `database error: ${message}`};
}

export async function runRoomCommand(argv: string[], streams: Partial<RoomCommandIo> = {}): Promise<number> {
	const io: RoomCommandIo = {
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
			json: {type: 'boolean', default: false},
			owner: {type: 'string'},
			topic: {type: 'string'},
			inviteOnly: {type: 'boolean'},
			moderated: {type: 'boolean'},
			op: {type: 'string', isMultiple: true},
			deop: {type: 'string', isMultiple: true},
			yes: {type: 'boolean', default: false},
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
		if (invocation.action === 'remove' && !invocation.yes && io.stdin.isTTY !== true)
			throw new UsageError(
				'remove asks first, and standard input is not a terminal: add --yes to remove without asking',
			);
	} catch (error) {
		return fail(error);
	}
	return withAdminStore({db: invocation.db, dataDir: invocation.dataDir, stderr: io.stderr, fail}, (store) =>
		perform(store, invocation, io),
	);
}
