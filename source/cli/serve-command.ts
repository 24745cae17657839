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

	Limits of the TCP room (against abuse; the defaults suit most servers)
	  --max-connections-per-address N  sockets one address (IPv6: one /64) may hold;
	                       more are dropped at once, before TLS (default 16)
	  --max-connections N  sockets in all; when full, the oldest connection not yet
	                       logged in makes room for a newcomer (default 2048)
	  --login-timeout-ms N from connecting to a finished login (default 5000)
	  --join-timeout-ms N  from login to joining the room (default 10000)
	  --query-rate N       ping/who requests a member may send a second (default 2)
	  --login-attempts N   failed logins a minute from one address at one account (default 5)
	  --login-attempts-per-address N  … from one address at any accounts (default 20)
	  --login-attempts-per-account N  failed logins an hour at one account from
	                       anywhere (default 100)
	  --stranger-log-rate N  log lines a second about failed logins and misbehaving
	                       clients before login; the rest are counted (default 20)

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
			maxConnectionsPerAddress: {type: 'number'},
			maxConnections: {type: 'number'},
			loginTimeoutMs: {type: 'number'},
			joinTimeoutMs: {type: 'number'},
			queryRate: {type: 'number'},
			loginAttempts: {type: 'number'},
			loginAttemptsPerAddress: {type: 'number'},
			loginAttemptsPerAccount: {type: 'number'},
			strangerLogRate: {type: 'number'},
		},
	});
	if (cli.input.length > 0) {
		process.stderr.write(`parley serve: unexpected argument ${cli.input[0]} (see parley serve --help)\n`);
		return 2;
	}
	const {flags} = cli;
	const limits = {
		maxConnectionsPerAddress: flags.maxConnectionsPerAddress,
		maxConnections: flags.maxConnections,
		loginTimeoutMs: flags.loginTimeoutMs,
		joinTimeoutMs: flags.joinTimeoutMs,
		queriesPerSecond: flags.queryRate,
		loginAttempts: flags.loginAttempts,
		loginAttemptsPerAddress: flags.loginAttemptsPerAddress,
		loginAttemptsPerAccount: flags.loginAttemptsPerAccount,
		strangerLogPerSecond: flags.strangerLogRate,
	};
	for (const [name, value] of Object.entries(limits)) {
		if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
			process.stderr.write(`parley serve: --${kebab(name)} must be a positive number\n`);
			return 2;
		}
	}
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
		tcpLimits: limits,
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

/** The flag a limit came from, for error messages. */
function kebab(name: string): string {
	const flag: Record<string, string> = {
		queriesPerSecond: 'query-rate',
		strangerLogPerSecond: 'stranger-log-rate',
	};
	return flag[name] ?? name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
