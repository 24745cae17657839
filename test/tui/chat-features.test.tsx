// Tab completion, log search, multi-line paste, mention highlights, the bell
// and --log-dir, through real keys and real bracketed pastes on the real
// multi-room ChatScreen (FakeRoomClient stands in for the network).
import '../helpers/force-color.js';
import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, readFile, rm, stat} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {cleanup, render} from 'ink-testing-library';
import {attachRoomLog, roomLogPath} from '../../source/client/room-log.js';
import {
	ChatScreen,
	type ChatScreenProps,
	type RoomOpener,
	type RoomSpec,
} from '../../source/tui/ChatScreen.js';
import {createBell} from '../../source/tui/mentions.js';
import {FakeRoomClient} from './helpers/fake-room-client.js';
import {KEYS, typeKeys, waitFor} from './helpers/wait.js';

const ANSI = /\u001B\[[0-9;?]*[A-Za-z]/g;
const plain = (frame: string | undefined): string => (frame ?? '').replace(ANSI, '');
const lines = (frame: string): string[] => plain(frame).split('\n');
const inputRow = (frame: string): string => lines(frame).at(-1) ?? '';
const tabRow = (frame: string): string => lines(frame)[1] ?? '';

const TAB = '\t';
const SHIFT_TAB = '\u001B[Z';
const CTRL_R = '\u0012';
const CTRL_S = '\u0013';
const ESC = '\u001B';
const ALT = (digit: number): string => `\u001B${digit}`;
const paste = (text: string): string => `\u001B[200~${text}\u001B[201~`;

let ts = Date.UTC(2026, 0, 1, 12, 0);
const say = (
	client: FakeRoomClient,
	from: string,
	text: string,
	options: {self?: boolean; history?: boolean} = {},
): void =>
	client.emit({
		type: 'message',
		seq: 0,
		ts: ts++,
		from,
		text,
		action: false,
		self: options.self ?? false,
		history: options.history ?? false,
	});

const room = (url: string, members: string[], nick = 'me') =>
	new FakeRoomClient({url, nick, members: [nick, ...members]});

function setup(rooms: RoomSpec[], props: Partial<ChatScreenProps> = {}) {
	const view = render(<ChatScreen rooms={rooms} {...props} />);
	const raw = (): string => view.lastFrame() ?? '';
	const frame = (): string => plain(raw());
	const until = (predicate: (text: string) => boolean, what = '') =>
		waitFor(
			() => predicate(frame()),
			() => `${what}\n${frame()}`,
		);
	return {view, raw, frame, until};
}

/** A log with two "deploy" lines far apart, 30 fillers between them. */
function deployLog(client: FakeRoomClient): void {
	say(client, 'alice', 'deploy started');
	for (let index = 0; index < 30; index++) say(client, 'bob', `filler ${index}`);
	say(client, 'alfred', 'deploy done');
}

afterEach(() => cleanup());

describe('Tab completion in the chat screen', () => {
	it('completes nicks (the latest speaker first) and /commands, cycles with Tab and Shift+Tab, and any other key ends the cycle', async () => {
		const lobby = room('udp://127.0.0.1:7667', ['alice', 'alfred', 'bob']);
		const {view, frame, until} = setup([{client: lobby}]);
		await waitFor(() => lobby.listenerCount === 1);
		say(lobby, 'alice', 'hi');
		say(lobby, 'alfred', 'yo');
		await until((text) => text.includes('alfred: yo'));
		await typeKeys(view.stdin, 'al', TAB);
		await until(
			(text) => inputRow(text).startsWith('> alfred: '),
			'the latest speaker first, "nick: " at the line start',
		);
		await typeKeys(view.stdin, TAB);
		await until((text) => inputRow(text).startsWith('> alice: '), 'Tab again: the next match');
		await typeKeys(view.stdin, TAB);
		await until((text) => inputRow(text).startsWith('> alfred: '), 'wraps around');
		await typeKeys(view.stdin, SHIFT_TAB);
		await until((text) => inputRow(text).startsWith('> alice: '), 'Shift+Tab goes back');
		await typeKeys(view.stdin, 'hi b', TAB);
		await until((text) => inputRow(text).startsWith('> alice: hi bob '), 'mid-line: the nick and a space');
		await typeKeys(view.stdin, TAB, '#');
		// The '#' typed after Tab shows that Tab was handled, and how.
		await until((text) => inputRow(text).startsWith('> alice: hi bob #'), 'one match: Tab again keeps it');
		await typeKeys(view.stdin, KEYS.backspace);
		await until((text) => !inputRow(text).includes('#'));
		await typeKeys(view.stdin, KEYS.enter);
		await waitFor(() => lobby.calls.length === 1);
		assert.deepEqual(lobby.calls, [{method: 'say', text: 'alice: hi bob ', action: false}]);

		await typeKeys(view.stdin, '/sea', TAB);
		await until((text) => inputRow(text).startsWith('> /search '), 'a command');
		await typeKeys(view.stdin, KEYS.ctrlU, '/cl', TAB);
		await until((text) => inputRow(text).startsWith('> /clear '));
		await typeKeys(view.stdin, TAB);
		await until((text) => inputRow(text).startsWith('> /close '));
		await typeKeys(view.stdin, KEYS.backspace, TAB);
		await until(
			(text) => inputRow(text).startsWith('> /close '),
			'typing ended the cycle: "/close" completes afresh',
		);
		assert.ok(
			!inputRow(frame()).includes('/clear'),
			'a fresh completion of "/close", not the next match of "/cl"',
		);
		await typeKeys(view.stdin, KEYS.ctrlU, 'zz', TAB, '#');
		await until((text) => inputRow(text).startsWith('> zz#'), 'no match: the line stays');
	});

	it('keeps each room’s completion: a cycle continues after visiting another room', async () => {
		const lobby = room('udp://127.0.0.1:7667', ['alice', 'alfred']);
		const other = room('udp://10.0.0.2:7667', ['bert', 'bob']);
		const {view, until} = setup([{client: lobby}, {client: other}]);
		await waitFor(() => lobby.listenerCount === 1 && other.listenerCount === 1);
		await typeKeys(view.stdin, 'al', TAB);
		await until((text) => inputRow(text).startsWith('> alfred: '));
		await typeKeys(view.stdin, ALT(2));
		await until((text) => tabRow(text).includes('[2:udp') && inputRow(text).trim() === '>');
		await typeKeys(view.stdin, 'b', TAB);
		await until((text) => inputRow(text).startsWith('> bert: '), 'the other room’s members');
		await typeKeys(view.stdin, ALT(1));
		await until((text) => tabRow(text).startsWith('[1:udp') && inputRow(text).startsWith('> alfred: '));
		await typeKeys(view.stdin, TAB);
		await until((text) => inputRow(text).startsWith('> alice: '), 'room 1’s cycle went on');
		await typeKeys(view.stdin, ALT(2), TAB);
		await until(
			(text) => tabRow(text).includes('[2:udp') && inputRow(text).startsWith('> bob: '),
			'and room 2’s',
		);
	});
});

describe('searching the log in the chat screen', () => {
	it('Ctrl+R finds, steps older and newer, paints matches, Enter stays and Esc goes back', async () => {
		const lobby = room('udp://127.0.0.1:7667', ['alice', 'alfred', 'bob']);
		const {view, raw, until} = setup([{client: lobby}], {size: {columns: 80, rows: 14}});
		await waitFor(() => lobby.listenerCount === 1);
		deployLog(lobby);
		await until((text) => text.includes('alfred: deploy done') && !text.includes('deploy started'));
		await typeKeys(view.stdin, 'half typed', CTRL_R);
		await until((text) => inputRow(text).startsWith('search: '), 'the search prompt');
		await typeKeys(view.stdin, 'DEPLOY');
		await until((text) => inputRow(text).includes('match 1/2') && text.includes('deploy done'));
		// The current match in yellow inverse video.
		assert.match(raw(), /\u001B\[7m(?:\u001B\[(?:33|1)m)*deploy/u);
		await typeKeys(view.stdin, CTRL_R);
		await until(
			(text) =>
				inputRow(text).includes('match 2/2') &&
				text.includes('alice: deploy started') &&
				!text.includes('deploy done'),
			'older',
		);
		await typeKeys(view.stdin, CTRL_R);
		await until((text) => inputRow(text).includes('match 2/2 (no older match)'));
		await typeKeys(view.stdin, CTRL_S);
		await until((text) => inputRow(text).includes('match 1/2') && text.includes('deploy done'), 'newer');
		await typeKeys(view.stdin, KEYS.up);
		await until(
			(text) => inputRow(text).includes('match 2/2') && text.includes('deploy started'),
			'↑ is older too',
		);
		await typeKeys(view.stdin, ESC);
		await until(
			(text) =>
				inputRow(text).startsWith('> half typed') &&
				text.includes('deploy done') &&
				!text.includes('deploy started'),
			'Esc: back to the bottom, the draft kept',
		);
		assert.ok(!raw().includes('\u001B[7mdeploy'), 'no highlights after the search');

		await typeKeys(view.stdin, CTRL_R, 'started', KEYS.enter);
		await until(
			(text) =>
				inputRow(text).startsWith('> half typed') &&
				text.includes('deploy started') &&
				text.includes('more below'),
			'Enter stays at the match',
		);
		await typeKeys(view.stdin, KEYS.ctrlEnd);
		await until((text) => text.includes('deploy done') && !text.includes('more below'));
		await typeKeys(view.stdin, CTRL_R, 'nothing like this');
		await until((text) => inputRow(text).includes('no matches'));
		await typeKeys(view.stdin, KEYS.ctrlU, 'filler 1');
		await until((text) => inputRow(text).includes('match 1/11'));
		await typeKeys(view.stdin, KEYS.backspace, KEYS.backspace);
		await until(
			(text) =>
				inputRow(text).includes('search: filler ') &&
				inputRow(text).includes('match 11/30') &&
				text.includes('filler 19'),
			'Backspace edits the query; the match stays',
		);
		await typeKeys(view.stdin, ESC);
		await until((text) => inputRow(text).startsWith('> half typed'));
	});

	it('/search TEXT opens the search at the newest match, and new lines join the matches', async () => {
		const lobby = room('udp://127.0.0.1:7667', ['alice', 'alfred', 'bob']);
		const {view, until} = setup([{client: lobby}], {size: {columns: 80, rows: 14}});
		await waitFor(() => lobby.listenerCount === 1);
		deployLog(lobby);
		await typeKeys(view.stdin, '/search started', KEYS.enter);
		await until(
			(text) =>
				inputRow(text).startsWith('search: started') &&
				inputRow(text).includes('match 1/1') &&
				text.includes('deploy started'),
		);
		assert.deepEqual(lobby.calls, [], 'nothing was sent');
		say(lobby, 'carol', 'restarted it');
		await until(
			(text) => inputRow(text).includes('match 2/2'),
			'the new line is a match; the current one stays',
		);
		await typeKeys(view.stdin, CTRL_S);
		await until((text) => inputRow(text).includes('match 1/2') && text.includes('carol: restarted it'));
		await typeKeys(view.stdin, ESC);
		await until((text) => inputRow(text).trim() === '>');
	});

	it('keeps each room’s search: switching rooms mid-search and back', async () => {
		const lobby = room('udp://127.0.0.1:7667', ['alice', 'alfred', 'bob']);
		const other = room('udp://10.0.0.2:7667', ['bert']);
		const {view, frame, until} = setup([{client: lobby}, {client: other}], {size: {columns: 80, rows: 14}});
		await waitFor(() => lobby.listenerCount === 1 && other.listenerCount === 1);
		deployLog(lobby);
		say(other, 'bert', 'deploy elsewhere');
		await typeKeys(view.stdin, CTRL_R, 'deploy', CTRL_R);
		await until((text) => inputRow(text).includes('match 2/2') && text.includes('deploy started'));
		await typeKeys(view.stdin, ALT(2));
		await until(
			(text) => tabRow(text).includes('[2:udp') && inputRow(text).trim() === '>',
			'the other room has its input line',
		);
		await typeKeys(view.stdin, 'hello there');
		await until((text) => inputRow(text).startsWith('> hello there'), 'keys go to that room’s line');
		say(lobby, 'bob', 'deploy again');
		await typeKeys(view.stdin, CTRL_R, 'elsewhere');
		await until(
			(text) => inputRow(text).startsWith('search: elsewhere') && inputRow(text).includes('match 1/1'),
		);
		await typeKeys(view.stdin, ALT(1));
		await until(
			(text) =>
				tabRow(text).startsWith('[1:udp') &&
				inputRow(text).startsWith('search: deploy') &&
				inputRow(text).includes('match 3/3'),
			'room 1’s search as left, its matches grown while hidden',
		);
		assert.ok(frame().includes('deploy started'), 'still at the same match');
		await typeKeys(view.stdin, ESC);
		await until(
			(text) => inputRow(text).trim() === '>' && text.includes('bob: deploy again'),
			'Esc: room 1 back at the bottom',
		);
		await typeKeys(view.stdin, ALT(2));
		await until((text) => inputRow(text).startsWith('search: elsewhere'), 'room 2 is still searching');
		await typeKeys(view.stdin, KEYS.enter);
		await until((text) => inputRow(text).startsWith('> hello there'));
		assert.deepEqual(other.calls, []);
	});
});

describe('pasting into the chat screen', () => {
	it('puts a multi-line paste in the input line as one draft that Enter sends as one message', async () => {
		const lobby = room('udp://127.0.0.1:7667', ['bob']);
		const {view, frame, until} = setup([{client: lobby}]);
		await waitFor(() => lobby.listenerCount === 1);
		await typeKeys(view.stdin, 'look: ', paste('line one\r\nline two\r\n'));
		await until((text) => inputRow(text).startsWith('> look: line one↵line two'));
		await typeKeys(view.stdin, '!');
		await until(
			(text) => inputRow(text).startsWith('> look: line one↵line two!'),
			'the cursor is after the paste; the draft stays editable',
		);
		assert.deepEqual(lobby.calls, [], 'nothing goes out without Enter');
		await typeKeys(view.stdin, KEYS.enter);
		await waitFor(() => lobby.calls.length === 1);
		assert.deepEqual(lobby.calls, [{method: 'say', text: 'look: line one\nline two!', action: false}]);
		await until((text) => inputRow(text).trim() === '>');
		say(lobby, 'me', 'look: line one\nline two!', {self: true});
		await until(
			(text) => /me: look: line one\s*│?\n\s+line two!/.test(text),
			'the log shows the message on two rows',
		);

		await typeKeys(view.stdin, paste('/etc/hosts\n/etc/passwd'));
		await until(
			(text) => inputRow(text).startsWith('> //etc/hosts↵/etc/passwd'),
			'a pasted block is text, not a command',
		);
		await typeKeys(view.stdin, KEYS.enter);
		await waitFor(() => lobby.calls.length === 2);
		assert.deepEqual(lobby.calls[1], {method: 'say', text: '/etc/hosts\n/etc/passwd', action: false});

		await typeKeys(view.stdin, paste('just one line\n'));
		await until((text) => inputRow(text).startsWith('> just one line'));
		assert.ok(!inputRow(frame()).includes('↵'));
		await typeKeys(view.stdin, KEYS.ctrlU, '/me ', paste('waves\nand bows'), KEYS.enter);
		await waitFor(() => lobby.calls.length === 3);
		assert.deepEqual(lobby.calls[2], {method: 'say', text: 'waves\nand bows', action: true});
	});

	it('asks before sending more than five lines: no keeps the draft, yes sends it once', async () => {
		const lobby = room('udp://127.0.0.1:7667', ['bob']);
		const {view, frame, until} = setup([{client: lobby}]);
		await waitFor(() => lobby.listenerCount === 1);
		await typeKeys(view.stdin, paste('1\n2\n3\n4\n5\n6\n7\n'));
		await until((text) => inputRow(text).startsWith('> 1↵2↵3↵4↵5↵6↵7'));
		await typeKeys(view.stdin, KEYS.enter);
		await until((text) => inputRow(text).startsWith('Send 7 lines as one message? [y/N]'));
		await typeKeys(view.stdin, 'x', paste('ignored'), 'n');
		// The 'n' answers the question: the keys before it answered nothing and were not typed.
		await until((text) => inputRow(text).startsWith('> 1↵2↵3↵4↵5↵6↵7'), 'no: the draft is back, unsent');
		assert.ok(
			!/x|ignored/.test(inputRow(frame())) && !frame().includes('Send 7 lines'),
			'other keys and pastes answer nothing',
		);
		assert.deepEqual(lobby.calls, []);
		await typeKeys(view.stdin, KEYS.enter);
		await until((text) => inputRow(text).startsWith('Send 7 lines'));
		await typeKeys(view.stdin, ESC);
		await until((text) => inputRow(text).startsWith('> 1↵2'), 'Esc says no too');
		await typeKeys(view.stdin, KEYS.enter);
		await until((text) => inputRow(text).startsWith('Send 7 lines'));
		await typeKeys(view.stdin, 'y');
		await waitFor(() => lobby.calls.length === 1);
		assert.deepEqual(lobby.calls, [{method: 'say', text: '1\n2\n3\n4\n5\n6\n7', action: false}]);
		await until((text) => inputRow(text).trim() === '>');
		await typeKeys(view.stdin, KEYS.up);
		await until((text) => inputRow(text).startsWith('> 1↵2↵3'), 'in the history as one line');
		assert.equal(lobby.calls.length, 1, 'sent once');
	});

	it('pastes into the search query, and refuses a paste bigger than a message', async () => {
		const lobby = room('udp://127.0.0.1:7667', ['bob']);
		const {view, frame, until} = setup([{client: lobby}]);
		await waitFor(() => lobby.listenerCount === 1);
		say(lobby, 'bob', 'the needle is here');
		await typeKeys(view.stdin, CTRL_R, paste('needle\n'));
		await until(
			(text) => inputRow(text).startsWith('search: needle') && inputRow(text).includes('match 1/1'),
		);
		await typeKeys(view.stdin, ESC);
		await until((text) => inputRow(text).trim() === '>', 'Esc closed the search'); // before typing on
		await typeKeys(view.stdin, 'kept', paste('x'.repeat(9000)));
		await until((text) =>
			text.includes('not pasted: 1 lines, 9004 bytes; a message takes at most 8192 bytes'),
		);
		assert.ok(inputRow(frame()).startsWith('> kept'));
	});

	it('takes the message size limit the room announced, not the default', async () => {
		const big = room('udp://127.0.0.1:7667', ['bob']);
		big.limits = {...big.limits, maxTextBytes: 32 * 1024};
		const small = room('udp://10.0.0.2:7667', ['bob']);
		small.limits = {...small.limits, maxTextBytes: 100};
		const {view, frame, until} = setup([{client: big}, {client: small}]);
		await waitFor(() => big.listenerCount === 1 && small.listenerCount === 1);
		await typeKeys(view.stdin, paste('y'.repeat(9000)));
		await until((text) => inputRow(text).startsWith('> yyyy'));
		assert.ok(!frame().includes('not pasted'), 'a 9,000-byte paste fits a 32 KiB room');
		await typeKeys(view.stdin, ALT(2), paste('z'.repeat(101)));
		await until((text) => text.includes('not pasted: 1 lines, 101 bytes; a message takes at most 100 bytes'));
	});
});

describe('mentions in the chat screen', () => {
	it('paints our nick in others’ lines, marks a hidden room with @ and rings the bell by the same rule', async () => {
		const lobby = room('udp://127.0.0.1:7667', ['bob']);
		const other = room('udp://10.0.0.2:7667', ['bob']);
		const rung: string[] = [];
		const bell = createBell({write: (chunk) => rung.push(chunk)}, {enabled: true, minIntervalMs: 0});
		const {raw, frame, until} = setup([{client: lobby}, {client: other}], {bell});
		await waitFor(() => lobby.listenerCount === 1 && other.listenerCount === 1);

		say(lobby, 'bob', 'hey ME, look');
		await until((text) => text.includes('bob: hey ME, look'));
		assert.match(raw(), /(?:\u001B\[(?:33|1)m){2}ME\u001B\[/u, 'the mention in bold yellow');
		assert.equal(rung.length, 1, 'the shown room rings too');

		say(lobby, 'bob', 'some memes');
		say(lobby, 'me', 'talking about me', {self: true});
		say(lobby, 'bob', 'old me', {history: true});
		await until(
			(text) =>
				text.includes('bob: some memes') && text.includes('talking about me') && text.includes('old me'),
		);
		const rawRow = (text: string): string =>
			raw()
				.split('\n')
				.find((row) => plain(row).includes(text)) ?? '';
		const YELLOW = '\u001B[33m';
		assert.ok(!rawRow('some memes').includes(YELLOW), 'not inside a word');
		assert.ok(!rawRow('talking about me').includes(YELLOW), 'not in our own line');
		assert.match(rawRow('old me'), /(?:\u001B\[(?:33|1)m){2}me\u001B\[/u, 'replayed history is painted too');
		assert.equal(rung.length, 1, 'neither rings: a longer word, our own line, history');

		say(other, 'bob', 'nothing for you');
		await until((text) => tabRow(text).includes('2:udp 10.0.0.2:7667 (1)'));
		assert.ok(!tabRow(frame()).includes('@'));
		say(other, 'bob', 'me: ping');
		await until(
			(text) => tabRow(text).includes('2:udp 10.0.0.2:7667 (2) @'),
			'the mention marks the hidden room',
		);
		assert.equal(rung.length, 2);
		other.emit({type: 'direct', ts, from: 'bob', to: 'me', text: 'psst', self: false});
		await waitFor(
			() => rung.length === 3,
			() => `rang ${rung.length}`,
		);
		assert.deepEqual(rung, ['\u0007', '\u0007', '\u0007']);
	});
});

describe('--log-dir in the chat screen', () => {
	it('logs every room, one opened later with /connect too, closes a log with its tab and flushes on quit', async () => {
		const dir = await mkdtemp(path.join(tmpdir(), 'parley-logs-'));
		try {
			const lobby = room('udp://127.0.0.1:7667', ['bob']);
			const created: FakeRoomClient[] = [];
			const opener: RoomOpener = {
				create(url) {
					const client = new FakeRoomClient({url, state: 'closed'});
					created.push(client);
					return client;
				},
			};
			const errors: Error[] = [];
			const {view, until} = setup([{client: lobby}], {
				opener,
				// A long flush delay: only detaching (closing the tab, quitting) writes the lines.
				attachLog: (client, report) =>
					attachRoomLog(
						client,
						dir,
						(error) => {
							errors.push(error);
							report(error);
						},
						{flushMs: 60_000},
					),
			});
			await waitFor(
				() => lobby.listenerCount === 2,
				() => `listeners: ${lobby.listenerCount}`,
			);
			say(lobby, 'bob', 'hello lobby');
			await typeKeys(view.stdin, '/connect udp://127.0.0.1:9999', KEYS.enter);
			await until(
				(text) => tabRow(text).includes('[2:udp 127.0.0.1:9999]') && text.includes('me │ connected'),
			);
			const later = created[0]!;
			say(later, 'carol', 'a multi-line\nhello');
			await until((text) => text.includes('carol: a multi-line'));
			await typeKeys(view.stdin, '/close', KEYS.enter);
			const laterLog = roomLogPath(dir, later.url);
			await waitFor(
				() => errors.length > 0 || fileHas(laterLog, 'log closed'),
				() => 'the closed tab’s log',
			);
			await typeKeys(view.stdin, KEYS.ctrlC);
			const lobbyLog = roomLogPath(dir, lobby.url);
			await waitFor(
				() => errors.length > 0 || fileHas(lobbyLog, 'log closed'),
				() => 'the lobby log after quitting',
			);
			assert.deepEqual(errors, []);
			const lobbyText = await readFile(lobbyLog, 'utf8');
			assert.match(lobbyText, /--- log opened for udp:\/\/127\.0\.0\.1:7667\n/);
			assert.match(lobbyText, / 0 bob: hello lobby\n/);
			assert.match(lobbyText, /-- disconnected\n.*--- log closed\n$/);
			const laterText = await readFile(laterLog, 'utf8');
			assert.match(laterText, / -- connected\n/);
			assert.match(laterText, / 0 carol: a multi-line\n {20,}hello\n/);
			assert.equal((await stat(lobbyLog)).mode & 0o777, 0o600);
		} finally {
			await rm(dir, {recursive: true, force: true});
		}
	});
});

const seen = new Map<string, string>();
/** Whether the file (read in the background, polled) contains `text` yet. */
function fileHas(file: string, text: string): boolean {
	void readFile(file, 'utf8').then(
		(content) => seen.set(file, content),
		() => undefined,
	);
	return seen.get(file)?.includes(text) ?? false;
}
