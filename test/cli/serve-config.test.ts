// `parley serve` as a real process: unknown flags are usage errors, server.toml
// (the default one or --config FILE) sets any option, a flag wins over the
// file, a bad file is refused naming the line and key, and the limits reach
// the rooms (a UDP member's welcome announces them).
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {UdpBot} from '../helpers/udp-bot.js';
import {CliProcess, cliEnv, runCli, unusedTcpPort, unusedUdpPort} from './cli-process.js';

describe('parley serve options and server.toml', () => {
	let home: string;
	before(async () => {
		home = await mkdtemp(path.join(tmpdir(), 'parley-serve-config-'));
	});
	after(async () => {
		await rm(home, {recursive: true, force: true});
	});

	const dataDir = () => path.join(home, 'data-dir');

	it('rejects an unknown flag with status 2, naming it', async () => {
		const result = await runCli(['serve', '--max-member', '3', '--data-dir', dataDir()], cliEnv(home));
		assert.equal(result.code, 2);
		assert.match(result.stderr, /^parley serve: unknown option --max-member \(see parley serve --help\)\n$/);
	});

	it('rejects a bad flag value and a flag given twice with status 2', async () => {
		const bad = await runCli(['serve', '--rate-limit', '0'], cliEnv(home));
		assert.equal(bad.code, 2);
		assert.match(bad.stderr, /--rate-limit: expected a positive number/);
		const twice = await runCli(['serve', '--rate-burst', '3', '--rate-burst', '4'], cliEnv(home));
		assert.equal(twice.code, 2);
		assert.match(twice.stderr, /--rate-burst can only be set once/);
	});

	it('refuses an unknown key in the file, naming its line and the key', async () => {
		const file = path.join(home, 'unknown.toml');
		await writeFile(file, 'rate_limit = 20\n\nrate_limt = 30\n');
		const result = await runCli(['serve', '--config', file], cliEnv(home));
		assert.equal(result.code, 2);
		assert.equal(result.stderr, `parley serve: ${file}:3: rate_limt: unknown key\n`);
	});

	it('refuses a bad value in the file, naming its line and the key', async () => {
		const file = path.join(home, 'bad.toml');
		await writeFile(file, '# limits\nmax_members = 10\nrate_burst = 2.5\n');
		const result = await runCli(['serve', '--config', file], cliEnv(home));
		assert.equal(result.code, 2);
		assert.equal(result.stderr, `parley serve: ${file}:3: rate_burst: expected a positive whole number\n`);
		await writeFile(file, 'max_conns = -1\n');
		const negative = await runCli(['serve', '--config', file], cliEnv(home));
		assert.equal(negative.code, 2);
		assert.equal(negative.stderr, `parley serve: ${file}:1: max_conns: expected a positive number\n`);
	});

	it('refuses a --config file that is not there', async () => {
		const result = await runCli(['serve', '--config', path.join(home, 'nope.toml')], cliEnv(home));
		assert.equal(result.code, 2);
		assert.equal(result.stderr, `parley serve: ${path.join(home, 'nope.toml')}: no such file\n`);
	});

	it('takes the default server.toml, lets a flag win over it, and the rooms announce its limits', async (t) => {
		const udpPort = await unusedUdpPort();
		const tcpPort = await unusedTcpPort();
		const own = path.join(home, 'own'); // its config dir has a server.toml; the other tests' has none
		await mkdir(path.join(own, 'config', 'parley'), {recursive: true});
		await writeFile(
			path.join(own, 'config', 'parley', 'server.toml'),
			[
				`udp_port = ${udpPort}`,
				`tcp_port = ${tcpPort}`,
				`data_dir = "${dataDir()}"`,
				'room = "configured"',
				'rate_limit = 7',
				'rate_burst = 30',
				'max_connections = 100',
				'flood_queue = 80',
			].join('\n'),
		);
		const serve = new CliProcess(['serve', '--rate-burst', '4'], cliEnv(own));
		t.after(async () => {
			serve.kill('SIGTERM');
			await serve.exited;
		});
		await serve.waitForLines(
			(lines) =>
				lines.some((line) => line.includes(`tcp room "configured" listening on 127.0.0.1:${tcpPort}`)),
			'the TCP room on the configured port',
		);
		const lines = serve.lines();
		assert.ok(
			lines.some((line) =>
				line.endsWith(`settings from ${path.join(own, 'config', 'parley', 'server.toml')}`),
			),
		);
		assert.ok(lines.some((line) => line.includes('rate limit 7 messages a second per member, bursts of 4;')));
		const bot = await UdpBot.open(udpPort);
		t.after(() => bot.close());
		const welcome = await bot.join('alice');
		assert.equal(welcome.t, 'welcome', JSON.stringify(welcome));
		assert.equal(welcome.room, '#configured'); // servers name rooms with their #
		assert.deepEqual(welcome.limits, {maxTextBytes: 8192, ratePerSecond: 7, burst: 4});
	});

	it('takes the database URL from PARLEY_DB_URL, never printing its password', async (t) => {
		const tcpPort = await unusedTcpPort();
		const serve = new CliProcess(
			['serve', '--udp-port', '0', '--tcp-port', String(tcpPort), '--data-dir', path.join(home, 'db-env')],
			cliEnv(home, {PARLEY_DB_URL: 'mysql://parley:hunter2secret@127.0.0.1:1/parleydb'}),
		);
		t.after(async () => {
			serve.kill('SIGKILL');
			await serve.exited;
		});
		await serve.waitForLines(
			(lines) => lines.some((line) => line.endsWith('account store: mysql://parley@127.0.0.1:1/parleydb')),
			'the account store named from the environment',
		);
		assert.ok(!serve.stdout.includes('hunter2secret') && !serve.stderr.includes('hunter2secret'));
	});
});
