// `parley serve`: the room servers in the foreground until SIGINT/SIGTERM.
import meow from 'meow';
import {runServers} from '../../server/run-servers.js';
import {DEFAULT_TCP_PORT, DEFAULT_UDP_PORT} from '../client/room-url.js';
import {logLine} from './log-line.js';
import {dataDir} from './paths.js';

const help = `
	Usage
	  $ parley serve [options]

	Runs Parley's two room servers in the foreground — a UDP broadcast room and a
	TLS-authenticated TCP room — and logs one line per notable event. Stops
	cleanly (telling every member) on Ctrl+C, SIGINT or SIGTERM.

	Options
	  --host ADDRESS       address to listen on (default 127.0.0.1; 0.0.0.0 or :: for all)
	  --udp-port N         UDP broadcast room port (default ${DEFAULT_UDP_PORT}; 0 picks a free one)
	  --tcp-port N         TCP authenticated room port (default ${DEFAULT_TCP_PORT}; 0 picks a free one)
	  --data-dir DIR       accounts, messages, TLS certificate and secrets
	                       (default ${dataDir()})
	  --db URL             keep accounts and messages in MySQL/MariaDB instead of the
	                       embedded store: mysql://USER:PASS@HOST:PORT/DB
	  --tls-cert FILE      PEM certificate to use instead of the self-signed one
	  --tls-key FILE       its PEM private key
	  --insecure-plaintext run the TCP room without TLS (passwords stay protected by
	                       SCRAM, but chat is readable on the network; prints a warning)
	  --allow-register     let clients create accounts (Ctrl+R in the login form)
	  --room NAME          the rooms' name (default lobby)
	  --max-members N      members one room admits (default 256)
	  --max-members-per-address N
	                       UDP members one IP address may hold (default 8)
	  --reassembly-bytes N bytes of unfinished UDP fragment sets held in all (default 4 MiB)
	  --reassembly-bytes-per-address N
	                       … and for one IP address (default 512 KiB)
	  --replay-per-minute N
	                       messages a rejoining UDP address, or a TCP account, may
	                       have resent per minute (default 512)
	  --hello-per-minute N UDP joins one IP address may make per minute (default 60)
	  --db-timeout-ms N    a database query unanswered this long counts as an outage
	                       (default 3000); messages stay acknowledged meanwhile: they
	                       are on disk in the data dir's journal first

	Accounts
	  $ parley user add NAME       (see parley user --help)

	Examples
	  $ parley serve
	  $ parley serve --host 0.0.0.0 --db mysql://parley:secret@127.0.0.1:3306/parley
`;

export async function runServeCommand(argv: string[]): Promise<number> {
	const cli = meow(help, {
		importMeta: import.meta,
		description: false,
		argv,
		flags: {
			host: {type: 'string', default: '127.0.0.1'},
			udpPort: {type: 'number', default: DEFAULT_UDP_PORT},
			tcpPort: {type: 'number', default: DEFAULT_TCP_PORT},
			dataDir: {type: 'string'},
			db: {type: 'string'},
			tlsCert: {type: 'string'},
			tlsKey: {type: 'string'},
			insecurePlaintext: {type: 'boolean', default: false},
			allowRegister: {type: 'boolean', default: false},
			room: {type: 'string', default: 'lobby'},
			maxMembers: {type: 'number', default: 256},
			maxMembersPerAddress: {type: 'number', default: 8},
			reassemblyBytes: {type: 'number', default: 4 * 1024 * 1024},
			reassemblyBytesPerAddress: {type: 'number', default: 512 * 1024},
			replayPerMinute: {type: 'number', default: 512},
			helloPerMinute: {type: 'number', default: 60},
			dbTimeoutMs: {type: 'number', default: 3000},
		},
	});
	if (cli.input.length > 0) {
		process.stderr.write(`parley serve: unexpected argument ${cli.input[0]} (see parley serve --help)\n`);
		return 2;
	}
	const {flags} = cli;
	const servers = await runServers({
		host: flags.host,
		udpPort: flags.udpPort,
		tcpPort: flags.tcpPort,
		dataDir: flags.dataDir ?? dataDir(),
		...(flags.db ? {db: flags.db} : {}),
		...(flags.tlsCert ? {tlsCert: flags.tlsCert} : {}),
		...(flags.tlsKey ? {tlsKey: flags.tlsKey} : {}),
		insecurePlaintext: flags.insecurePlaintext,
		allowRegister: flags.allowRegister,
		roomName: flags.room,
		maxMembers: flags.maxMembers,
		maxMembersPerAddress: flags.maxMembersPerAddress,
		reassemblyBytes: flags.reassemblyBytes,
		reassemblyBytesPerAddress: flags.reassemblyBytesPerAddress,
		replayPerMinute: flags.replayPerMinute,
		helloPerMinute: flags.helloPerMinute,
		dbTimeoutMs: flags.dbTimeoutMs,
		log: logLine,
	});
	await new Promise<void>((resolve) => {
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
