// What a typed line means, the same wherever it is typed (the chat screen,
// `parley send`): a message, an action (/me), a direct message (/msg), or a
// command for the program that read it. "//" escapes a message that starts
// with a slash. The chat screen's other commands live in source/tui/commands.ts.

import {nickProblem} from '../protocol/messages.js';

/** A line that goes to the room. */
export type MessageLine =
	| {kind: 'say'; text: string}
	| {kind: 'action'; text: string}
	| {kind: 'direct'; nick: string; text: string};

export type InvalidLine = {kind: 'invalid'; message: string};

export type ChatLine =
	| {kind: 'none'} // blank: nothing to send
	| MessageLine
	/** "/name args" that is not a message: the program decides (the chat screen runs it, send refuses it). */
	| {kind: 'command'; name: string; args: string}
	| InvalidLine;

export interface MessageCommandSpec {
	readonly name: string;
	readonly aliases: readonly string[];
	/** Shown in /help and in usage errors, e.g. "/msg NICK TEXT". */
	readonly usage: string;
	readonly help: string;
	/** `args` is everything after the command name, with the separating space removed. */
	readonly parse: (args: string) => MessageLine | InvalidLine;
}

export const usageError = (spec: {usage: string}, problem?: string): InvalidLine => ({
	kind: 'invalid',
	message: problem === undefined ? `usage: ${spec.usage}` : `${problem} (usage: ${spec.usage})`,
});

export const MSG_COMMAND: MessageCommandSpec = {
	name: 'msg',
	aliases: ['dm', 'query'],
	usage: '/msg NICK TEXT',
	help: 'send a direct message only NICK sees',
	parse(args) {
		const match = /^\s*(\S+)\s+([\s\S]*\S[\s\S]*)$/u.exec(args);
		if (match === null) return usageError(this);
		const nick = match[1]!;
		const problem = nickProblem(nick);
		return problem === undefined ? {kind: 'direct', nick, text: match[2]!} : usageError(this, problem);
	},
};

export const ME_COMMAND: MessageCommandSpec = {
	name: 'me',
	aliases: ['action'],
	usage: '/me TEXT',
	help: 'describe what you are doing, e.g. "/me waves"',
	parse(args) {
		return args.trim() === '' ? usageError(this) : {kind: 'action', text: args};
	},
};

const MESSAGE_COMMANDS: readonly MessageCommandSpec[] = [MSG_COMMAND, ME_COMMAND];

export function parseChatLine(line: string): ChatLine {
	if (line.trim() === '') return {kind: 'none'};
	// "//text" sends "/text": the escape for messages that start with a slash.
	if (line.startsWith('//')) return {kind: 'say', text: line.slice(1)};
	if (!line.startsWith('/')) return {kind: 'say', text: line};
	const match = /^\/(\S*)(?:\s([\s\S]*))?$/u.exec(line);
	const name = match?.[1] ?? '';
	const wanted = name.toLowerCase();
	const args = match?.[2] ?? '';
	if (name === '')
		return {
			kind: 'invalid',
			message: 'type a command after "/" (see /help), or "//" to send a line starting with "/"',
		};
	const spec = MESSAGE_COMMANDS.find(
		(command) => command.name === wanted || command.aliases.includes(wanted),
	);
	return spec === undefined ? {kind: 'command', name, args} : spec.parse(args);
}
