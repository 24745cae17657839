// Turns an input line into what the user asked for. Commands live in one
// table (name, aliases, usage, help, parser) so adding one is adding a row.

import {ME_COMMAND, MSG_COMMAND, parseChatLine, usageError} from '../client/chat-line.js';
import type {RoomRequest} from '../client/types.js';
import {nickProblem} from '../protocol/messages.js';
import {FILE_COMMANDS, type FileAction} from './file-command-specs.js';
import {ROOM_COMMANDS, parseRoomTarget} from './room-command-specs.js';

export type Command =
	| {kind: 'none'} // blank line: nothing to do
	| {kind: 'say'; text: string}
	| {kind: 'action'; text: string}
	| {kind: 'direct'; nick: string; text: string}
	| {kind: 'nick'; nick: string}
	| {kind: 'who'}
	| {kind: 'clear'}
	| {kind: 'help'; topic?: string}
	| {kind: 'quit'}
	/** Mark us away with a reason (auto-reply to direct messages), or back when `text` is empty. */
	| {kind: 'away'; text: string}
	/** Search this room's log (an empty query just opens the search prompt, like Ctrl+R). */
	| {kind: 'search'; query: string}
	/** Open a room in a new tab: an address (udp://… tcp://…) or a name from the rooms config. */
	| {kind: 'connect'; target: string}
	/** Leave the room on screen and close its tab. */
	| {kind: 'close'}
	/** Join the room on screen again after it closed (its log stays). */
	| {kind: 'reconnect'}
	/** Show tab `number` (1-based, as the tab bar numbers them). */
	| {kind: 'switch'; number: number}
	/** Read config.toml again and apply what can change while running. */
	| {kind: 'reload'}
	/** Hide a nick's messages (kept in config.toml), or list the ignored nicks. */
	| {kind: 'ignore'; nick?: string}
	| {kind: 'unignore'; nick: string}
	/** Open `#room` on the server of the room on screen (same connection and login), in a new tab. */
	| {kind: 'join'; room: string}
	/** Leave a room for good (the one on screen, or `room` on its server) and close its tab. */
	| {kind: 'part'; room?: string; reason?: string}
	/** Ask the server for its rooms: a picker. */
	| {kind: 'list'}
	/** Show the topic, or set it to `text`. */
	| {kind: 'topic'; text?: string}
	/** A moderation request passed to the server as it is; `name` is the command, for messages. */
	| {kind: 'request'; name: string; request: RoomRequest}
	/** File transfer (TCP rooms): run by file-actions.ts. */
	| {kind: 'file'; file: FileAction}
	| {kind: 'invalid'; message: string};

export interface CommandSpec {
	readonly name: string;
	readonly aliases: readonly string[];
	/** Shown in /help and in usage errors, e.g. "/msg NICK TEXT". */
	readonly usage: string;
	readonly help: string;
	/** `args` is everything after the command name, with the separating space removed. */
	readonly parse: (args: string) => Command;
}

const noArguments =
	(command: Command, usage: string) =>
	(args: string): Command =>
		args.trim() === '' ? command : usageError({usage}, 'this command takes no arguments');

