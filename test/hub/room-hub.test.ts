// The room hub without sockets: rooms made by a factory with a recording
// output, over the real SQLite store in a temporary directory.
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterEach, beforeEach, describe, it} from 'node:test';
import {type HubJournal, type HubRoomSpec, RoomHub, type RoomHubOptions} from '../../server/hub/room-hub.js';
import {Room, type JoinOptions, type Member, type RoomOutput} from '../../server/room/room.js';
import {type AccountStore, emptyRoomSettings} from '../../server/store/account-store.js';
import {openSqliteStore} from '../../server/store/sqlite-store.js';
import {StoreJournal} from '../../server/tcp/store-journal.js';
import {ProtocolError, type ServerMessage} from '../../source/protocol/messages.js';
import {deriveVerifier} from '../../source/protocol/scram.js';

class RecordingOutput implements RoomOutput<string> {
	readonly sent: Array<{to: string; message: ServerMessage}> = [];
	broadcast(message: ServerMessage, members: Iterable<Member<string>>): void {
		for (const member of members) this.sent.push({to: member.link, message});
	}
	send(member: Member<string>, message: ServerMessage): void {
		this.sent.push({to: member.link, message});
	}
	disconnect(member: Member<string>, reason: string): void {
		this.sent.push({to: member.link, message: {t: 'bye', reason}});
	}
}

/** A room that remembers the options each join came with (the account, admin flag, read marker). */
class RecordingRoom extends Room<string> {
	readonly joins: Array<Record<string, unknown>> = [];
	override join(link: string, nick: string, options: Parameters<Room<string>['join']>[2] = {}) {
		this.joins.push({...options});
		return super.join(link, nick, options);
	}
}

const code = (expected: string) => (error: unknown) =>
	error instanceof ProtocolError && error.code === expected;

