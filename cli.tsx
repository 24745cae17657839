#!/usr/bin/env node
// Parley's command line: picks the subcommand and hands over. Each command's
// flags and help live with it under source/cli/.
import process from 'node:process';
import meow from 'meow';
import {runChatCommand} from './source/cli/chat-command.js';
import {runServeCommand} from './source/cli/serve-command.js';

const mainHelp = `
	Parley — a terminal chat room

	Usage
	  $ parley                         open the local room (starts an embedded server if none is running)
	  $ parley udp://HOST:PORT         join a UDP broadcast room
	  $ parley serve                   run the room servers in the foreground

	Options
	  --nick NAME        your nick in UDP rooms (asked for when missing)
	  --scrollback N     lines of history kept per room (default 10000)
	  --help             this help; \`parley serve --help\` for the server's options
	  --version          print the version

	Keys in the chat
	  Enter send · ↑/↓ input history · ←/→ Home End move · Ctrl+W delete word · Ctrl+U delete line
	  PgUp/PgDn scroll · Ctrl+T member list · Ctrl+C quit

	Commands in the chat
	  /help /nick NAME /msg NICK TEXT /me TEXT /who /clear /quit

	Examples
	  $ parley serve --udp-port 7667
	  $ parley udp://127.0.0.1:7667 --nick bob
`;

const subcommands: Record<string, (argv: string[]) => Promise<number>> = {
	serve: runServeCommand,
};

async function main(): Promise<number> {
	const [first, ...rest] = process.argv.slice(2);
	const sub = first === undefined ? undefined : subcommands[first];
	if (sub) return sub(rest);
	const cli = meow(mainHelp, {
		importMeta: import.meta,
		description: false,
		flags: {
			nick: {type: 'string'},
			scrollback: {type: 'number', default: 10_000},
		},
	});
	if (cli.input.length > 1) {
		process.stderr.write(`parley: expected at most one room address, got: ${cli.input.join(' ')}\n`);
		return 2;
	}
	return runChatCommand({
		...(cli.input[0] ? {url: cli.input[0]} : {}),
		...(cli.flags.nick ? {nick: cli.flags.nick} : {}),
		scrollback: cli.flags.scrollback,
	});
}

main().then(
	code => {
		process.exitCode = code;
	},
	(error: unknown) => {
		process.stderr.write(`parley: ${(error as Error).message ?? String(error)}\n`);
		process.exitCode = 1;
	},
);
