// The room core without sockets: a recording RoomOutput stands in for the
// transports and a fake clock for time, so every rule is checked exactly.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import type {RoomOptions} from '../../server/room/room.js';
import type {RoomEventMessage, ServerMessage} from '../../source/protocol/messages.js';
import {ScriptedJournal, journalSettled, microtasks, setup as harness} from './harness.js';

/** The version-1 helpers these tests were written with: join by nick, with since/history only. */
function setup(options: Partial<RoomOptions<string>> = {}) {
	const context = harness(options);
	const join = (nick: string, extra: {since?: number; history?: number} = {}) => context.join(nick, extra);
	return {...context, join};
}

describe('room core: members and order', () => {
	it('welcomes a member, then tells everyone, the newcomer included', () => {
		const {output, join} = setup();
		join('alice');
		join('bob');
		assert.deepEqual(output.seenBy('bob'), ['welcome', 'join bob']);
		assert.deepEqual(output.seenBy('alice'), ['welcome', 'join alice', 'join bob']);
		const welcome = output.receivedBy('bob')[0] as Extract<ServerMessage, {t: 'welcome'}>;
		assert.deepEqual(welcome.members, [{nick: 'alice'}, {nick: 'bob'}]);
		assert.equal(welcome.seq, 1, 'the sequence number it starts after');
	});

	it('refuses a nick that looks like a member’s (UTS #39 skeleton), at join and on rename', () => {
		const {room, join, from, output} = setup();
		join('bob');
		for (const lookalike of ['bоb' /* Cyrillic о */, 'b0b', 'BOB'])
			assert.throws(() => join(lookalike), {code: 'nick-taken'}, lookalike);
		assert.throws(() => join('b0b'), /looks too much like bob/);
		join('carol');
		output.clear();
		from('carol', {t: 'nick', nick: 'bоb'});
		assert.deepEqual(output.seenBy('carol'), ['error nick-taken']);
		assert.equal(room.findMember('carol')?.nick, 'carol');
		from('bob', {t: 'nick', nick: 'B0B'});
		assert.equal(room.findMember('B0B')?.nick, 'B0B', 'one’s own look-alike is no one else’s');
	});

	it('numbers presence and messages in one sequence and delivers them in that order to all', () => {
		const {output, join, say, from} = setup();
		join('alice');
		join('bob');
		say('alice', 'hi');
		from('bob', {t: 'nick', nick: 'robert'});
		say('robert', 'renamed');
		from('robert', {t: 'leave'});
		say('alice', 'alone');
		const sequenced = output.deliveries
			.filter((d) => d.kind === 'broadcast')
			.map((d) => (d.message as RoomEventMessage).seq);
		assert.deepEqual(sequenced, [1, 2, 3, 4, 5, 6, 7]);
		assert.deepEqual(output.seenBy('alice').slice(1), [
			'join alice',
			'join bob',
			'msg 3 alice: hi',
			'nick robert',
			'msg 5 robert: renamed',
			'leave robert',
			'msg 7 alice: alone',
		]);
		assert.deepEqual(
			output.seenBy('bob').at(-1),
			'msg 5 robert: renamed',
			'the leaver got its own last line',
		);
		assert.ok(!output.seenBy('bob').includes('msg 7 alice: alone'), 'and nothing after it left');
	});

	it('refuses taken (case-insensitively), invalid nicks and a full room', () => {
		const {room, join} = setup({maxMembers: 2});
		join('alice');
		assert.throws(() => room.join('x', 'ALICE'), {code: 'nick-taken'});
		assert.throws(() => room.join('x', 'bad nick'), {code: 'nick-invalid'});
		join('bob');
		assert.throws(() => room.join('x', 'carol'), {code: 'room-full'});
		assert.equal(room.size, 2);
	});

	it('sends a direct message to its recipient and the sender only, each numbered per member', () => {
		const {output, join, from} = setup();
		join('alice');
		join('bob');
		join('carol');
		output.clear();
		from('alice', {t: 'dm', ref: 'd1', to: 'BOB', text: 'psst'});
		from('carol', {t: 'dm', ref: 'd2', to: 'bob', text: 'me too'});
		assert.deepEqual(output.seenBy('bob'), ['dm 1 alice→bob: psst', 'dm 2 carol→bob: me too']);
		assert.deepEqual(output.seenBy('alice'), ['dm 1 alice→bob: psst']);
		assert.deepEqual(output.seenBy('carol'), ['dm 1 carol→bob: me too']);
		assert.equal(
			(output.receivedBy('alice')[0] as {ref?: string}).ref,
			'd1',
			'the sender’s copy acknowledges',
		);
		assert.equal((output.receivedBy('bob')[0] as {ref?: string}).ref, undefined);
		from('alice', {t: 'dm', ref: 'd3', to: 'nobody', text: 'x'});
		assert.deepEqual(output.seenBy('alice').at(-1), 'error no-such-nick d3');
	});

	it('answers a resent send with the original, to the sender only, posting nothing', () => {
		const {room, output, join, say, from} = setup();
		join('alice');
		join('bob');
		say('alice', 'once', 'same-ref');
		from('alice', {t: 'dm', ref: 'dm-ref', to: 'bob', text: 'once too'});
		output.clear();
		say('alice', 'once (retransmitted)', 'same-ref');
		from('alice', {t: 'dm', ref: 'dm-ref', to: 'bob', text: 'once too'});
		assert.deepEqual(output.seenBy('alice'), ['msg 3 alice: once', 'dm 1 alice→bob: once too']);
		assert.deepEqual(output.seenBy('bob'), []);
		assert.equal(room.latestSeq, 3);
		assert.equal(room.stats.messages, 2);
	});
});

