// Moderation in rooms with accounts: every right of the table, allowed and
// refused; bans by account; expiry by the clock; invite-only and moderated rooms.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import type {RoomSettings} from '../../server/store/account-store.js';
import type {ClientMessage, ServerMessage} from '../../source/protocol/messages.js';
import {setup} from './harness.js';

type Welcome = Extract<ServerMessage, {t: 'welcome'}>;
type Request = Exclude<ClientMessage, {t: 'join' | 'hello'}>;

function settings(): RoomSettings {
	return {
		roles: {owner: 'owner', op: 'op', op2: 'op', voice: 'voice'},
		bans: {banned: {account: 'banned', by: 'op'}},
		mutes: {muted: {by: 'op'}},
		invites: [],
	};
}

/** A moderated room with one of each: owner, two ops, voice, member, a target, a muted one and an admin. */
function moderated(options: Parameters<typeof setup>[0] = {}) {
	const saved: RoomSettings[] = [];
	const context = setup({
		moderation: true,
		settings: settings(),
		onSettingsChange: (s) => saved.push(s),
		...options,
	});
	for (const nick of ['owner', 'op', 'op2', 'voice', 'member', 'target', 'muted'])
		context.join(nick, {account: nick, version: 2});
	context.join('admin', {account: 'admin', admin: true, version: 2});
	return {...context, saved};
}

const OPS = ['owner', 'op', 'admin'];
const OWNERS = ['owner', 'admin'];
const ACTORS = ['owner', 'op', 'voice', 'member', 'admin'];

/** Each request, who may make it, and what shows it was done. */
const RIGHTS: Array<{what: string; request: Request; allowed: string[]; done: string}> = [
	{what: 'set the topic', request: {t: 'topic', text: 'release on Friday'}, allowed: OPS, done: 'topic'},
	{what: 'set +i', request: {t: 'mode', mode: '+i'}, allowed: OPS, done: 'mode'},
	{what: 'set +m', request: {t: 'mode', mode: '+m'}, allowed: OPS, done: 'mode'},
	{
		what: 'give voice',
		request: {t: 'role', nick: 'target', role: 'voice'},
		allowed: OPS,
		done: 'role target',
	},
	{what: 'take voice', request: {t: 'role', nick: 'voice', role: 'member'}, allowed: OPS, done: 'role voice'},
	{what: 'give op', request: {t: 'role', nick: 'target', role: 'op'}, allowed: OWNERS, done: 'role target'},
	{what: 'take op', request: {t: 'role', nick: 'op2', role: 'member'}, allowed: OWNERS, done: 'role op2'},
	{what: 'kick', request: {t: 'kick', nick: 'target', reason: 'spam'}, allowed: OPS, done: 'kick target'},
	{what: 'ban', request: {t: 'ban', account: 'target'}, allowed: OPS, done: 'ban target'},
	{what: 'unban', request: {t: 'unban', account: 'banned'}, allowed: OPS, done: 'unban banned'},
	{what: 'list bans', request: {t: 'bans'}, allowed: OPS, done: 'bans'},
	{what: 'mute', request: {t: 'mute', nick: 'target'}, allowed: OPS, done: 'mute target'},
	{what: 'unmute', request: {t: 'unmute', nick: 'muted'}, allowed: OPS, done: 'unmute muted'},
	{what: 'invite', request: {t: 'invite', nick: 'stranger'}, allowed: OPS, done: 'invite stranger'},
];

