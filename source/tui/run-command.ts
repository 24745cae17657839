// Carries out a parsed command against the room. Kept apart from React so the
// routing is plain code; nothing here throws: failures become log lines.

import type {RoomClient} from '../client/types.js';
import {helpLines, type Command} from './commands.js';

export interface CommandContext {
	readonly client: RoomClient;
	notice(text: string): void;
	error(text: string): void;
	clearLog(): void;
	/** Leaves the room and exits the UI. */
	quit(): void;
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export function runCommand(command: Command, context: CommandContext): void {
	const {client} = context;
	try {
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
			case 'invalid':
				context.error(command.message);
				return;
		}
	} catch (error) {
		context.error(describe(error));
	}
}
