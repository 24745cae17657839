// Carries out a parsed command against the room on screen (or, for /connect,
// /close and /switch, the set of open rooms). Kept apart from React so the
// routing is plain code; nothing here throws: failures become log lines.

import type {RoomClient, RoomRequest} from '../client/types.js';
import {sanitizeText} from '../protocol/messages.js';
import {errorMessage} from '../util/error-message.js';
import {helpLines, type Command} from './commands.js';

export interface CommandContext {
	readonly client: RoomClient;
	notice(text: string): void;
	error(text: string): void;
	clearLog(): void;
	/** Leaves every room and exits the UI. */
	quit(): void;
	/** Opens search mode on this room's log with `query` (may be empty); without it /search says it is unavailable. */
	search?(query: string): void;
	/** Opens a room (address or configured name) in a new tab. */
	connect(target: string): void;
	/** Leaves the room on screen and closes its tab. */
	closeRoom(): void;
	/** Joins the room on screen again after it closed. */
	reconnect(): void;
	/** Shows tab `number` (1-based). */
	switchTo(number: number): void;
	/** /join #name: opens that room on this server; without it /join #name says it is unavailable. */
	joinRoom?(room: string): void;
	/** /part: leaves a room for good (this one, or `room` on this server); without it /part closes like /close. */
	partRoom?(room: string | undefined, reason: string | undefined): void;
	/** /reload, /ignore, /unignore: without them the screen has no settings to change. */
	reload?(): void;
	ignore?(nick: string | undefined): void;
	unignore?(nick: string): void;
	/** Away with this text, or back when it is empty (every room); without it /away says it is unavailable. */
	setAway?(text: string): void;
}

export function runCommand(command: Command, context: CommandContext): void {
	const {client} = context;
	try {
		const message = command.kind === 'say' || command.kind === 'action' || command.kind === 'direct';
		if (message && client.state === 'closed') {
			// Queued, it would wait as "(sending…)" for a connection that is not coming back.
			context.error('not sent: this room is closed; /reconnect to join it again');
			return;
		}
		switch (command.kind) {
			case 'none':
				return;
			case 'say':
				client.say(command.text);
				return;
			case 'action':
				client.say(command.text, {action: true});
				return;
			case 'direct':
				client.direct(command.nick, command.text);
				return;
			case 'nick':
				client.changeNick(command.nick);
				return;
			case 'who':
				client.who();
				return;
			case 'clear':
				context.clearLog();
				return;
			case 'help':
				for (const line of helpLines(command.topic)) context.notice(line);
				return;
			case 'quit':
				context.quit();
				return;
			case 'connect':
				context.connect(command.target);
				return;
			case 'close':
				context.closeRoom();
				return;
			case 'reconnect':
				context.reconnect();
				return;
			case 'switch':
				context.switchTo(command.number);
				return;
			case 'away':
				if (context.setAway === undefined) context.error('/away is not available here');
				else context.setAway(command.text);
				return;
			case 'search':
				if (context.search === undefined) context.error('search is not available here');
				else context.search(command.query);
				return;
			case 'reload':
				if (context.reload === undefined) context.error('this screen has no config file');
				else context.reload();
				return;
			case 'ignore':
				if (context.ignore === undefined) context.error('this screen has no ignore list');
				else context.ignore(command.nick);
				return;
			case 'unignore':
				if (context.unignore === undefined) context.error('this screen has no ignore list');
				else context.unignore(command.nick);
				return;
			case 'join':
				if (context.joinRoom === undefined) context.error('this screen cannot open other rooms');
				else context.joinRoom(command.room);
				return;
			case 'part':
				if (context.partRoom === undefined) context.closeRoom();
				else context.partRoom(command.room, command.reason);
				return;
			case 'list':
				ask(context, 'list', {t: 'list'});
				return;
			case 'topic':
				if (command.text === undefined) context.notice(topicText(client));
				else ask(context, 'topic', {t: 'topic', text: command.text});
				return;
			case 'request':
				ask(context, command.name, command.request);
				return;
			case 'invalid':
				context.error(command.message);
				return;
			case 'file':
				return; // run by the screen (file-actions.ts), which keeps the transfers
		}
	} catch (error) {
		context.error(errorMessage(error));
	}
}

export const UDP_NO_MODERATION = 'UDP rooms have no accounts, so no moderation';

/** Passes a request to the server, or says why this room cannot take it. */
function ask(context: CommandContext, name: string, request: RoomRequest): void {
	const {client} = context;
	if (client.request?.(request) === true) return;
	if (client.state !== 'connected') context.error(`/${name}: not connected to ${client.url}`);
	else if (request.t === 'list')
		context.error('this server has one room only: it cannot list rooms (protocol version 1)');
	else if (client.transport === 'udp') context.error(`/${name}: ${UDP_NO_MODERATION}`);
	else context.error(`/${name}: this server has no moderation (protocol version 1)`);
}

/** What /topic alone says. */
function topicText(client: RoomClient): string {
	const {info} = client;
	if (info === undefined) return 'this room has no topic (the server does not keep topics)';
	const name = sanitizeText(info.name);
	const modes = info.modes === '' ? '' : ` [+${info.modes}]`;
	return info.topic === ''
		? `${name}${modes} has no topic`
		: `topic of ${name}${modes}: ${sanitizeText(info.topic)}`;
}