describe('room hub (TCP: over the store)', () => {
	const verifier = deriveVerifier('a password');
	let dir: string;
	let store: AccountStore;
	let specs: HubRoomSpec[];
	let output: RecordingOutput;
	let notified: Array<{to: string; message: ServerMessage}>;
	const hubs: RoomHub<string>[] = [];

	const startHub = async (options: Partial<RoomHubOptions<string>> = {}) => {
		const hub = await RoomHub.start<string>({
			store,
			openJournal: async (key) => (await StoreJournal.open(store, key)) as unknown as HubJournal,
			createRoom: (spec) => {
				specs.push(spec);
				return new RecordingRoom({
					name: spec.name,
					output,
					...(spec.options.journal ? {journal: spec.options.journal} : {}),
				});
			},
			notify: (to, message) => notified.push({to, message}),
			...options,
		});
		hubs.push(hub);
		return hub;
	};

	beforeEach(async () => {
		dir = await mkdtemp(path.join(tmpdir(), 'parley-hub-'));
		store = await openSqliteStore(dir);
		// Memberships and read markers belong to accounts that exist.
		for (const name of ['alice', 'bob', 'carol', 'root']) await store.createUser(name, await verifier);
		specs = [];
		output = new RecordingOutput();
		notified = [];
	});
	afterEach(async () => {
		for (const hub of hubs.splice(0)) hub.close('test over');
		await store.close();
		await rm(dir, {recursive: true, force: true});
	});

	it('stores the default room at start and opens it for a hello without a room', async () => {
		const hub = await startHub({defaultRoom: 'lobby'});
		assert.equal((await store.getRoom('lobby'))?.name, 'lobby');
		assert.equal(await hub.open(undefined, {account: 'alice'}), hub.defaultRoom);
		assert.equal(await hub.open('#Lobby', {account: 'alice'}), hub.defaultRoom, 'names compare by key');
	});

	it('creates a room on first join with its creator as owner, and remembers the membership', async () => {
		const hub = await startHub();
		const joined = await hub.join('a1', '#Dev', 'Alice', {account: 'Alice'}, {version: 2});
		assert.equal(joined.label, '#Dev');
		assert.equal(joined.key, 'dev');
		const stored = await store.getRoom('dev');
		assert.equal(stored?.name, 'Dev');
		assert.equal(stored?.owner, 'Alice');
		assert.deepEqual(stored?.settings.roles, {alice: 'owner'});
		assert.deepEqual(await store.membershipsOf('alice'), ['dev']);
		assert.deepEqual(await hub.memberships('Alice'), ['#Dev']);
		const spec = specs.find((s) => s.key === 'dev')!;
		assert.equal(spec.options.moderation, true, 'TCP rooms are moderated');
		assert.deepEqual(spec.options.settings?.roles, {alice: 'owner'});
		assert.ok(spec.options.journal, 'with its own journal');
		// The room is told who joined: the room helper shows one member per account.
		const room = joined.room as RecordingRoom;
		const extras = room.joins.at(-1) as JoinOptions;
		assert.equal(extras.account, 'Alice');
		assert.equal(extras.admin, false);
		assert.equal(extras.read, 0);
	});

	it('passes the stored read marker to the join, and stores what the room reports read', async () => {
		const hub = await startHub();
		await hub.join('a1', '#dev', 'alice', {account: 'alice'}, {version: 2});
		const spec = specs.find((s) => s.key === 'dev')!;
		spec.options.onRead?.('alice', 7);
		await waitUntil(async () => (await store.readMarker('alice', 'dev')) === 7);
		hub.find('#dev')!.leave(hub.find('#dev')!.findMember('alice')!);
		const again = await hub.join('a2', '#dev', 'alice', {account: 'alice'}, {version: 2});
		assert.equal(((again.room as RecordingRoom).joins.at(-1) as JoinOptions).read, 7);
	});

	it('loads a stored room once, however many open it at the same time', async () => {
		const hub = await startHub();
		await hub.open('#ops', {account: 'alice'});
		hub.close('restart');
		const again = await startHub();
		specs.length = 0;
		const [one, two] = await Promise.all([again.open('ops', {}), again.open('#OPS', {})]);
		assert.equal(one, two);
		assert.equal(specs.length, 1);
		assert.equal(specs[0]!.name, 'ops');
		// Made by two at once: one room, its first creator the owner.
		const [made, same] = await Promise.all([
			again.open('#Fresh', {account: 'alice'}),
			again.open('#fresh', {account: 'bob'}),
		]);
		assert.equal(made, same);
		assert.equal((await store.getRoom('fresh'))?.owner, 'alice');
		await assert.rejects(again.open('#other', {}), code('not-allowed'), 'a room needs an owner');
	});

	it('loads a room another server created once, even when one opener finds it in the store later', async () => {
		let lookups = 0;
		let firstOpened: Promise<unknown> = Promise.resolve();
		// The second lookup answers only once the first opener has the room loaded.
		const slowSecond = new Proxy(store, {
			get(target, property) {
				if (property === 'getRoom')
					return async (key: string) => {
						const call = ++lookups;
						const found = await target.getRoom(key);
						if (call === 2) await firstOpened;
						return found;
					};
				const value = Reflect.get(target, property);
				return typeof value === 'function' ? value.bind(target) : value;
			},
		});
		const hub = await startHub({store: slowSecond});
		await store.createRoom({
			name: 'elsewhere',
			key: 'elsewhere',
			createdAt: Date.now(),
			settings: emptyRoomSettings(),
		});
		specs.length = 0;
		lookups = 0;
		const first = hub.open('#elsewhere', {account: 'alice'});
		firstOpened = first;
		const second = hub.open('#elsewhere', {account: 'bob'});
		assert.equal(await first, await second);
		assert.equal(specs.length, 1);
	});

	it('lets only admins create rooms under --room-creation admin, and anyone join existing ones', async () => {
		const hub = await startHub({roomCreation: 'admin'});
		await assert.rejects(hub.open('#new', {account: 'bob'}), code('no-such-room'));
		assert.equal(await store.getRoom('new'), undefined);
		await hub.open('#new', {account: 'root', admin: true});
		await hub.join('b1', '#new', 'bob', {account: 'bob'}, {version: 2});
		assert.deepEqual(await store.membershipsOf('bob'), ['new']);
	});

	it('refuses rooms past the server limit and an account past its room limit', async () => {
		const hub = await startHub({maxRooms: 3, maxRoomsPerUser: 2});
		await hub.join('a1', '#one', 'alice', {account: 'alice'}, {version: 2});
		await hub.join('a1', '#two', 'alice', {account: 'alice'}, {version: 2});
		await assert.rejects(
			hub.join('a1', '#three', 'alice', {account: 'alice'}, {version: 2}),
			code('too-many-rooms'),
		);
		assert.equal(await store.getRoom('three'), undefined, 'refused before it was made');
		// lobby, one, two: the server is full.
		await assert.rejects(hub.open('#three', {account: 'bob'}), code('too-many-rooms'));
		// A room the account is already in does not count again.
		hub.find('#one')!.leave(hub.find('#one')!.findMember('alice')!);
		await hub.join('a2', '#one', 'alice', {account: 'alice'}, {version: 2});
		// Parting frees a place.
		await hub.part({account: 'alice'}, 'two');
		assert.deepEqual(await hub.memberships('alice'), ['#one']);
	});

	it('refuses bad room names', async () => {
		const hub = await startHub();
		await assert.rejects(hub.open('#no spaces', {account: 'alice'}), code('bad-request'));
		await assert.rejects(hub.open('#', {account: 'alice'}), code('bad-request'));
	});

	it('lists rooms with member counts and topics; private rooms only to their members, invitees and admins', async () => {
		const hub = await startHub();
		await hub.join('a1', '#dev', 'alice', {account: 'alice'}, {version: 2});
		await hub.join('b1', '#dev', 'bob', {account: 'bob'}, {version: 2});
		await hub.join('a1', '#secret', 'alice', {account: 'alice'}, {version: 2});
		const dev = specs.find((s) => s.key === 'dev')!.options;
		dev.onSettingsChange?.({...dev.settings!, topic: 'building things'});
		const secret = specs.find((s) => s.key === 'secret')!.options;
		secret.onSettingsChange?.({...secret.settings!, inviteOnly: true, invites: ['carol']});
		assert.deepEqual(await hub.list({account: 'bob'}), [
			{name: '#dev', members: 2, topic: 'building things'},
			{name: '#lobby', members: 0},
		]);
		const withSecret = [
			{name: '#dev', members: 2, topic: 'building things'},
			{name: '#lobby', members: 0},
			{name: '#secret', members: 1, private: true},
		];
		assert.deepEqual(await hub.list({account: 'alice'}), withSecret, 'a member sees it');
		assert.deepEqual(await hub.list({account: 'carol'}), withSecret, 'an invitee sees it');
		assert.deepEqual(await hub.list({account: 'root', admin: true}), withSecret, 'an admin sees it');
		// Settings were saved: a restarted hub lists the same.
		await waitUntil(async () => (await store.getRoom('dev'))?.settings.topic === 'building things');
		const restarted = await startHub();
		const listed = await restarted.list({account: 'bob'});
		assert.deepEqual(listed, [
			{name: '#dev', members: 0, topic: 'building things'},
			{name: '#lobby', members: 0},
		]);
	});

	it('caps the sessions of one account', async () => {
		const hub = await startHub({maxSessionsPerAccount: 2});
		hub.openSession('alice', 's1');
		hub.openSession('Alice', 's2');
		assert.throws(() => hub.openSession('alice', 's3'), code('too-many-sessions'));
		hub.openSession('bob', 's4');
		hub.closeSession('alice', 's1');
		hub.openSession('alice', 's3');
		assert.equal(hub.sessionsOf('ALICE'), 2);
	});

	it('delivers an invite to every session of the invitee, whatever room they are in', async () => {
		const hub = await startHub();
		hub.openSession('carol', 'c1');
		hub.openSession('carol', 'c2');
		hub.openSession('bob', 'b1');
		await hub.join('a1', '#secret', 'alice', {account: 'alice'}, {version: 2});
		specs.find((s) => s.key === 'secret')!.options.onInvite?.('Carol', 'alice');
		assert.deepEqual(notified, [
			{to: 'c1', message: {t: 'invited', room: '#secret', by: 'alice'}},
			{to: 'c2', message: {t: 'invited', room: '#secret', by: 'alice'}},
		]);
	});
});

