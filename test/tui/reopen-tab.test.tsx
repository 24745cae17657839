// A tab whose connection closed for good can be opened again, in place, with
// its log: /reconnect, or /connect to the same room. Until then a line typed
// there is refused at once ("closed"), not left "(sending…)" forever. Over a
// real TLS room (node:sqlite), real room sessions, real Ink rendering.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {cleanup, render} from 'ink-testing-library';
import {LoginThrottle} from '../../server/auth/login-throttle.js';
import {loadOrCreateServerSecret} from '../../server/auth/server-secret.js';
import type {AccountStore} from '../../server/store/account-store.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {startTcpRoomServer, type TcpRoomServer} from '../../server/tcp/tcp-room-server.js';
import {loadOrCreateCertificate} from '../../server/tls/certificate.js';
import type {RoomClient} from '../../source/client/types.js';
import {ChatScreen} from '../../source/tui/ChatScreen.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {KEYS, typeKeys, waitFor} from './helpers/wait.js';

const ANSI = /\u001B\[[0-9;]*m/g;
const plain = (text: string | undefined): string => (text ?? '').replace(ANSI, '');
const SIZE = {columns: 110, rows: 40};

describe('reopening a closed tab', () => {
	let dir: string;
	let store: AccountStore;
	let tcp: TcpFixture;
	const closing: RoomClient[] = [];
	const servers: TcpRoomServer[] = [];

	before(async () => {
		dir = await mkdtemp(path.join(tmpdir(), 'parley-reopen-'));
		store = await openSqliteStore(dir);
		tcp = await tcpFixture(store, {roomName: 'chat'});
		await tcp.addUser('alice', 'alice-pw');
		await tcp.addUser('bob', 'bob-pw');
		await store.setAdmin('bob', true); // bob may kick anyone, in every room
	});

	after(async () => {
		cleanup();
		await Promise.all(closing.map((client) => client.close()));
		await Promise.all(servers.map((server) => server.close()));
		await tcp?.close();
		await store?.close();
		if (dir) await rm(dir, {recursive: true, force: true});
	});

	it('/reconnect and /connect reopen it with its log; typing into it meanwhile says it is closed', async () => {
		const session = tcp.client().client;
		closing.push(session);
		const url = session.url;
		const view = render(
			<ChatScreen
				rooms={[{client: session, nick: 'alice', password: 'alice-pw'}]}
				// /connect to this room finds its tab; any other room would get a client of its own.
				opener={{create: () => tcp.client().client}}
				size={SIZE}
				showMembers={false}
			/>,
		);
		const frame = (): string => plain(view.lastFrame());
		const until = (predicate: (text: string) => boolean, timeout = 5000) =>
			waitFor(() => predicate(frame()), frame, timeout);
		const statusRow = (): string => frame().split('\n')[0] ?? '';
		const bob = await tcp.login('bob', 'bob-pw');

		await until(() => /│ alice │ connected/.test(statusRow()));
		await typeKeys(view.stdin, 'said before', KEYS.enter);
		await bob.events.waitFor('message', (m) => m.text === 'said before');

		/** An admin kicks alice: this tab is closed for good (no automatic rejoin). */
		let kicks = 0;
		const closeByOtherLogin = async () => {
			kicks++;
			assert.ok(bob.client.request?.({t: 'kick', nick: 'alice', reason: `test ${kicks}`}));
			await until((text) => text.includes(`test ${kicks}`) && text.includes('disconnected'));
			await until(() => /│ alice │ closed/.test(statusRow()));
		};

		await closeByOtherLogin();
		await typeKeys(view.stdin, 'into the void', KEYS.enter);
		await until((text) => text.includes('not sent: this room is closed; /reconnect to join it again'));
		assert.ok(!frame().includes('(sending…)'), frame());

		await typeKeys(view.stdin, '/reconnect', KEYS.enter);
		await until(() => /│ alice │ connected/.test(statusRow()));
		assert.ok(frame().includes('said before'), 'the log is kept');
		await typeKeys(view.stdin, 'back again', KEYS.enter);
		await bob.events.waitFor('message', (m) => m.text === 'back again');
		await until((text) => text.includes('back again') && !text.includes('(sending…)'));

		await closeByOtherLogin();
		await typeKeys(view.stdin, `/connect ${url}`, KEYS.enter);
		await until(() => /│ alice │ connected/.test(statusRow()));
		assert.doesNotMatch(frame(), /is open in this tab already/);
		await typeKeys(view.stdin, 'and once more', KEYS.enter);
		await bob.events.waitFor('message', (m) => m.text === 'and once more');
		assert.ok(frame().includes('said before'), 'still the same log');
		assert.ok(!bob.events.texts().includes('into the void'), 'the refused line was not sent later');

		// Open and connected: nothing to reopen, and it says so.
		await typeKeys(view.stdin, '/reconnect', KEYS.enter);
		await until((text) => text.includes(`${url} is connected`));
	});
	it('a tab closed by a changed certificate stays closed on /reconnect until the server is the known one again', async () => {
		/** The room's server on `port` with the certificate kept in `certDir`. */
		const serve = async (certDir: string, port: number): Promise<TcpRoomServer> => {
			const server = await startTcpRoomServer({
				store,
				serverSecret: await loadOrCreateServerSecret(certDir),
				tls: await loadOrCreateCertificate(certDir),
				throttle: new LoginThrottle(),
				roomName: 'chat',
				port,
			});
			servers.push(server);
			return server;
		};
		const realDir = await mkdtemp(path.join(tmpdir(), 'parley-real-'));
		const otherDir = await mkdtemp(path.join(tmpdir(), 'parley-other-'));
		const real = await serve(realDir, 0);
		const session = tcp.client({port: real.port, session: {reconnectMinMs: 50, reconnectMaxMs: 200}}).client;
		closing.push(session);
		const view = render(
			<ChatScreen
				rooms={[{client: session, nick: 'alice', password: 'alice-pw'}]}
				size={SIZE}
				showMembers={false}
			/>,
		);
		const frame = (): string => plain(view.lastFrame());
		const until = (predicate: (text: string) => boolean, timeout = 5000) =>
			waitFor(() => predicate(frame()), frame, timeout);
		const statusRow = (): string => frame().split('\n')[0] ?? '';
		const warnings = (): number => frame().split('has CHANGED').length - 1;
		try {
			await until(() => /│ alice │ connected/.test(statusRow()));
			await typeKeys(view.stdin, 'said to the real server', KEYS.enter);
			await until((text) => text.includes('said to the real server') && !text.includes('(sending…)'));

			// The server goes; another one with another certificate answers on its port.
			await real.close();
			const impostor = await serve(otherDir, real.port);
			await until(() => /│ alice │ closed/.test(statusRow()) && warnings() === 1);
			await typeKeys(view.stdin, '/reconnect', KEYS.enter);
			await until(() => warnings() === 2, 5000);
			assert.match(statusRow(), /│ alice │ closed/, 'still refused');

			// The real server is back: /reconnect joins again, in the same tab with the same log.
			await impostor.close();
			await serve(realDir, real.port);
			await typeKeys(view.stdin, '/reconnect', KEYS.enter);
			await until(() => /│ alice │ connected/.test(statusRow()));
			assert.ok(frame().includes('said to the real server'), 'the log is kept');
		} finally {
			await rm(realDir, {recursive: true, force: true});
			await rm(otherDir, {recursive: true, force: true});
		}
	});
});
