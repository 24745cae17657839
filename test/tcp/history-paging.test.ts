// A newcomer's history comes in pages: nine messages of 8 KiB are more than
// one 64 KiB frame holds, and every one of them still arrives.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import type {AccountStore} from '../../server/store/account-store.js';
import {sqliteBackend, type Backend} from '../store/backends.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';

describe('TCP room history for a newcomer', () => {
	let backend: Backend;
	let store: AccountStore;
	let room: TcpFixture;

	before(async () => {
		backend = await sqliteBackend();
		store = await backend.open();
		room = await tcpFixture(store);
		await room.addUser('alice', 'alice password');
		await room.addUser('bob', 'bob password');
	});
	after(async () => {
		await room.close();
		await store.close();
		await backend.cleanup();
	});

	it('pages a history larger than one frame', async () => {
		const alice = await room.login('alice', 'alice password');
		const texts = Array.from({length: 9}, (_, i) => `${i}${'x'.repeat(8000)}`);
		for (const text of texts) {
			alice.client.say(text);
			await alice.events.waitFor('message', (m) => m.self && m.text === text);
		}
		const bob = await room.login('bob', 'bob password');
		await bob.events.waitFor('message', (m) => m.history && m.text === texts.at(-1), 5000);
		assert.deepEqual(
			bob.events
				.of('message')
				.filter((m) => m.history)
				.map((m) => m.text),
			texts,
		);
		assert.equal(bob.events.of('error').length, 0);
	});
});
