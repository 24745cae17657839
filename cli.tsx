#!/usr/bin/env node
// Parley's command line: picks the subcommand and hands over. Each command's
// flags and help live with it under source/cli/.
import './source/cli/production-mode.js';
import path from 'node:path';
import process from 'node:process';
import meow from 'meow';
import {runChatCommand} from './source/cli/chat-command.js';
import {runRoomCommand} from './source/cli/room-command.js';
import {runRoomsCommand} from './source/cli/rooms-command.js';
import {runGetFileCommand, runSendFileCommand} from './source/cli/file-commands.js';
import {runSendCommand} from './source/cli/send-command.js';
import {runServeCommand} from './source/cli/serve-command.js';
import {runTailCommand} from './source/cli/tail-command.js';
import {runTokenCommand} from './source/cli/token-command.js';
import {runUserCommand} from './source/cli/user-command.js';

const mainHelp = `
	Parley — a terminal chat room

	Usage
	  $ parley                         open the local rooms, UDP and TCP, a tab each
	                                   (starts the local server in the background if none runs;
	                                   it keeps running after you quit: parley serve --stop)
	  $ parley udp://HOST:PORT         join a UDP broadcast room
	  $ parley tcp://HOST:PORT         log in to a TLS-authenticated TCP room
	  $ parley NAME                    open a room named in rooms.json
	  $ parley serve                   run the room servers in the foreground
	  $ parley serve --status|--stop   report on / stop the running server
	  $ parley user add|passwd|set|remove|list   manage the TCP server's accounts (--admin)
	  $ parley room list|create|set|remove   manage the TCP server's rooms, owners and ops
	  $ parley token create|list|revoke USER  access tokens for bots (PARLEY_TOKEN)
	  $ parley send ROOM < lines       send each line of standard input, then exit (scripts)
	  $ parley tail ROOM [--json]      print the room's messages as they arrive (scripts)
	  $ parley send-file ROOM PATH     share a file with a TCP room; prints its id last
	  $ parley get-file ROOM ID [DEST] download a shared file (SHA-256 checked)
	  $ parley rooms                   list the named rooms of ~/.config/parley/rooms.json

	Options
	  --nick NAME        your nick in UDP rooms (asked for when missing; the last one
	                     used in each room is remembered for the next start)
	  --user NAME        your account in TCP rooms (the login form asks for the password;
	                     PARLEY_PASSWORD in the environment logs in without asking)
	  --accept-new       trust a TCP room's certificate the first time without asking
	                     (it is pinned in ~/.config/parley/known_hosts either way)
	  --insecure-plaintext  connect to a TCP room that runs without TLS (not recommended)
	  --scrollback N     lines of history kept per room (default 10000)
	  --bell             ring the terminal bell when someone names you or sends you a
	                     direct message (in any open room)
	  --log-dir DIR      append every open room's messages to DIR/<room>.log
	                     (rooms opened later with /connect too; files are private, 0600)
	  --no-restore       without a room: open only the local rooms, not also those
	                     open at the last quit (kept in ~/.local/state/parley/session.json)
	  Each option has a key in ~/.config/parley/config.toml (nick, user, accept_new,
	  insecure_plaintext, scrollback, bell, log_dir); an option given here wins.
	  --help             this help; \`parley serve --help\` for the server's options
	  --version          print the version

	Keys in the chat
	  Enter send · ↑/↓ input history · ←/→ Home End move · Ctrl+W delete word · Ctrl+U delete line
	  Tab complete a nick or /command (Tab again: the next match) · Ctrl+R search the log
	  (Ctrl+R / Ctrl+S older / newer match, Enter stay there, Esc go back)
	  PgUp/PgDn scroll · Ctrl+T member list · Ctrl+C quit (leaves every room)
	  Alt+1…9 show room tab N · Ctrl+N / Ctrl+P next / previous room
	  Mouse: the wheel scrolls the log, a click on a tab shows that room
	  A pasted block of lines waits in the input line (↵ marks each break) and Enter
	  sends it as one message; more than 5 lines ask first.

	Commands in the chat
	  /help /nick NAME /msg NICK TEXT /me TEXT /who /clear /quit /search TEXT
	  /connect URL|NAME  open another room in a new tab (TCP rooms ask for your login there)
	  /close  leave the room on screen · /switch N  show room tab N
	  /away [MESSAGE]  away in every room (direct messages get MESSAGE once); alone: back

	  Every room stays connected while another is shown; the tab bar counts the
	  messages you have not seen, with @ where someone mentioned you.

	Examples
	  $ parley serve --udp-port 7667
	  $ parley udp://127.0.0.1:7667 --nick bob
	  $ parley user add alice && parley tcp://127.0.0.1:7668 --user alice
`;

const subcommands: Record<string, (argv: string[]) => Promise<number>> = {
	serve: runServeCommand,
	user: runUserCommand,
	room: runRoomCommand,
	token: runTokenCommand,
	send: runSendCommand,
	tail: runTailCommand,
	'send-file': runSendFileCommand,
	'get-file': runGetFileCommand,
	rooms: runRoomsCommand,
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
			// No defaults: a flag left out takes its value from config.toml.
			acceptNew: {type: 'boolean'},
			insecurePlaintext: {type: 'boolean'},
			scrollback: {type: 'number'},
			bell: {type: 'boolean'},
			logDir: {type: 'string'},
			restore: {type: 'boolean', default: true},
		},
	});
	if (cli.input.length > 1) {
		process.stderr.write(`parley: expected at most one room address, got: ${cli.input.join(' ')}\n`);
		return 2;
	}
	const name = cli.flags.user ?? cli.flags.nick;
	// meow reports a boolean flag left out as false: only one given on the command line overrides config.toml.
	const args = process.argv.slice(2);
	const given = (flag: string): boolean =>
		args.some((arg) => arg === `--${flag}` || arg === `--no-${flag}` || arg.startsWith(`--${flag}=`));
	const password = process.env.PARLEY_PASSWORD;
	return runChatCommand({
		...(cli.input[0] ? {url: cli.input[0]} : {}),
		...(name ? {nick: name} : {}),
		...(password ? {password} : {}),
		scrollback: cli.flags.scrollback,
		acceptNew: given('accept-new') ? cli.flags.acceptNew : undefined,
		insecurePlaintext: given('insecure-plaintext') ? cli.flags.insecurePlaintext : undefined,
		bell: given('bell') ? cli.flags.bell : undefined,
		restore: cli.flags.restore,
		...(cli.flags.logDir ? {logDir: path.resolve(cli.flags.logDir)} : {}),
	});
}

main().then(
	(code) => {
		process.exitCode = code;
	},
	(error: unknown) => {
		process.stderr.write(`parley: ${(error as Error).message ?? String(error)}\n`);
		process.exitCode = 1;
	},
);
