// `parley serve`: the room servers in the foreground until SIGINT/SIGTERM/SIGHUP;
// `--status` and `--stop` report on / stop the one running for the data directory.
import {mkdir} from 'node:fs/promises';
import meow from 'meow';
import {
	DEFAULT_MAX_ROOMS,
	DEFAULT_MAX_ROOMS_PER_USER,
	DEFAULT_MAX_SESSIONS_PER_ACCOUNT,
} from '../../server/hub/room-hub.js';
import {runServers, type RunningServers} from '../../server/run-servers.js';
import {roomNameProblem} from '../protocol/names.js';
import {DEFAULT_TCP_PORT, DEFAULT_UDP_PORT} from '../client/room-url.js';
import {DEFAULT_PASSWORD_POLICY, MAX_PASSWORD_MIN} from '../protocol/password-policy.js';
import {serverLogPath, stopServer} from './local-server.js';
import {logLine} from './log-line.js';
import {dataDir} from './paths.js';
import {
	claimServerRecord,
	completeServerRecord,
	isListening,
	readServerRecord,
	releaseServerRecord,
	SERVE_EXIT,
	ServerRunningError,
	serverRecordPath,
} from './server-record.js';

const help = `
	Usage
	  $ parley serve [options]

	Runs Parley's two room servers in the foreground — a UDP broadcast room and a
	TLS-authenticated TCP room — and logs one line per notable event. Stops
	cleanly (telling every member) on Ctrl+C, SIGINT, SIGTERM or SIGHUP.

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
	  --password-min N     shortest password such an account may have (default ${DEFAULT_PASSWORD_POLICY.minLength});
	                       clients check it, as the server never sees a password
	  --status             say whether a server runs for the data directory, and where
	  --stop               stop the server of the data directory (it tells every member)

	Rooms (any number on each port: clients join #name, /join #name in the TUI)
	  --room NAME          the default room, where clients that name none land
	                       (default lobby); it always exists
	  --room-creation any|admin
	                       who creates a TCP room by joining it: any logged-in user
	                       (default) or server admins only (parley user set --admin);
	                       UDP rooms come into being when joined, vanish when empty
	  --max-rooms N        rooms on each port (default ${DEFAULT_MAX_ROOMS})
	  --max-rooms-per-user N
	                       TCP rooms one account may be in (default ${DEFAULT_MAX_ROOMS_PER_USER})
	  --max-members N      members one room admits (default 256)
	  --max-sessions-per-account N
	                       TCP connections one account may hold at once, e.g. two
	                       machines and a script (default ${DEFAULT_MAX_SESSIONS_PER_ACCOUNT})

	The server writes its pid and ports to serve.pid in the data directory while
	it runs (one server per data directory). \`parley\` without arguments starts
	one in the background when none runs, logging to ${serverLogPath('DATA_DIR')}.

	Exit status
	  0 done (--status: it runs); 1 error; 2 usage; 3 --status: none runs;
	  4 a port is in use; 5 another server has the data directory

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

	Limits of the UDP room and the store
	  --max-members-per-address N
	                       UDP members one IP address may hold (default 8)
	  --reassembly-bytes N bytes of unfinished UDP fragment sets held in all (default 4 MiB)
	  --reassembly-bytes-per-address N
	                       … and for one IP address (default 512 KiB)
	  --replay-per-minute N
	                       messages a rejoining UDP address, or a TCP account, may
	                       have resent per minute (default 512)
	  --hello-per-minute N UDP joins one IP address may make per minute (default 60)
	  --resend-rate N     messages a second a UDP member may have resent to repair its
	                       losses; past it requests go unanswered, never punished (default 1000)
	  --resend-burst N     … and how many it may save up (default 2000)
	  --udp-receive-buffer-bytes N
	                       the UDP socket's receive buffer, so a burst is not dropped
	                       before it is read (default 4 MiB; the kernel may cap it)
	  --db-timeout-ms N    a database query unanswered this long counts as an outage
	                       (default 3000); messages stay acknowledged meanwhile: they
	                       are on disk in the data dir's journal first

	Accounts
	  $ parley user add NAME       (see parley user --help)

	Examples
	  $ parley serve
	  $ parley serve --host 0.0.0.0 --db mysql://parley:secret@127.0.0.1:3306/parley
	  $ parley serve --status && parley serve --stop
`;

