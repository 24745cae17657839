// Every `parley serve` option in one table: its flag, its key in server.toml,
// its check and its help text. A new option is one entry here; meow's flags,
// the config file's schema and `parley serve --help` all come from this table.
// Keys in the file are the flag in snake case (--rate-limit → rate_limit), as
// in the chat's config.toml.

import {DEFAULT_TCP_PORT, DEFAULT_UDP_PORT} from '../client/room-url.js';
import {DEFAULT_PASSWORD_POLICY, MAX_PASSWORD_MIN} from '../protocol/password-policy.js';
import * as v from 'valibot';
import {LOG_FORMATS, LOG_LEVELS} from '../../server/ops/logger.js';
import {dataDir} from './paths.js';

type Check = v.GenericSchema<unknown, unknown>;

const text = (what: string): Check =>
	v.pipe(v.string(`expected ${what}`), v.minLength(1, `expected ${what}`), v.maxLength(4096));
const positive: Check = v.pipe(
	v.number('expected a positive number'),
	v.finite('expected a positive number'),
	v.gtValue(0, 'expected a positive number'),
);
const count: Check = v.pipe(
	v.number('expected a positive whole number'),
	v.safeInteger('expected a positive whole number'),
	v.minValue(1, 'expected a positive whole number'),
);
const port: Check = v.pipe(
	v.number('expected a port number 0–65535'),
	v.integer('expected a port number 0–65535'),
	v.minValue(0, 'expected a port number 0–65535'),
	v.maxValue(65_535, 'expected a port number 0–65535'),
);
const flag: Check = v.boolean('expected true or false');

export type Section = 'options' | 'rooms' | 'tcp' | 'udp' | 'cluster' | 'service';

export const SECTION_TITLES: Readonly<Record<Section, string>> = {
	options: 'Options',
	rooms: 'Limits of both rooms',
	tcp: 'Limits of the TCP room (against abuse; the defaults suit most servers)',
	udp: 'Limits of the UDP room and the store',
	cluster: 'Several nodes (TLS and UDP rooms across servers: Redis between them, one shared MySQL/MariaDB)',
	service: 'Running as a service (logs, metrics, health, shutdown)',
};

export interface OptionSpec {
	readonly type: 'string' | 'number' | 'boolean';
	/** What a value must be, from the file or a flag (valibot; its message names the problem). */
	readonly check: Check;
	readonly default?: string | number | boolean;
	readonly section: Section;
	/** The value's placeholder in the help ("N", "FILE"). */
	readonly arg?: string;
	/** The help text; further lines continue the description. */
	readonly help: string;
	/** Older flag names for the same option (kebab case); the file accepts them too, in snake case. */
	readonly aliases?: readonly string[];
	/** A command-line switch only, no key in server.toml. */
	readonly cliOnly?: true;
	/** Taken from this environment variable when no flag gives it (before the file: secrets stay out of files). */
	readonly env?: string;
	readonly shortFlag?: string;
}

