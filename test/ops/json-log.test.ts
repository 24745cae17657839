// `parley serve --log-format json --log-level debug`, a real process: every
// line is a JSON record with ts, level, msg and the call site's fields, and
// what a hostile client sent reaches the log escaped, never as raw bytes a
// terminal would act on.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {rawLogin, RawMember} from '../helpers/tcp-raw-client.js';
import {ServeProcess, freePort} from '../helpers/tcp-serve-process.js';

type LogRecord = {ts: string; level: string; msg: string; [field: string]: unknown};

describe('parley serve --log-format json', () => {
	let dataDir: string;
	let serve: ServeProcess;
	let tcpPort: number;

	before(async () => {
		dataDir = await mkdtemp(path.join(tmpdir(), 'parley-jsonlog-'));
		tcpPort = await freePort();
		serve = new ServeProcess({tcpPort, dataDir, extraArgs: ['--log-format', 'json', '--log-level', 'debug']});
		await serve.waitForLine(/"msg":"tcp room .* listening on/, 15_000);
	});
	after(async () => {
		await serve.stop();
		await rm(dataDir, {recursive: true, force: true});
	});

	const records = (): LogRecord[] =>
		serve.log
			.split('\n')
			.filter((line) => line !== '')
			.map((line) => JSON.parse(line) as LogRecord);

	it('writes JSON records with levels and fields, a hostile user name escaped', async () => {
		// A user name that would set the terminal's title, then reverse the text after it.
		const hostile = 'evil\u001b]0;owned\u0007\u202e\u009b2J';
		const socket = tls.connect({
			host: '127.0.0.1',
			port: tcpPort,
			rejectUnauthorized: false,
			minVersion: 'TLSv1.3',
		});
		await new Promise((resolve) => socket.once('secureConnect', resolve));
		const stranger = new RawMember(socket);
		await stranger.next('auth-mechs');
		stranger.send({
			t: 'auth',
			mech: 'SCRAM-SHA-256-PLUS',
			data: `p=tls-exporter,,n=${hostile},r=abcdefghijklmnop`,
		});
		assert.equal((await stranger.next('error')).code, 'auth-failed');
		stranger.close();
		await assert.rejects(rawLogin(tcpPort, 'nobody', 'wrong password'));
		await serve.waitForLine(/failed login for/);

		// Nothing on any line a terminal would act on.
		assert.doesNotMatch(serve.log, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]/u);
		const all = records();
		for (const record of all) {
			assert.match(record.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
			assert.ok(['debug', 'info', 'warn', 'error'].includes(record.level), record.level);
			assert.equal(typeof record.msg, 'string');
		}
		assert.ok(all.some((r) => r.level === 'info' && /^tcp room "lobby" listening on/.test(r.msg)));
		const refused = all.find((r) => r.msg.startsWith('refused login from 127.0.0.1: bad user name'));
		assert.ok(refused, 'the refused login is logged');
		assert.equal(refused.level, 'warn');
		assert.equal(refused.address, '127.0.0.1');
		assert.ok(refused.msg.endsWith('"evil\\x1b]0;owned\\x07\\u202e\\x9b2J"'), refused.msg);
		const failed = all.find((r) => r.msg === 'failed login for "nobody" from 127.0.0.1');
		assert.deepEqual(failed && {level: failed.level, user: failed.user, address: failed.address}, {
			level: 'warn',
			user: 'nobody',
			address: '127.0.0.1',
		});
		// Debug lines appear at --log-level debug.
		assert.ok(
			all.some(
				(r) => r.level === 'debug' && r.msg === 'connection from 127.0.0.1' && r.address === '127.0.0.1',
			),
		);
	});
});
