// `parley rooms`: lists the named rooms of rooms.json, and its help explains
// the file, since that is where people look for it.

import meow from 'meow';
import {loadRoomConfig, RoomConfigError, roomConfigPath} from '../client/room-config.js';
import {scriptIo, type ScriptIo} from './room-script.js';
import {SELF_REPORTING} from './subcommand-options.js';

const helpText = (file: string): string => `
	Usage
	  $ parley rooms

	Lists the named rooms in ${file}
	($XDG_CONFIG_HOME/parley/rooms.json). A name works wherever a room address
	does: \`parley NAME\`, \`/join NAME\` in the chat, \`parley send NAME\`, \`parley tail NAME\`.

	The file:
	  {
	    "rooms": {
	      "lobby": {"url": "udp://127.0.0.1:7667", "nick": "alice"},
	      "work":  {"url": "tcp://chat.example:7668", "user": "alice"}
	    }
	  }

	"nick" is the nick for a UDP room, "user" the account for a TCP room; both
	are optional (flags override them). Passwords are never kept in this file:
	they come from the login form, PARLEY_PASSWORD or --password-stdin.
	Names are letters, digits, _ . - and cannot be a subcommand (serve, user, …).

	Exit status
	  0 listed (possibly nothing); 2 the file is broken (the message names the line or field)
`;

export async function runRoomsCommand(argv: string[], streams: Partial<ScriptIo> = {}): Promise<number> {
	const io = scriptIo(streams);
	const file = roomConfigPath(io.env);
	const cli = meow(helpText(file), {
		importMeta: import.meta,
		argv,
		...SELF_REPORTING,
		flags: {help: {type: 'boolean', shortFlag: 'h', default: false}},
	});
	if (cli.flags.help) {
		io.stdout.write(cli.help);
		return 0;
	}
	const unknown = Object.keys(cli.flags).filter((key) => key !== 'help' && key !== 'h');
	if (cli.input.length > 0 || unknown.length > 0) {
		io.stderr.write(`parley rooms: takes no arguments (see parley rooms --help)\n`);
		return 2;
	}
	try {
		const config = await loadRoomConfig({env: io.env});
		if (config.rooms.length === 0) {
			io.stderr.write(`parley rooms: no rooms configured in ${config.path} (see parley rooms --help)\n`);
			return 0;
		}
		const width = (pick: (index: number) => string): number =>
			Math.max(...config.rooms.map((_, index) => pick(index).length));
		const logins = config.rooms.map((room) =>
			[room.nick === undefined ? '' : `nick ${room.nick}`, room.user === undefined ? '' : `user ${room.user}`]
				.filter(Boolean)
				.join(', '),
		);
		const nameWidth = width((index) => config.rooms[index]!.name);
		const urlWidth = width((index) => config.rooms[index]!.url);
		for (const [index, room] of config.rooms.entries()) {
			const line = `${room.name.padEnd(nameWidth)}  ${room.url.padEnd(urlWidth)}  ${logins[index]}`;
			io.stdout.write(`${line.trimEnd()}\n`);
		}
		return 0;
	} catch (error) {
		if (error instanceof RoomConfigError) {
			io.stderr.write(`parley rooms: ${error.message}\n`);
			return 2;
		}
		throw error;
	}
}