const SERVE_FLAGS = {
	host: {type: 'string', default: '127.0.0.1'},
	udpPort: {type: 'number', default: DEFAULT_UDP_PORT},
	tcpPort: {type: 'number', default: DEFAULT_TCP_PORT},
	dataDir: {type: 'string'},
	db: {type: 'string'},
	tlsCert: {type: 'string'},
	tlsKey: {type: 'string'},
	insecurePlaintext: {type: 'boolean', default: false},
	allowRegister: {type: 'boolean', default: false},
	passwordMin: {type: 'number', default: DEFAULT_PASSWORD_POLICY.minLength},
	room: {type: 'string', default: 'lobby'},
	roomCreation: {type: 'string', default: 'any'},
	maxRooms: {type: 'number', default: DEFAULT_MAX_ROOMS},
	maxRoomsPerUser: {type: 'number', default: DEFAULT_MAX_ROOMS_PER_USER},
	maxMembers: {type: 'number', default: 256},
	maxSessionsPerAccount: {type: 'number', default: DEFAULT_MAX_SESSIONS_PER_ACCOUNT},
	status: {type: 'boolean', default: false},
	stop: {type: 'boolean', default: false},
	maxConnectionsPerAddress: {type: 'number'},
	maxConnections: {type: 'number'},
	loginTimeoutMs: {type: 'number'},
	joinTimeoutMs: {type: 'number'},
	queryRate: {type: 'number'},
	loginAttempts: {type: 'number'},
	loginAttemptsPerAddress: {type: 'number'},
	loginAttemptsPerAccount: {type: 'number'},
	strangerLogRate: {type: 'number'},
	maxMembersPerAddress: {type: 'number', default: 8},
	reassemblyBytes: {type: 'number', default: 4 * 1024 * 1024},
	reassemblyBytesPerAddress: {type: 'number', default: 512 * 1024},
	replayPerMinute: {type: 'number', default: 512},
	helloPerMinute: {type: 'number', default: 60},
	dbTimeoutMs: {type: 'number', default: 3000},
	resendRate: {type: 'number', default: 1000},
	resendBurst: {type: 'number', default: 2000},
	udpReceiveBufferBytes: {type: 'number', default: 4 * 1024 * 1024},
} as const;
const KNOWN = new Set<string>(Object.keys(SERVE_FLAGS));