export const COMMANDS: readonly CommandSpec[] = [
	{
		name: 'help',
		aliases: ['?'],
		usage: '/help [COMMAND]',
		help: 'list the commands, or explain one',
		parse: (args) => {
			const topic = args.trim().replace(/^\//, '');
			return topic === '' ? {kind: 'help'} : {kind: 'help', topic};
		},
	},
	{
		name: 'nick',
		aliases: [],
		usage: '/nick NEW',
		help: 'change your nick',
		parse(args) {
			const nick = args.trim();
			if (nick === '') return usageError(this);
			if (/\s/u.test(nick)) return usageError(this, 'a nick cannot contain spaces');
			const problem = nickProblem(nick);
			return problem === undefined ? {kind: 'nick', nick} : usageError(this, problem);
		},
	},
	// The message commands are parsed by the one line parser `parley send` uses too.
	MSG_COMMAND,
	ME_COMMAND,
	{
		name: 'who',
		aliases: ['names'],
		usage: '/who',
		help: 'list who is in the room',
		parse: noArguments({kind: 'who'}, '/who'),
	},
	{
		name: 'clear',
		aliases: [],
		usage: '/clear',
		help: 'clear the log on this screen (nobody else is affected)',
		parse: noArguments({kind: 'clear'}, '/clear'),
	},
	{
		name: 'search',
		aliases: ['find'],
		usage: '/search TEXT',
		help: "find TEXT in this room's log (also Ctrl+R): Ctrl+R/Ctrl+S older/newer, Enter stay, Esc back",
		parse: (args) => ({kind: 'search', query: args.trim()}),
	},
	{
		name: 'connect',
		aliases: ['open'],
		usage: '/connect URL|NAME',
		help: 'open a room in a new tab (or reopen its closed tab): udp://HOST:PORT, tcp://HOST:PORT or a name from rooms.json',
		parse(args) {
			return parseRoomTarget(this, args);
		},
	},
	...ROOM_COMMANDS,
	...FILE_COMMANDS,
	{
		name: 'reconnect',
		aliases: ['reopen'],
		usage: '/reconnect',
		help: 'join the room on screen again after its connection closed (the log stays)',
		parse: noArguments({kind: 'reconnect'}, '/reconnect'),
	},
	{
		name: 'close',
		aliases: ['leave'],
		usage: '/close',
		help: 'leave the room on screen and close its tab (the last one quits)',
		parse: noArguments({kind: 'close'}, '/close'),
	},
	{
		name: 'switch',
		aliases: ['tab', 'window'],
		usage: '/switch N',
		help: 'show room tab N (also Alt+N; Ctrl+N/Ctrl+P next/previous)',
		parse(args) {
			const text = args.trim();
			if (!/^\d{1,4}$/.test(text) || Number(text) < 1)
				return usageError(this, text === '' ? undefined : 'N is a tab number from 1');
			return {kind: 'switch', number: Number(text)};
		},
	},
	{
		name: 'reload',
		aliases: [],
		usage: '/reload',
		help: 'read config.toml again: colours, time format, highlight words, ignore list, bell, keys',
		parse: noArguments({kind: 'reload'}, '/reload'),
	},
	{
		name: 'ignore',
		aliases: [],
		usage: '/ignore [NICK]',
		help: "hide NICK's messages on this screen (kept in config.toml), or list who is ignored",
		parse(args) {
			const nick = args.trim();
			if (/\s/u.test(nick)) return usageError(this, 'one nick at a time');
			return nick === '' ? {kind: 'ignore'} : {kind: 'ignore', nick};
		},
	},
	{
		name: 'unignore',
		aliases: [],
		usage: '/unignore NICK',
		help: "show NICK's messages again",
		parse(args) {
			const nick = args.trim();
			if (nick === '' || /\s/u.test(nick)) return usageError(this);
			return {kind: 'unignore', nick};
		},
	},
	{
		name: 'away',
		aliases: [],
		usage: '/away [MESSAGE]',
		help: 'away in every room, direct messages answered once; alone: back',
		parse: (args) => ({kind: 'away', text: args.trim()}),
	},
	{
		name: 'quit',
		aliases: ['exit'],
		usage: '/quit',
		help: 'leave every room and exit',
		parse: () => ({kind: 'quit'}),
	},
];

export function findCommand(name: string): CommandSpec | undefined {
	const wanted = name.toLowerCase();
	return COMMANDS.find((spec) => spec.name === wanted || spec.aliases.includes(wanted));
}

export function parseInput(line: string): Command {
	const parsed = parseChatLine(line);
	if (parsed.kind !== 'command') return parsed;
	const spec = findCommand(parsed.name);
	if (spec === undefined) return {kind: 'invalid', message: `unknown command /${parsed.name} (see /help)`};
	return spec.parse(parsed.args);
}

/** The text /help prints: one line per command, or the details of one. */
export function helpLines(topic?: string): string[] {
	if (topic !== undefined) {
		const spec = findCommand(topic);
		if (spec === undefined) return [`unknown command /${topic}`];
		const aliases =
			spec.aliases.length === 0 ? '' : ` (also ${spec.aliases.map((alias) => `/${alias}`).join(', ')})`;
		return [`${spec.usage} — ${spec.help}${aliases}`];
	}
	// The room and file commands first, in their own columns, so the general ones and the keys end the help on screen.
	const general = COMMANDS.filter((spec) => !ROOM_COMMANDS.includes(spec) && !FILE_COMMANDS.includes(spec));
	return [
		'rooms on a server (protocol version 2; UDP rooms have no accounts, so no moderation):',
		...commandColumns(ROOM_COMMANDS),
		'files (TCP rooms):',
		...commandColumns(FILE_COMMANDS),
		'commands:',
		...commandColumns(general),
		`  //TEXT${' '.repeat(Math.max(0, columnWidth(general) - 6))}  send TEXT starting with "/"`,
		'keys: Tab complete a nick or /command · Ctrl+R search the log (Ctrl+R/Ctrl+S older/newer, Esc back)',
		'      Alt+1…9 room N · Ctrl+N/Ctrl+P next/previous room · PgUp/PgDn scroll · Ctrl+T members · Ctrl+C quit',
	];
}

const columnWidth = (specs: readonly CommandSpec[]): number =>
	Math.max(...specs.map((spec) => spec.usage.length));

function commandColumns(specs: readonly CommandSpec[]): string[] {
	const width = columnWidth(specs);
	return specs.map((spec) => `  ${spec.usage.padEnd(width)}  ${spec.help}`);
}
