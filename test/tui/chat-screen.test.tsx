import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {render as inkRender} from 'ink';
import {cleanup, render} from 'ink-testing-library';
import stringWidth from 'string-width';
import {ChatScreen} from '../../source/tui/ChatScreen.js';
import {FakeRoomClient} from './helpers/fake-room-client.js';
import {FakeTtyInput, FakeTtyOutput} from './helpers/fake-terminal.js';
import {KEYS, typeKeys, waitFor} from './helpers/wait.js';

const ANSI = /\u001B\[[0-9;]*m/g;
const plain = (frame: string | undefined): string => (frame ?? '').replace(ANSI, '');
const lines = (frame: string | undefined): string[] => plain(frame).split('\n');
const inputRow = (frame: string | undefined): string => lines(frame).at(-1) ?? '';

let ts = Date.UTC(2026, 0, 1, 12, 0);
const say = (client: FakeRoomClient, from: string, text: string, self = false): void => {
	client.emit({type: 'message', seq: 0, ts: ts++, from, text, action: false, self, history: false});
};

function setup(options: {members?: string[]; size?: {columns: number; rows: number}} = {}) {
	const client = new FakeRoomClient({nick: 'me', members: options.members ?? ['me', 'bob']});
	const view = render(<ChatScreen client={client} size={options.size} />);
	const frame = (): string => plain(view.lastFrame());
	const until = (predicate: (text: string) => boolean) => waitFor(() => predicate(frame()), frame);
	return {client, view, frame, until};
}

afterEach(() => cleanup());

describe('ChatScreen', () => {
	it('draws the status bar, the log and the input line at the full size', async () => {
		const {client, view, until} = setup();
		await until((text) => text.includes('udp://localhost:7777/lobby'));
		await waitFor(() => client.listenerCount === 1);
		const rows = lines(view.lastFrame());
		assert.equal(rows.length, 24, 'falls back to 24 rows when the stream has none');
		assert.match(rows[0]!, /UDP │ me │ connected │ 2 members/);
		assert.match(inputRow(view.lastFrame()), /^>/);
		for (const row of rows) assert.ok(stringWidth(row) <= 100, `row too wide: ${row}`);
	});

	it('keeps a half-typed line intact and editable while messages arrive', async () => {
		const {client, view, frame, until} = setup();
		await waitFor(() => client.listenerCount === 1);
		await typeKeys(view.stdin, 'hel', 'lo wor');
		await until((text) => inputRow(text).startsWith('> hello wor'));
		for (let index = 0; index < 5; index++) say(client, 'bob', `incoming ${index}`);
		await until((text) => text.includes('incoming 4'));
		assert.match(frame(), /12:0\d|\d\d:\d\d bob: incoming 0/);
		assert.ok(inputRow(frame()).startsWith('> hello wor'), inputRow(frame()));
		await typeKeys(view.stdin, 'ld', KEYS.left, KEYS.left, KEYS.backspace);
		say(client, 'bob', 'one more');
		await typeKeys(view.stdin, 'X');
		await until((text) => text.includes('one more') && inputRow(text).startsWith('> hello woXld'));
		await typeKeys(view.stdin, KEYS.enter);
		await waitFor(() => client.calls.some((call) => call.method === 'say'));
		assert.deepEqual(client.calls.at(-1), {method: 'say', text: 'hello woXld', action: false});
		await until((text) => inputRow(text).trim() === '>');
	});

	it('shows pending lines and replaces them with the echo', async () => {
		const {client, view, until} = setup();
		await waitFor(() => client.listenerCount === 1);
		client.emit({type: 'pending', ref: 'r1', text: 'on its way'});
		await until((text) => text.includes('on its way (sending…)'));
		say(client, 'me', 'on its way', true);
		await until((text) => text.includes('me: on its way') && !text.includes('sending'));
		client.emit({type: 'pending', ref: 'r2', text: 'doomed'});
		client.emit({type: 'failed', ref: 'r2', code: 'rate-limited', text: 'slow down'});
		await until((text) => text.includes('doomed (not sent: slow down)'));
		void view;
	});

	it('renders CJK and emoji without overflowing the width', async () => {
		const {client, view, until} = setup({size: {columns: 40, rows: 12}, members: ['me']});
		await waitFor(() => client.listenerCount === 1);
		const text = '日本語のメッセージはとても長いのでこの行は折り返されるはずです🎉🎉 end';
		say(client, 'たろう', text);
		await until((frame) => frame.includes('end'));
		const rows = lines(view.lastFrame());
		assert.equal(rows.length, 12);
		for (const row of rows) assert.ok(stringWidth(row) <= 40, `"${row}" is ${stringWidth(row)} columns`);
		const logText = rows.join('');
		for (const character of ['日本語', 'メッセージ', '折り返', '🎉🎉'])
			assert.ok(logText.includes(character), character);
		await typeKeys(view.stdin, '中文输入测试');
		await until((frame) => inputRow(frame).startsWith('> 中文输入测试'));
		assert.ok(stringWidth(inputRow(view.lastFrame())) <= 40);
	});

	it('scrolls up a page with PgUp, marks new messages below, and comes back', async () => {
		const {client, view, frame, until} = setup({size: {columns: 60, rows: 12}});
		await waitFor(() => client.listenerCount === 1);
		for (let index = 1; index <= 40; index++) say(client, 'bob', `line ${index}`);
		await until((text) => text.includes('line 40'));
		assert.ok(!frame().includes('line 25'));
		await typeKeys(view.stdin, KEYS.pageUp);
		await until((text) => text.includes('more below') && !text.includes('line 40'));
		const scrolledFrame = frame();
		say(client, 'bob', 'late arrival');
		say(client, 'bob', 'later arrival');
		await until((text) => text.includes('2 new messages below'));
		// Everything above the marker row stays put while new lines arrive.
		assert.deepEqual(lines(frame()).slice(0, -2), lines(scrolledFrame).slice(0, -2));
		await typeKeys(view.stdin, KEYS.pageUp, KEYS.pageUp, KEYS.pageUp, KEYS.pageUp, KEYS.pageUp);
		await until((text) => text.includes('line 1\n') || /bob: line 1\b/.test(text));
		await typeKeys(view.stdin, KEYS.pageDown);
		await until((text) => !/bob: line 1\b/.test(text));
		await typeKeys(view.stdin, KEYS.ctrlEnd);
		await until((text) => text.includes('later arrival') && !text.includes('below'));
		await typeKeys(view.stdin, KEYS.shiftUp);
		await until((text) => text.includes('below') && !text.includes('later arrival'));
		await typeKeys(view.stdin, 'x', KEYS.enter);
		await until((text) => text.includes('later arrival') && !text.includes('below'));
	});

	it('routes /msg, /me, /nick and /who to the client', async () => {
		const {client, view} = setup();
		await waitFor(() => client.listenerCount === 1);
		for (const line of ['/msg bob psst, hi', '/me waves', '/nick newname', '/who', '//slash']) {
			await typeKeys(view.stdin, line, KEYS.enter);
		}
		await waitFor(() => client.calls.length === 5);
		assert.deepEqual(client.calls, [
			{method: 'direct', nick: 'bob', text: 'psst, hi'},
			{method: 'say', text: 'waves', action: true},
			{method: 'changeNick', nick: 'newname'},
			{method: 'who'},
			{method: 'say', text: '/slash', action: false},
		]);
	});

	it('prints /help, reports bad commands, and /clear empties the log', async () => {
		// Tall enough for the whole command list.
		const {client, view, frame, until} = setup({size: {columns: 100, rows: 30}});
		await waitFor(() => client.listenerCount === 1);
		say(client, 'bob', 'old news');
		await typeKeys(view.stdin, '/help', KEYS.enter);
		await until((text) => text.includes('/switch N') && text.includes('/quit'));
		await typeKeys(view.stdin, '/bogus', KEYS.enter);
		await until((text) => text.includes('unknown command /bogus'));
		await typeKeys(view.stdin, '/nick', KEYS.enter);
		await until((text) => text.includes('usage: /nick NEW'));
		await typeKeys(view.stdin, '/clear', KEYS.enter);
		await until((text) => !text.includes('old news') && !text.includes('/switch N'));
		assert.equal(client.calls.length, 0, 'none of these went to the server');
		assert.ok(!frame().includes('unknown command'));
	});

	it('shows room events: presence, lost messages, errors, who, lag', async () => {
		const {client, until} = setup();
		await waitFor(() => client.listenerCount === 1);
		client.emit({type: 'presence', seq: 1, ts, kind: 'join', nick: 'carol'});
		client.emit({type: 'presence', seq: 2, ts, kind: 'nick', nick: 'dave', old: 'carol'});
		client.emit({type: 'lost', count: 3});
		client.emit({type: 'error', code: 'no-such-nick', text: 'no such nick: zed'});
		client.emit({type: 'who', members: ['me', 'bob', 'dave']});
		client.emit({type: 'members', members: ['me', 'bob', 'dave']});
		client.emit({type: 'lag', ms: 42});
		client.emit({type: 'direct', ts, from: 'bob', to: 'me', text: 'secret', self: false});
		await until(
			(text) =>
				text.includes('carol joined') &&
				text.includes('carol is now known as dave') &&
				text.includes('3 messages lost') &&
				text.includes('no such nick: zed') &&
				text.includes('in the room (3): bob, dave, me') &&
				text.includes('3 members') &&
				text.includes('lag 42 ms') &&
				text.includes('[dm] bob → me: secret'),
		);
	});

	it('toggles the member panel with Ctrl+T and hides it on narrow screens', async () => {
		const {client, view, until} = setup({members: ['me', 'zoe']});
		await waitFor(() => client.listenerCount === 1);
		await until((text) => text.includes('Members (2)') && text.includes('zoe'));
		await typeKeys(view.stdin, KEYS.ctrlT);
		await until((text) => !text.includes('Members (2)'));
		cleanup();
		const narrow = setup({size: {columns: 40, rows: 10}, members: ['me', 'zoe']});
		await narrow.until((text) => text.includes('connected'));
		assert.ok(!narrow.frame().includes('Members'));
	});

	it('leaves the room and exits on Ctrl+C', async () => {
		const client = new FakeRoomClient({nick: 'me', members: ['me', 'bob']});
		const stdin = new FakeTtyInput();
		// Ink's own render, for waitUntilExit(): ink-testing-library hides whether the app exited.
		const instance = inkRender(<ChatScreen client={client} />, {
			stdout: new FakeTtyOutput(80, 24) as unknown as NodeJS.WriteStream,
			stdin: stdin as unknown as NodeJS.ReadStream,
			interactive: true,
			exitOnCtrlC: false,
		});
		let exited = false;
		void instance.waitUntilExit().then(() => (exited = true));
		await waitFor(() => client.listenerCount === 1);
		await typeKeys(stdin, 'draft', KEYS.ctrlC);
		await waitFor(
			() => exited,
			() => 'the screen did not exit',
		);
		assert.deepEqual(client.calls, [{method: 'close'}], 'left the room; the draft was not sent');
	});

	it('asks for a nick, checks it, and shows the server refusing it', async () => {
		const client = new FakeRoomClient({state: 'closed'});
		let attempts = 0;
		client.connectBehaviour = async (nick) => {
			attempts++;
			if (attempts === 1) throw new Error('nick taken');
			client.emit({type: 'nick', nick});
			client.emit({type: 'state', state: 'connected'});
		};
		const view = render(<ChatScreen client={client} />);
		const frame = (): string => plain(view.lastFrame());
		await waitFor(() => frame().includes('choose a nick'), frame);
		await typeKeys(view.stdin, 'bad nick', KEYS.enter);
		await waitFor(() => frame().includes('letters, digits'), frame);
		assert.equal(client.calls.length, 0);
		await typeKeys(view.stdin, KEYS.ctrlU, 'alice', KEYS.enter);
		await waitFor(() => frame().includes('nick taken'), frame);
		await typeKeys(view.stdin, KEYS.ctrlU, 'alice2', KEYS.enter);
		await waitFor(() => inputRow(frame()).startsWith('>') && frame().includes('alice2 │ connected'), frame);
		assert.deepEqual(client.calls, [
			{method: 'connect', nick: 'alice'},
			{method: 'connect', nick: 'alice2'},
		]);
	});

	it('joins with a nick given up front', async () => {
		const client = new FakeRoomClient({state: 'closed'});
		const view = render(<ChatScreen client={client} nick="zed" />);
		await waitFor(
			() => plain(view.lastFrame()).includes('zed │ connected'),
			() => plain(view.lastFrame()),
		);
		assert.deepEqual(client.calls, [{method: 'connect', nick: 'zed'}]);
	});

	it('takes a bracketed paste of two lines as one multi-line draft, sent by Enter as one message, and recalls it with ↑', async () => {
		const {client, view, until} = setup();
		await waitFor(() => client.listenerCount === 1);
		await typeKeys(view.stdin, '\u001B[200~pasted\nover lines\u001B[201~');
		await until((text) => inputRow(text).startsWith('> pasted↵over lines'));
		assert.deepEqual(client.calls, [], 'a paste is not sent without Enter');
		await typeKeys(view.stdin, KEYS.enter, 'draft', KEYS.up);
		await until((text) => inputRow(text).startsWith('> pasted↵over lines'));
		await typeKeys(view.stdin, KEYS.down);
		await until((text) => inputRow(text).startsWith('> draft'));
		assert.deepEqual(client.calls, [{method: 'say', text: 'pasted\nover lines', action: false}]);
	});

	it('shows a client that throws as an error line instead of crashing', async () => {
		const client = new FakeRoomClient({nick: 'me'});
		client.say = () => {
			throw new Error('not connected yet');
		};
		const view = render(<ChatScreen client={client} />);
		await waitFor(() => client.listenerCount === 1);
		await typeKeys(view.stdin, 'hello', KEYS.enter);
		await waitFor(
			() => plain(view.lastFrame()).includes('!! not connected yet'),
			() => plain(view.lastFrame()),
		);
	});
});
