// File transfer in TCP rooms over real TLS sockets and real stores: files of
// every size arrive byte-identical, corruption and hostile names are caught,
// limits refuse before a byte is sent, cancel cleans up both ends, a dropped
// connection resumes, and chat keeps flowing while a large file moves.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {createHash, randomBytes} from 'node:crypto';
import {mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import type {AccountStore} from '../../server/store/account-store.js';
import {encodeFrame} from '../../source/protocol/framing.js';
import {encodeJson} from '../../source/protocol/messages.js';
import {mysqlBackend, reportUnreachable, sqliteBackend, uniqueName, type Backend} from '../store/backends.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {startTcpProxy} from '../helpers/tcp-proxy.js';
import {waitFor} from '../helpers/wait.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const PASSWORD = 'correct horse battery';

async function filesOf(fixture: TcpFixture, user: string, port?: number) {
	const {client, events, transport} = fixture.client(port === undefined ? {} : {port});
	await client.connect(user, PASSWORD);
	const files = await waitFor(() => client.files(), {what: 'file transfer'});
	return {client, events, files, transport};
}

async function partFiles(dir: string): Promise<string[]> {
	return (await readdir(dir)).filter((name) => name.endsWith('.part'));
}

function suite(label: string, backend: () => Promise<Backend>) {
	describe(`file transfer (${label})`, () => {
		let store: AccountStore;
		let b: Backend;
		let fixture: TcpFixture;
		let work: string;
		const alice = uniqueName('alice');
		const bob = uniqueName('bob');
		const carol = uniqueName('carol');
		const dave = uniqueName('dave');

		before(async () => {
			b = await backend();
			store = await b.open();
			fixture = await tcpFixture(store, {
				maxFileBytes: 60 * 1024 * 1024,
				fileQuotaBytes: 60 * 1024 * 1024,
				// The chat latency measured is the transfer's doing, not the rate limit's (tested elsewhere).
				limits: {ratePerSecond: 1000, burst: 1000},
			});
			await fixture.addUser(alice, PASSWORD);
			await fixture.addUser(bob, PASSWORD);
			await fixture.addUser(carol, PASSWORD);
			await fixture.addUser(dave, PASSWORD);
			work = await mkdtemp(path.join(tmpdir(), 'parley-files-test-'));
		});
		after(async () => {
			await fixture.close().catch(() => {}); // its server was closed by the restart test
			await store.close();
			await b.cleanup();
			await rm(work, {recursive: true, force: true});
		});

		it('sends empty, small and large files byte-identical, announced to the room', async () => {
			const a = await filesOf(fixture, alice);
			const bb = await filesOf(fixture, bob);
			for (const [name, data] of [
				['empty.bin', Buffer.alloc(0)],
				['small.txt', Buffer.from('hello, files\n')],
				['large.bin', randomBytes(20 * 1024 * 1024)],
			] as const) {
				const source = path.join(work, name);
				await writeFile(source, data);
				const shared = await a.files.upload(source).result;
				assert.equal(shared.size, data.length);
				assert.equal(shared.sha256, sha(data));
				await bb.events.waitFor('notice', (n) => n.text.includes(`/get ${shared.id}`));
				const into = path.join(work, `into-${name}`);
				await mkdir(into);
				const saved = await bb.files.download(shared.id, into).result;
				assert.equal(saved, path.join(into, name));
				assert.ok((await readFile(saved)).equals(data), `${name} differs`);
				assert.deepEqual(await partFiles(into), []);
			}
			const listed = await bb.files.list();
			assert.deepEqual(
				listed.map((f) => f.name),
				['empty.bin', 'small.txt', 'large.bin'],
			);
			await a.client.close();
			await bb.client.close();
		});

		it('refuses too large files and quota overruns before the upload starts', async () => {
			const a = await filesOf(fixture, alice);
			const big = path.join(work, 'big.bin');
			await writeFile(big, Buffer.alloc(61 * 1024 * 1024));
			const sentBefore = fixture.server.stats.connections;
			await assert.rejects(a.files.upload(big).result, /files here are at most 60 MiB/);
			// Quota: 60 MiB in all; 20 MiB already shared above; two more 20 MiB files do not fit.
			const twenty = path.join(work, 'twenty.bin');
			await writeFile(twenty, randomBytes(20 * 1024 * 1024));
			await a.files.upload(twenty).result;
			const other = path.join(work, 'other.bin');
			await writeFile(other, randomBytes(20 * 1024 * 1024 + 1));
			await assert.rejects(a.files.upload(other).result, /over your quota/);
			assert.equal(fixture.server.stats.connections, sentBefore);
			assert.deepEqual(await partFiles(path.join(fixture.dir, 'files', 'uploads')), []);
			await a.client.close();
		});

		it('keeps hostile names harmless: no path, no control characters', async () => {
			const a = await filesOf(fixture, alice);
			const bb = await filesOf(fixture, bob);
			const source = path.join(work, 'plain.txt');
			await writeFile(source, 'not the password file');
			for (const name of ['../../etc/passwd', 'evil\u001b[2J\u202Ename\r\n.txt', '..']) {
				const shared = await a.files.upload(source, {name}).result;
				assert.ok(!shared.name.includes('/') && !/[\u0000-\u001f\u202e]/u.test(shared.name), shared.name);
				const into = path.join(work, `hostile-${randomBytes(3).toString('hex')}`);
				await mkdir(into);
				const saved = await bb.files.download(shared.id, into).result;
				assert.equal(path.dirname(saved), into, `${JSON.stringify(name)} saved outside: ${saved}`);
				assert.ok(!/[\u0000-\u001f\u202e]/u.test(path.basename(saved)));
			}
			await a.client.close();
			await bb.client.close();
		});

		it('never overwrites an existing file unless told to', async () => {
			const a = await filesOf(fixture, alice);
			const source = path.join(work, 'keep.txt');
			await writeFile(source, 'new');
			const shared = await a.files.upload(source).result;
			const into = path.join(work, 'existing');
			await mkdir(into);
			await writeFile(path.join(into, 'keep.txt'), 'old');
			await assert.rejects(a.files.download(shared.id, into).result, /exists; not overwritten/);
			assert.equal(await readFile(path.join(into, 'keep.txt'), 'utf8'), 'old');
			assert.deepEqual(await partFiles(into), []);
			await a.files.download(shared.id, into, async () => true).result;
			assert.equal(await readFile(path.join(into, 'keep.txt'), 'utf8'), 'new');
			await a.client.close();
		});

		it('detects a corrupted chunk: the server refuses the upload and keeps nothing', async () => {
			const a = await filesOf(fixture, alice);
			const data = randomBytes(100_000);
			const source = path.join(work, 'corrupt.bin');
			await writeFile(source, data);
			// Flip one byte of the second chunk on its way out.
			const link = a.client as unknown as {transportImpl: {socket: {write: (b: Buffer) => boolean}}};
			const socket = link.transportImpl.socket;
			const write = socket.write.bind(socket);
			let chunks = 0;
			socket.write = (frame: Buffer) => {
				const text = frame.subarray(4).toString();
				if (text.includes('"file-chunk"') && ++chunks === 2) {
					const message = JSON.parse(text);
					const bytes = Buffer.from(message.data, 'base64');
					bytes[7]! ^= 0xff;
					message.data = bytes.toString('base64');
					return write(encodeFrame(encodeJson(message)));
				}
				return write(frame);
			};
			await assert.rejects(a.files.upload(source).result, /SHA-256 mismatch/);
			socket.write = write;
			assert.deepEqual(await partFiles(path.join(fixture.dir, 'files', 'uploads')), []);
			assert.ok(!(await readdir(path.join(fixture.dir, 'files'))).includes(sha(data)));
			await a.client.close();
		});

		it('cancel mid-way leaves no partial file at either end', async () => {
			const a = await filesOf(fixture, bob); // bob uploads here: alice's quota is nearly used
			const bb = await filesOf(fixture, alice);
			const source = path.join(work, 'cancel.bin');
			await writeFile(source, randomBytes(30 * 1024 * 1024));
			const up = a.files.upload(source);
			await waitFor(() => up.progress.done > 1024 * 1024, {what: 'an upload under way'});
			up.cancel();
			await assert.rejects(up.result, /cancelled/);
			const uploads = path.join(fixture.dir, 'files', 'uploads');
			await waitForEmpty(uploads);
			// A download cancelled mid-way: no part file, no target.
			const small = path.join(work, 'dl.bin');
			await writeFile(small, randomBytes(15 * 1024 * 1024));
			const shared = await a.files.upload(small).result;
			const into = path.join(work, 'cancelled-download');
			await mkdir(into);
			const down = bb.files.download(shared.id, into);
			await waitFor(() => down.progress.done > 0, {what: 'a download under way'});
			down.cancel();
			await assert.rejects(down.result, /cancelled/);
			assert.deepEqual(await readdir(into), []);
			await a.client.close();
			await bb.client.close();
		});

		it('resumes an upload after the connection drops, from the offset the server has', async () => {
			const proxy = await startTcpProxy(fixture.server.port);
			try {
				const up1 = await filesOf(fixture, bob, proxy.port);
				const other = await filesOf(fixture, alice);
				const data = randomBytes(12 * 1024 * 1024);
				const source = path.join(work, 'resume.bin');
				await writeFile(source, data);
				// The server's file-ready frames: the second one, after the reconnect, says where to go on.
				const offsets: number[] = [];
				up1.transport.addFileListener((frame) => {
					if (frame.t === 'file-ready') offsets.push(frame.offset);
				});
				const up = up1.files.upload(source);
				await waitFor(() => up.progress.done > 3 * 1024 * 1024, {what: 'a quarter of the upload'});
				proxy.cut();
				await up1.events.waitFor('state', (s) => s.state === 'reconnecting');
				proxy.restore();
				const shared = await up.result;
				assert.equal(offsets.length, 2, `file-ready offsets: ${offsets}`);
				assert.equal(offsets[0], 0);
				assert.ok(offsets[1]! > 3 * 1024 * 1024 - 512 * 1024, `resumed from ${offsets[1]}`);
				const into = path.join(work, 'resumed');
				await mkdir(into);
				const saved = await other.files.download(shared.id, into).result;
				assert.ok((await readFile(saved)).equals(data));
				await up1.client.close();
				await other.client.close();
			} finally {
				await proxy.close(); // a relay left open would keep the test process alive
			}
		});

		it('resumes a download after the connection drops, and the file is still byte-identical', async () => {
			const proxy = await startTcpProxy(fixture.server.port);
			try {
				const sender = await filesOf(fixture, dave);
				const getter = await filesOf(fixture, carol, proxy.port);
				const data = randomBytes(12 * 1024 * 1024);
				const source = path.join(work, 'resume-down.bin');
				await writeFile(source, data);
				const shared = await sender.files.upload(source).result;
				const offsets: number[] = [];
				getter.transport.addFileListener((frame) => {
					if (frame.t === 'file-meta') offsets.push(frame.offset);
				});
				const into = path.join(work, 'resumed-down');
				await mkdir(into);
				const down = getter.files.download(shared.id, into);
				await waitFor(() => down.progress.done > 3 * 1024 * 1024, {what: 'a quarter of the download'});
				proxy.cut();
				await getter.events.waitFor('state', (s) => s.state === 'reconnecting');
				proxy.restore();
				const saved = await down.result;
				assert.ok((await readFile(saved)).equals(data));
				assert.equal(offsets.length, 2, `file-meta offsets: ${offsets}`);
				assert.ok(offsets[1]! > 3 * 1024 * 1024, `resumed from ${offsets[1]}`);
				assert.deepEqual(await partFiles(into), []);
				await sender.client.close();
				await getter.client.close();
			} finally {
				await proxy.close();
			}
		});

		it('chat keeps flowing both ways while a 50 MB file goes up and comes down (hashes match)', async () => {
			const up = await filesOf(fixture, carol);
			const down = await filesOf(fixture, dave);
			const size = 50 * 1000 * 1000;
			const data = randomBytes(size);
			const source = path.join(work, 'fifty.bin');
			await writeFile(source, data);
			/** Chat from `from` to `to` until `done`; each message's time from say() to arrival. */
			const chatWhile = async (from: typeof up, to: typeof up, label: string, done: () => boolean) => {
				const latencies: number[] = [];
				for (let i = 0; !done(); i++) {
					const text = `${label} ${i}`;
					const sentAt = performance.now();
					await from.client.say(text);
					await to.events.waitFor('message', (m) => m.text === text);
					latencies.push(performance.now() - sentAt);
					await new Promise((resolve) => setTimeout(resolve, 20));
				}
				return latencies.sort((x, y) => x - y);
			};
			const idle = await chatWhile(
				up,
				down,
				'idle',
				(() => {
					let n = 0;
					return () => n++ >= 20;
				})(),
			);
			let started = performance.now();
			const upload = up.files.upload(source);
			let finished = false;
			upload.result.finally(() => (finished = true)).catch(() => {});
			// Carol chats behind her own chunks on her own socket: chat must go first.
			const duringUpload = await chatWhile(up, down, 'up', () => finished);
			const shared = await upload.result;
			const upSeconds = (performance.now() - started) / 1000;
			const into = path.join(work, 'fifty-down');
			await mkdir(into);
			started = performance.now();
			const download = down.files.download(shared.id, into);
			finished = false;
			download.result.finally(() => (finished = true)).catch(() => {});
			// Carol talks to Dave while his download comes down the same socket as her messages.
			const duringDownload = await chatWhile(up, down, 'down', () => finished);
			const saved = await download.result;
			const downSeconds = (performance.now() - started) / 1000;
			assert.equal(sha(await readFile(saved)), sha(data));
			const p = (list: number[], q: number) => list[Math.min(list.length - 1, Math.floor(q * list.length))]!;
			const figures = (list: number[]) =>
				`${list.length} messages, p50 ${p(list, 0.5).toFixed(1)} ms, p99 ${p(list, 0.99).toFixed(1)} ms`;
			const mb = size / 1e6;
			console.log(
				`# ${label}: 50 MB up ${upSeconds.toFixed(2)} s (${(mb / upSeconds).toFixed(1)} MB/s), chat ${figures(duringUpload)}; ` +
					`down ${downSeconds.toFixed(2)} s (${(mb / downSeconds).toFixed(1)} MB/s), chat ${figures(duringDownload)}; ` +
					`idle chat ${figures(idle)}`,
			);
			for (const list of [duringUpload, duringDownload]) {
				assert.ok(list.length >= 3, `only ${list.length} messages during a transfer`);
				assert.ok(p(list, 0.99) < 1000, `chat p99 ${p(list, 0.99)} ms during a transfer`);
			}
			await up.client.close();
			await down.client.close();
		});

		it('a file sent to one member is announced to and fetched by that member only', async () => {
			const a = await filesOf(fixture, alice);
			const bb = await filesOf(fixture, bob);
			const c = await filesOf(fixture, carol);
			const source = path.join(work, 'secret.txt');
			await writeFile(source, 'for bob only');
			const shared = await a.files.upload(source, {to: bob}).result;
			assert.equal(shared.to, bob);
			await bb.events.waitFor('notice', (n) => n.text.includes(`sent you "secret.txt"`));
			// Carol hears nothing of it: a later public file is the first she hears of.
			const other = path.join(work, 'public.txt');
			await writeFile(other, 'for all');
			const open = await a.files.upload(other).result;
			await c.events.waitFor('notice', (n) => n.text.includes(`/get ${open.id}`));
			assert.ok(!c.events.of('notice').some((n) => n.text.includes(shared.id)));
			assert.ok(!(await c.files.list()).some((f) => f.id === shared.id));
			const into = path.join(work, `private-${randomBytes(3).toString('hex')}`);
			await mkdir(into);
			await assert.rejects(c.files.download(shared.id, into).result, /no file/);
			assert.equal(await readFile(await bb.files.download(shared.id, into).result, 'utf8'), 'for bob only');
			await assert.rejects(a.files.upload(source, {to: 'nobody_here'}).result, /not in/);
			await a.client.close();
			await bb.client.close();
			await c.client.close();
		});

		it('shared files survive a server restart (metadata in the store, bytes in the data dir)', async () => {
			const a = await filesOf(fixture, alice);
			const source = path.join(work, 'durable.txt');
			await writeFile(source, 'still here');
			const shared = await a.files.upload(source).result;
			await a.client.close();
			const port = fixture.server.port;
			await fixture.server.close();
			const again = await tcpFixture(store, {port, dataDir: fixture.dir});
			try {
				const {client} = await again.login(bob, PASSWORD);
				const files = await waitFor(() => client.files(), {what: 'file transfer'});
				assert.ok((await files.list()).some((f) => f.id === shared.id));
				const into = path.join(work, 'after-restart');
				await mkdir(into);
				const saved = await files.download(shared.id, into).result;
				assert.equal(await readFile(saved, 'utf8'), 'still here');
				await client.close();
			} finally {
				await again.server.close();
			}
		});
	});
}

async function waitForEmpty(dir: string): Promise<void> {
	const deadline = Date.now() + 5000;
	for (;;) {
		const left = await partFiles(dir);
		if (left.length === 0) return;
		if (Date.now() > deadline) throw new Error(`partial uploads left: ${left.join(', ')}`);
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

suite('sqlite', sqliteBackend);
const mysql = await mysqlBackend();
if ('unreachable' in mysql) reportUnreachable('file transfer (mysql)', mysql);
else suite('mysql', async () => mysql);
