import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {RoomError} from '../../source/client/types.js';
import {FOLLOWING} from '../../source/tui/room-tab.js';
import {Workspace} from '../../source/tui/workspace.js';
import {FakeRoomClient} from './helpers/fake-room-client.js';
import {waitFor} from './helpers/wait.js';

/**
 * Lets every promise chain the fakes started run to its end: their behaviours are
 * plain promises, all settled before the next macrotask.
 */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let ts = Date.UTC(2026, 0, 1, 12, 0);
const say = (
	client: FakeRoomClient,
	from: string,
	text: string,
	extra: {self?: boolean; history?: boolean} = {},
): void =>
	client.emit({
		type: 'message',
		seq: 0,
		ts: ts++,
		from,
		text,
		action: false,
		self: extra.self ?? false,
		history: extra.history ?? false,
	});

const udp = (nick = 'me') => new FakeRoomClient({url: 'udp://127.0.0.1:7667', nick, members: [nick]});
const tcp = () =>
	new FakeRoomClient({url: 'tcp://127.0.0.1:7668', transport: 'tcp', needsPassword: true, state: 'closed'});

describe('Workspace', () => {
	it('keeps receiving in a hidden room and counts what was not seen', () => {
		const workspace = new Workspace();
		const lobby = udp('me');
		const other = udp('me');
		const first = workspace.open(lobby);
		const second = workspace.open(other, {activate: false});
		assert.equal(workspace.active, first);
		say(other, 'bob', 'one');
		say(other, 'bob', 'two');
		say(other, 'me', 'my own echo', {self: true});
		say(other, 'bob', 'old', {history: true});
		other.emit({type: 'presence', ts, kind: 'join', nick: 'carol'});
		assert.equal(second.log.length, 5, 'everything is logged while hidden');
		assert.equal(second.unread, 2, 'only others’ live chat lines count');
		assert.equal(second.mentioned, false);
		say(lobby, 'bob', 'seen at once');
		assert.equal(first.unread, 0, 'the shown room never counts');
		workspace.activate(1);
		assert.equal(second.unread, 0);
		assert.equal(first.unread, 0);
		say(lobby, 'bob', 'now hidden');
		assert.equal(first.unread, 1);
	});

	it('marks a hidden room where our nick is a word of a message, or a direct message arrives', () => {
		const workspace = new Workspace();
		workspace.open(udp('alice'));
		const client = udp('alice');
		const tab = workspace.open(client, {activate: false});
		say(client, 'bob', 'malice aforethought, alicex');
		assert.equal(tab.mentioned, false, 'not inside another word');
		say(client, 'bob', 'hey @Alice: lunch?');
		assert.equal(tab.mentioned, true, 'case-insensitive, punctuation around it');
		workspace.activate(1);
		assert.equal(tab.mentioned, false, 'showing the room clears the mark');
		workspace.activate(0);
		client.emit({type: 'direct', ts, from: 'bob', to: 'alice', text: 'psst', self: false});
		assert.equal(tab.mentioned, true);
		assert.equal(tab.unread, 1);
	});

	it('keeps each room’s input line, history and scroll position', () => {
		const workspace = new Workspace();
		const a = workspace.open(udp());
		const b = workspace.open(udp(), {activate: false});
		for (const text of ['sent in a', 'half']) {
			for (const character of text) a.editLine({type: 'insert', text: character});
			if (text !== 'half') a.editLine({type: 'submit'});
		}
		a.setScroll({offset: 3, anchorId: 1, seenId: 1});
		workspace.activate(1);
		b.editLine({type: 'insert', text: 'other draft'});
		b.editLine({type: 'history-up'});
		assert.equal(b.line.value, 'other draft', 'b has no history of its own yet');
		workspace.activate(0);
		assert.equal(a.line.value, 'half');
		assert.deepEqual(a.scroll, {offset: 3, anchorId: 1, seenId: 1});
		assert.equal(b.scroll, FOLLOWING);
		a.editLine({type: 'history-up'});
		assert.equal(a.line.value, 'sent in a');
	});

	it('cycles, switches by number and closes to the left neighbour', async () => {
		const workspace = new Workspace();
		const clients = [udp(), udp(), udp()];
		const tabs = clients.map((client) => workspace.open(client));
		assert.equal(workspace.activeIndex, 2, 'a new tab is shown');
		workspace.cycle(1);
		assert.equal(workspace.activeIndex, 0, 'wraps around');
		workspace.cycle(-1);
		assert.equal(workspace.activeIndex, 2);
		assert.equal(workspace.activate(5), false);
		workspace.activate(1);
		await workspace.close(tabs[1]!);
		assert.deepEqual(clients[1]!.calls, [{method: 'close'}]);
		assert.equal(workspace.active, tabs[0]);
		assert.equal(workspace.tabs.length, 2);
		say(clients[1]!, 'bob', 'after closing');
		assert.equal(tabs[1]!.log.length, 0, 'a closed tab stops listening');
		await workspace.close(tabs[0]!);
		assert.equal(workspace.active, tabs[2], 'closing the first shows the new first');
		assert.equal(tabs[2]!.visible, true);
		await workspace.closeAll();
		assert.deepEqual(clients[2]!.calls, [{method: 'close'}]);
	});

	it('joins on demand, goes back to asking on a refusal, and keeps a login user per room', async () => {
		const workspace = new Workspace();
		const room = tcp();
		room.connectBehaviour = async () => {
			throw new RoomError('auth-failed', 'invalid user name or password');
		};
		const tab = workspace.open(room, {nick: 'alice'});
		assert.equal(tab.join.phase, 'ask', 'a password room without a password asks');
		assert.equal(tab.loginUser, 'alice');
		tab.connect('bob', 'wrong', {register: false});
		assert.deepEqual(tab.join, {phase: 'joining', nick: 'bob'});
		await waitFor(() => tab.join.phase === 'ask');
		assert.deepEqual(tab.join, {phase: 'ask', error: 'invalid user name or password', code: 'auth-failed'});
		assert.equal(tab.loginUser, 'bob');

		const later = udp();
		later.state = 'closed';
		const pending = workspace.open(later, {nick: 'zed', joinNow: false});
		assert.deepEqual(pending.join, {phase: 'joining', nick: 'zed'});
		assert.deepEqual(later.calls, []);
		workspace.startPendingJoins();
		await waitFor(() => pending.join.phase === 'joined');
		assert.deepEqual(later.calls, [{method: 'connect', nick: 'zed'}]);
	});

	it('checks a password room’s server before the form is used: a refusal shows there, a login waits for the check', async () => {
		const workspace = new Workspace();
		const refused = tcp();
		refused.checkServerBehaviour = async () => {
			throw new RoomError('host-rejected', '127.0.0.1:7668 is a new server; not trusted');
		};
		const first = workspace.open(refused, {nick: 'alice'});
		assert.equal(refused.serverChecks, 1, 'checked at once, before any password');
		await waitFor(() => first.join.phase === 'ask' && 'error' in first.join);
		assert.deepEqual(first.join, {
			phase: 'ask',
			error: '127.0.0.1:7668 is a new server; not trusted',
			code: 'host-rejected',
		});

		// A password typed while the certificate question is still open waits for the answer.
		const slow = tcp();
		let answer!: () => void;
		slow.checkServerBehaviour = () => new Promise((resolve) => (answer = resolve));
		const second = workspace.open(slow, {nick: 'bob'});
		second.connect('bob', 'secret');
		await settled(); // the check is pending on `answer`; everything else has run its course
		assert.equal(slow.serverChecks, 1);
		assert.deepEqual(slow.calls, [], 'no login before the server is settled');
		answer();
		await waitFor(() => second.join.phase === 'joined');
		assert.deepEqual(slow.calls, [{method: 'connect', nick: 'bob', password: 'secret', register: false}]);
		assert.equal(second.join.phase, 'joined');

		// Rooms without a password (UDP) and logins with one given skip the check.
		const udpRoom = udp();
		udpRoom.state = 'closed';
		workspace.open(udpRoom, {});
		const given = tcp();
		const givenTab = workspace.open(given, {nick: 'carol', password: 'pw'});
		await waitFor(() => givenTab.join.phase === 'joined');
		assert.deepEqual([udpRoom.serverChecks, given.serverChecks], [0, 0]);
		assert.deepEqual(given.calls, [{method: 'connect', nick: 'carol', password: 'pw', register: false}]);
	});

	it('names a tab by its label, the room the server announced, or host:port', () => {
		const workspace = new Workspace();
		const plain = workspace.open(udp());
		assert.equal(plain.name, '127.0.0.1:7667');
		const named = udp() as FakeRoomClient & {roomName?: string};
		named.roomName = 'lobby';
		assert.equal(workspace.open(named).name, 'lobby');
		assert.equal(workspace.open(udp(), {label: 'work'}).name, 'work');
	});

	it('tells subscribers about changes in any room', () => {
		const workspace = new Workspace();
		const hidden = udp();
		workspace.open(udp());
		workspace.open(hidden, {activate: false});
		let heard = 0;
		const unsubscribe = workspace.subscribe(() => heard++);
		const before = workspace.version;
		say(hidden, 'bob', 'hello');
		assert.ok(heard > 0 && workspace.version > before);
		unsubscribe();
		workspace.dispose();
		assert.equal(hidden.listenerCount, 0);
	});

	it('attaches to every room as it opens and detaches after its client closed, once', async () => {
		const order: string[] = [];
		const workspace = new Workspace({
			attach: (tab) => {
				order.push(`attach ${tab.client.url}`);
				return async () => {
					order.push(`detach ${tab.client.url} (${tab.client.state})`);
				};
			},
		});
		const lobby = udp();
		const other = new FakeRoomClient({url: 'udp://10.0.0.2:7667', nick: 'me'});
		const later = new FakeRoomClient({url: 'udp://10.0.0.3:7667', nick: 'me'});
		workspace.open(lobby);
		const second = workspace.open(other);
		workspace.open(later);
		assert.deepEqual(order.splice(0), [
			'attach udp://127.0.0.1:7667',
			'attach udp://10.0.0.2:7667',
			'attach udp://10.0.0.3:7667',
		]);
		await workspace.close(second);
		assert.deepEqual(
			order.splice(0),
			['detach udp://10.0.0.2:7667 (closed)'],
			'after the client closed, so the log has the last line',
		);
		await workspace.closeAll();
		assert.deepEqual(order.splice(0).sort(), [
			'detach udp://10.0.0.3:7667 (closed)',
			'detach udp://127.0.0.1:7667 (closed)',
		]);
		await workspace.detachAll();
		workspace.dispose();
		assert.deepEqual(order, [], 'nothing runs twice');
	});

	it('reports an attach that throws in the room and keeps the room', () => {
		const workspace = new Workspace({
			attach: () => {
				throw new Error('cannot log here');
			},
		});
		const tab = workspace.open(udp());
		assert.deepEqual(
			tab.log.toArray().map((entry) => entry.kind === 'error' && entry.text),
			['cannot log here'],
		);
	});

	it('tells onMention about mentions and direct messages in any room, shown or not, by the tab’s rule', () => {
		const heard: string[] = [];
		const workspace = new Workspace({onMention: (tab, event) => heard.push(`${tab.id} ${event.type}`)});
		const lobby = udp('alice');
		const other = udp('alice');
		const first = workspace.open(lobby);
		const second = workspace.open(other, {activate: false});
		say(lobby, 'bob', 'alice: shown room');
		say(other, 'bob', 'hidden room, Alice?');
		say(other, 'bob', 'malice is not a mention');
		say(other, 'alice', 'alice talks', {self: true});
		say(other, 'bob', 'alice in history', {history: true});
		other.emit({type: 'direct', ts, from: 'bob', to: 'alice', text: 'psst', self: false});
		assert.deepEqual(heard, [`${first.id} message`, `${second.id} message`, `${second.id} direct`]);
		assert.equal(second.mentioned, true, 'the hidden room is marked by the same events');
	});
});
