// The mouse on the chat screen: SGR reports are taken out of stdin before Ink
// sees them, the wheel scrolls the log, a click on a tab shows that room, and
// reporting is switched on while the screen runs and off when it goes.

import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {EventEmitter} from 'node:events';
import {cleanup, render} from 'ink-testing-library';
import {ChatScreen} from '../../source/tui/ChatScreen.js';
import {MOUSE_OFF, MOUSE_ON, MouseInput, type MouseEvent, splitMouse} from '../../source/tui/mouse.js';
import {renderChat} from '../../source/tui/render-chat.js';
import {FakeRoomClient} from './helpers/fake-room-client.js';
import {FakeTtyInput, FakeTtyOutput} from './helpers/fake-terminal.js';
import {waitFor} from './helpers/wait.js';

const ANSI = /\u001B\[[0-9;?]*[A-Za-z]/g;
const plain = (frame: string | undefined): string => (frame ?? '').replace(ANSI, '');

let ts = Date.UTC(2026, 0, 1, 12, 0);
const say = (client: FakeRoomClient, from: string, text: string): void =>
	client.emit({type: 'message', seq: 0, ts: ts++, from, text, action: false, self: false, history: false});
const room = (port: number) =>
	new FakeRoomClient({url: `udp://127.0.0.1:${port}`, nick: 'me', members: ['me', 'bob']});
const wheel = (up: boolean, x = 5, y = 5) => `\u001b[<${up ? 64 : 65};${x};${y}M`;
const click = (x: number, y: number) => `\u001b[<0;${x};${y}M\u001b[<0;${x};${y}m`;

afterEach(() => cleanup());

describe('mouse reports', () => {
	it('are split from keys, presses and wheel kept, releases and motion dropped', () => {
		assert.deepEqual(splitMouse(`a${wheel(true, 3, 4)}b${click(7, 2)}\u001b[<32;1;1Mc`), {
			rest: 'abc',
			events: [
				{kind: 'wheel', direction: 'up', x: 3, y: 4},
				{kind: 'press', button: 'left', x: 7, y: 2},
			],
		});
	});

	it('keeps a report cut between two reads for the next, and passes a lone Esc on', () => {
		const terminal = new FakeTtyInput();
		const input = new MouseInput(terminal);
		const events: MouseEvent[] = [];
		const keys: string[] = [];
		input.on('mouse', (event: MouseEvent) => events.push(event));
		input.on('readable', () => keys.push(input.read() ?? ''));
		terminal.write('a\u001b[<65;1');
		terminal.write('0;4Mb');
		terminal.write('\u001b');
		assert.deepEqual(keys, ['a', 'b', '\u001b']);
		assert.deepEqual(events, [{kind: 'wheel', direction: 'down', x: 10, y: 4}]);
		input.detach();
	});

	it('wheel scrolls the log of the room shown', async () => {
		const lobby = room(7021);
		const mouse = new EventEmitter();
		const view = render(
			<ChatScreen rooms={[{client: lobby}]} mouse={mouse} size={{columns: 60, rows: 10}} />,
		);
		const frame = (): string => plain(view.lastFrame());
		for (let line = 1; line <= 30; line++) say(lobby, 'bob', `line ${line}`);
		await waitFor(() => frame().includes('line 30'), frame);
		mouse.emit('mouse', {kind: 'wheel', direction: 'up', x: 5, y: 5});
		mouse.emit('mouse', {kind: 'wheel', direction: 'up', x: 5, y: 5});
		await waitFor(() => !frame().includes('line 30') && frame().includes('line 24'), frame);
		mouse.emit('mouse', {kind: 'wheel', direction: 'down', x: 5, y: 5});
		mouse.emit('mouse', {kind: 'wheel', direction: 'down', x: 5, y: 5});
		await waitFor(() => frame().includes('line 30'), frame);
	});

	it('through the real terminal path: on while running, a click switches tabs, no report reaches the input, off at exit', async () => {
		const [a, b] = [room(7031), room(7032)];
		const stdout = new FakeTtyOutput(80, 12);
		const stdin = new FakeTtyInput();
		const instance = renderChat([{client: a}, {client: b}], {
			stdout: stdout as unknown as NodeJS.WriteStream,
			stdin: stdin as unknown as NodeJS.ReadStream,
			interactive: true,
			exitOnFatalError: false,
		});
		await waitFor(
			() => stdout.output.includes('[1:udp 127.0.0.1:7031]'),
			() => stdout.output,
		);
		assert.ok(stdout.output.includes(MOUSE_ON));
		// " [1:udp 127.0.0.1:7031] 2:udp…": the second tab starts at column 24 (1-based), row 2.
		stdin.write(click(30, 2));
		await waitFor(
			() => stdout.output.includes('[2:udp 127.0.0.1:7032]'),
			() => stdout.output,
		);
		stdin.write(`hi${wheel(true)}there`);
		await waitFor(
			() => stdout.output.includes('hithere'),
			() => stdout.output,
		);
		assert.ok(!stdout.output.includes('[<64'), 'the report never reached the input line');
		stdin.write('\u0003');
		await instance.waitUntilExit();
		assert.ok(stdout.output.lastIndexOf(MOUSE_OFF) > stdout.output.lastIndexOf(MOUSE_ON));
	});

	it('is left off with mouse: false', async () => {
		const stdout = new FakeTtyOutput(60, 8);
		const stdin = new FakeTtyInput();
		const instance = renderChat(room(7041), {
			stdout: stdout as unknown as NodeJS.WriteStream,
			stdin: stdin as unknown as NodeJS.ReadStream,
			interactive: true,
			exitOnFatalError: false,
			mouse: false,
		});
		await waitFor(
			() => stdout.output.includes('connected'),
			() => stdout.output,
		);
		stdin.write('\u0003');
		await instance.waitUntilExit();
		assert.ok(!stdout.output.includes(MOUSE_ON));
	});
});
