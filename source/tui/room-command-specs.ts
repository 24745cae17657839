// The commands about rooms on a server and their moderation (protocol version
// 2): /join #name, /part, /list, /topic, /op … /invite. They are rows of the
// one command table in commands.ts; this file only keeps that table short.

import {usageError} from '../client/chat-line.js';
import type {RoomRequest} from '../client/types.js';
import {nickProblem} from '../protocol/messages.js';
import {roomLabel, roomNameProblem, usernameProblem} from '../protocol/names.js';
import type {Command, CommandSpec} from './commands.js';

const UNITS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000};

/** "10m", "2h", "7d" (also s and w) → milliseconds; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
	const match = /^(\d{1,6})([smhdw])$/i.exec(text);
	if (match === null) return undefined;
	const ms = Number(match[1]) * UNITS[match[2]!.toLowerCase()]!;
	return ms > 0 ? ms : undefined;
}

/** The first word and the rest (trimmed), e.g. "bob spamming again" → ["bob", "spamming again"]. */
function firstWord(args: string): [string, string] {
	const text = args.trim();
	const space = text.search(/\s/u);
	return space === -1 ? [text, ''] : [text.slice(0, space), text.slice(space).trim()];
}

const request = (name: string, body: RoomRequest): Command => ({kind: 'request', name, request: body});

/** A command taking one nick and nothing else. */
function nickCommand(
	name: string,
	help: string,
	make: (nick: string) => RoomRequest,
	aliases: readonly string[] = [],
): CommandSpec {
	return {
		name,
		aliases,
		usage: `/${name} NICK`,
		help,
		parse(args) {
			const [nick, rest] = firstWord(args);
			if (nick === '' || rest !== '') return usageError(this);
			const problem = nickProblem(nick);
			return problem === undefined ? request(name, make(nick)) : usageError(this, problem);
		},
	};
}

function accountProblem(account: string): string | undefined {
	return usernameProblem(account);
}

