// `parley send-file` and `parley get-file` as real processes against a real
// TLS server: the id comes last on stdout, the download is byte-identical,
// and every failure (exists, unknown id, a UDP room) exits non-zero.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import {mkdir, mkdtemp, readFile, readdir, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import type {AccountStore} from '../../server/store/account-store.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {CliProcess, cliEnv} from '../cli/cli-process.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';

const PASSWORD = 'correct horse battery';

describe('parley send-file / get-file', () => {
	let home: string;
	let store: AccountStore;
	let fixture: TcpFixture;
	let url: string;

	before(async () => {
		home = await mkdtemp(path.join(tmpdir(), 'parley-file-scripts-'));
		store = await openSqliteStore(path.join(home, 'db'));
		fixture = await tcpFixture(store);
		await fixture.addUser('carol', PASSWORD);
		await fixture.addUser('dave', PASSWORD);
		url = `tcp://127.0.0.1:${fixture.server.port}`;
	});
	after(async () => {
		await fixture.close();
		await store.close();
		await rm(home, {recursive: true, force: true});
	});

	const run = (args: string[], input?: string) => {
		const child = new CliProcess(args, cliEnv(home, input === undefined ? {PARLEY_PASSWORD: PASSWORD} : {}));
		if (input !== undefined) child.write(input);
		return child.exited;
	};

	it('uploads, prints the id last, and downloads byte-identical; refuses to overwrite', async () => {
		const data = randomBytes(3 * 1024 * 1024 + 17);
		const source = path.join(home, 'report.bin');
		await writeFile(source, data);
		const sent = await run(['send-file', url, source, '--user', 'carol', '--accept-new']);
		assert.equal(sent.code, 0, sent.stderr);
		const id = sent.stdout.trim().split('\n').at(-1)!;
		assert.match(id, /^[A-Za-z0-9_-]+$/);
		const into = path.join(home, 'downloads');
		await mkdir(into);
		const got = await run(['get-file', url, id, into, '--user', 'dave', '--password-stdin'], `${PASSWORD}\n`);
		assert.equal(got.code, 0, got.stderr);
		assert.equal(got.stdout.trim(), path.join(into, 'report.bin'));
		assert.ok((await readFile(path.join(into, 'report.bin'))).equals(data));
		const again = await run(['get-file', url, id, into, '--user', 'dave']);
		assert.equal(again.code, 7, again.stderr);
		assert.match(again.stderr, /exists; not overwritten/);
		assert.deepEqual(await readdir(into), ['report.bin']);
		const forced = await run(['get-file', url, id, into, '--user', 'dave', '--overwrite']);
		assert.equal(forced.code, 0, forced.stderr);
	});

	it('exits non-zero on an unknown id, a missing file and a UDP room', async () => {
		const unknown = await run(['get-file', url, 'nosuchfile', home, '--user', 'dave']);
		assert.equal(unknown.code, 7, unknown.stderr);
		assert.match(unknown.stderr, /no file nosuchfile/);
		const missing = await run(['send-file', url, path.join(home, 'absent.bin'), '--user', 'carol']);
		assert.notEqual(missing.code, 0);
		const udp = await run(['send-file', 'udp://127.0.0.1:9', path.join(home, 'report.bin'), '--nick', 'x']);
		assert.equal(udp.code, 2);
		assert.match(udp.stderr, /file transfer needs a TCP room/);
	});
});