describe('room hub (UDP: no store)', () => {
	const startHub = (options: Partial<RoomHubOptions<string>> = {}) =>
		RoomHub.start<string>({
			createRoom: (spec) => new Room({name: spec.name, output: new RecordingOutput()}),
			...options,
		});

	it('makes a room when joined and forgets it when it empties, but never the default room', async () => {
		const hub = await startHub();
		const dev = hub.openNow('#dev');
		assert.equal(hub.openNow('dev'), dev);
		const member = dev.join('x', 'alice');
		assert.deepEqual(await hub.list(), [
			{name: '#dev', members: 1},
			{name: '#lobby', members: 0},
		]);
		dev.leave(member);
		hub.release(dev);
		assert.deepEqual(await hub.list(), [{name: '#lobby', members: 0}]);
		assert.notEqual(hub.openNow('#dev'), dev, 'made afresh');
		hub.release(hub.defaultRoom);
		assert.equal(hub.find('lobby'), hub.defaultRoom);
	});

	it('refuses rooms past the server limit', async () => {
		const hub = await startHub({maxRooms: 2});
		hub.openNow('#one');
		assert.throws(() => hub.openNow('#two'), code('too-many-rooms'));
	});
});

async function waitUntil(probe: () => Promise<boolean>, timeout = 3000): Promise<void> {
	const deadline = Date.now() + timeout;
	while (!(await probe())) {
		if (Date.now() > deadline) throw new Error('timed out');
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}
