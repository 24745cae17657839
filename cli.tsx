#!/usr/bin/env node
// Parley's command line: picks the subcommand and hands over. Each command's
// flags and help live with it under source/cli/.
import process from 'node:process';
import meow from 'meow';
import {runChatCommand} from './source/cli/chat-command.js';
import {runServeCommand} from './source/cli/serve-command.js';
import {runUserCommand} from './source/cli/user-command.js';

const mainHelp = `
	Parley — a terminal chat room

	Usage
	  $ parley                         open the local room (starts an embedded server if none is running)
	  $ parley udp://HOST:PORT         join a UDP broadcast room
	  $ parley tcp://HOST:PORT         log in to a TLS-authenticated TCP room
	  $ parley serve                   run the room servers in the foreground
	  $ parley user add|passwd|remove|list   manage the TCP room's accounts

	Options
	  --nick NAME        your nick in UDP rooms (asked for when missing)
	  --user NAME        your account in TCP rooms (the login form asks for the password;
	                     PARLEY_PASSWORD in the environment logs in without asking)
	  --accept-new       trust a TCP room's certificate the first time without asking
	                     (it is pinned in ~/.config/parley/known_hosts either way)
	  --insecure-plaintext  connect to a TCP room that runs without TLS (not recommended)
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
	  $ parley user add alice && parley tcp://127.0.0.1:7668 --user alice
`;

const subcommands: Record<string, (argv: string[]) => Promise<number>> = {
	serve: runServeCommand,
	user: runUserCommand,
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
			user: {type: 'string'},
			acceptNew: {type: 'boolean', default: false},
			insecurePlaintext: {type: 'boolean', default: false},
			scrollback: {type: 'number', default: 10_000},
		},
	});
	if (cli.input.length > 1) {
		process.stderr.write(`parley: expected at most one room address, got: ${cli.input.join(' ')}\n`);
		return 2;
	}
	const name = cli.flags.user ?? cli.flags.nick;
	const password = process.env.PARLEY_PASSWORD;
	return runChatCommand({
		...(cli.input[0] ? {url: cli.input[0]} : {}),
		...(name ? {nick: name} : {}),
		...(password ? {password} : {}),
		scrollback: cli.flags.scrollback,
		acceptNew: cli.flags.acceptNew,
		insecurePlaintext: cli.flags.insecurePlaintext,
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
