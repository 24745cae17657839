// The serve options table and server.toml without a process: every option has
// a key, older flag names are keys too, flags win over the file, and the help
// lists every flag.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readFile} from 'node:fs/promises';
import {ConfigError} from '../../source/client/config.js';
import {parseServerConfig, resolveServeSettings, ServeUsageError} from '../../source/cli/server-config.js';
import {
	OPTION_NAMES,
	SERVE_OPTIONS,
	configKeyOf,
	flagOf,
	helpSection,
	meowFlags,
	specOf,
} from '../../source/cli/serve-options.js';

const problem = (text: string): string => {
	try {
		parseServerConfig(text, 'server.toml');
	} catch (error) {
		assert.ok(error instanceof ConfigError);
		return error.message;
	}
	assert.fail('expected a ConfigError');
};

/** A valid value of each kind, as TOML. */
const sample = (name: (typeof OPTION_NAMES)[number]): string => {
	const spec = specOf(name);
	if (spec.type === 'boolean') return 'true';
	if (spec.type === 'number') return name === 'udpPort' || name === 'tcpPort' ? '7000' : '12';
	if (name === 'roomCreation') return '"admin"';
	if (name === 'logFormat') return '"json"';
	if (name === 'logLevel') return '"warn"';
	return '"value"';
};

describe('server.toml', () => {
	it('has a key for every option but the command-line switches', () => {
		const options = OPTION_NAMES.filter((name) => specOf(name).cliOnly !== true);
		const text = options.map((name) => `${configKeyOf(name)} = ${sample(name)}`).join('\n');
		const values = parseServerConfig(text, 'server.toml');
		assert.deepEqual(Object.keys(values).sort(), [...options].sort());
		assert.equal(values.rateLimit, 12);
		assert.equal(values.insecurePlaintext, true);
		for (const name of ['config', 'status', 'stop', 'help'] as const)
			assert.match(problem(`${configKeyOf(name)} = ${sample(name)}`), /: unknown key$/);
	});

	it('reads the two-node example as written (examples/two-nodes)', async () => {
		const dir = new URL('../../../examples/two-nodes/', import.meta.url);
		for (const node of ['a', 'b']) {
			const values = parseServerConfig(
				await readFile(new URL(`node-${node}.toml`, dir), 'utf8'),
				'node.toml',
			);
			assert.equal(values.nodeName, node);
			assert.equal(values.tcpPort, 7668);
			assert.equal(values.metricsPort, 9464);
		}
	});

	it('takes the older names of an option, but not both', () => {
		assert.deepEqual(parseServerConfig('max_connections = 9\n', 'server.toml'), {maxConns: 9});
		assert.equal(
			problem('max_conns = 9\nmax_connections = 10\n'),
			'server.toml:2: max_connections: the same setting as max_conns; keep one',
		);
	});

	it('names the line and key of a bad value', () => {
		assert.equal(problem('\nrate_limit = "fast"'), 'server.toml:2: rate_limit: expected a positive number');
		assert.equal(problem('tcp_port = 70000'), 'server.toml:1: tcp_port: expected a port number 0–65535');
		assert.equal(
			problem('log_level = "loud"'),
			'server.toml:1: log_level: expected "debug", "info", "warn" or "error"',
		);
		assert.equal(problem('log_format = "xml"'), 'server.toml:1: log_format: expected "text" or "json"');
		assert.equal(problem('[limits]\nrate = 3'), 'server.toml:1: limits: unknown key');
		assert.match(problem('rate_limit = '), /^server\.toml:1: /);
	});

	it('lets a flag win over the environment, the environment over the file, the file over the default', () => {
		const env = {XDG_CONFIG_HOME: '/nonexistent-parley-test'};
		const settings = resolveServeSettings({rateLimit: 9}, env);
		assert.equal(settings.rateLimit, 9);
		assert.equal(settings.rateBurst, 10);
		assert.equal(settings.floodQueue, 50);
		assert.equal(settings.maxConns, undefined, "undefined keeps the server's own default");
		assert.equal(resolveServeSettings({}, {...env, PARLEY_DB_URL: 'mysql://a@b/c'}).db, 'mysql://a@b/c');
		assert.equal(
			resolveServeSettings({db: 'mysql://flag@b/c'}, {...env, PARLEY_DB_URL: 'mysql://a@b/c'}).db,
			'mysql://flag@b/c',
		);
		assert.throws(() => resolveServeSettings({maxConns: Number.NaN}, env), ServeUsageError);
	});
});

describe('the serve options table', () => {
	it('gives meow every option, with no defaults (the file decides what a flag leaves out)', () => {
		const flags = meowFlags();
		assert.deepEqual(Object.keys(flags), OPTION_NAMES);
		for (const flag of Object.values(flags)) assert.equal('default' in flag, false);
		assert.deepEqual(flags.maxConnsPerAddress?.aliases, ['max-connections-per-address']);
	});

	it('lists every flag in the help', () => {
		const help = (['options', 'rooms', 'tcp', 'udp', 'cluster', 'service'] as const)
			.map(helpSection)
			.join('\n');
		for (const name of Object.keys(SERVE_OPTIONS)) assert.ok(help.includes(flagOf(name)), flagOf(name));
		assert.ok(help.includes('--max-connections-per-address'));
	});
});
