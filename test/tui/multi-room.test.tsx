import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {render as inkRender} from 'ink';
import {cleanup, render} from 'ink-testing-library';
import stringWidth from 'string-width';
import type {HostTrustPrompter} from '../../source/client/host-trust.js';
import {ChatScreen, type RoomOpener, type RoomSpec} from '../../source/tui/ChatScreen.js';
import {LOGIN_HINT} from '../../source/tui/LoginForm.js';
import {FakeRoomClient} from './helpers/fake-room-client.js';
import {FakeTtyInput, FakeTtyOutput} from './helpers/fake-terminal.js';
import {ObservedTrustPrompter} from './helpers/observed-trust.js';
import {KEYS, typeKeys, waitFor} from './helpers/wait.js';

const ANSI = /\u001B\[[0-9;?]*[A-Za-z]/g;
const plain = (frame: string | undefined): string => (frame ?? '').replace(ANSI, '');
const lines = (frame: string | undefined): string[] => plain(frame).split('\n');
const inputRow = (frame: string): string => lines(frame).at(-1) ?? '';
const tabRow = (frame: string): string => lines(frame)[1] ?? '';

const ALT = (digit: number): string => `\u001B${digit}`;
const CTRL_N = '\u000E';
const CTRL_P = '\u0010';
const CTRL_R = '\u0012';
const TAB = '\t';

let ts = Date.UTC(2026, 0, 1, 12, 0);
const say = (client: FakeRoomClient, from: string, text: string): void =>
	client.emit({type: 'message', seq: 0, ts: ts++, from, text, action: false, self: false, history: false});

const udpRoom = (nick = 'me') =>
	new FakeRoomClient({url: 'udp://127.0.0.1:7667', nick, members: [nick, 'bob']});
const tcpRoom = (url = 'tcp://127.0.0.1:7668') =>
	new FakeRoomClient({url, transport: 'tcp', needsPassword: true, state: 'closed'});

/** Makes fake clients for /connect and remembers them. */
function fakeOpener(): RoomOpener & {created: FakeRoomClient[]} {
	const created: FakeRoomClient[] = [];
	return {
		created,
		create(url) {
			const client = url.startsWith('tcp:') ? tcpRoom(url) : new FakeRoomClient({url, state: 'closed'});
			created.push(client);
			return client;
		},
	};
}

function setup(rooms: RoomSpec[], options: {opener?: RoomOpener; trust?: HostTrustPrompter} = {}) {
	const view = render(<ChatScreen rooms={rooms} opener={options.opener} trust={options.trust} />);
	const frame = (): string => plain(view.lastFrame());
	const until = (predicate: (text: string) => boolean, what = '') =>
		waitFor(
			() => predicate(frame()),
			() => `${what}\n${frame()}`,
		);
	return {view, frame, until};
}

afterEach(() => cleanup());

describe('several rooms in one screen', () => {
	it('opens a TCP room with /connect beside a UDP room, logs in there, and switches with the keys', async () => {
		const lobby = udpRoom();
		const opener = fakeOpener();
		const {view, frame, until} = setup([{client: lobby}], {opener});
		await until((text) => /^\[1:udp 127\.0\.0\.1:7667\]/.test(tabRow(text)), 'one tab');
		assert.match(tabRow(frame()), /\/connect URL opens another room/);
		await typeKeys(view.stdin, '/connect tcp://chat.example:7668', KEYS.enter);
		await until(
			(text) => text.includes(LOGIN_HINT) && tabRow(text).includes('[2:tcp chat.example:7668]'),
			'the new tab with its login form',
		);
		const chat = opener.created[0]!;
		assert.match(lines(frame())[0]!, /tcp:\/\/chat\.example:7668 │ TCP │ \(no nick\) │ not logged in/);
		assert.match(frame(), /user> +me/, 'the nick from the UDP room is the user name to start with');
		await typeKeys(view.stdin, 'pw', CTRL_R);
		await until((text) => text.includes('me │ connected') && inputRow(text).startsWith('>'), 'logged in');
		assert.deepEqual(chat.calls, [{method: 'connect', nick: 'me', password: 'pw', register: true}]);

		await typeKeys(view.stdin, ALT(1));
		await until(
			(text) => tabRow(text).startsWith('[1:udp') && lines(text)[0]!.includes('udp://127.0.0.1:7667'),
			'Alt+1',
		);
		await typeKeys(view.stdin, CTRL_N);
		await until((text) => tabRow(text).includes('[2:tcp') && lines(text)[0]!.includes('TCP'), 'Ctrl+N');
		await typeKeys(view.stdin, CTRL_N);
		await until((text) => tabRow(text).startsWith('[1:udp'), 'Ctrl+N wraps around');
		await typeKeys(view.stdin, CTRL_P);
		await until((text) => tabRow(text).includes('[2:tcp'), 'Ctrl+P');
		await typeKeys(view.stdin, '/switch 1', KEYS.enter);
		await until((text) => tabRow(text).startsWith('[1:udp'), '/switch 1');
		await typeKeys(view.stdin, '/switch 7', KEYS.enter);
		await until((text) => text.includes('there is no tab 7 (2 open)'));
		// Each room gets its own lines.
		await typeKeys(view.stdin, 'to the lobby', KEYS.enter, ALT(2), 'to the chat', KEYS.enter);
		await waitFor(() => chat.calls.length === 2);
		assert.deepEqual(lobby.calls, [{method: 'say', text: 'to the lobby', action: false}]);
		assert.deepEqual(chat.calls.at(-1), {method: 'say', text: 'to the chat', action: false});
	});

	it('counts unread lines and marks mentions in the room not shown, and clears them when shown', async () => {
		const lobby = udpRoom('alice');
		const chat = new FakeRoomClient({
			url: 'tcp://127.0.0.1:7668',
			transport: 'tcp',
			needsPassword: true,
			nick: 'alice',
		});
		const {view, frame, until} = setup([{client: lobby}, {client: chat}]);
		await until((text) => tabRow(text).startsWith('[1:udp 127.0.0.1:7667] 2:tcp 127.0.0.1:7668 '));
		say(chat, 'bob', 'anyone here?');
		say(chat, 'carol', 'not me');
		await until((text) => tabRow(text).includes('2:tcp 127.0.0.1:7668 (2) '), 'two unread');
		assert.ok(!tabRow(frame()).includes('@'));
		assert.ok(!frame().includes('anyone here?'), 'the hidden room’s lines are not drawn');
		say(chat, 'bob', 'alice: are you there?');
		await until((text) => tabRow(text).includes('2:tcp 127.0.0.1:7668 (3) @'), 'mentioned');
		say(lobby, 'bob', 'in the lobby, for alice');
		await until((text) => text.includes('bob: in the lobby, for alice'), 'the shown room’s line');
		assert.match(tabRow(frame()), /^\[1:udp 127\.0\.0\.1:7667\] /, 'the shown room counts nothing');

		await typeKeys(view.stdin, ALT(2));
		await until(
			(text) => tabRow(text).includes('[2:tcp 127.0.0.1:7668]') && text.includes('alice: are you there?'),
			'switched',
		);
		assert.ok(
			frame().includes('bob: anyone here?') && frame().includes('carol: not me'),
			'nothing was lost while hidden',
		);
		assert.ok(!tabRow(frame()).includes('(3)') && !tabRow(frame()).includes('@'), 'seen now');
		chat.emit({type: 'direct', ts, from: 'bob', to: 'alice', text: 'shown room', self: false});
		lobby.emit({type: 'direct', ts, from: 'bob', to: 'alice', text: 'psst', self: false});
		await until(
			(text) => tabRow(text).startsWith(' 1:udp 127.0.0.1:7667 (1) @ [2:tcp'),
			'a direct message marks the other room',
		);
	});

	it('keeps each room’s half-typed line, history and login fields across switches', async () => {
		const lobby = udpRoom();
		const other = new FakeRoomClient({url: 'udp://10.0.0.2:7667', nick: 'me'});
		const chat = tcpRoom();
		const {view, until} = setup([{client: lobby}, {client: other}, {client: chat}]);
		await until((text) => tabRow(text).includes('3:tcp'));
		await typeKeys(view.stdin, 'sent here', KEYS.enter, 'half typed in one');
		await until((text) => inputRow(text).startsWith('> half typed in one'));
		await typeKeys(view.stdin, ALT(2), 'and in two');
		await until((text) => tabRow(text).includes('[2:udp') && inputRow(text).startsWith('> and in two'));
		await typeKeys(view.stdin, ALT(3));
		await until((text) => text.includes(LOGIN_HINT));
		await typeKeys(view.stdin, 'carol', TAB, 'sec');
		await until((text) => /password> •••/.test(text));
		say(lobby, 'bob', 'arrives meanwhile');
		await typeKeys(view.stdin, ALT(1));
		await until(
			(text) => inputRow(text).startsWith('> half typed in one') && text.includes('arrives meanwhile'),
			'room 1 as left',
		);
		await typeKeys(view.stdin, KEYS.ctrlU, KEYS.up);
		await until((text) => inputRow(text).startsWith('> sent here'), 'room 1’s own history');
		await typeKeys(view.stdin, ALT(2));
		await until((text) => inputRow(text).startsWith('> and in two'), 'room 2 as left');
		await typeKeys(view.stdin, KEYS.ctrlU, KEYS.up);
		await until((text) => inputRow(text).trim() === '>', 'room 2 has no history');
		await typeKeys(view.stdin, ALT(3));
		await until(
			(text) => /user> +carol/.test(text) && /password> •••\s*$/m.test(text),
			'the login form as left',
		);
		await typeKeys(view.stdin, 'ret', KEYS.enter);
		await until((text) => text.includes('carol │ connected'));
		assert.deepEqual(chat.calls, [{method: 'connect', nick: 'carol', password: 'secret', register: false}]);
		assert.ok(!view.frames.some((seen) => plain(seen).includes('secret')), 'the password never shows');
	});

	it('asks about the certificate of a TCP room opened later, in the TUI', async () => {
		const trust = new ObservedTrustPrompter();
		const opener = fakeOpener();
		const {view, until} = setup([{client: udpRoom()}], {opener, trust});
		await until((text) => text.includes('connected'));
		await waitFor(() => trust.registered); // the trust handler registers in an effect
		await typeKeys(view.stdin, '/connect tcp://new.example:7668', KEYS.enter);
		await until((text) => text.includes(LOGIN_HINT));
		const chat = opener.created[0]!;
		let trusted: boolean | undefined;
		chat.connectBehaviour = async (nick) => {
			trusted = await trust.ask('new.example:7668', 'SHA256:abc');
			if (!trusted) throw new Error('not trusted');
			chat.emit({type: 'nick', nick});
			chat.emit({type: 'state', state: 'connected'});
		};
		await typeKeys(view.stdin, 'pw', KEYS.enter);
		await until((text) => text.includes('New server new.example:7668'), 'the question');
		await typeKeys(view.stdin, 'y');
		await until((text) => text.includes('me │ connected') && tabRow(text).includes('[2:tcp'), 'logged in');
		assert.equal(trusted, true);
	});

	it('refuses bad addresses, switches to a room already open, /close leaves one room, Ctrl+C leaves them all', async () => {
		const lobby = udpRoom();
		const chat = new FakeRoomClient({
			url: 'tcp://127.0.0.1:7668',
			transport: 'tcp',
			needsPassword: true,
			nick: 'me',
		});
		const opener = fakeOpener();
		const {view, frame, until} = setup([{client: lobby}, {client: chat}], {opener});
		await until((text) => tabRow(text).includes('2:tcp'));
		await typeKeys(view.stdin, '/connect http://x', KEYS.enter);
		await until((text) => text.includes('unknown room type http:'));
		await typeKeys(view.stdin, '/connect tcp://127.0.0.1:7668', KEYS.enter);
		await until((text) => tabRow(text).includes('[2:tcp') && text.includes('is open in this tab already'));
		assert.equal(opener.created.length, 0);
		await typeKeys(view.stdin, '/connect udp://127.0.0.1:9999', KEYS.enter);
		await until((text) => tabRow(text).includes('[3:udp 127.0.0.1:9999]'));
		const third = opener.created[0]!;
		await waitFor(() => third.calls.length === 1);
		assert.deepEqual(
			third.calls,
			[{method: 'connect', nick: 'me'}],
			'a UDP room joins with the nick we have',
		);
		await typeKeys(view.stdin, '/close', KEYS.enter);
		await until(
			(text) =>
				tabRow(text).includes('[2:tcp') &&
				!tabRow(text).includes('3:') &&
				text.includes('left 127.0.0.1:9999 (udp://127.0.0.1:9999)'),
		);
		assert.deepEqual(third.calls.at(-1), {method: 'close'});
		assert.deepEqual(lobby.calls, []);
		await typeKeys(view.stdin, KEYS.ctrlC);
		await waitFor(() => lobby.calls.length === 1 && chat.calls.length === 1, frame);
		assert.deepEqual(lobby.calls, [{method: 'close'}]);
		assert.deepEqual(chat.calls, [{method: 'close'}]);
	});

	it('says so when it cannot open rooms, and /close on the last room quits', async () => {
		const lobby = udpRoom();
		const {view, until} = setup([{client: lobby}]);
		await until((text) => text.includes('connected'));
		await typeKeys(view.stdin, '/connect udp://1.2.3.4:5', KEYS.enter);
		await until((text) => text.includes('this screen cannot open other rooms'));
		await typeKeys(view.stdin, '/help', KEYS.enter);
		await until((text) => text.includes('/connect URL|NAME') && text.includes('Alt+1…9'));
		await typeKeys(view.stdin, '/close', KEYS.enter);
		await waitFor(() => lobby.calls.some((call) => call.method === 'close'));
	});
});

describe('layout with several rooms', () => {
	async function drawAt(
		columns: number,
		rows: number,
		steps: (
			stdout: FakeTtyOutput,
			stdin: FakeTtyInput,
			flushed: () => Promise<void>,
		) => Promise<void> = async () => {},
	) {
		const stdout = new FakeTtyOutput(columns, rows);
		const stdin = new FakeTtyInput();
		const lobby = udpRoom('alice');
		const chat = tcpRoom();
		const instance = inkRender(<ChatScreen rooms={[{client: lobby}, {client: chat}]} />, {
			stdout: stdout as unknown as NodeJS.WriteStream,
			stdin: stdin as unknown as NodeJS.ReadStream,
			interactive: true,
			exitOnCtrlC: false,
		});
		const screen = (): string[] => {
			const last = stdout.output.slice(stdout.output.lastIndexOf('\u001B[?2026h'));
			return plain(last).split('\n');
		};
		await waitFor(
			() => /UDP|1:udp/.test(plain(stdout.output)),
			() => stdout.output,
		);
		const flushed = () => instance.waitUntilRenderFlush();
		await steps(stdout, stdin, flushed);
		// Ink may draw once more at the old height right after a resize; wait for the settled frame.
		await flushed();
		await waitFor(
			() => screen().length === stdout.rows,
			() => screen().join('\n'),
		);
		return {screen: screen(), lobby, chat, stdout, stdin, instance};
	}

	const assertFits = (screen: string[], columns: number, rows: number) => {
		assert.equal(screen.length, rows, `exactly ${rows} rows:\n${screen.join('\n')}`);
		for (const row of screen) assert.ok(stringWidth(row) <= columns, `"${row}" is wider than ${columns}`);
	};

	it('folds the tab bar into the status bar at 40×10, with unread and mention counts', async () => {
		const {screen, instance} = await drawAt(40, 10);
		assertFits(screen, 40, 10);
		assert.match(screen[0]!, /^ 1\/2 /, screen.join('\n'));
		assert.ok(screen[0]!.includes('connected'));
		instance.unmount();

		const withNews = await drawAt(40, 10);
		say(withNews.chat, 'bob', 'first');
		withNews.chat.emit({type: 'direct', ts, from: 'bob', to: 'alice', text: 'psst', self: false});
		const last = () =>
			plain(withNews.stdout.output.slice(withNews.stdout.output.lastIndexOf('\u001B[?2026h')));
		await waitFor(() => last().includes(' 1/2 +2@ '), last);
		withNews.instance.unmount();
	});

	it('draws exactly the terminal at any size and through resizes, login form and all', async () => {
		for (const [columns, rows] of [
			[100, 30],
			[60, 12],
			[40, 10],
			[30, 6],
			[20, 4],
		] as const) {
			const shown = await drawAt(columns, rows, async (_stdout, stdin) => {
				stdin.write(ALT(2)); // the login form: the tallest bottom
			});
			assertFits(shown.screen, columns, rows);
			shown.instance.unmount();
		}
		const resized = await drawAt(100, 30, async (stdout, stdin, flushed) => {
			stdin.write(ALT(2));
			await flushed();
			stdout.resize(40, 10);
			await flushed();
			stdout.resize(72, 14);
		});
		assertFits(resized.screen, 72, 14);
		assert.match(resized.screen[1]!, /1:udp.*\[2:tcp/, 'the tab bar is back at 14 rows');
		resized.instance.unmount();
	});
});
