// `parley serve`: the room servers in the foreground until SIGINT/SIGTERM/SIGHUP;
// `--status` and `--stop` report on / stop the one running for the data directory.
import {mkdir} from 'node:fs/promises';
import meow from 'meow';
import {runServers, type RunningServers} from '../../server/run-servers.js';
import {createLogger, type LogFormat} from '../../server/ops/logger.js';
import type {LogLevel} from '../../server/log/log.js';
import {ServerMetrics} from '../../server/ops/metrics.js';
import {startMetricsServer, storeHealth, type MetricsServer} from '../../server/ops/metrics-server.js';
import {armDeadline, flushBudget, settlesWithin, shutdownSignal} from '../../server/ops/shutdown.js';
import {watchedServers} from '../../server/ops/watch.js';
import {ConfigError} from '../client/config.js';
import {serverLogPath, stopServer} from './local-server.js';
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
import {defaultServerConfigFile, resolveServeSettings, ServeUsageError} from './server-config.js';
import {flagOf, helpSection, KNOWN_FLAG_NAMES, meowFlags, type ServeSettings} from './serve-options.js';
import {SELF_REPORTING} from './subcommand-options.js';

const help = `
	Usage
	  $ parley serve [options]

	Runs Parley's two room servers in the foreground — a UDP broadcast room and a
	TLS-authenticated TCP room — and logs one line per notable event. Stops
	cleanly (telling every member) on Ctrl+C, SIGINT, SIGTERM or SIGHUP.

${indent(helpSection('options'))}

	The server writes its pid and ports to serve.pid in the data directory while
	it runs (one server per data directory). \`parley\` without arguments starts
	one in the background when none runs, logging to ${serverLogPath('DATA_DIR')}.

	Exit status
	  0 done (--status: it runs); 1 error; 2 usage; 3 --status: none runs;
	  4 a port is in use; 5 another server has the data directory

${indent(helpSection('rooms'))}

${indent(helpSection('tcp'))}

${indent(helpSection('udp'))}

${indent(helpSection('cluster'))}

${indent(helpSection('service'))}

	Config file
	  Every option but --config, --status, --stop and --help is also a key of
	  ${defaultServerConfigFile()} (or the --config FILE):
	  the flag's name in snake case. An option given as a flag wins over the file.
	    rate_limit = 20
	    rate_burst = 40
	    max_conns = 10000
	    room = "dev"

	Accounts
	  $ parley user add NAME       (see parley user --help)

	Examples
	  $ parley serve
	  $ parley serve --host 0.0.0.0 --db mysql://parley:secret@127.0.0.1:3306/parley
	  $ PARLEY_DB_URL=mysql://parley:secret@127.0.0.1:3306/parley parley serve --rate-limit 20
	  $ parley serve --status && parley serve --stop
`;

/** The table's help lines inside this template, which meow dedents. */
function indent(section: string): string {
	return section
		.split('\n')
		.map((line) => `\t${line}`)
		.join('\n');
}

