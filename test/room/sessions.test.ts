// One account, many sessions: the room shows one member per account, every
// session sees everything, and the account shares one send rate.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import type {ServerMessage} from '../../source/protocol/messages.js';
import {ScriptedJournal, journalSettled, setup} from './harness.js';

type Welcome = Extract<ServerMessage, {t: 'welcome'}>;

/** alice from two machines (links alice@1, alice@2) and bob once, all logged in. */
function twoSessions(options: Parameters<typeof setup>[0] = {}) {
	const context = setup(options);
	context.join('alice', {account: 'alice', link: 'alice@1'});
	context.join('alice', {account: 'Alice', link: 'alice@2'});
	context.join('bob', {account: 'bob'});
	return context;
}

describe('room core: many sessions of one account', () => {
	it('shows one member per account, and tells its join once and its leave after the last session', () => {
		const {room, output, from} = twoSessions();
		assert.equal(room.size, 2);
		assert.equal(room.stats.sessions, 3);
		assert.deepEqual(room.memberList(), [{nick: 'alice'}, {nick: 'bob'}]);
		assert.equal(room.sessionsOf('ALICE').length, 2);
		const second = output.receivedBy('alice@2')[0] as Welcome;
		assert.deepEqual(second.members, [{nick: 'alice'}], 'the second session’s welcome lists alice once');
		assert.deepEqual(output.seenBy('bob'), ['welcome', 'join bob'], 'no second "alice joined"');
		assert.deepEqual(output.seenBy('alice@2').slice(1), ['join bob']);
		from('alice@1', {t: 'leave'});
		assert.ok(room.findMember('alice'), 'still here from the other machine');
		assert.deepEqual(output.seenBy('bob').slice(2), [], 'one session leaving is not alice leaving');
		from('alice@2', {t: 'leave'});
		assert.deepEqual(output.seenBy('bob').slice(2), ['leave alice']);
		assert.equal(room.size, 1);
	});

	it('gives every session every broadcast, its own sends from the other session included', () => {
		const {output, say} = twoSessions();
		output.clear();
		say('alice@1', 'from the laptop', 'lap-1');
		say('alice@2', 'from the desk', 'desk-1');
		for (const link of ['alice@1', 'alice@2', 'bob'])
			assert.deepEqual(
				output.seenBy(link),
				['msg 3 alice: from the laptop', 'msg 4 alice: from the desk'],
				link,
			);
	});

	it('sends a direct message to every session of the recipient and echoes it to the sender’s others', () => {
		const {output, from} = twoSessions();
		from('bob', {t: 'dm', ref: 'b1', to: 'alice', text: 'hi both'});
		from('alice@2', {t: 'dm', ref: 'a1', to: 'bob', text: 'hi bob'});
		assert.deepEqual(output.seenBy('alice@1').slice(-2), [
			'dm 1 bob→alice: hi both',
			'dm 2 alice→bob: hi bob',
		]);
		assert.deepEqual(output.seenBy('alice@2').slice(-2), [
			'dm 1 bob→alice: hi both',
			'dm 2 alice→bob: hi bob',
		]);
		assert.deepEqual(output.seenBy('bob').slice(-2), ['dm 1 bob→alice: hi both', 'dm 2 alice→bob: hi bob']);
		const refOf = (link: string) =>
			output
				.receivedBy(link)
				.filter((m) => m.t === 'dm')
				.map((m) => m.ref);
		assert.deepEqual(refOf('alice@2'), [undefined, 'a1'], 'the sending session’s copy acknowledges');
		assert.deepEqual(refOf('alice@1'), [undefined, undefined], 'the other session’s is an echo');
	});

	it('shares one send rate across the account’s sessions', () => {
		const {output, say} = twoSessions({limits: {ratePerSecond: 1, burst: 2}});
		output.clear();
		say('alice@1', 'one', 'x1');
		say('alice@2', 'two', 'x2');
		say('alice@2', 'three', 'x3');
		say('alice@1', 'four', 'x4');
		assert.deepEqual(output.seenBy('bob'), ['msg 3 alice: one', 'msg 4 alice: two']);
		assert.deepEqual(output.seenBy('alice@2').slice(-1), ['error rate-limited x3']);
		assert.deepEqual(output.seenBy('alice@1').slice(-1), ['error rate-limited x4']);
	});

	it('counts accounts, not sessions, against the member limit', () => {
		const {room, join} = setup({maxMembers: 1});
		join('alice', {account: 'alice', link: 'alice@1'});
		join('alice', {account: 'alice', link: 'alice@2'});
		assert.throws(() => join('bob', {account: 'bob'}), {code: 'room-full'});
		assert.equal(room.stats.sessions, 2);
	});

	it('joins a second session under the member’s nick, and refuses the nick to another account', () => {
		const {output, join} = setup();
		join('alice', {account: 'alice', link: 'alice@1'});
		join('whatever', {account: 'alice', link: 'alice@2'});
		assert.equal((output.receivedBy('alice@2')[0] as Welcome).nick, 'alice');
		assert.throws(() => join('alice', {account: 'mallory', link: 'm'}), {code: 'nick-taken'});
		assert.throws(() => join('alice', {link: 'no-account'}), {code: 'nick-taken'});
	});

	it('keeps one session per nick without accounts (UDP)', () => {
		const {join} = setup();
		join('alice', {link: 'a1'});
		assert.throws(() => join('alice', {link: 'a2'}), {code: 'nick-taken'});
	});

	it('parts every session of the account at once, tells the hub, and says so once', () => {
		const parted: string[] = [];
		const {room, output, from} = twoSessions({onPart: (account) => parted.push(account)});
		from('alice@1', {t: 'leave', part: true});
		assert.equal(room.findMember('alice'), undefined);
		assert.deepEqual(parted, ['alice']);
		assert.deepEqual(output.seenBy('bob').slice(-1), ['part alice']);
		assert.deepEqual(output.disconnectsOf('alice@2'), [
			{reason: 'left the room from another session', retry: false},
		]);
		assert.deepEqual(output.disconnectsOf('alice@1'), [], 'the asker closes its own');
	});

	it('renames every session of a member together', () => {
		const {room, output, from} = twoSessions();
		from('alice@1', {t: 'nick', nick: 'al'});
		assert.deepEqual(
			room.sessionsOf('al').map((m) => m.link),
			['alice@1', 'alice@2'],
		);
		assert.equal(room.sessionsOf('alice').length, 0);
		assert.deepEqual(output.seenBy('alice@2').slice(-1), ['nick al']);
	});

	it('marks an account’s reading, tells its other sessions, and never moves the marker back', () => {
		const reads: Array<[string, number]> = [];
		const {output, join, say, from} = setup({onRead: (account, seq) => reads.push([account, seq])});
		join('alice', {account: 'alice', link: 'alice@1', read: 1});
		join('alice', {account: 'alice', link: 'alice@2', version: 2});
		for (let i = 0; i < 4; i++) say('alice@1', `m${i}`);
		assert.equal((output.receivedBy('alice@2')[0] as Welcome).read, 1, 'the welcome carries the marker');
		from('alice@1', {t: 'read', seq: 4});
		from('alice@2', {t: 'read', seq: 3});
		from('alice@2', {t: 'read', seq: 99});
		assert.deepEqual(reads, [
			['alice', 4],
			['alice', 5],
		]);
		assert.deepEqual(
			output.seenBy('alice@2').filter((l) => l.startsWith('read')),
			['read 4'],
		);
		assert.deepEqual(
			output.seenBy('alice@1').filter((l) => l.startsWith('read')),
			['read 5'],
			'clamped to the newest seq',
		);
	});

	it('sends each session its own welcome and history, and tells the others nothing', async () => {
		const journal = new ScriptedJournal();
		const {output, join, say} = setup({journal});
		join('alice', {account: 'alice', link: 'alice@1'});
		say('alice@1', 'before the second machine');
		await journalSettled();
		output.clear();
		join('alice', {account: 'alice', link: 'alice@2', history: 10});
		await journalSettled();
		assert.deepEqual(output.seenBy('alice@2'), ['welcome', 'history 1,2']);
		assert.deepEqual(output.seenBy('alice@1'), []);
		assert.equal(journal.stored.length, 2, 'no presence stored for a second session');
	});

	it('closes every session when the room is removed, telling them not to come back', () => {
		const {room, output} = twoSessions();
		room.closeAll('the room was removed', false);
		for (const link of ['alice@1', 'alice@2', 'bob'])
			assert.deepEqual(output.disconnectsOf(link), [{reason: 'the room was removed', retry: false}]);
		assert.equal(room.size, 0);
		assert.equal(room.stats.sessions, 0);
	});
});