describe('room core: limits', () => {
	it('refuses sends over the rate with the ref, refills with time, and kicks a flood', async () => {
		const {room, output, clock, join, say} = setup({limits: {ratePerSecond: 2, burst: 3}, floodStrikes: 4});
		join('alice');
		join('bob');
		output.clear();
		for (let i = 0; i < 5; i++) say('alice', `m${i}`, `ref${i}`);
		assert.deepEqual(output.seenBy('alice'), [
			'msg 3 alice: m0',
			'msg 4 alice: m1',
			'msg 5 alice: m2',
			'error rate-limited ref3',
			'error rate-limited ref4',
		]);
		clock.advance(500); // one token back at 2 a second
		say('alice', 'after a pause', 'ref5');
		say('alice', 'too soon', 'ref6');
		assert.deepEqual(output.seenBy('alice').slice(-2), [
			'msg 6 alice: after a pause',
			'error rate-limited ref6',
		]);
		assert.ok(room.isMember(room.findMember('alice')!), 'three strikes: still in');
		say('alice', 'the fourth strike', 'ref7');
		await microtasks();
		assert.equal(room.findMember('alice'), undefined);
		assert.deepEqual(
			output.seenBy('alice').slice(-1),
			['error rate-limited ref7'],
			'told why before the kick',
		);
		assert.deepEqual(
			output.deliveries.find((d) => d.kind === 'disconnect'),
			{kind: 'disconnect', to: 'alice', reason: 'flooding', retry: true},
		);
		assert.equal(output.seenBy('bob').at(-1), 'kick alice');
		assert.equal(room.stats.rateLimited, 4);
	});

	it('refuses text that is too long or carries control characters', () => {
		const {output, join, say} = setup({limits: {maxTextBytes: 10}});
		join('alice');
		output.clear();
		say('alice', '12345678901', 'long');
		say('alice', 'bell\u0007', 'bell');
		say('alice', 'fits', 'ok');
		assert.deepEqual(output.seenBy('alice'), [
			'error too-long long',
			'error bad-request bell',
			'msg 2 alice: fits',
		]);
	});
});

