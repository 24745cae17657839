import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {usernameProblem} from '../../source/protocol/names.js';
import {deriveVerifier, type ScramCredential} from '../../source/protocol/scram.js';
import {
	InvalidUsernameError,
	NoSuchUserError,
	UserExistsError,
	type AccountStore,
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