describe('room core: the rights table', () => {
	for (const right of RIGHTS)
		for (const actor of ACTORS) {
			const allowed = right.allowed.includes(actor);
			it(`${actor} ${allowed ? 'may' : 'may not'} ${right.what}`, () => {
				const {room, output, from, saved} = moderated();
				const before = structuredClone(room.settings);
				output.clear();
				from(actor, right.request);
				const seen = output.seenBy(actor);
				if (allowed) {
					assert.ok(!seen.some((line) => line.startsWith('error')), `no error: ${seen.join(' | ')}`);
					assert.ok(
						seen.some((line) => line.startsWith(right.done)),
						`${right.done} is told: ${seen.join(' | ')}`,
					);
					if (right.request.t !== 'bans' && right.request.t !== 'kick')
						assert.equal(saved.length, 1, 'the change is saved');
				} else {
					assert.deepEqual(seen, ['error not-allowed']);
					assert.deepEqual(room.settings, before, 'nothing changed');
					assert.equal(saved.length, 0);
					assert.deepEqual(
						output.seenBy('member').filter((l) => l !== 'error not-allowed'),
						[],
					);
				}
			});
		}

	it('takes outranking the target: an op cannot kick, ban or mute an op, the owner or an admin', () => {
		const {room, output, from} = moderated();
		output.clear();
		from('op', {t: 'kick', nick: 'op2'});
		from('op', {t: 'ban', account: 'owner'});
		from('op', {t: 'mute', nick: 'admin'});
		from('op', {t: 'role', nick: 'owner', role: 'member'});
		assert.deepEqual(output.seenBy('op'), [
			'error not-allowed',
			'error not-allowed',
			'error not-allowed',
			'error not-allowed',
		]);
		from('owner', {t: 'kick', nick: 'op2'});
		assert.equal(room.findMember('op2'), undefined, 'the owner outranks an op');
		from('admin', {t: 'role', nick: 'owner', role: 'member'});
		assert.equal(room.roleOf('owner'), undefined, 'an admin outranks the owner');
	});

	it('refuses every moderation request in rooms without accounts (UDP)', () => {
		const {output, join, from} = setup();
		join('alice');
		join('bob');
		output.clear();
		for (const right of RIGHTS) from('alice', right.request);
		assert.deepEqual(
			output.seenBy('alice'),
			RIGHTS.map(() => 'error not-allowed'),
		);
		const error = output.receivedBy('alice')[0] as Extract<ServerMessage, {t: 'error'}>;
		assert.equal(error.message, 'UDP rooms have no accounts, so no moderation');
		assert.deepEqual(output.seenBy('bob'), []);
	});
});