describe('room core: resends', () => {
	const posted = (count: number, options: Partial<RoomOptions<string>> = {}) => {
		const context = setup({limits: {ratePerSecond: 1000, burst: 1000}, ...options});
		context.join('alice'); // seq 1
		context.join('bob'); // seq 2
		for (let i = 3; i <= count; i++) context.say('alice', `m${i}`);
		context.output.clear();
		return context;
	};

	it('resends a range from the history ring, in order, to the asker only', () => {
		const {output, from} = posted(10);
		from('bob', {t: 'resend', s: 'room', from: 4, to: 6});
		assert.deepEqual(output.seenBy('bob'), ['msg 4 alice: m4', 'msg 5 alice: m5', 'msg 6 alice: m6']);
		assert.deepEqual(output.seenBy('alice'), []);
		from('bob', {t: 'resend', s: 'room', from: 9, to: 50});
		assert.deepEqual(
			output.seenBy('bob').slice(3),
			['msg 9 alice: m9', 'msg 10 alice: m10'],
			'clamped to the latest',
		);
	});

	it('reports what the ring no longer holds as lost, then sends the rest', () => {
		const {output, from} = posted(20, {historySize: 8});
		from('bob', {t: 'resend', s: 'room', from: 5, to: 15});
		assert.deepEqual(output.seenBy('bob'), [
			'lost 5-12',
			'msg 13 alice: m13',
			'msg 14 alice: m14',
			'msg 15 alice: m15',
		]);
	});

	it('resends at most maxResend and reports the older part lost', () => {
		const {output, from} = posted(20, {maxResend: 3});
		from('bob', {t: 'resend', s: 'room', from: 1, to: 20});
		assert.deepEqual(output.seenBy('bob'), [
			'lost 1-17',
			'msg 18 alice: m18',
			'msg 19 alice: m19',
			'msg 20 alice: m20',
		]);
	});

	it('catches a rejoining member up from `since`, after its welcome', () => {
		const {room, output, from} = posted(8);
		from('bob', {t: 'leave'});
		room.join('bob', 'bob', {since: 6});
		// Its own leave (9) it never saw, so that comes too; then everyone hears it is back.
		assert.deepEqual(output.seenBy('bob'), [
			'welcome',
			'msg 7 alice: m7',
			'msg 8 alice: m8',
			'leave bob',
			'join bob',
		]);
	});

	it('answers resend requests from their own budget; past it, neither answers nor strikes', () => {
		const {room, output, from} = posted(5, {resendBurst: 10, resendRate: 1, floodStrikes: 2});
		for (let i = 0; i < 100; i++) from('bob', {t: 'resend', s: 'room', from: 3, to: 3});
		const answered = output.seenBy('bob').filter((line) => line === 'msg 3 alice: m3').length;
		assert.equal(answered, 10, 'the burst is answered, the rest is not');
		assert.equal(room.stats.resendsRefused, 90);
		assert.deepEqual(
			output.seenBy('bob').filter((line) => !line.startsWith('msg ')),
			[],
			'no error and no kick: a reader repairing a lossy link is not flooding',
		);
		assert.ok(room.findMember('bob'), 'bob is still in the room');
	});

	it('resends direct messages from the member’s own stream', () => {
		const {output, join, from} = setup({directHistorySize: 2});
		join('alice');
		join('bob');
		for (const text of ['a', 'b', 'c']) from('alice', {t: 'dm', ref: `d-${text}`, to: 'bob', text});
		output.clear();
		from('bob', {t: 'resend', s: 'direct', from: 1, to: 3});
		assert.deepEqual(output.seenBy('bob'), ['lost 1-1', 'dm 2 alice→bob: b', 'dm 3 alice→bob: c']);
	});

	it('makes a member’s direct stream, refs and resend/read budgets only when first used', () => {
		const {output, join, session, from, say} = setup({directHistorySize: 4, resendBurst: 2, resendRate: 1});
		join('alice');
		join('bob');
		join('carol');
		const bob = session('bob');
		const idle = {direct: bob.direct, refs: bob.refs, resend: bob.resendBucket, read: bob.readBucket};
		assert.deepEqual(idle, {direct: undefined, refs: undefined, resend: undefined, read: undefined});
		// Made on first use, they work as ever: the stream resends, the refs dedupe, the budget holds.
		from('alice', {t: 'dm', ref: 'd-1', to: 'bob', text: 'one'});
		say('bob', 'hi', 'r-1');
		output.clear();
		say('bob', 'hi (retransmitted)', 'r-1');
		from('bob', {t: 'resend', s: 'direct', from: 1, to: 1});
		from('bob', {t: 'resend', s: 'direct', from: 1, to: 1});
		from('bob', {t: 'resend', s: 'direct', from: 1, to: 1});
		assert.deepEqual(output.seenBy('bob'), ['msg 4 bob: hi', 'dm 1 alice→bob: one', 'dm 1 alice→bob: one']);
		assert.ok(bob.direct && bob.refs && bob.resendBucket);
		assert.equal(session('carol').direct, undefined, 'carol, idle, still has none');
	});
});