export async function runServeCommand(argv: string[]): Promise<number> {
	let invocation: ReturnType<typeof parseInvocation>;
	try {
		invocation = parseInvocation(argv);
	} catch (error) {
		if (error instanceof ConfigError) {
			process.stderr.write(`parley serve: ${error.message}\n`);
			return 2;
		}
		if (!(error instanceof ServeUsageError)) throw error;
		process.stderr.write(`parley serve: ${error.message} (see parley serve --help)\n`);
		return 2;
	}
	if ('help' in invocation) {
		process.stdout.write(`${invocation.help}\n`);
		return 0;
	}
	const flags = invocation.settings;
	const logLine = createLogger({format: flags.logFormat as LogFormat, level: flags.logLevel as LogLevel});
	const directory = flags.dataDir ?? dataDir();
	const limits = {
		maxConnectionsPerAddress: flags.maxConnsPerAddress,
		maxConnections: flags.maxConns,
		maxSendQueueBytes: flags.maxSendQueueBytes,
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
		udpSendBufferBytes: flags.udpSendBufferBytes,
	};
	if (flags.status && flags.stop) {
		process.stderr.write('parley serve: --status and --stop do not go together\n');
		return 2;
	}
	if (flags.redis !== undefined && !/^(mysql|mariadb):/.test(flags.db ?? '')) {
		process.stderr.write(
			'parley serve: --redis (several nodes) needs the shared MySQL/MariaDB store: give --db mysql://… too\n',
		);
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
	if (invocation.configFile !== undefined) logLine(`settings from ${invocation.configFile}`);
	logLine(
		`rate limit ${flags.rateLimit} messages a second per member, bursts of ${flags.rateBurst}; ` +
			`over it lines wait (at most ${flags.floodQueue}, then a kick for flooding)`,
	);
	const metrics = flags.metricsPort === undefined ? undefined : new ServerMetrics();
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
			maxMembers: flags.maxMembers,
			roomCreation: flags.roomCreation as 'any' | 'admin',
			maxRooms: flags.maxRooms,
			maxRoomsPerUser: flags.maxRoomsPerUser,
			maxSessionsPerAccount: flags.maxSessionsPerAccount,
			maxFileBytes: Math.floor(flags.maxFileSize * 1024 * 1024),
			fileQuotaBytes: Math.floor(flags.fileQuota * 1024 * 1024),
			rateLimit: flags.rateLimit,
			rateBurst: flags.rateBurst,
			floodQueue: flags.floodQueue,
			tcpLimits: limits,
			...udpAndStoreLimits,
			...(flags.redis === undefined
				? {}
				: {
						cluster: {
							redis: flags.redis,
							prefix: flags.redisPrefix,
							...(flags.nodeName ? {nodeName: flags.nodeName} : {}),
							gapMs: flags.clusterGapMs,
							pollMs: flags.clusterPollMs,
							nodeTimeoutMs: flags.clusterNodeTimeoutMs,
							...(metrics ? {onHop: (seconds: number) => metrics.observeBrokerHop(seconds)} : {}),
						},
					}),
			log: logLine,
			...(metrics ? {observeStore: (store) => metrics.timeStore(store)} : {}),
		});
	} catch (error) {
		await releaseServerRecord(directory);
		if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
		process.stderr.write(`parley serve: ${(error as Error).message}: another server listens there\n`);
		return SERVE_EXIT.addressInUse;
	}
	let stopping = false;
	let endpoint: MetricsServer | undefined;
	if (metrics && flags.metricsPort !== undefined) {
		metrics.watch(watchedServers(servers));
		try {
			endpoint = await startMetricsServer({
				host: flags.metricsHost,
				port: flags.metricsPort,
				registry: metrics.registry,
				// Shutting down: a load balancer sends newcomers elsewhere at once.
				health: async () =>
					stopping
						? {ok: false, reason: 'shutting down'}
						: storeHealth(() => servers.store.ping(), flags.dbTimeoutMs),
			});
		} catch (error) {
			await servers.close();
			await releaseServerRecord(directory);
			if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
			process.stderr.write(
				`parley serve: ${(error as Error).message}: another server listens there (--metrics-port)\n`,
			);
			return SERVE_EXIT.addressInUse;
		}
		logLine(`metrics on http://${endpoint.host}:${endpoint.port}/metrics, health on /healthz`);
	}
	await completeServerRecord(directory, {
		...claim,
		host: flags.host,
		udpPort: servers.udp.port,
		tcpPort: servers.tcp.port,
		...(servers.fingerprint === undefined ? {} : {fingerprint: servers.fingerprint}),
		startedAt: new Date().toISOString(),
	});
	const signal = await shutdownSignal();
	stopping = true;
	logLine(`${signal}: shutting down`);
	const deadline = armDeadline(flags.shutdownTimeoutMs, logLine);
	// A database that takes bytes but never answers would hold the store's close: give up on it in time.
	const closed = await settlesWithin(
		servers.close({flushWithinMs: flushBudget(flags.shutdownTimeoutMs)}),
		Math.max(0, deadline.remainingMs() - 100),
	);
	if (!closed) logLine('the database connection did not close in time; leaving it', {level: 'warn'});
	await endpoint?.close();
	await releaseServerRecord(directory);
	logLine('stopped');
	deadline.finished(!closed);
	return 0;
}

/** Flags, environment and config file as settings; throws ServeUsageError or ConfigError. */
function parseInvocation(
	argv: string[],
): {settings: ServeSettings; configFile?: string | undefined} | {help: string} {
	let parsed: {input: string[]; flags: Record<string, unknown>; help: string};
	try {
		parsed = meow(help, {
			importMeta: import.meta,
			argv,
			...SELF_REPORTING,
			// Absent flags stay absent, so the config file can decide them.
			booleanDefault: undefined,
			flags: meowFlags(),
		});
	} catch (error) {
		// meow throws on a flag given twice, naming it in camel case.
		throw new ServeUsageError(
			(error as Error).message.replace(/--([A-Za-z]+)/, (_, name: string) => flagOf(name)),
		);
	}
	if (parsed.flags.help === true) return {help: parsed.help};
	const unknown = Object.keys(parsed.flags).filter((name) => !KNOWN_FLAG_NAMES.has(name));
	if (unknown.length > 0) throw new ServeUsageError(`unknown option ${unknown.map(flagOf).join(', ')}`);
	if (parsed.input.length > 0) throw new ServeUsageError(`unexpected argument ${parsed.input[0]}`);
	let configFile: string | undefined;
	const settings = resolveServeSettings(parsed.flags, process.env, (file) => (configFile = file));
	return {settings, configFile};
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