describe('room core: moderation', () => {
	it('kicks every session of a member, says who and why, and lets it come back', () => {
		const {room, output, join, from} = moderated();
		join('target', {account: 'target', link: 'target@2'});
		output.clear();
		from('op', {t: 'kick', nick: 'TARGET', reason: 'spam'});
		for (const link of ['target', 'target@2'])
			assert.deepEqual(output.disconnectsOf(link), [{reason: 'kicked by op: spam', retry: false}]);
		const kick = output.receivedBy('member').filter((m) => m.t === 'presence');
		assert.deepEqual(kick, [
			{
				t: 'presence',
				ts: kick[0]?.ts,
				seq: kick[0]?.seq,
				kind: 'kick',
				nick: 'target',
				by: 'op',
				reason: 'spam',
			},
		]);
		assert.equal(room.findMember('target'), undefined);
		join('target', {account: 'target', link: 'target@3'});
		assert.ok(room.findMember('target'), 'a kick is not a ban');
	});

	it('bans by account: every session goes, and no new session or nick gets back in until unbanned', () => {
		const {room, output, join, from} = moderated();
		join('target', {account: 'target', link: 'target@2'});
		output.clear();
		from('op', {t: 'ban', account: 'Target', reason: 'trolling'});
		assert.deepEqual(output.disconnectsOf('target@2'), [{reason: 'banned by op: trolling', retry: false}]);
		assert.equal(room.findMember('target'), undefined);
		assert.throws(() => join('target', {account: 'target', link: 'target@3'}), {
			code: 'banned',
			message: /trolling/,
		});
		assert.throws(
			() => join('troll2', {account: 'TARGET', link: 'target@4'}),
			{code: 'banned'},
			'a new nick neither',
		);
		from('op', {t: 'bans'});
		const bans = output.receivedBy('op').find((m) => m.t === 'bans');
		assert.deepEqual(bans, {
			t: 'bans',
			bans: [
				{account: 'banned', by: 'op'},
				{account: 'target', by: 'op', reason: 'trolling'},
			],
		});
		assert.ok(!output.receivedBy('member').some((m) => m.t === 'bans'), 'the list goes to the asker only');
		from('op', {t: 'unban', account: 'target'});
		join('target', {account: 'target', link: 'target@5'});
		assert.ok(room.findMember('target'));
	});

	it('lets a ban and a mute run out with the clock', () => {
		const {room, output, clock, join, from, say, saved} = moderated();
		from('op', {t: 'ban', account: 'target', duration_ms: 60_000});
		const ban = output.receivedBy('member').find((m) => m.t === 'presence' && m.kind === 'ban');
		assert.equal(ban?.t === 'presence' ? ban.until : undefined, clock.time + 60_000);
		clock.advance(59_999);
		assert.throws(() => join('target', {account: 'target'}), {code: 'banned'});
		clock.advance(1);
		join('target', {account: 'target'});
		assert.deepEqual(saved.at(-1)?.bans, {banned: {account: 'banned', by: 'op'}}, 'the lifted ban is saved');
		from('op', {t: 'mute', nick: 'target', duration_ms: 1000});
		output.clear();
		say('target', 'still muted', 'm1');
		from('target', {t: 'dm', ref: 'd1', to: 'member', text: 'psst'});
		assert.deepEqual(output.seenBy('target'), ['error muted m1', 'error muted d1']);
		clock.advance(1000);
		say('target', 'free again', 'm2');
		assert.match(output.seenBy('member').at(-1) ?? '', /target: free again/);
		assert.equal(room.settings.mutes.target, undefined);
	});

	it('mutes and unmutes every session of an account', () => {
		const {output, join, from, say} = moderated();
		join('target', {account: 'target', link: 'target@2'});
		from('op', {t: 'mute', nick: 'target'});
		output.clear();
		say('target@2', 'from the other machine', 'm1');
		assert.deepEqual(output.seenBy('target@2'), ['error muted m1']);
		from('op', {t: 'unmute', nick: 'target'});
		say('target@2', 'allowed', 'm2');
		assert.match(output.seenBy('member').at(-1) ?? '', /target: allowed/);
	});

	it('keeps an invite-only room to the invited, those with a role, and admins', () => {
		const invited: Array<[string, string]> = [];
		const {room, output, join, from} = moderated({onInvite: (account, by) => invited.push([account, by])});
		from('op', {t: 'mode', mode: '+i'});
		assert.throws(() => join('stranger', {account: 'stranger'}), {code: 'invite-only'});
		assert.equal(room.findMember('stranger'), undefined);
		assert.equal(room.admits('stranger'), false);
		assert.equal(room.admits('stranger', true), true, 'admins enter every room');
		from('op', {t: 'invite', nick: 'Stranger'});
		assert.equal(room.admits('Stranger'), true);
		assert.deepEqual(invited, [['stranger', 'op']]);
		assert.equal(output.seenBy('member').at(-1), 'invite Stranger by op');
		join('stranger', {account: 'stranger'});
		from('voice', {t: 'leave'});
		join('voice', {account: 'voice'});
		join('root', {account: 'root', admin: true});
		from('op', {t: 'mode', mode: '-i'});
		join('anyone', {account: 'anyone'});
	});

	it('lets only voiced members, ops, the owner and admins speak in a moderated room', () => {
		const {output, from, say} = moderated();
		from('op', {t: 'mode', mode: '+m'});
		output.clear();
		for (const nick of ['member', 'voice', 'op', 'owner', 'admin']) say(nick, `${nick} speaks`, `s-${nick}`);
		assert.deepEqual(output.seenBy('member'), [
			'error muted s-member',
			'msg 10 voice: voice speaks',
			'msg 11 op: op speaks',
			'msg 12 owner: owner speaks',
			'msg 13 admin: admin speaks',
		]);
		from('op', {t: 'role', nick: 'member', role: 'voice'});
		say('member', 'now I may', 's2');
		assert.match(output.seenBy('voice').at(-1) ?? '', /member: now I may/);
	});

	it('welcomes with the topic, modes, role and read marker, and members with their roles', () => {
		const {output, join, from} = moderated();
		from('op', {t: 'topic', text: 'release\non Friday'});
		from('op', {t: 'mode', mode: '+m'});
		from('op', {t: 'mode', mode: '+i'});
		join('op', {account: 'op', link: 'op@2', version: 2, read: 3});
		join('voice', {account: 'voice', link: 'voice@1', version: 1});
		const welcome = output.receivedBy('op@2')[0] as Welcome;
		assert.equal(welcome.topic, 'release on Friday', 'one line');
		assert.equal(welcome.modes, 'im');
		assert.equal(welcome.role, 'op');
		assert.equal(welcome.read, 3);
		assert.deepEqual(welcome.members.slice(0, 4), [
			{nick: 'admin'},
			{nick: 'member'},
			{nick: 'muted'},
			{nick: 'op', role: 'op'},
		]);
		assert.ok(welcome.members.some((m) => m.nick === 'owner' && m.role === 'owner'));
		const old = output.receivedBy('voice@1')[0] as Welcome;
		assert.equal(old.topic, undefined, 'version-1 welcomes stay as they were');
		assert.equal(old.modes, undefined);
	});

	it('saves a copy of the settings on every change, and clears the topic with an empty one', () => {
		const {room, from, saved} = moderated();
		from('op', {t: 'topic', text: 'first'});
		from('op', {t: 'topic', text: '  '});
		assert.equal(saved.length, 2);
		assert.equal(saved[0]?.topic, 'first');
		assert.equal(saved[1]?.topic, undefined);
		saved[0]!.roles.member = 'owner';
		assert.equal(room.roleOf('member'), undefined, 'a copy, not the room’s own');
	});
});