export const ROOM_COMMANDS: readonly CommandSpec[] = [
	{
		name: 'join',
		aliases: [],
		usage: '/join #ROOM|URL|NAME',
		help: 'open #ROOM on this server in a new tab (same login); a URL or rooms.json name like /connect',
		parse(args) {
			return parseRoomTarget(this, args);
		},
	},
	{
		name: 'part',
		aliases: [],
		usage: '/part [#ROOM] [REASON]',
		help: 'leave the room for good (your other sessions too) and close its tab; like /close where rooms cannot be parted',
		parse(args) {
			const [first, rest] = firstWord(args);
			if (!first.startsWith('#')) {
				const reason = args.trim();
				return reason === '' ? {kind: 'part'} : {kind: 'part', reason};
			}
			const problem = roomNameProblem(first);
			if (problem !== undefined) return usageError(this, problem);
			return rest === ''
				? {kind: 'part', room: roomLabel(first)}
				: {kind: 'part', room: roomLabel(first), reason: rest};
		},
	},
	{
		name: 'list',
		aliases: ['rooms'],
		usage: '/list',
		help: "pick one of the server's rooms (↑/↓, Enter opens it, Esc closes)",
		parse: (args) =>
			args.trim() === '' ? {kind: 'list'} : usageError({usage: '/list'}, 'this command takes no arguments'),
	},
	{
		name: 'topic',
		aliases: [],
		usage: '/topic [TEXT]',
		help: "show the room's topic, or set it (ops)",
		parse: (args) => {
			const text = args.trim();
			return text === '' ? {kind: 'topic'} : {kind: 'topic', text};
		},
	},
	nickCommand('op', 'make NICK an op of this room (owners)', (nick) => ({t: 'role', nick, role: 'op'})),
	nickCommand('deop', "take NICK's op back (owners)", (nick) => ({t: 'role', nick, role: 'member'})),
	nickCommand('voice', 'let NICK speak in a moderated (+m) room (ops)', (nick) => ({
		t: 'role',
		nick,
		role: 'voice',
	})),
	nickCommand('devoice', "take NICK's voice back (ops)", (nick) => ({t: 'role', nick, role: 'member'})),
	{
		name: 'kick',
		aliases: [],
		usage: '/kick NICK [REASON]',
		help: 'remove NICK from the room; they may come back (ops)',
		parse(args) {
			const [nick, reason] = firstWord(args);
			if (nick === '') return usageError(this);
			const problem = nickProblem(nick);
			if (problem !== undefined) return usageError(this, problem);
			return request('kick', reason === '' ? {t: 'kick', nick} : {t: 'kick', nick, reason});
		},
	},
	{
		name: 'ban',
		aliases: [],
		usage: '/ban ACCOUNT [DURATION] [REASON]',
		help: 'keep ACCOUNT out of the room, any nick, for good or e.g. 10m, 2h, 7d (ops)',
		parse(args) {
			const [account, rest] = firstWord(args);
			if (account === '') return usageError(this);
			const problem = accountProblem(account);
			if (problem !== undefined) return usageError(this, problem);
			const [maybeDuration, afterDuration] = firstWord(rest);
			const duration = parseDuration(maybeDuration);
			const reason = duration === undefined ? rest : afterDuration;
			return request('ban', {
				t: 'ban',
				account,
				...(duration === undefined ? {} : {duration_ms: duration}),
				...(reason === '' ? {} : {reason}),
			});
		},
	},
	{
		name: 'unban',
		aliases: [],
		usage: '/unban ACCOUNT',
		help: 'let ACCOUNT into the room again (ops)',
		parse(args) {
			const [account, rest] = firstWord(args);
			if (account === '' || rest !== '') return usageError(this);
			const problem = accountProblem(account);
			return problem === undefined ? request('unban', {t: 'unban', account}) : usageError(this, problem);
		},
	},
	{
		name: 'bans',
		aliases: [],
		usage: '/bans',
		help: "list the room's bans (ops)",
		parse: (args) =>
			args.trim() === ''
				? request('bans', {t: 'bans'})
				: usageError({usage: '/bans'}, 'this command takes no arguments'),
	},
	{
		name: 'mute',
		aliases: [],
		usage: '/mute NICK [DURATION]',
		help: 'stop NICK speaking here, for good or e.g. 10m, 2h (ops)',
		parse(args) {
			const [nick, rest] = firstWord(args);
			if (nick === '') return usageError(this);
			const problem = nickProblem(nick);
			if (problem !== undefined) return usageError(this, problem);
			if (rest === '') return request('mute', {t: 'mute', nick});
			const duration = parseDuration(rest);
			return duration === undefined
				? usageError(this, 'a duration is a number and s, m, h, d or w, e.g. 10m')
				: request('mute', {t: 'mute', nick, duration_ms: duration});
		},
	},
	nickCommand('unmute', 'let NICK speak again (ops)', (nick) => ({t: 'unmute', nick})),
	{
		name: 'mode',
		aliases: [],
		usage: '/mode +i|-i|+m|-m',
		help: 'invite-only (+i) or moderated: only ops and voiced speak (+m); - undoes (ops)',
		parse(args) {
			const mode = args.trim();
			if (mode === '+i' || mode === '-i' || mode === '+m' || mode === '-m')
				return request('mode', {t: 'mode', mode});
			return usageError(this);
		},
	},
	nickCommand('invite', 'let NICK into this invite-only room and tell them (ops)', (nick) => ({
		t: 'invite',
		nick,
	})),
];

/** `#ROOM` (a room on this tab's server) or a URL or rooms.json name: what /join and /connect open. */
export function parseRoomTarget(spec: {usage: string}, args: string): Command {
	const target = args.trim();
	if (target === '') return usageError(spec);
	if (/\s/u.test(target)) return usageError(spec, 'one room at a time');
	if (!target.startsWith('#')) return {kind: 'connect', target};
	const problem = roomNameProblem(target);
	return problem === undefined ? {kind: 'join', room: roomLabel(target)} : usageError(spec, problem);
}
