// The file commands on the real screen (ink-testing-library) over a real TLS
// server: /send shows a progress bar with bytes, rate and time left; /get asks
// before replacing a file; /cancel stops; a UDP room says it cannot.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import {mkdir, mkdtemp, readFile, readdir, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {cleanup, render} from 'ink-testing-library';
import type {AccountStore} from '../../server/store/account-store.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {startUdpRoomServer, type UdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomClient} from '../../source/client/types.js';
import {ChatScreen} from '../../source/tui/ChatScreen.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {KEYS, typeKeys, waitFor} from '../tui/helpers/wait.js';

const ANSI = /\u001B\[[0-9;]*m/g;
const plain = (text: string | undefined): string => (text ?? '').replace(ANSI, '');
const CTRL_N = '\u000E';

describe('file transfer on the screen', () => {
	let dir: string;
	let store: AccountStore;
	let tcp: TcpFixture;
	let udp: UdpRoomServer;
	const closing: RoomClient[] = [];

	before(async () => {
		dir = await mkdtemp(path.join(tmpdir(), 'parley-transfer-screen-'));
		store = await openSqliteStore(dir);
		tcp = await tcpFixture(store);
		await tcp.addUser('alice', 'alice-pw');
		await tcp.addUser('bob', 'bob-pw');
		udp = await startUdpRoomServer({roomName: 'lobby'});
	});

	after(async () => {
		cleanup();
		await Promise.all(closing.map((client) => client.close()));
		await udp?.close();
		await tcp?.close();
		await store?.close();
		if (dir) await rm(dir, {recursive: true, force: true});
	});

	it('sends with a progress bar, asks before overwriting, cancels, and refuses in a UDP room', async () => {
		const tcpSession = tcp.client().client;
		const udpClient = createRoomClient(`udp://127.0.0.1:${udp.port}`);
		closing.push(tcpSession, udpClient);
		const view = render(
			<ChatScreen
				rooms={[
					{client: tcpSession, nick: 'alice'},
					{client: udpClient, nick: 'alice'},
				]}
				size={{columns: 110, rows: 30}}
				showMembers={false}
			/>,
		);
		const frame = (): string => plain(view.lastFrame());
		const until = (predicate: (text: string) => boolean, timeout = 20_000) =>
			waitFor(() => predicate(frame()), frame, timeout);

		await until((text) => text.includes('password>'));
		await typeKeys(view.stdin, 'alice-pw', KEYS.enter);
		await until((text) => /tcp:\/\/.*│ alice │ connected/.test(text.split('\n')[0] ?? ''));
		const bob = await tcp.login('bob', 'bob-pw');
		closing.push(bob.client);

		// /send: the bar shows the name, bytes of the total, the rate and the time left.
		const data = randomBytes(40 * 1024 * 1024);
		const source = path.join(dir, 'big.bin');
		await writeFile(source, data);
		await typeKeys(view.stdin, `/send ${source}`, KEYS.enter);
		await until((text) =>
			/↑ big\.bin \[#*-*\] \d+% [\d.]+ (KiB|MiB)\/40 MiB [\d.]+ (KiB|MiB)\/s \d+s left/.test(text),
		);
		await until((text) => /sent big\.bin \(40 MiB\): \/get \S+/.test(text));
		assert.doesNotMatch(frame(), /↑ big\.bin \[/, 'the bar goes when the transfer is done');
		const id = /sent big\.bin \(40 MiB\): \/get (\S+)/.exec(frame())![1]!;
		// Bob heard of it.
		await bob.events.waitFor('notice', (n) => n.text.includes(`/get ${id}`));

		// /files lists it.
		await typeKeys(view.stdin, '/files', KEYS.enter);
		await until((text) => text.includes(`you shared "big.bin" (40 MiB): /get ${id}`));

		// /get into a directory that has the name already: asked, /overwrite replaces it.
		const into = path.join(dir, 'into');
		await mkdir(into);
		await writeFile(path.join(into, 'big.bin'), 'old');
		await typeKeys(view.stdin, `/get ${id} ${into}`, KEYS.enter);
		await until((text) => text.includes('exists: /overwrite replaces it, /cancel keeps it'));
		await typeKeys(view.stdin, '/overwrite', KEYS.enter);
		await until((text) => text.includes(`saved ${path.join(into, 'big.bin')}`));
		assert.ok((await readFile(path.join(into, 'big.bin'))).equals(data));

		// /cancel mid-way: the bar goes, nothing partial is left.
		const other = path.join(dir, 'other');
		await mkdir(other);
		await typeKeys(view.stdin, `/get ${id} ${other}`, KEYS.enter);
		await until((text) => /↓ big\.bin \[/.test(text));
		await typeKeys(view.stdin, '/cancel', KEYS.enter);
		await until((text) => text.includes(`/get ${id}: cancelled`));
		assert.deepEqual(await readdir(other), []);

		// A UDP room: the commands say what they need.
		await typeKeys(view.stdin, CTRL_N);
		await until((text) => /udp:\/\/.*│ alice │ connected/.test(text.split('\n')[0] ?? ''));
		await typeKeys(view.stdin, `/send ${source}`, KEYS.enter);
		await until((text) => text.includes('file transfer needs a TCP room'));
	});
});
