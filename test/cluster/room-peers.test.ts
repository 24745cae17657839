// The room core in cluster mode, without sockets or Redis: an ordered journal
// delivers through the room's sink (own and other nodes' events in seq order),
// a failed commit is the sender's to resend, and RoomPeers brings members and
// direct messages of other nodes in.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import type {ForwardedDirect, RemoteMember, RoomJournal, RoomPeers} from '../../server/room/room.js';
import type {RoomEventMessage, ServerMessage, UnsequencedRoomEvent} from '../../source/protocol/messages.js';
import {journalSettled, setup} from '../room/harness.js';

type Sequenced = RoomEventMessage & {seq: number};

/** The cluster journal's contract, by hand: appends wait for the test to commit them. */
class OrderedJournal implements RoomJournal {
	readonly appended: Array<{
		event: UnsequencedRoomEvent;
		resolve: (seq: number) => void;
		reject: (e: Error) => void;
	}> = [];
	private sink: ((event: Sequenced, appended?: UnsequencedRoomEvent) => void) | undefined;
	seq = 0;

	attach(sink: (event: Sequenced, appended?: UnsequencedRoomEvent) => void): void {
		this.sink = sink;
	}
	latestSeq(): number {
		return 0;
	}
	append(event: UnsequencedRoomEvent): Promise<number> {
		return new Promise((resolve, reject) => this.appended.push({event, resolve, reject}));
	}
	/** Commits the oldest append under the next number and delivers it. */
	commit(): void {
		const next = this.appended.shift()!;
		const seq = ++this.seq;
		this.sink!({...next.event, seq} as Sequenced, next.event);
		next.resolve(seq);
	}
	fail(): void {
		this.appended.shift()!.reject(new Error('database is down'));
	}
	/** Another node's event. */
	foreign(event: Sequenced): void {
		this.seq = Math.max(this.seq, event.seq);
		this.sink!(event);
	}
	async range(): Promise<RoomEventMessage[]> {
		return [];
	}
	async last(): Promise<RoomEventMessage[]> {
		return [];
	}
	async before(): Promise<{events: RoomEventMessage[]; complete: boolean}> {
		return {events: [], complete: true};
	}
	async search(): Promise<never[]> {
		return [];
	}
}

class FakePeers implements RoomPeers {
	remote: RemoteMember[] = [];
	forwarded: ForwardedDirect[] = [];
	changes = 0;
	remoteMembers() {
		return this.remote;
	}
	localMembersChanged() {
		this.changes++;
	}
	forwardDirect(message: ForwardedDirect) {
		this.forwarded.push(message);
	}
}

describe('room core with an ordered journal and peers (cluster mode)', () => {
	it('delivers its own commits and other nodes’ events in seq order, each once', async () => {
		const journal = new OrderedJournal();
		const {output, join, say} = setup({journal});
		join('alice');
		journal.commit(); // join alice = 1
		journal.foreign({t: 'msg', seq: 2, ts: 1, from: 'bob', text: 'from afar'});
		say('alice', 'hi', 'r1');
		journal.commit(); // 3
		journal.foreign({t: 'msg', seq: 3, ts: 1, from: 'bob', text: 'late copy'}); // already had 3
		journal.foreign({t: 'msg', seq: 2, ts: 1, from: 'bob', text: 'from afar'});
		await journalSettled();
		assert.deepEqual(output.seenBy('alice'), [
			'welcome',
			'join alice',
			'msg 2 bob: from afar',
			'msg 3 alice: hi',
		]);
	});

	it('a commit that fails is the sender’s to resend: nothing delivered, no number', async () => {
		const journal = new OrderedJournal();
		const {output, join, say} = setup({journal});
		join('alice');
		journal.commit();
		say('alice', 'lost', 'r9');
		journal.fail();
		await journalSettled();
		const last = output.receivedBy('alice').at(-1) as Extract<ServerMessage, {t: 'error'}>;
		assert.equal(last.code, 'server-error');
		assert.equal(last.message, 'message not stored; please resend');
		assert.equal(last.ref, 'r9');
		assert.ok(!output.seenBy('alice').some((line) => line.includes('lost')));
	});

	it('lists members of other nodes, refuses their nicks, forwards DMs to them and takes theirs in', async () => {
		const peers = new FakePeers();
		peers.remote = [{nick: 'bob', account: 'bob', away: 'lunch'}];
		const {output, join, from, room} = setup({peers});
		join('alice', {account: 'alice'});
		const welcome = output.receivedBy('alice')[0] as Extract<ServerMessage, {t: 'welcome'}>;
		assert.deepEqual(welcome.members, [{nick: 'alice'}, {nick: 'bob', away: 'lunch'}]);
		assert.ok(peers.changes > 0, 'the other nodes hear of alice');
		assert.throws(() => join('BOB', {account: 'robert'}), {code: 'nick-taken'});
		assert.throws(() => join('b0b', {account: 'robert'}), {code: 'nick-taken'});

		// bob's account opens a session here too: the same member, no second join.
		output.clear();
		join('whatever', {account: 'bob', link: 'bob-here'});
		assert.equal(room.findMember('bob')?.link, 'bob-here');
		assert.ok(!output.seenBy('alice').includes('join bob'));

		from('alice', {t: 'dm', ref: 'd1', to: 'bob', text: 'psst'});
		assert.deepEqual(peers.forwarded, [{from: 'alice', to: 'bob', text: 'psst', ts: peers.forwarded[0]!.ts}]);
		assert.ok(output.seenBy('alice').includes('dm 1 alice→bob: psst'), 'the sender’s acknowledgement');

		room.acceptDirect({from: 'bob', to: 'alice', text: 'back at you', ts: 1});
		assert.ok(output.seenBy('alice').includes('dm 2 bob→alice: back at you'));
	});

	it('a part on another node takes the account’s sessions here out too, and tells the others', async () => {
		const journal = new OrderedJournal();
		const {output, join, room} = setup({journal, peers: new FakePeers()});
		join('alice', {account: 'alice'});
		join('bob', {account: 'bob'});
		journal.commit();
		journal.commit();
		journal.foreign({t: 'presence', seq: 3, ts: 1, kind: 'part', nick: 'alice'});
		await journalSettled();
		assert.equal(room.findMember('alice'), undefined, 'no longer a member here');
		assert.deepEqual(output.disconnectsOf('alice'), [
			{reason: 'left the room from another session', retry: false},
		]);
		assert.ok(output.seenBy('bob').includes('part alice'));
		assert.deepEqual(
			room.memberList().map((m) => m.nick),
			['bob'],
		);
	});
});
