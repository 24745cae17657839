// The TUI against a version 2 server (the fake client): /join #room, /list,
// /topic, moderation, role marks, read markers, paging back, server search.

import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {EventEmitter} from 'node:events';
import {cleanup, render} from 'ink-testing-library';
import type {RoomInfo, Role} from '../../source/client/types.js';
import type {RoomEventMessage} from '../../source/protocol/messages.js';
import {ChatScreen, type RoomSpec} from '../../source/tui/ChatScreen.js';
import {FakeRoomClient, FakeV2RoomClient} from './helpers/fake-room-client.js';
import {delay, KEYS, typeKeys, waitFor} from './helpers/wait.js';

const ANSI = /\u001B\[[0-9;?]*[A-Za-z]/g;
const plain = (frame: string | undefined): string => (frame ?? '').replace(ANSI, '');
const lines = (frame: string | undefined): string[] => plain(frame).split('\n');
const tabRow = (frame: string): string => lines(frame)[1] ?? '';

const T0 = Date.UTC(2026, 0, 1, 12, 0);
const message = (seq: number, from: string, text: string, history = false) => ({
	type: 'message' as const,
	seq,
	ts: T0 + seq * 1000,
	from,
	text,
	action: false,
	self: from === 'alice',
	history,
});

const info = (name: string, topic = '', roles: [string, Role][] = []): RoomInfo => ({
	name,
	topic,
	modes: '',
	role: undefined,
	roles: new Map(roles),
});

const tcpRoom = (url = 'tcp://127.0.0.1:7668') =>
	new FakeV2RoomClient({
		url,
		transport: 'tcp',
		needsPassword: true,
		nick: 'alice',
		members: ['alice', 'bob'],
	});

function setup(rooms: RoomSpec[], size = {columns: 100, rows: 20}) {
	const view = render(<ChatScreen rooms={rooms} size={size} />);
	const frame = (): string => plain(view.lastFrame());
	const until = (predicate: (text: string) => boolean, what = '') =>
		waitFor(
			() => predicate(frame()),
			() => `${what}\n${frame()}`,
		);
	return {view, frame, until};
}

afterEach(() => cleanup());

describe('rooms on one server (protocol version 2)', () => {
	it('/join #name opens the room on the same server in a new tab, with the same nick and no login form', async () => {
		const lobby = tcpRoom();
		const {view, frame, until} = setup([{client: lobby}]);
		lobby.emit({type: 'room', info: info('#lobby')});
		await until((text) => tabRow(text).startsWith('[1:tcp #lobby]'), 'the room name in the tab');
		await typeKeys(view.stdin, '/join #dev', KEYS.enter);
		await waitFor(() => lobby.siblings.length === 1);
		const dev = lobby.siblings[0]!;
		assert.equal(dev.url, 'tcp://127.0.0.1:7668/#dev');
		await waitFor(() => dev.calls.length > 0);
		assert.deepEqual(dev.calls, [{method: 'connect', nick: 'alice'}], 'the nick alone: the login is shared');
		dev.emit({type: 'room', info: info('#dev')});
		await until((text) => tabRow(text).includes('[2:tcp #dev]'), 'the new tab is shown');
		assert.ok(!frame().includes('password>'), 'no login form');
		assert.match(lines(frame()).at(-1) ?? '', /^>/);
		// Again: the open tab is shown, no second client.
		await typeKeys(view.stdin, '\u001B1');
		await until((text) => tabRow(text).startsWith('[1:tcp #lobby]'));
		await typeKeys(view.stdin, '/join #DEV', KEYS.enter);
		await until(
			(text) => tabRow(text).includes('[2:tcp #dev]') && text.includes('#dev is open in this tab already'),
		);
		assert.equal(lobby.siblings.length, 1);
	});

	it('keeps the keys typed while a /join is still joining: the next /join is not lost', async () => {
		const lobby = tcpRoom();
		const {view, until} = setup([{client: lobby}]);
		lobby.emit({type: 'room', info: info('#lobby')});
		await until((text) => tabRow(text).startsWith('[1:tcp #lobby]'));
		let joined: () => void = () => {};
		const slow = FakeV2RoomClient.prototype.sibling;
		lobby.sibling = function (room: string) {
			const client = slow.call(this, room);
			client.connectBehaviour = () => new Promise<void>((resolve) => (joined = resolve));
			return client;
		};
		await typeKeys(view.stdin, '/join #dev', KEYS.enter);
		await waitFor(() => lobby.siblings.length === 1 && lobby.siblings[0]!.calls.length === 1);
		await until((text) => tabRow(text).includes('[2:tcp'), 'the joining tab shown');
		assert.match(lines(view.lastFrame()).at(-1) ?? '', /^>/, 'the input line, not a login form');
		await typeKeys(view.stdin, '/join #ops', KEYS.enter);
		// Typed in the #dev tab, so opened beside it on the same login.
		await waitFor(
			() => lobby.siblings[0]!.siblings.length === 1,
			() => `the second /join run\n${plain(view.lastFrame())}`,
		);
		assert.equal(lobby.siblings[0]!.siblings[0]!.url, 'tcp://127.0.0.1:7668/#ops');
		joined();
	});

	it('a refused /join closes the new tab and says why in the room it came from', async () => {
		const lobby = tcpRoom();
		const {view, until} = setup([{client: lobby}]);
		lobby.emit({type: 'room', info: info('#lobby')});
		await until((text) => tabRow(text).startsWith('[1:tcp #lobby]'));
		const refuse = FakeV2RoomClient.prototype.sibling;
		lobby.sibling = function (room: string) {
			const client = refuse.call(this, room);
			client.connectBehaviour = async () => {
				throw new Error('#secret is invite-only');
			};
			return client;
		};
		await typeKeys(view.stdin, '/join #secret', KEYS.enter);
		await until(
			(text) =>
				text.includes('could not join #secret: #secret is invite-only') && !tabRow(text).includes('2:'),
			'back to one tab',
		);
	});

	it('/list shows a picker of the rooms; arrows move, Enter opens one as /join does, Esc closes', async () => {
		const lobby = tcpRoom();
		const {view, frame, until} = setup([{client: lobby}]);
		lobby.emit({type: 'room', info: info('#lobby')});
		await typeKeys(view.stdin, '/list', KEYS.enter);
		await waitFor(() => lobby.requests.length === 1);
		assert.deepEqual(lobby.requests, [{t: 'list'}]);
		lobby.emit({
			type: 'rooms',
			rooms: [
				{name: '#lobby', members: 3},
				{name: '#dev', members: 2, topic: 'release on Friday'},
				{name: '#ops', members: 1, private: true},
			],
		});
		await until((text) => text.includes('rooms (3)') && text.includes('› #lobby (3 members)'), 'the picker');
		assert.match(frame(), /#dev \(2 members\) — release on Friday/);
		assert.match(frame(), /#ops \(1 member, invite-only\)/);
		await typeKeys(view.stdin, KEYS.down, KEYS.down, KEYS.down, KEYS.up);
		await until((text) => text.includes('› #dev'), 'moved down to #dev');
		await typeKeys(view.stdin, KEYS.enter);
		await waitFor(() => lobby.siblings.length === 1);
		assert.equal(lobby.siblings[0]!.url, 'tcp://127.0.0.1:7668/#dev');
		await until(
			(text) => tabRow(text).includes('[2:tcp') && !text.includes('rooms (3)'),
			'opened, picker gone',
		);
		// Esc closes without opening anything.
		await typeKeys(view.stdin, '/list', KEYS.enter);
		await waitFor(() => lobby.requests.length === 1 && lobby.siblings[0]!.requests.length === 1);
		lobby.siblings[0]!.emit({type: 'rooms', rooms: [{name: '#lobby', members: 3}]});
		await until((text) => text.includes('rooms (1)'));
		await typeKeys(view.stdin, KEYS.escape);
		await until(
			(text) => !text.includes('rooms (1)') && (lines(text).at(-1) ?? '').startsWith('>'),
			'closed',
		);
		assert.equal(lobby.siblings[0]!.siblings.length, 0);
	});

	it('shows the topic under the tab bar, /topic says it or asks to set it, and marks roles in the member panel', async () => {
		const lobby = tcpRoom();
		const {view, frame, until} = setup([{client: lobby}]);
		await until((text) => text.includes('Members (2)'));
		assert.ok(!frame().includes('topic:'), 'no topic, no line');
		lobby.emit({type: 'members', members: ['alice', 'bob', 'carol', 'dave']});
		lobby.emit({
			type: 'room',
			info: info('#lobby', 'release on Friday', [
				['alice', 'owner'],
				['Bob', 'op'],
				['carol', 'voice'],
			]),
		});
		await until((text) => lines(text)[2]?.startsWith('topic: release on Friday') === true, 'the topic line');
		assert.match(frame(), /│ ~alice/);
		assert.match(frame(), /│ @bob/);
		assert.match(frame(), /│ \+carol/);
		assert.match(frame(), /│ dave/);
		await typeKeys(view.stdin, '/topic', KEYS.enter);
		await until((text) => text.includes('topic of #lobby: release on Friday'));
		lobby.emit({type: 'who', members: ['dave', 'carol', 'Bob', 'alice']});
		await until((text) => text.includes('in the room (4): ~alice, @Bob, +carol, dave'));
		await typeKeys(view.stdin, '/topic ship it', KEYS.enter);
		await waitFor(() => lobby.requests.length === 1);
		assert.deepEqual(lobby.requests, [{t: 'topic', text: 'ship it'}]);
	});

	it('passes moderation commands to the server, and tells UDP and version-1 rooms apart', async () => {
		const lobby = tcpRoom();
		const {view, until} = setup([{client: lobby}]);
		await until((text) => text.includes('connected'));
		for (const line of [
			'/op bob',
			'/kick troll spam',
			'/ban troll 2h spam',
			'/unban troll',
			'/bans',
			'/mute troll 10m',
			'/unmute troll',
			'/mode +m',
			'/invite carol',
			'/devoice carol',
		])
			await typeKeys(view.stdin, line, KEYS.enter);
		await waitFor(() => lobby.requests.length === 10);
		assert.deepEqual(lobby.requests, [
			{t: 'role', nick: 'bob', role: 'op'},
			{t: 'kick', nick: 'troll', reason: 'spam'},
			{t: 'ban', account: 'troll', duration_ms: 7_200_000, reason: 'spam'},
			{t: 'unban', account: 'troll'},
			{t: 'bans'},
			{t: 'mute', nick: 'troll', duration_ms: 600_000},
			{t: 'unmute', nick: 'troll'},
			{t: 'mode', mode: '+m'},
			{t: 'invite', nick: 'carol'},
			{t: 'role', nick: 'carol', role: 'member'},
		]);
		lobby.emit({
			type: 'bans',
			bans: [{account: 'troll', by: 'alice', reason: 'spam', until: T0}, {account: 'spammer'}],
		});
		await until(
			(text) =>
				text.includes('bans (2):') && /troll by alice until \d{4}-\d\d-\d\d \d\d:\d\d \(spam\)/.test(text),
		);
		assert.match(plainAll(view), /spammer for good/);
		lobby.emit({type: 'invited', room: '#x', by: 'bob'});
		await until((text) => text.includes('bob invited you to #x — /join #x'));
	});

	it('says a UDP room has no moderation and a version-1 server none either', async () => {
		const udp = new FakeV2RoomClient({url: 'udp://127.0.0.1:7667', nick: 'alice', members: ['alice']});
		udp.acceptRequests = false;
		const old = new FakeRoomClient({
			url: 'tcp://127.0.0.1:7668',
			transport: 'tcp',
			nick: 'alice',
			members: ['alice'],
		});
		const {view, until} = setup([{client: udp}, {client: old}]);
		await until((text) => text.includes('connected'));
		await typeKeys(view.stdin, '/kick bob', KEYS.enter);
		await until((text) => text.includes('/kick: UDP rooms have no accounts, so no moderation'));
		await typeKeys(view.stdin, '\u001B2', '/op bob', KEYS.enter);
		await until((text) => text.includes('/op: this server has no moderation (protocol version 1)'));
		await typeKeys(view.stdin, '/list', KEYS.enter);
		await until((text) => text.includes('this server has one room only: it cannot list rooms'));
		await typeKeys(view.stdin, '/join #dev', KEYS.enter);
		await until((text) =>
			text.includes('this server has one room only; /connect URL opens a room elsewhere'),
		);
	});

	it('says kicks, bans, topics and modes in the log', async () => {
		const lobby = tcpRoom();
		const {frame, until} = setup([{client: lobby}]);
		await until((text) => text.includes('connected'));
		const presence = (fields: Record<string, unknown>) =>
			lobby.emit({type: 'presence', ts: T0, nick: 'troll', kind: 'join', ...fields} as never);
		presence({kind: 'kick', by: 'bob', reason: 'spam'});
		presence({kind: 'ban', by: 'bob'});
		presence({kind: 'topic', nick: 'bob', text: 'release on Friday'});
		presence({kind: 'mode', nick: 'bob', mode: '+i'});
		presence({kind: 'role', nick: 'carol', role: 'op', by: 'alice'});
		await until((text) => text.includes('alice made carol an op'));
		const text = frame();
		assert.match(text, /troll was kicked by bob \(spam\)/);
		assert.match(text, /troll was banned by bob/);
		assert.match(text, /bob set the topic: release on Friday/);
		assert.match(text, /bob made the room invite-only/);
	});

	it('/part leaves the room for good and closes its tab; a room that cannot part just closes', async () => {
		const lobby = tcpRoom();
		const dev = tcpRoom('tcp://127.0.0.1:7668/#dev');
		const ops = tcpRoom('tcp://127.0.0.1:7668/#ops');
		const {view, until} = setup([{client: lobby}, {client: dev}, {client: ops}]);
		dev.emit({type: 'room', info: info('#dev')});
		ops.emit({type: 'room', info: info('#ops')});
		await until((text) => tabRow(text).includes('3:tcp #ops'));
		await typeKeys(view.stdin, '/part #ops bye', KEYS.enter);
		await waitFor(() => ops.parts.length === 1);
		assert.deepEqual(ops.parts, ['bye']);
		await until((text) => !tabRow(text).includes('#ops') && text.includes('parted #ops'));
		await typeKeys(view.stdin, '\u001B2', '/part', KEYS.enter);
		await waitFor(() => dev.parts.length === 1);
		await until((text) => !tabRow(text).includes('#dev'));
		const plainUdp = new FakeRoomClient({url: 'udp://127.0.0.1:7667', nick: 'alice', members: ['alice']});
		cleanup();
		const second = setup([{client: lobby}, {client: plainUdp}]);
		await second.until((text) => tabRow(text).includes('2:udp'));
		await typeKeys(second.view.stdin, '\u001B2', '/part', KEYS.enter);
		await waitFor(() => plainUdp.calls.some((call) => call.method === 'close'));
		await second.until((text) => !tabRow(text).includes('2:udp'));
	});

	it('opens the rooms of our other sessions beside the one shown, without taking the focus', async () => {
		const lobby = tcpRoom();
		const {until} = setup([{client: lobby}]);
		lobby.emit({type: 'room', info: info('#lobby')});
		await until((text) => tabRow(text).startsWith('[1:tcp #lobby]'));
		lobby.emit({type: 'session-rooms', rooms: ['#lobby', '#dev', '#ops']});
		await waitFor(() => lobby.siblings.length === 2);
		assert.deepEqual(
			lobby.siblings.map((client) => client.url),
			['tcp://127.0.0.1:7668/#dev', 'tcp://127.0.0.1:7668/#ops'],
		);
		for (const client of lobby.siblings) await waitFor(() => client.calls.length === 1);
		lobby.siblings[0]!.emit({type: 'room', info: info('#dev')});
		await until(
			(text) => /^\[1:tcp #lobby\] +2:tcp #dev +3:tcp #ops /.test(tabRow(text)),
			'still on the first tab',
		);
		lobby.emit({type: 'session-rooms', rooms: ['#dev']});
		await delay(30);
		assert.equal(lobby.siblings.length, 2, 'an open room is not opened twice');
	});
});

describe('read markers and unread counts', () => {
	it('counts unread lines above the server’s read marker, replayed history too, and clears on a later marker', async () => {
		const lobby = tcpRoom();
		const dev = tcpRoom('tcp://127.0.0.1:7668/#dev');
		const {view, until} = setup([{client: lobby}, {client: dev}]);
		dev.emit({type: 'room', info: info('#dev')});
		dev.emit({type: 'read', seq: 5});
		for (let seq = 1; seq <= 8; seq++)
			dev.emit(message(seq, seq === 7 ? 'alice' : 'bob', `line ${seq}`, true));
		await until((text) => tabRow(text).includes('2:tcp #dev (2)'), 'two unread: 6 and 8 (7 is ours)');
		dev.emit(message(9, 'bob', 'live'));
		await until((text) => tabRow(text).includes('2:tcp #dev (3)'));
		dev.emit({type: 'read', seq: 9});
		await until(
			(text) => tabRow(text).includes('2:tcp #dev') && !tabRow(text).includes('#dev ('),
			'read elsewhere',
		);
		assert.deepEqual(dev.reads, [], 'a hidden tab reads nothing');
		dev.emit(message(10, 'bob', 'one more'));
		await until((text) => tabRow(text).includes('2:tcp #dev (1)'));
		await typeKeys(view.stdin, '\u001B2');
		await until((text) => tabRow(text).includes('[2:tcp #dev]') && text.includes('one more'), 'shown');
		await waitFor(() => dev.reads.at(-1) === 10);
	});

	it('tells the server what the focused tab shows at the bottom, and not while scrolled up', async () => {
		const lobby = tcpRoom();
		const {view, until} = setup([{client: lobby}], {columns: 100, rows: 12});
		for (let seq = 1; seq <= 30; seq++) lobby.emit(message(seq, 'bob', `line ${seq}`, true));
		await until((text) => text.includes('line 30'));
		await waitFor(() => lobby.reads.at(-1) === 30);
		await typeKeys(view.stdin, KEYS.pageUp);
		await until((text) => !text.includes('line 30'));
		lobby.emit(message(31, 'bob', 'while scrolled up'));
		await until((text) => text.includes('1 new'), 'the marker for new lines');
		assert.equal(lobby.reads.at(-1), 30);
		await typeKeys(view.stdin, KEYS.ctrlEnd);
		await until((text) => text.includes('while scrolled up'));
		await waitFor(() => lobby.reads.at(-1) === 31);
	});
});

describe('paging back through the stored history', () => {
	const page = (from: number, to: number): RoomEventMessage[] =>
		Array.from({length: to - from + 1}, (_, index) => ({
			t: 'msg' as const,
			seq: from + index,
			ts: T0 + (from + index) * 1000,
			from: 'bob',
			text: `old ${from + index}`,
		}));

	it('asks once for the page before the oldest line, prepends it keeping the view, and stops at the beginning', async () => {
		const lobby = tcpRoom();
		const {view, frame, until} = setup([{client: lobby}], {columns: 100, rows: 12});
		for (let seq = 101; seq <= 110; seq++) lobby.emit(message(seq, 'bob', `line ${seq}`, true));
		await until((text) => text.includes('line 110'));
		await typeKeys(view.stdin, KEYS.pageUp, KEYS.pageUp);
		await waitFor(() => lobby.pages.length === 1);
		await typeKeys(view.stdin, KEYS.pageUp);
		await delay(30);
		assert.deepEqual(lobby.pages, [{before: 101, limit: 100}], 'no second request while one is pending');
		await until(
			(text) => text.includes('line 102') && lines(text)[2]?.startsWith('loading older messages…') === true,
		);
		const before = lines(frame()).slice(3, 9);
		lobby.emit({type: 'page', before: 101, events: page(51, 100), complete: false});
		await until((text) => !text.includes('loading older'), 'the page arrived');
		assert.deepEqual(lines(frame()).slice(3, 9), before, 'the same lines stay on screen');
		await typeKeys(view.stdin, KEYS.pageUp);
		await until((text) => text.includes('old 100'), 'scrolls into the prepended page');
		for (let press = 0; press < 12 && lobby.pages.length < 2; press++)
			await typeKeys(view.stdin, KEYS.pageUp);
		assert.deepEqual(lobby.pages[1], {before: 51, limit: 100});
		lobby.emit({type: 'page', before: 51, events: page(1, 50), complete: true});
		for (let press = 0; press < 15; press++) await typeKeys(view.stdin, KEYS.pageUp);
		await until((text) => text.includes('beginning of the room') && text.includes('old 1'));
		assert.equal(lobby.pages.length, 2, 'nothing more is asked for');
		await typeKeys(view.stdin, KEYS.ctrlEnd);
		await until((text) => text.includes('line 110'));
	});
});

describe('paging with the mouse wheel', () => {
	it('the wheel at the top asks for the page before the oldest line, once', async () => {
		const lobby = tcpRoom();
		const mouse = new EventEmitter();
		const view = render(
			<ChatScreen rooms={[{client: lobby}]} mouse={mouse} size={{columns: 80, rows: 12}} />,
		);
		const frame = (): string => plain(view.lastFrame());
		for (let seq = 41; seq <= 50; seq++) lobby.emit(message(seq, 'bob', `line ${seq}`, true));
		await waitFor(() => frame().includes('line 50'), frame);
		for (let notch = 0; notch < 6; notch++) mouse.emit('mouse', {kind: 'wheel', direction: 'up', x: 5, y: 5});
		await waitFor(() => lobby.pages.length === 1, frame);
		await delay(30);
		assert.deepEqual(lobby.pages, [{before: 41, limit: 100}]);
	});
});

describe('/search in the stored history', () => {
	it('asks the server where it can and shows what it found; elsewhere searches the screen’s log', async () => {
		const lobby = tcpRoom();
		const old = new FakeRoomClient({url: 'udp://127.0.0.1:7667', nick: 'alice', members: ['alice']});
		const {view, until} = setup([{client: lobby}, {client: old}]);
		await until((text) => text.includes('connected'));
		await typeKeys(view.stdin, '/search release', KEYS.enter);
		await waitFor(() => lobby.searches.length === 1);
		assert.deepEqual(lobby.searches, ['release']);
		await until((text) => text.includes('searching the stored history of'));
		lobby.emit({
			type: 'found',
			text: 'release',
			messages: [
				{t: 'msg', seq: 3, ts: T0, from: 'bob', text: 'release on Friday'},
				{t: 'msg', seq: 9, ts: T0 + 60_000, from: 'carol', text: 'the release slipped', action: true},
			],
		});
		await until((text) => text.includes('search: 2 results for "release"'));
		await until((text) => /\[\d{4}-\d\d-\d\d \d\d:\d\d\] bob: release on Friday/.test(text));
		await until((text) => /\[\d{4}-\d\d-\d\d \d\d:\d\d\] \* carol the release slipped/.test(text));
		lobby.emit({type: 'found', text: 'nothing', messages: []});
		await until((text) => text.includes('search: no stored message matches "nothing"'));
		await typeKeys(view.stdin, '\u001B2', '/search release', KEYS.enter);
		await until((text) => /search|find/i.test(lines(text).at(-1) ?? ''), 'the local search prompt');
	});
});

function plainAll(view: {lastFrame(): string | undefined}): string {
	return plain(view.lastFrame());
}
