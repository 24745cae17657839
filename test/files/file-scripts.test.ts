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
import {deriveVerifier} from '../../source/protocol/scram.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {ServeProcess, freePort} from '../helpers/tcp-serve-process.js';

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

	it('parley serve takes --max-file-size and file_quota from server.toml: refused before the upload', async () => {
		const dataDir = path.join(home, 'served');
		await mkdir(dataDir);
		const served = await openSqliteStore(dataDir);
		await served.createUser('erin', await deriveVerifier(PASSWORD));
		await served.close();
		const config = path.join(home, 'server.toml');
		await writeFile(config, 'file_quota = 2\n');
		const port = await freePort();
		const serve = await ServeProcess.start({
			tcpPort: port,
			dataDir,
			extraArgs: ['--max-file-size', '1', '--config', config],
		});
		try {
			const at = `tcp://127.0.0.1:${port}`;
			const big = path.join(home, 'too-big.bin');
			await writeFile(big, randomBytes(1.5 * 1024 * 1024));
			const refused = await run(['send-file', at, big, '--user', 'erin', '--accept-new']);
			assert.equal(refused.code, 7, refused.stderr);
			assert.match(refused.stderr, /files here are at most 1\.0 MiB/);
			const part = path.join(home, 'part.bin');
			for (let i = 0; i < 2; i++) {
				await writeFile(part, randomBytes(0.9 * 1024 * 1024));
				const ok = await run(['send-file', at, part, '--user', 'erin']);
				assert.equal(ok.code, 0, ok.stderr);
			}
			const over = await run(['send-file', at, part, '--user', 'erin']);
			assert.equal(over.code, 7, over.stderr);
			assert.match(over.stderr, /over your quota/);
		} finally {
			await serve.stop();
		}
	});
});
