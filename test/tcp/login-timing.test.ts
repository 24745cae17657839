// The client's side of slow logins: a server that never answers, and a person
// who takes longer to trust a new certificate than the server waits.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {RoomError} from '../../source/client/types.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import type {AccountStore} from '../../server/store/account-store.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {delay} from '../helpers/wait.js';

describe('TCP login timing', () => {
	let store: AccountStore;
	let room: TcpFixture;
	let dir: string;

	before(async () => {
		dir = await mkdtemp(path.join(tmpdir(), 'parley-login-timing-'));
		store = await openSqliteStore(dir);
		room = await tcpFixture(store, {authTimeoutMs: 300});
		await room.addUser('ada', 'ada password');
	});
	after(async () => {
		await room.close();
		await store.close();
		await rm(dir, {recursive: true, force: true});
	});

	it('gives up on a server that accepts but never answers, with a clear error', async () => {
		const silent = net.createServer(() => {}); // takes the connection, says nothing
		await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
		const port = (silent.address() as net.AddressInfo).port;
		const {client} = room.client({port, insecurePlaintext: true, loginReplyTimeoutMs: 300});
		const started = Date.now();
		const error = await client.connect('ada', 'ada password').catch((e: unknown) => e);
		assert.ok(error instanceof RoomError, String(error));
		assert.match(error.message, /did not answer the login within 0\.3 s/);
		assert.match(error.message, /without --insecure-plaintext/);
		assert.ok(Date.now() - started < 3000);
		await client.close();
		await new Promise((resolve) => silent.close(resolve));
	});

	it('logs in even when trusting a new server took longer than the server waits', async () => {
		let asked = 0;
		const {client} = room.client({
			confirmNewHost: async () => {
				asked++;
				await delay(600); // twice the server's login timeout
				return true;
			},
		});
		await client.connect('ada', 'ada password');
		assert.equal(client.state, 'connected');
		assert.equal(asked, 1, 'asked once; the reconnect found the certificate pinned');
		await client.close();
	});
});