describe('room core with a journal', () => {
	it('numbers messages by the journal and tells the sender when a write fails', async () => {
		const journal = new ScriptedJournal();
		const {room, output, join, say} = setup({journal});
		join('alice');
		join('bob');
		await journalSettled();
		journal.failNext = 1;
		say('alice', 'lost in the outage', 'r-fail');
		say('alice', 'stored', 'r-ok');
		await journalSettled();
		assert.deepEqual(output.seenBy('alice').slice(-2), ['error server-error r-fail', 'msg 3 alice: stored']);
		assert.deepEqual(
			output.seenBy('bob').slice(-1),
			['msg 3 alice: stored'],
			'the failed one was never posted',
		);
		assert.equal(room.latestSeq, 3);
		assert.deepEqual(
			journal.stored.map((e) => (e.t === 'msg' ? e.text : `${e.kind} ${e.nick}`)),
			['join alice', 'join bob', 'stored'],
			'presence is journaled with the messages (version 2)',
		);
	});

	it('sends presence and messages in the order they happened, even while the journal is slow', async () => {
		const journal = new ScriptedJournal();
		const {output, join, say, from} = setup({journal});
		join('alice');
		join('bob');
		await journalSettled();
		journal.hold = true;
		say('alice', 'bye all');
		from('alice', {t: 'leave'});
		join('carol');
		say('bob', 'hi carol');
		journal.release();
		await journalSettled();
		assert.deepEqual(output.seenBy('bob'), [
			'welcome',
			'join alice', // bob's welcome (seq 0) came before alice's join was stored
			'join bob',
			'msg 3 alice: bye all',
			'leave alice',
			'join carol',
			'msg 6 bob: hi carol',
		]);
		// Carol's welcome said seq 2 (message 3 was not stored yet), so message 3 is hers too:
		// without it her client would see a gap; so is alice's leave, sequenced after it.
		assert.deepEqual(output.seenBy('carol'), [
			'welcome',
			'msg 3 alice: bye all',
			'leave alice',
			'join carol',
			'msg 6 bob: hi carol',
		]);
	});

	it('sends the join history from the journal after the welcome', async () => {
		const journal = new ScriptedJournal();
		const {output, join, say} = setup({journal});
		join('alice');
		for (const text of ['one', 'two', 'three']) say('alice', text);
		await journalSettled();
		join('bob', {history: 2});
		await journalSettled();
		const history = output.receivedBy('bob').find((m) => m.t === 'history');
		assert.deepEqual(
			history?.t === 'history' ? history.messages.map((m) => (m.t === 'msg' ? m.text : m.t)) : [],
			['two', 'three'],
		);
		assert.equal(output.seenBy('bob')[0], 'welcome');
	});
});
