// `parley serve`: the room servers in the foreground until SIGINT/SIGTERM.
import meow from 'meow';
import {runServers} from '../../server/run-servers.js';
import {DEFAULT_UDP_PORT} from '../client/room-url.js';
import {logLine} from './log-line.js';

const help = `
	Usage
	  $ parley serve [options]

	Runs Parley's room servers in the foreground and logs one line per notable
	event. Stops cleanly (telling every member) on Ctrl+C, SIGINT or SIGTERM.

	Options
	  --host ADDRESS       address to listen on (default 127.0.0.1; 0.0.0.0 or :: for all)
	  --udp-port N         UDP broadcast room port (default ${DEFAULT_UDP_PORT}; 0 picks a free one)
	  --room NAME          the room's name (default lobby)
	  --max-members N      members one room admits (default 256)

	Examples
	  $ parley serve --host 0.0.0.0 --udp-port 7667
`;

export async function runServeCommand(argv: string[]): Promise<number> {
	const cli = meow(help, {
		importMeta: import.meta,
		description: false,
		argv,
		flags: {
			host: {type: 'string', default: '127.0.0.1'},
			udpPort: {type: 'number', default: DEFAULT_UDP_PORT},
			room: {type: 'string', default: 'lobby'},
			maxMembers: {type: 'number', default: 256},
		},
	});
	const servers = await runServers({
		host: cli.flags.host,
		udpPort: cli.flags.udpPort,
		roomName: cli.flags.room,
		maxMembers: cli.flags.maxMembers,
		log: logLine,
	});
	await new Promise<void>(resolve => {
		const stop = (signal: string) => {
			logLine(`${signal}: shutting down`);
			resolve();
		};
		process.once('SIGINT', () => stop('SIGINT'));
		process.once('SIGTERM', () => stop('SIGTERM'));
	});
	await servers.close();
	logLine('stopped');
	return 0;
}
