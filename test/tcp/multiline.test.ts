// A multi-line message over a real TLS room (node:sqlite store): delivered
// whole with its line breaks, and replayed the same from the stored history.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import type {AccountStore} from '../../server/store/account-store.js';
import {sqliteBackend, uniqueName, type Backend} from '../store/backends.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';

describe('TCP room: multi-line messages', () => {
	let source: Backend;
	let store: AccountStore;
	let room: TcpFixture;
	const alice = uniqueName('alice');
	const bob = uniqueName('bob');

	before(async () => {
		source = await sqliteBackend();
		store = await source.open();
		room = await tcpFixture(store, {roomName: uniqueName('room')});
		await room.addUser(alice, 'alice password');
		await room.addUser(bob, 'bob password');
	});
	after(async () => {
		await room.close();
		await store.close();
		await source.cleanup();
	});

	it('delivers and stores a multi-line message intact', async () => {
		const text = 'first line\n\tsecond, indented\n\nfourth — ünïcödé';
		const a = await room.login(alice, 'alice password');
		a.client.say(text);
		const echoed = await a.events.waitFor('message', (message) => message.self);
		assert.equal(echoed.text, text);
		const b = await room.login(bob, 'bob password');
		const replayed = await b.events.waitFor('message', (message) => message.history);
		assert.equal(replayed.text, text);
		assert.equal(b.events.of('message').length, 1);
		await Promise.all([a.client.close(), b.client.close()]);
	});
});