export const SERVE_OPTIONS = {
	host: {
		type: 'string',
		check: text('an address'),
		default: '127.0.0.1',
		section: 'options',
		arg: 'ADDRESS',
		help: 'address to listen on (default 127.0.0.1; 0.0.0.0 or :: for all)',
	},
	udpPort: {
		type: 'number',
		check: port,
		default: DEFAULT_UDP_PORT,
		section: 'options',
		arg: 'N',
		help: `UDP broadcast room port (default ${DEFAULT_UDP_PORT}; 0 picks a free one)`,
	},
	tcpPort: {
		type: 'number',
		check: port,
		default: DEFAULT_TCP_PORT,
		section: 'options',
		arg: 'N',
		help: `TCP authenticated room port (default ${DEFAULT_TCP_PORT}; 0 picks a free one)`,
	},
	dataDir: {
		type: 'string',
		check: text('a directory'),
		section: 'options',
		arg: 'DIR',
		help: `accounts, messages, TLS certificate and secrets\n(default ${dataDir()})`,
	},
	db: {
		type: 'string',
		check: text('a URL'),
		section: 'options',
		arg: 'URL',
		env: 'PARLEY_DB_URL',
		help: 'keep accounts and messages in MySQL/MariaDB instead of the\nembedded store: mysql://USER:PASS@HOST:PORT/DB; or set\nPARLEY_DB_URL, which keeps the password out of ps and files',
	},
	tlsCert: {
		type: 'string',
		check: text('a file'),
		section: 'options',
		arg: 'FILE',
		help: 'PEM certificate to use instead of the self-signed one',
	},
	tlsKey: {
		type: 'string',
		check: text('a file'),
		section: 'options',
		arg: 'FILE',
		help: 'its PEM private key',
	},
	insecurePlaintext: {
		type: 'boolean',
		check: flag,
		default: false,
		section: 'options',
		help: 'run the TCP room without TLS (passwords stay protected by\nSCRAM, but chat is readable on the network; prints a warning)',
	},
	allowRegister: {
		type: 'boolean',
		check: flag,
		default: false,
		section: 'options',
		help: 'let clients create accounts (Ctrl+R in the login form)',
	},
	passwordMin: {
		type: 'number',
		check: v.pipe(
			v.number(`expected a whole number 1–${MAX_PASSWORD_MIN}`),
			v.integer(`expected a whole number 1–${MAX_PASSWORD_MIN}`),
			v.minValue(1, `expected a whole number 1–${MAX_PASSWORD_MIN}`),
			v.maxValue(MAX_PASSWORD_MIN, `expected a whole number 1–${MAX_PASSWORD_MIN}`),
		),
		default: DEFAULT_PASSWORD_POLICY.minLength,
		section: 'options',
		arg: 'N',
		help: `shortest password such an account may have (default ${DEFAULT_PASSWORD_POLICY.minLength});\nclients check it, as the server never sees a password`,
	},
	room: {
		type: 'string',
		check: text('a room name'),
		default: 'lobby',
		section: 'options',
		arg: 'NAME',
		help: 'the default room: where clients that name none land (default lobby)',
	},
	config: {
		type: 'string',
		check: text('a file'),
		section: 'options',
		arg: 'FILE',
		cliOnly: true,
		help: 'read settings from this TOML file (default: server.toml in\n$XDG_CONFIG_HOME/parley, if there); flags win over it',
	},
	status: {
		type: 'boolean',
		check: flag,
		default: false,
		section: 'options',
		cliOnly: true,
		help: 'say whether a server runs for the data directory, and where',
	},
	stop: {
		type: 'boolean',
		check: flag,
		default: false,
		section: 'options',
		cliOnly: true,
		help: 'stop the server of the data directory (it tells every member)',
	},
	help: {
		type: 'boolean',
		check: flag,
		default: false,
		section: 'options',
		cliOnly: true,
		shortFlag: 'h',
		help: 'show this help',
	},

	maxMembers: {
		type: 'number',
		check: count,
		default: 256,
		section: 'rooms',
		arg: 'N',
		help: 'members one room admits (default 256)',
	},
	roomCreation: {
		type: 'string',
		check: v.picklist(['any', 'admin'], 'expected "any" or "admin"'),
		default: 'any',
		section: 'rooms',
		arg: 'any|admin',
		help: 'who may create a TCP room by joining it: any logged-in user, or\nserver admins only (parley user set NAME --admin) (default any)',
	},
	maxRooms: {
		type: 'number',
		check: count,
		default: 10_000,
		section: 'rooms',
		arg: 'N',
		help: 'rooms on each transport (default 10000)',
	},
	maxRoomsPerUser: {
		type: 'number',
		check: count,
		default: 100,
		section: 'rooms',
		arg: 'N',
		help: 'TCP rooms one account may be in (default 100)',
	},
	maxSessionsPerAccount: {
		type: 'number',
		check: count,
		default: 10,
		section: 'rooms',
		arg: 'N',
		help: 'TCP sessions (clients, scripts) one account may have at once (default 10)',
	},
	maxFileSize: {
		type: 'number',
		check: positive,
		default: 100,
		section: 'rooms',
		arg: 'MIB',
		help: 'largest file one upload to a TCP room may be, in MiB (default 100)',
	},
	fileQuota: {
		type: 'number',
		check: positive,
		default: 1024,
		section: 'rooms',
		arg: 'MIB',
		help: 'MiB of files one account may share in all (default 1024)',
	},
	rateLimit: {
		type: 'number',
		check: positive,
		default: 5,
		section: 'rooms',
		arg: 'N',
		help: 'messages a second one member may send (default 5); faster\nlines wait in a queue and go out at this rate, with a notice',
	},
	rateBurst: {
		type: 'number',
		check: count,
		default: 10,
		section: 'rooms',
		arg: 'N',
		help: 'lines a member may send at once before the rate applies:\na paste this long goes out whole (default 10)',
	},
	floodQueue: {
		type: 'number',
		check: count,
		default: 50,
		section: 'rooms',
		arg: 'N',
		help: 'lines held for a member over the rate; one more and it is\nkicked for flooding (default 50)',
	},

	maxConnsPerAddress: {
		type: 'number',
		check: positive,
		section: 'tcp',
		arg: 'N',
		aliases: ['max-connections-per-address'],
		help: 'sockets one address (IPv6: one /64) may hold;\nmore are dropped at once, before TLS (default 16)',
	},
	maxConns: {
		type: 'number',
		check: positive,
		section: 'tcp',
		arg: 'N',
		aliases: ['max-connections'],
		help: 'sockets in all; when full, the oldest connection not yet\nlogged in makes room for a newcomer (default 2048)',
	},
	maxSendQueueBytes: {
		type: 'number',
		check: positive,
		section: 'tcp',
		arg: 'N',
		help: 'bytes waiting to be sent to one connection; a reader that\nfalls further behind is cut off as too slow (default 1 MiB)',
	},
	loginTimeoutMs: {
		type: 'number',
		check: positive,
		section: 'tcp',
		arg: 'N',
		help: 'from connecting to a finished login (default 5000)',
	},
	joinTimeoutMs: {
		type: 'number',
		check: positive,
		section: 'tcp',
		arg: 'N',
		help: 'from login to joining the room (default 10000)',
	},
	queryRate: {
		type: 'number',
		check: positive,
		section: 'tcp',
		arg: 'N',
		help: 'ping/who requests a member may send a second (default 2)',
	},
	loginAttempts: {
		type: 'number',
		check: positive,
		section: 'tcp',
		arg: 'N',
		help: 'failed logins a minute from one address at one account (default 5)',
	},
	loginAttemptsPerAddress: {
		type: 'number',
		check: positive,
		section: 'tcp',
		arg: 'N',
		help: '… from one address at any accounts (default 20)',
	},
	loginAttemptsPerAccount: {
		type: 'number',
		check: positive,
		section: 'tcp',
		arg: 'N',
		help: 'failed logins an hour at one account from\nanywhere (default 100)',
	},
	strangerLogRate: {
		type: 'number',
		check: positive,
		section: 'tcp',
		arg: 'N',
		help: 'log lines a second about failed logins and misbehaving\nclients before login; the rest are counted (default 20)',
	},

	maxMembersPerAddress: {
		type: 'number',
		check: positive,
		default: 8,
		section: 'udp',
		arg: 'N',
		help: 'UDP members one IP address may hold (default 8)',
	},
	reassemblyBytes: {
		type: 'number',
		check: positive,
		default: 4 * 1024 * 1024,
		section: 'udp',
		arg: 'N',
		help: 'bytes of unfinished UDP fragment sets held in all (default 4 MiB)',
	},
	reassemblyBytesPerAddress: {
		type: 'number',
		check: positive,
		default: 512 * 1024,
		section: 'udp',
		arg: 'N',
		help: '… and for one IP address (default 512 KiB)',
	},
	replayPerMinute: {
		type: 'number',
		check: positive,
		default: 512,
		section: 'udp',
		arg: 'N',
		help: 'messages a rejoining UDP address, or a TCP account, may\nhave resent per minute (default 512)',
	},
	helloPerMinute: {
		type: 'number',
		check: positive,
		default: 60,
		section: 'udp',
		arg: 'N',
		help: 'UDP joins one IP address may make per minute (default 60)',
	},
	resendRate: {
		type: 'number',
		check: positive,
		default: 1000,
		section: 'udp',
		arg: 'N',
		help: 'messages a second a UDP member may have resent to repair its\nlosses; past it requests go unanswered, never punished (default 1000)',
	},
	resendBurst: {
		type: 'number',
		check: positive,
		default: 2000,
		section: 'udp',
		arg: 'N',
		help: '… and how many it may save up (default 2000)',
	},
	udpReceiveBufferBytes: {
		type: 'number',
		check: positive,
		default: 4 * 1024 * 1024,
		section: 'udp',
		arg: 'N',
		help: "the UDP socket's receive buffer, so a burst is not dropped\nbefore it is read (default 4 MiB; the kernel caps it at\nnet.core.rmem_max, and the log says so)",
	},
	udpSendBufferBytes: {
		type: 'number',
		check: positive,
		default: 1024 * 1024,
		section: 'udp',
		arg: 'N',
		help: "the UDP socket's send buffer, for a broadcast's copies on their\nway out (default 1 MiB; capped at net.core.wmem_max)",
	},
	dbTimeoutMs: {
		type: 'number',
		check: positive,
		default: 3000,
		section: 'udp',
		arg: 'N',
		help: "a database query unanswered this long counts as an outage\n(default 3000); messages stay acknowledged meanwhile: they\nare on disk in the data dir's journal first",
	},

	redis: {
		type: 'string',
		check: text('a URL'),
		section: 'cluster',
		arg: 'URL',
		env: 'PARLEY_REDIS_URL',
		help: 'run as one node of a cluster: rooms span every server given the\nsame Redis (redis://HOST:PORT) and the same --db mysql://…\n(required); or set PARLEY_REDIS_URL (keeps a password out of ps)',
	},
	redisPrefix: {
		type: 'string',
		check: text('a prefix'),
		default: 'parley:',
		section: 'cluster',
		arg: 'TEXT',
		help: 'put before every Redis channel, so several clusters share one\nRedis (default parley:)',
	},
	nodeName: {
		type: 'string',
		check: text('a name'),
		section: 'cluster',
		arg: 'NAME',
		help: "this node's id among the others (default HOST:PORT and a\nrandom suffix; unique per running server)",
	},
	clusterGapMs: {
		type: 'number',
		check: positive,
		default: 150,
		section: 'cluster',
		arg: 'N',
		help: 'a room event missing from the broker is read from the database\nafter this long (default 150)',
	},
	clusterPollMs: {
		type: 'number',
		check: positive,
		default: 500,
		section: 'cluster',
		arg: 'N',
		help: "while Redis is away, rooms with members here read the other\nnodes' events from the database this often (default 500)",
	},
	clusterNodeTimeoutMs: {
		type: 'number',
		check: positive,
		default: 3000,
		section: 'cluster',
		arg: 'N',
		help: 'a node not heard from for this long is gone: its members leave\nthe rooms (default 3000)',
	},

	logFormat: {
		type: 'string',
		check: v.picklist(LOG_FORMATS, 'expected "text" or "json"'),
		default: 'text',
		section: 'service',
		arg: 'text|json',
		help: 'log lines as text (default) or as JSON lines with ts, level,\nmsg and fields such as room, user and address',
	},
	logLevel: {
		type: 'string',
		check: v.picklist(LOG_LEVELS, 'expected "debug", "info", "warn" or "error"'),
		default: 'info',
		section: 'service',
		arg: 'LEVEL',
		help: 'least severe lines logged: debug, info (default), warn, error',
	},
	metricsPort: {
		type: 'number',
		check: port,
		section: 'service',
		arg: 'N',
		help: 'serve Prometheus metrics at http://HOST:N/metrics and health at\n/healthz (200 ok while the store answers, else 503); off by default',
	},
	metricsHost: {
		type: 'string',
		check: text('an address'),
		default: '127.0.0.1',
		section: 'service',
		arg: 'ADDRESS',
		help: 'address of the metrics endpoint (default 127.0.0.1)',
	},
	shutdownTimeoutMs: {
		type: 'number',
		check: positive,
		default: 10_000,
		section: 'service',
		arg: 'N',
		help: 'on SIGTERM/SIGINT: stop accepting, tell members to reconnect,\nlet the database catch up with the journal, and exit within\nthis bound (default 10000)',
	},
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof SERVE_OPTIONS;
type ValueOf<S extends {type: OptionSpec['type']}> = S['type'] extends 'number'
	? number
	: S['type'] extends 'boolean'
		? boolean
		: string;
/** Every option's value after flags, environment, file and defaults; undefined: the server's own default. */
export type ServeSettings = {
	-readonly [K in OptionName]: (typeof SERVE_OPTIONS)[K] extends {default: unknown}
		? ValueOf<(typeof SERVE_OPTIONS)[K]>
		: ValueOf<(typeof SERVE_OPTIONS)[K]> | undefined;
};

export const OPTION_NAMES = Object.keys(SERVE_OPTIONS) as OptionName[];
export const specOf = (name: OptionName): OptionSpec => SERVE_OPTIONS[name];

export const kebabCase = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camelCase = (kebab: string): string => kebab.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
export const flagOf = (name: string): string => `--${kebabCase(name)}`;
/** The option's key in server.toml. */
export const configKeyOf = (name: string): string => kebabCase(name).replaceAll('-', '_');
/** An option's older names as meow reports them (camel case). */
export const aliasNamesOf = (name: OptionName): string[] => (specOf(name).aliases ?? []).map(camelCase);

/** The flags for meow: no defaults, so a flag not given is absent and the file can decide. */
export function meowFlags(): Record<
	string,
	{type: OptionSpec['type']; aliases?: string[]; shortFlag?: string}
> {
	return Object.fromEntries(
		OPTION_NAMES.map((name) => {
			const spec = specOf(name);
			return [
				name,
				{
					type: spec.type,
					...(spec.aliases ? {aliases: [...spec.aliases]} : {}),
					...(spec.shortFlag ? {shortFlag: spec.shortFlag} : {}),
				},
			];
		}),
	);
}

/** The names meow may report: the options and their aliases. */
export const KNOWN_FLAG_NAMES: ReadonlySet<string> = new Set(
	OPTION_NAMES.flatMap((name) => [name, ...aliasNamesOf(name)]),
);

const FLAG_COLUMN = 19;
const CONTINUATION = ' '.repeat(2 + FLAG_COLUMN + 2);

/** One section of the help, lines indented as meow's help template expects. */
export function helpSection(section: Section): string {
	const lines = [SECTION_TITLES[section]];
	for (const name of OPTION_NAMES) {
		const spec = specOf(name);
		if (spec.section !== section) continue;
		const label = `${flagOf(name)}${spec.arg ? ` ${spec.arg}` : ''}`;
		const [first = '', ...rest] = [
			...spec.help.split('\n'),
			...(spec.aliases ?? []).map((alias) => `(also --${alias})`),
		];
		if (label.length <= FLAG_COLUMN) lines.push(`  ${label.padEnd(FLAG_COLUMN)}  ${first}`);
		else if (label.length + first.length + 4 <= 86) lines.push(`  ${label}  ${first}`);
		else lines.push(`  ${label}`, `${CONTINUATION}${first}`);
		for (const line of rest) lines.push(`${CONTINUATION}${line}`);
	}
	return lines.join('\n');
}
