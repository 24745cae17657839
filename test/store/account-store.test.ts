import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {roomKey, usernameProblem} from '../../source/protocol/names.js';
import {deriveVerifier, type ScramCredential} from '../../source/protocol/scram.js';
import {
	emptyRoomSettings,
	InvalidUsernameError,
	NoSuchUserError,
	RoomExistsError,
	UserExistsError,
	type AccountStore,
	type RoomSettings,
	type StoredRoom,
} from '../../server/store/account-store.js';
import {
	mysqlBackend,
	reportUnreachable,
	RUN_ID,
	sqliteBackend,
	uniqueName,
	type Backend,
	type Unreachable,
} from './backends.js';

const backends: Array<Backend | Unreachable> = [await sqliteBackend(), await mysqlBackend()];

const verifier: ScramCredential = await deriveVerifier('a password');
const otherVerifier: ScramCredential = await deriveVerifier('another password');

for (const backend of backends) {
	if ('unreachable' in backend) {
		reportUnreachable('mysql account store', backend);
		continue;
	}
	describe(`${backend.name} account store`, () => {
		let store: AccountStore;
		before(async () => {
			store = await backend.open();
		});
		after(async () => {
			await store.close();
			await backend.cleanup();
		});

		test('create, get, list, change and remove a user', async () => {
			const name = uniqueName('Alice');
			await store.createUser(name, verifier);
			assert.deepEqual(await store.getVerifier(name), verifier);
			assert.deepEqual(await store.getVerifier(name.toUpperCase()), verifier, 'lookup is case-insensitive');
			assert.ok((await store.listUsers()).includes(name), 'listed with its original case');

			await store.setVerifier(name.toLowerCase(), otherVerifier);
			assert.deepEqual(await store.getVerifier(name), otherVerifier);

			assert.equal(await store.removeUser(name.toLowerCase()), true);
			assert.equal(await store.getVerifier(name), undefined);
			assert.equal(await store.removeUser(name), false);
			assert.ok(!(await store.listUsers()).includes(name));
			await assert.rejects(store.setVerifier(name, verifier), NoSuchUserError);
		});

		test('a duplicate name, in any case, is rejected', async () => {
			const name = uniqueName('Bob');
			await store.createUser(name, verifier);
			await assert.rejects(store.createUser(name, otherVerifier), UserExistsError);
			await assert.rejects(store.createUser(name.toUpperCase(), otherVerifier), UserExistsError);
			assert.deepEqual(await store.getVerifier(name), verifier, 'the original survives');
		});

		test('ten concurrent registrations of one name: exactly one wins', async () => {
			const name = uniqueName('race');
			// Two handles, as if two server processes raced.
			const second = await backend.open();
			try {
				const results = await Promise.allSettled(
					Array.from({length: 10}, (_, i) =>
						(i % 2 === 0 ? store : second).createUser(i % 3 === 0 ? name.toUpperCase() : name, verifier),
					),
				);
				assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
				for (const result of results) {
					if (result.status === 'rejected')
						assert.ok(result.reason instanceof UserExistsError, String(result.reason));
				}
			} finally {
				await second.close();
			}
		});

		test('invalid and injection-shaped names are refused, and the table survives', async () => {
			const evil = "x'); DROP TABLE parley_users; --";
			assert.ok(usernameProblem(evil) !== undefined);
			await assert.rejects(store.createUser(evil, verifier), InvalidUsernameError);
			await assert.rejects(store.createUser('', verifier), InvalidUsernameError);
			await assert.rejects(store.createUser('a'.repeat(33), verifier), InvalidUsernameError);
			await assert.rejects(store.createUser('spaced name', verifier), InvalidUsernameError);
			await assert.rejects(store.createUser('ünïcode', verifier), InvalidUsernameError);
			assert.equal(await store.getVerifier(evil), undefined);
			assert.equal(await store.getVerifier("' OR '1'='1"), undefined);
			assert.equal(await store.removeUser("' OR '1'='1"), false);
			const survivor = uniqueName('after');
			await store.createUser(survivor, verifier);
			assert.deepEqual(await store.getVerifier(survivor), verifier);
			await store.createUser(uniqueName('a.b-c_d'), verifier);
		});

		test('injection-shaped room names and texts are stored literally', async () => {
			const room = `${RUN_ID}'); DROP TABLE parley_messages; --`;
			const text = '\'); DELETE FROM parley_users; -- \\ " ` \u0000?';
			const seq = await store.appendMessage(room, {from: "o'brien", text, action: false, ts: 1});
			assert.equal(seq, 1);
			assert.deepEqual(await store.lastMessages(room, 10), [
				{seq: 1, from: "o'brien", text, action: false, ts: 1},
			]);
			assert.ok((await store.listUsers()).length >= 0);
		});

		test('fifty parallel appends get sequence numbers 1..50 with no gaps or repeats', async () => {
			const room = `${RUN_ID}-busy`;
			const second = await backend.open();
			try {
				const seqs = await Promise.all(
					Array.from({length: 50}, (_, i) =>
						(i % 2 === 0 ? store : second).appendMessage(room, {
							from: 'alice',
							text: `message ${i}`,
							action: false,
							ts: 1000 + i,
						}),
					),
				);
				assert.deepEqual(
					[...seqs].sort((a, b) => a - b),
					Array.from({length: 50}, (_, i) => i + 1),
				);
				assert.equal(await store.latestSeq(room), 50);
				const stored = await store.messagesAfter(room, 0, 100);
				assert.deepEqual(
					stored.map((m) => m.seq),
					Array.from({length: 50}, (_, i) => i + 1),
				);
				// Each text landed under the number its append returned.
				for (const [i, seq] of seqs.entries()) assert.equal(stored[seq - 1]?.text, `message ${i}`);
			} finally {
				await second.close();
			}
		});

		test('rooms count independently; messagesAfter and lastMessages page in order', async () => {
			const room = `${RUN_ID}-lobby`;
			const other = `${RUN_ID}-other`;
			assert.equal(await store.latestSeq(room), 0);
			assert.deepEqual(await store.lastMessages(room, 5), []);
			for (let i = 1; i <= 7; i++) {
				assert.equal(
					await store.appendMessage(room, {from: 'bob', text: `m${i}`, action: i === 3, ts: i}),
					i,
				);
			}
			assert.equal(
				await store.appendMessage(other, {from: 'eve', text: 'elsewhere', action: false, ts: 9}),
				1,
			);

			assert.deepEqual(await store.messagesAfter(room, 2, 3), [
				{seq: 3, from: 'bob', text: 'm3', action: true, ts: 3},
				{seq: 4, from: 'bob', text: 'm4', action: false, ts: 4},
				{seq: 5, from: 'bob', text: 'm5', action: false, ts: 5},
			]);
			assert.deepEqual((await store.messagesAfter(room, 7, 10)).length, 0);
			assert.deepEqual(
				(await store.lastMessages(room, 3)).map((m) => m.text),
				['m5', 'm6', 'm7'],
			);
			assert.deepEqual((await store.lastMessages(room, 0)).length, 0);
			assert.equal(await store.latestSeq(room), 7);
			assert.equal(await store.latestSeq(other), 1);
			// Names differing only by case or trailing space are different rooms.
			assert.equal(await store.appendMessage(`${room} `, {from: 'x', text: 'y', action: false, ts: 1}), 1);
			assert.equal(
				await store.appendMessage(room.replace('lobby', 'LOBBY'), {
					from: 'x',
					text: 'y',
					action: false,
					ts: 1,
				}),
				1,
			);
			assert.equal(await store.latestSeq(room), 7);
			await assert.rejects(store.messagesAfter(room, -1, 10), RangeError);
			await assert.rejects(store.appendMessage('', {from: 'a', text: 'b', action: false, ts: 1}), RangeError);
		});

		test('a resent message (same room, sender and ref) is stored once, even when resent concurrently', async () => {
			const room = `${RUN_ID}-resend`;
			const first = {from: 'alice', text: 'only once', action: false, ts: 1, ref: 'r-1'};
			assert.equal(await store.appendMessage(room, first), 1);
			assert.equal(
				await store.appendMessage(room, {...first, ts: 2}),
				1,
				'the resend gets the stored number back',
			);
			const second = await backend.open();
			try {
				const seqs = await Promise.all(
					Array.from({length: 10}, (_, i) =>
						(i % 2 === 0 ? store : second).appendMessage(room, {
							from: 'alice',
							text: 'twice?',
							action: false,
							ts: 3,
							ref: 'r-2',
						}),
					),
				);
				assert.deepEqual(new Set(seqs), new Set([2]));
			} finally {
				await second.close();
			}
			// The same ref from someone else, or without a ref, is a new message.
			assert.equal(
				await store.appendMessage(room, {from: 'bob', text: 'mine', action: false, ts: 4, ref: 'r-1'}),
				3,
			);
			assert.equal(await store.appendMessage(room, {from: 'alice', text: 'no ref', action: false, ts: 5}), 4);
			assert.equal(await store.appendMessage(room, {from: 'alice', text: 'no ref', action: false, ts: 5}), 5);
			assert.deepEqual(
				(await store.messagesAfter(room, 0, 10)).map((m) => [m.seq, m.from, m.text]),
				[
					[1, 'alice', 'only once'],
					[2, 'alice', 'twice?'],
					[3, 'bob', 'mine'],
					[4, 'alice', 'no ref'],
					[5, 'alice', 'no ref'],
				],
			);
			await assert.rejects(store.appendMessage(room, {...first, ref: 'bad ref with spaces'}), RangeError);
		});

		test('a message stored under a given number: idempotent, never a second copy, the counter only rises', async () => {
			const room = `${RUN_ID}-at`;
			const message = {from: 'alice', text: 'journaled', action: false, ts: 1, ref: 'j-1'};
			assert.equal(await store.storeMessageAt(room, 3, message), 'stored');
			assert.equal(await store.latestSeq(room), 3);
			assert.equal(await store.storeMessageAt(room, 3, message), 'duplicate', 'a replay is harmless');
			assert.equal(
				await store.storeMessageAt(room, 3, {...message, from: 'mallory', ref: 'j-2'}),
				'conflict',
				'the number is taken',
			);
			assert.equal(await store.storeMessageAt(room, 4, message), 'conflict', 'the ref is taken');
			assert.equal(await store.latestSeq(room), 4, 'a number given out is never given again');
			assert.equal(await store.storeMessageAt(room, 2, {...message, ref: 'j-0'}), 'stored');
			assert.equal(await store.latestSeq(room), 4, 'an older number does not move the counter back');
			assert.equal(await store.appendMessage(room, {...message, ref: 'j-5'}), 5);
			assert.deepEqual(
				(await store.messagesAfter(room, 0, 10)).map((m) => [m.seq, m.from, m.ref]),
				[
					[2, 'alice', 'j-0'],
					[3, 'alice', 'j-1'],
					[5, 'alice', 'j-5'],
				],
			);
		});

		test('a batch stored under given numbers: one outcome each, in one go, the counter at the highest', async () => {
			const room = `${RUN_ID}-batch`;
			const message = (text: string, ref: string) => ({from: 'alice', text, action: false, ts: 1, ref});
			assert.equal(await store.storeMessageAt(room, 2, message('earlier', 'b-2')), 'stored');
			assert.deepEqual(
				await store.storeMessagesAt(room, [
					{seq: 1, message: message('one', 'b-1')},
					{seq: 2, message: message('earlier', 'b-2')},
					{seq: 3, message: {...message('three', 'b-3'), from: 'bob'}},
					{seq: 4, message: message('same ref', 'b-1')},
					{seq: 5, message: message('five', 'b-5')},
				]),
				['stored', 'duplicate', 'stored', 'conflict', 'stored'],
			);
			assert.deepEqual(await store.storeMessagesAt(room, []), []);
			assert.equal(await store.latestSeq(room), 5);
			assert.deepEqual(
				(await store.messagesAfter(room, 0, 10)).map((m) => [m.seq, m.text]),
				[
					[1, 'one'],
					[2, 'earlier'],
					[3, 'three'],
					[5, 'five'],
				],
			);
		});

		test('paging back through 5,000 events in pages of 200 reaches seq 1 with no gap or duplicate', async () => {
			const room = `${RUN_ID}-paged`;
			const total = 5000;
			// Every 25th event is a presence row: pages carry them in order too.
			const event = (seq: number) =>
				seq % 25 === 0
					? {from: `m${seq}`, text: '', action: false, ts: seq, presence: {kind: 'join' as const}}
					: {from: 'alice', text: `m${seq}`, action: false, ts: seq};
			const second = await backend.open();
			try {
				for (let start = 1; start <= total; start += 50) {
					await Promise.all(
						Array.from({length: 50}, (_, i) =>
							(i % 2 === 0 ? store : second).storeMessageAt(room, start + i, event(start + i)),
						),
					);
				}
			} finally {
				await second.close();
			}
			assert.equal(await store.latestSeq(room), total);
			const seen: number[] = [];
			let before = total + 1;
			for (let pages = 0; ; pages++) {
				assert.ok(pages <= total / 200, 'paging ends');
				const page = await store.messagesBefore(room, before, 200);
				if (page.length === 0) break;
				assert.equal(page.length, 200);
				assert.deepEqual(
					page.map((m) => m.seq),
					Array.from({length: 200}, (_, i) => before - 200 + i),
					'a page is the newest 200 before `before`, oldest first',
				);
				for (const message of page) assert.deepEqual(message, {seq: message.seq, ...event(message.seq)});
				seen.unshift(...page.map((m) => m.seq));
				before = page[0]!.seq;
			}
			assert.equal(before, 1, 'the last page reached seq 1');
			assert.deepEqual(
				seen,
				Array.from({length: total}, (_, i) => i + 1),
			);
			assert.deepEqual(
				(await store.messagesBefore(room, 4, 200)).map((m) => m.seq),
				[1, 2, 3],
			);
			assert.deepEqual(await store.messagesBefore(room, 1, 200), []);
			assert.equal((await store.messagesBefore(room, total + 1, 5000)).length, 1000, 'capped at MAX_PAGE');
		});

		test('search: case-insensitive, % _ and ! match literally, newest first within the limit, never presence', async () => {
			const room = `${RUN_ID}-search`;
			const texts = [
				'Hello World',
				'100% sure',
				'a_b',
				'ab',
				'axb',
				'a!b',
				'ÜBER cool',
				'hello there',
				'back\\slash',
			];
			const seqOf = new Map<string, number>();
			for (const text of texts)
				seqOf.set(text, await store.appendMessage(room, {from: 'bob', text, action: false, ts: 1}));
			// Presence rows never match, even one whose text would.
			await store.appendMessage(room, {
				from: 'hello',
				text: 'hello from a presence row',
				action: false,
				ts: 2,
				presence: {kind: 'topic', text: 'hello'},
			});
			await store.appendMessage(`${RUN_ID}-elsewhere`, {from: 'bob', text: 'hello', action: false, ts: 1});
			const found = async (text: string, before?: number, limit = 50) =>
				(await store.searchMessages(room, text, before, limit)).map((m) => m.text);

			assert.deepEqual(await found('hello'), ['Hello World', 'hello there']);
			assert.deepEqual(await found('HELLO wOrLd'), ['Hello World']);
			assert.deepEqual(await found('%'), ['100% sure']);
			assert.deepEqual(await found('_'), ['a_b']);
			assert.deepEqual(await found('a_b'), ['a_b']);
			assert.deepEqual(await found('!'), ['a!b']);
			assert.deepEqual(await found('\\'), ['back\\slash']);
			assert.deepEqual(await found('über'), ['ÜBER cool']);
			assert.deepEqual(await found('nothing like it'), []);
			assert.deepEqual(await found('hello', seqOf.get('hello there')), ['Hello World'], 'only before');
			assert.deepEqual(await found('hello', undefined, 1), ['hello there'], 'the newest within the limit');
			assert.deepEqual(
				(await store.searchMessages(room, '', undefined, 50)).map((m) => m.text),
				texts,
				'even matching everything, no presence row',
			);
			const [hit] = await store.searchMessages(room, 'world', undefined, 50);
			assert.deepEqual(hit, {
				seq: seqOf.get('Hello World'),
				from: 'bob',
				text: 'Hello World',
				action: false,
				ts: 1,
			});
		});

		test('presence rows keep their details through every read', async () => {
			const room = `${RUN_ID}-presence`;
			const kick = {kind: 'kick' as const, by: 'bob', reason: 'spam'};
			const ban = {kind: 'ban' as const, by: 'bob', reason: 'again', until: Date.UTC(2027, 0, 1)};
			assert.equal(await store.appendMessage(room, {from: 'carol', text: 'hi', action: false, ts: 1}), 1);
			assert.equal(
				await store.appendMessage(room, {from: 'troll', text: '', action: false, ts: 2, presence: kick}),
				2,
			);
			assert.equal(
				await store.storeMessageAt(room, 3, {from: 'troll', text: '', action: false, ts: 3, presence: ban}),
				'stored',
			);
			assert.equal(
				await store.storeMessageAt(room, 3, {from: 'troll', text: '', action: false, ts: 3, presence: ban}),
				'duplicate',
			);
			const nick = {kind: 'nick' as const, old: 'al'};
			await store.appendMessage(room, {from: 'alice', text: '', action: false, ts: 4, presence: nick});
			const expected = [
				{seq: 1, from: 'carol', text: 'hi', action: false, ts: 1},
				{seq: 2, from: 'troll', text: '', action: false, ts: 2, presence: kick},
				{seq: 3, from: 'troll', text: '', action: false, ts: 3, presence: ban},
				{seq: 4, from: 'alice', text: '', action: false, ts: 4, presence: nick},
			];
			assert.deepEqual(await store.messagesAfter(room, 0, 10), expected);
			assert.deepEqual(await store.lastMessages(room, 10), expected);
			assert.deepEqual(await store.messagesBefore(room, 5, 10), expected);
		});

		test('rooms: create, read, list, save settings, remove; keys are case-insensitive', async () => {
			const name = `${RUN_ID}-Dev`;
			const key = roomKey(name);
			const owner = uniqueName('owner');
			const room: StoredRoom = {
				name,
				key,
				owner,
				createdAt: 1_700_000_000_000,
				settings: emptyRoomSettings(),
			};
			assert.equal(await store.getRoom(key), undefined);
			await store.createRoom(room);
			assert.deepEqual(await store.getRoom(key), room);
			assert.deepEqual(await store.getRoom(`#${name.toUpperCase()}`), room, 'any spelling finds it');
			await assert.rejects(
				store.createRoom({...room, name: name.toUpperCase(), key: roomKey(name.toUpperCase())}),
				RoomExistsError,
			);
			const operators = {
				name: `${RUN_ID}-ops`,
				key: `${RUN_ID}-ops`,
				createdAt: 2,
				settings: emptyRoomSettings(),
			};
			await store.createRoom(operators);
			assert.deepEqual(await store.getRoom(operators.key), operators, 'no owner: none read back');
			assert.deepEqual(
				(await store.listRooms()).filter((r) => r.key.startsWith(RUN_ID)).map((r) => r.key),
				[key, operators.key],
				'sorted by key',
			);

			const settings: RoomSettings = {
				topic: 'release on Friday — ünïcode too',
				inviteOnly: true,
				moderated: false,
				roles: {[owner.toLowerCase()]: 'owner', bob: 'op', carol: 'voice'},
				bans: {mallory: {account: 'Mallory', by: 'bob', reason: 'spam', until: 1_800_000_000_000}},
				mutes: {eve: {until: 1_800_000_000_000, by: 'bob'}, trent: {}},
				invites: ['dave'],
			};
			await store.saveRoomSettings(key.toUpperCase(), settings);
			assert.deepEqual((await store.getRoom(key))?.settings, settings);
			await store.saveRoomSettings(key, settings); // unchanged: still fine
			await assert.rejects(store.saveRoomSettings(`${RUN_ID}-nowhere`, settings));

			assert.equal(await store.removeRoom(`#${name}`), true);
			assert.equal(await store.getRoom(key), undefined);
			assert.equal(await store.removeRoom(key), false);
			assert.deepEqual(
				(await store.listRooms()).filter((r) => r.key.startsWith(RUN_ID)).map((r) => r.key),
				[operators.key],
			);
			await assert.rejects(store.getRoom(''), RangeError);
		});

		test('removing a room removes its messages, counter, memberships and read markers, and nothing else', async () => {
			const key = `${RUN_ID}-doomed`;
			const other = `${RUN_ID}-kept`;
			const [alice, bob] = [uniqueName('alice'), uniqueName('bob')];
			for (const user of [alice, bob]) await store.createUser(user, verifier);
			await store.createRoom({name: key, key, createdAt: 1, settings: emptyRoomSettings()});
			for (const room of [key, other]) {
				await store.appendMessage(room, {from: 'alice', text: 'hi', action: false, ts: 1});
				await store.appendMessage(room, {
					from: 'alice',
					text: '',
					action: false,
					ts: 2,
					presence: {kind: 'leave'},
				});
				for (const user of [alice, bob]) {
					await store.addMembership(user, room);
					await store.setReadMarker(user, room, 2);
				}
			}
			assert.equal(await store.removeRoom(key), true);
			assert.deepEqual(await store.messagesAfter(key, 0, 10), []);
			assert.equal(await store.latestSeq(key), 0);
			for (const user of [alice, bob]) {
				assert.deepEqual(await store.membershipsOf(user), [other]);
				assert.equal(await store.readMarker(user, key), 0);
				assert.equal(await store.readMarker(user, other), 2);
			}
			assert.equal((await store.messagesAfter(other, 0, 10)).length, 2);
			// A room that only has history (the default room of an older server) is removed too.
			assert.equal(await store.removeRoom(other), true);
			assert.deepEqual(await store.messagesAfter(other, 0, 10), []);
			assert.equal(await store.removeRoom(other), false);
			// The room starts afresh if used again.
			assert.equal(await store.appendMessage(key, {from: 'bob', text: 'new', action: false, ts: 3}), 1);
		});

		test('memberships: in join order, idempotent, case-insensitive, gone with the account', async () => {
			const user = uniqueName('Member');
			await store.createUser(user, verifier);
			const [a, b, c] = ['a', 'b', 'c'].map((x) => `${RUN_ID}-m${x}`) as [string, string, string];
			assert.deepEqual(await store.membershipsOf(user), []);
			for (const room of [c, a, b, a, `#${a.toUpperCase()}`]) await store.addMembership(user, room);
			assert.deepEqual(await store.membershipsOf(user.toUpperCase()), [c, a, b], 'a repeat keeps its place');
			await store.removeMembership(user.toLowerCase(), `#${a}`);
			assert.deepEqual(await store.membershipsOf(user), [c, b]);
			await store.addMembership(user, a);
			assert.deepEqual(await store.membershipsOf(user), [c, b, a], 'joined again: last');
			await store.removeMembership(user, `${RUN_ID}-never`);

			const ghost = uniqueName('ghost');
			await store.addMembership(ghost, a);
			assert.deepEqual(await store.membershipsOf(ghost), [], 'an unknown account remembers nothing');
			assert.deepEqual(await store.membershipsOf("' OR '1'='1"), []);

			assert.equal(await store.removeUser(user), true);
			await store.createUser(user, verifier);
			assert.deepEqual(await store.membershipsOf(user), [], 'a new account of the same name starts afresh');
		});

		test('read markers move only forward, also with twenty writers at once', async () => {
			const user = uniqueName('reader');
			await store.createUser(user, verifier);
			const room = `${RUN_ID}-read`;
			assert.equal(await store.readMarker(user, room), 0);
			await store.setReadMarker(user, room, 5);
			await store.setReadMarker(user.toUpperCase(), `#${room.toUpperCase()}`, 3);
			assert.equal(await store.readMarker(user, room), 5, 'never back');
			await store.setReadMarker(user, room, 7);
			assert.equal(await store.readMarker(user, room), 7);
			assert.equal(await store.readMarker(user, `${RUN_ID}-other`), 0, 'per room');

			const second = await backend.open();
			try {
				for (let round = 0; round < 5; round++) {
					const base = 100 * (round + 1);
					// The highest goes first: anything read-then-written would land a lower one after it.
					const seqs = Array.from({length: 20}, (_, i) => base + ((i * 7) % 20));
					seqs.sort((x, y) => (x === base + 19 ? -1 : y === base + 19 ? 1 : 0));
					await Promise.all(
						seqs.map((seq, i) => (i % 2 === 0 ? store : second).setReadMarker(user, room, seq)),
					);
					assert.equal(await store.readMarker(user, room), base + 19);
					assert.equal(await second.readMarker(user, room), base + 19);
				}
			} finally {
				await second.close();
			}
			const ghost = uniqueName('ghost');
			await store.setReadMarker(ghost, room, 9);
			assert.equal(await store.readMarker(ghost, room), 0);
			await assert.rejects(store.setReadMarker(user, room, -1), RangeError);
		});

		test('the admin flag: off by default, set and cleared case-insensitively, unknown users are not admins', async () => {
			const name = uniqueName('Admin');
			await store.createUser(name, verifier);
			assert.equal(await store.isAdmin(name), false);
			await store.setAdmin(name.toLowerCase(), true);
			assert.equal(await store.isAdmin(name.toUpperCase()), true);
			await store.setAdmin(name, true); // again: no change, no error
			assert.equal(await store.isAdmin(name), true);
			await store.setAdmin(name, false);
			assert.equal(await store.isAdmin(name), false);
			assert.equal(await store.isAdmin(uniqueName('nobody')), false);
			assert.equal(await store.isAdmin("' OR '1'='1"), false);
			await assert.rejects(store.setAdmin(uniqueName('nobody'), true), NoSuchUserError);
		});

		test('ping answers while open', async () => {
			await store.ping();
		});

		test('a closed store refuses work', async () => {
			const handle = await backend.open();
			await handle.close();
			await handle.close(); // idempotent
			await assert.rejects(handle.ping());
		});
	});
}