export async function runServeCommand(argv: string[]): Promise<number> {
	const cli = meow(help, {
		importMeta: import.meta,
		description: false,
		argv,
		flags: SERVE_FLAGS,
	});
	if (cli.input.length > 0) {
		process.stderr.write(`parley serve: unexpected argument ${cli.input[0]} (see parley serve --help)\n`);
		return 2;
	}
	const unknown = Object.keys(cli.flags).filter((name) => !KNOWN.has(name));
	if (unknown.length > 0) {
		process.stderr.write(
			`parley serve: unknown option ${unknown.map((name) => `--${kebab(name)}`).join(', ')} (see parley serve --help)\n`,
		);
		return 2;
	}
	const {flags} = cli;
	const roomProblem = roomNameProblem(flags.room);
	if (roomProblem) {
		process.stderr.write(`parley serve: --room: ${roomProblem}\n`);
		return 2;
	}
	if (flags.roomCreation !== 'any' && flags.roomCreation !== 'admin') {
		process.stderr.write('parley serve: --room-creation must be any or admin\n');
		return 2;
	}
	const roomLimits = {
		maxRooms: flags.maxRooms,
		maxRoomsPerUser: flags.maxRoomsPerUser,
		maxMembers: flags.maxMembers,
		maxSessionsPerAccount: flags.maxSessionsPerAccount,
	};
	for (const [name, value] of Object.entries(roomLimits)) {
		if (!(Number.isInteger(value) && value > 0)) {
			process.stderr.write(`parley serve: --${kebab(name)} must be a whole number above 0\n`);
			return 2;
		}
	}
	const directory = flags.dataDir ?? dataDir();
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
	const udpAndStoreLimits = {
		maxMembersPerAddress: flags.maxMembersPerAddress,
		reassemblyBytes: flags.reassemblyBytes,
		reassemblyBytesPerAddress: flags.reassemblyBytesPerAddress,
		replayPerMinute: flags.replayPerMinute,
		helloPerMinute: flags.helloPerMinute,
		dbTimeoutMs: flags.dbTimeoutMs,
		resendRate: flags.resendRate,
		resendBurst: flags.resendBurst,
		udpReceiveBufferBytes: flags.udpReceiveBufferBytes,
	};
	for (const [name, value] of Object.entries({...limits, ...udpAndStoreLimits})) {
		if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
			process.stderr.write(`parley serve: --${kebab(name)} must be a positive number\n`);
			return 2;
		}
	}
	if (flags.status && flags.stop) {
		process.stderr.write('parley serve: --status and --stop do not go together\n');
		return 2;
	}
	if (!Number.isInteger(flags.passwordMin) || flags.passwordMin < 1 || flags.passwordMin > MAX_PASSWORD_MIN) {
		process.stderr.write(`parley serve: --password-min must be a whole number 1–${MAX_PASSWORD_MIN}\n`);
		return 2;
	}
	if (flags.status) return reportStatus(directory);
	if (flags.stop) return stop(directory);
	await mkdir(directory, {recursive: true, mode: 0o700});
	let claim: Awaited<ReturnType<typeof claimServerRecord>>;
	try {
		claim = await claimServerRecord(directory);
	} catch (error) {
		if (!(error instanceof ServerRunningError)) throw error;
		process.stderr.write(`parley serve: ${error.message}\n`);
		return SERVE_EXIT.alreadyRunning;
	}
	let servers: RunningServers;
	try {
		servers = await runServers({
			host: flags.host,
			udpPort: flags.udpPort,
			tcpPort: flags.tcpPort,
			dataDir: directory,
			...(flags.db ? {db: flags.db} : {}),
			...(flags.tlsCert ? {tlsCert: flags.tlsCert} : {}),
			...(flags.tlsKey ? {tlsKey: flags.tlsKey} : {}),
			insecurePlaintext: flags.insecurePlaintext,
			allowRegister: flags.allowRegister,
			passwordMin: flags.passwordMin,
			roomName: flags.room,
			roomCreation: flags.roomCreation,
			...roomLimits,
			tcpLimits: limits,
			...udpAndStoreLimits,
			log: logLine,
		});
	} catch (error) {
		await releaseServerRecord(directory);
		if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
		process.stderr.write(`parley serve: ${(error as Error).message}: another server listens there\n`);
		return SERVE_EXIT.addressInUse;
	}
	await completeServerRecord(directory, {
		...claim,
		host: flags.host,
		udpPort: servers.udp.port,
		tcpPort: servers.tcp.port,
		...(servers.fingerprint === undefined ? {} : {fingerprint: servers.fingerprint}),
		startedAt: new Date().toISOString(),
	});
	await new Promise<void>((resolve) => {
		const stop = (signal: string) => {
			logLine(`${signal}: shutting down`);
			resolve();
		};
		process.once('SIGINT', () => stop('SIGINT'));
		process.once('SIGTERM', () => stop('SIGTERM'));
		// The terminal of a foreground server closed: stop as cleanly (and drop the pid file).
		process.once('SIGHUP', () => stop('SIGHUP'));
	});
	await servers.close();
	await releaseServerRecord(directory);
	logLine('stopped');
	return 0;
}

async function reportStatus(directory: string): Promise<number> {
	const record = await readServerRecord(directory);
	if (record === undefined) {
		process.stdout.write(`no parley serve runs for ${directory}\n`);
		return SERVE_EXIT.notRunning;
	}
	const where = isListening(record)
		? `UDP ${record.host}:${record.udpPort}, TCP ${record.tcpPort}${record.startedAt ? `, since ${record.startedAt}` : ''}`
		: 'starting';
	process.stdout.write(`parley serve runs for ${directory}: pid ${record.pid}, ${where}\n`);
	return 0;
}

async function stop(directory: string): Promise<number> {
	const record = await readServerRecord(directory);
	if (record === undefined) {
		process.stdout.write(`no parley serve runs for ${directory}\n`);
		return 0;
	}
	if (!(await stopServer(record))) {
		process.stderr.write(
			`parley serve: pid ${record.pid} is still running 10 s after SIGTERM (its pid file: ${serverRecordPath(directory)})\n`,
		);
		return 1;
	}
	process.stdout.write(`stopped parley serve (pid ${record.pid})\n`);
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
