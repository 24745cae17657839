// The room's stream with a journal: presence sequenced with the messages,
// reads (history, pages, search, catch-up) served beside the appends so a
// slow read never holds up a live message, and pages and search without one.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import type {ServerMessage} from '../../source/protocol/messages.js';
import {ScriptedJournal, journalSettled, setup} from './harness.js';

/** Waits (turn by turn, bounded) until `ready` holds: reads finish on a timer. */
async function until(ready: () => boolean, what: string): Promise<void> {
	const deadline = Date.now() + 5000;
	while (!ready()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
}

/** A room with a journal holding alice's `count` messages, alice and bob in it, the output cleared. */
async function stored(count: number, options: Parameters<typeof setup>[0] = {}) {
	const journal = new ScriptedJournal();
	const context = setup({journal, limits: {ratePerSecond: 1000, burst: 1000}, ...options});
	journal.marks = context.output;
	context.join('alice', {account: 'alice'}); // seq 1
	context.join('bob', {account: 'bob'}); // seq 2
	for (let i = 3; i <= count; i++) context.say('alice', `m${i}`);
	await journalSettled();
	context.output.clear();
	return {...context, journal};
}

const got = (output: {receivedBy(link: string): ServerMessage[]}, link: string, t: ServerMessage['t']) =>
	output.receivedBy(link).some((m) => m.t === t);

describe('room core: presence in the journal', () => {
	it('stores presence with the messages and never lets a leave overtake the last message', async () => {
		const {output, journal, join, say, from} = await stored(2);
		join('alice', {account: 'alice', link: 'alice@2'});
		journal.hold = true;
		say('alice', 'bye all');
		from('alice', {t: 'leave'});
		from('alice@2', {t: 'leave'});
		journal.release();
		await journalSettled();
		assert.deepEqual(output.seenBy('bob'), ['msg 3 alice: bye all', 'leave alice']);
		const leave = output.receivedBy('bob')[1];
		assert.equal(
			leave?.t === 'presence' ? leave.seq : undefined,
			4,
			'presence is numbered with the messages',
		);
		assert.deepEqual(
			journal.stored.map((e) => (e.t === 'msg' ? e.text : `${e.kind} ${e.nick}`)),
			['join alice', 'join bob', 'bye all', 'leave alice'],
		);
	});

	it('still tells who left when the journal cannot store it (unsequenced)', async () => {
		const {output, journal, from} = await stored(2);
		journal.failNext = 1;
		from('alice', {t: 'leave'});
		await journalSettled();
		const leave = output.receivedBy('bob')[0];
		assert.equal(leave?.t === 'presence' ? leave.kind : undefined, 'leave');
		assert.equal(leave?.t === 'presence' ? leave.seq : 'none', undefined);
	});
});

describe('room core: reads beside appends', () => {
	for (const [what, request] of [
		['a history page', {t: 'history', before: 10, limit: 5}],
		['a search', {t: 'search', text: 'M4'}],
		['a resend older than the ring', {t: 'resend', s: 'room', from: 3, to: 5}],
	] as const) {
		it(`does not hold a live message behind ${what} taking 300 ms`, async () => {
			const {output, journal, say, from} = await stored(9, {historySize: 2});
			journal.readDelayMs = 300;
			const asked = Date.now();
			from('bob', request);
			say('alice', 'live');
			await journalSettled();
			assert.equal(output.seenBy('bob').at(-1), 'msg 10 alice: live', 'delivered while the read is pending');
			assert.ok(Date.now() - asked < 250, 'well before the read finishes');
			await until(() => output.timeline('bob').some((line) => line.endsWith('read done]')), 'the read');
			const timeline = output.timeline('bob');
			assert.ok(
				timeline.indexOf('msg 10 alice: live') < timeline.findIndex((line) => line.endsWith('read done]')),
				timeline.join(' | '),
			);
			await until(() => output.seenBy('bob').length > 1, 'the answer');
			assert.notEqual(output.seenBy('bob').at(-1), 'msg 10 alice: live', 'the answer came after');
		});
	}

	it('holds a joiner’s live messages behind its join history, and no one else’s', async () => {
		const {output, journal, join, say} = await stored(4);
		journal.readDelayMs = 300;
		join('carol', {account: 'carol', history: 3});
		say('alice', 'live during carol’s history');
		await journalSettled();
		assert.deepEqual(output.seenBy('bob'), ['join carol', 'msg 6 alice: live during carol’s history']);
		assert.deepEqual(output.seenBy('carol'), ['welcome'], 'carol’s live events wait for her history');
		await until(() => got(output, 'carol', 'history'), 'carol’s history');
		assert.deepEqual(output.timeline('carol'), [
			'welcome',
			'[before read done]',
			'history 2,3,4',
			'join carol',
			'msg 6 alice: live during carol’s history',
		]);
	});

	it('catches a rejoiner up from the journal before its live messages', async () => {
		const {output, journal, join, say, from} = await stored(8, {historySize: 2});
		from('bob', {t: 'leave'});
		await journalSettled();
		journal.readDelayMs = 50;
		join('bob', {account: 'bob', link: 'bob@2', since: 5});
		say('alice', 'live');
		await until(
			() => output.seenBy('bob@2').includes('msg 11 alice: live'),
			`the live message: ${output.seenBy('bob@2').join(' | ')}`,
		);
		assert.deepEqual(output.seenBy('bob@2'), [
			'welcome',
			'msg 6 alice: m6',
			'msg 7 alice: m7',
			'msg 8 alice: m8',
			'leave bob',
			'join bob',
			'msg 11 alice: live',
		]);
	});
});

describe('room core: pages and search', () => {
	it('pages back through the journal, and says when nothing older is stored', async () => {
		const {output, from} = await stored(30);
		from('bob', {t: 'history', before: 31, limit: 10});
		from('bob', {t: 'history', before: 21, limit: 30});
		await until(() => output.receivedBy('bob').length === 2, 'two pages');
		const [newer, older] = output.receivedBy('bob') as Array<Extract<ServerMessage, {t: 'history'}>>;
		assert.deepEqual(
			newer?.messages.map((m) => m.seq),
			[21, 22, 23, 24, 25, 26, 27, 28, 29, 30],
		);
		assert.equal(newer?.before, 31);
		assert.equal(newer?.complete, false);
		assert.equal(older?.messages.length, 20);
		assert.equal(older?.complete, true);
	});

	it('keeps a page within a frame: the newest that fit, not complete', async () => {
		const {output, from} = await stored(30, {historyPageBytes: 300});
		from('bob', {t: 'history', before: 31, limit: 30});
		await until(() => output.receivedBy('bob').length === 1, 'the page');
		const page = output.receivedBy('bob')[0] as Extract<ServerMessage, {t: 'history'}>;
		assert.ok(page.messages.length > 0 && page.messages.length < 30);
		assert.equal(page.messages.at(-1)?.seq, 30);
		assert.equal(page.complete, false);
	});

	it('searches the journal’s messages: the newest 50, oldest first', async () => {
		const {output, from} = await stored(80);
		from('bob', {t: 'search', text: 'M'});
		from('bob', {t: 'search', text: 'm7', before: 75});
		await until(() => output.receivedBy('bob').length === 2, 'the answers');
		const [all, some] = output.receivedBy('bob') as Array<Extract<ServerMessage, {t: 'found'}>>;
		assert.equal(all?.messages.length, 50);
		assert.equal(all?.messages[0]?.seq, 31);
		assert.equal(all?.text, 'M');
		assert.deepEqual(
			some?.messages.map((m) => m.seq),
			[7, 70, 71, 72, 73, 74],
		);
	});

	it('pages and searches the memory ring in rooms without a journal', () => {
		const {output, join, say, from} = setup({historySize: 16, limits: {ratePerSecond: 1000, burst: 1000}});
		join('alice');
		join('bob');
		for (let i = 3; i <= 40; i++) say('alice', i % 10 === 0 ? `Round ${i}` : `m${i}`);
		output.clear();
		from('bob', {t: 'history', before: 41, limit: 10});
		from('bob', {t: 'history', before: 31, limit: 10});
		from('bob', {t: 'search', text: 'round'});
		from('bob', {t: 'history', before: 999, limit: 2});
		const [first, second, , newest] = output.receivedBy('bob') as Array<
			Extract<ServerMessage, {t: 'history'}>
		>;
		assert.deepEqual(first?.messages.map((m) => m.seq)[0], 31);
		assert.equal(first?.complete, false);
		assert.deepEqual(
			second?.messages.map((m) => m.seq),
			[25, 26, 27, 28, 29, 30],
			'what the ring still holds',
		);
		assert.equal(second?.complete, true, 'nothing older is held');
		assert.equal(output.seenBy('bob')[2], 'found 30,40');
		assert.equal(output.seenBy('bob')[3], 'history 39,40');
		assert.equal((newest as {before?: number} | undefined)?.before, 999, 'the answer names the request');
	});

	it('answers reads from their own budget, with when to ask again and no strike', () => {
		const {room, output, clock, join, from} = setup({readsPerSecond: 1, readBurst: 2, floodStrikes: 1});
		join('alice');
		for (let i = 0; i < 3; i++) from('alice', {t: 'search', text: 'x'});
		const refused = output.receivedBy('alice').at(-1) as Extract<ServerMessage, {t: 'error'}>;
		assert.equal(refused.code, 'rate-limited');
		assert.equal(refused.retry_after_ms, 1000);
		assert.ok(room.findMember('alice'), 'not kicked');
		clock.advance(1000);
		from('alice', {t: 'search', text: 'x'});
		assert.equal(output.seenBy('alice').at(-1), 'found ');
	});
});
