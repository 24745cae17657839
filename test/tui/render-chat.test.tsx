import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import stringWidth from 'string-width';
import {renderChat} from '../../source/tui/render-chat.js';
import {FakeRoomClient} from './helpers/fake-room-client.js';
import {FakeTtyInput, FakeTtyOutput} from './helpers/fake-terminal.js';
import {KEYS, waitFor} from './helpers/wait.js';

const ENTER_ALTERNATE_SCREEN = '\u001B[?1049h';
const LEAVE_ALTERNATE_SCREEN = '\u001B[?1049l';

describe('renderChat', () => {
	it('uses the alternate screen, leaves the room on Ctrl+C and restores the terminal', async () => {
		const client = new FakeRoomClient({nick: 'me'});
		const stdout = new FakeTtyOutput(50, 10);
		const stdin = new FakeTtyInput();
		const instance = renderChat(client, {
			stdout: stdout as unknown as NodeJS.WriteStream,
			stdin: stdin as unknown as NodeJS.ReadStream,
			interactive: true,
			exitOnFatalError: false,
		});
		await waitFor(
			() => stdout.output.includes('connected') && client.listenerCount === 1,
			() => stdout.output,
		);
		assert.ok(stdout.output.includes(ENTER_ALTERNATE_SCREEN));
		assert.equal(stdin.isRaw, true);
		stdin.write(KEYS.ctrlC);
		await instance.waitUntilExit();
		assert.deepEqual(client.calls, [{method: 'close'}]);
		assert.ok(
			stdout.output.lastIndexOf(LEAVE_ALTERNATE_SCREEN) > stdout.output.lastIndexOf(ENTER_ALTERNATE_SCREEN),
		);
		assert.equal(stdin.isRaw, false, 'raw mode is switched off again');
	});

	it('shows several rooms, a tab each, and Ctrl+C leaves all of them', async () => {
		const lobby = new FakeRoomClient({nick: 'me', url: 'udp://127.0.0.1:7667'});
		const chat = new FakeRoomClient({
			url: 'tcp://127.0.0.1:7668',
			transport: 'tcp',
			needsPassword: true,
			state: 'closed',
		});
		const stdout = new FakeTtyOutput(80, 20);
		const stdin = new FakeTtyInput();
		const instance = renderChat([{client: lobby}, {client: chat, intro: 'make an account with Ctrl+R'}], {
			stdout: stdout as unknown as NodeJS.WriteStream,
			stdin: stdin as unknown as NodeJS.ReadStream,
			interactive: true,
			exitOnFatalError: false,
		});
		await waitFor(
			() => stdout.output.includes('[1:udp 127.0.0.1:7667]') && stdout.output.includes('2:tcp'),
			() => stdout.output,
		);
		stdin.write('\u001B2');
		await waitFor(
			() => stdout.output.includes('make an account with Ctrl+R'),
			() => stdout.output,
		);
		stdin.write(KEYS.ctrlC);
		await instance.waitUntilExit();
		assert.deepEqual(lobby.calls, [{method: 'close'}]);
		assert.deepEqual(chat.calls, [{method: 'close'}]);
	});

	it('fills the terminal exactly and follows a resize', async () => {
		const client = new FakeRoomClient({nick: 'me'});
		const stdout = new FakeTtyOutput(70, 12);
		const stdin = new FakeTtyInput();
		const instance = renderChat(client, {
			stdout: stdout as unknown as NodeJS.WriteStream,
			stdin: stdin as unknown as NodeJS.ReadStream,
			interactive: true,
			exitOnFatalError: false,
		});
		await waitFor(
			() => stdout.output.includes('Members'),
			() => stdout.output,
		);
		stdout.output = '';
		stdout.resize(40, 8);
		// The last synchronized-output block is the frame on screen now. Ink may first
		// redraw the old tree at the new width; the frame after it has the new height.
		const lastFrame = (): string =>
			stdout.output
				.slice(stdout.output.lastIndexOf('\u001B[?2026h'))
				.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, '');
		await waitFor(() => lastFrame().includes('connected') && lastFrame().split('\n').length === 8, lastFrame);
		await instance.waitUntilRenderFlush(); // any redraw still pending is out now
		const frame = lastFrame();
		assert.equal(frame.split('\n').length, 8, 'exactly as tall as the terminal');
		assert.ok(!frame.includes('Members'), 'the member panel hides on a narrow terminal');
		for (const row of frame.split('\n')) assert.ok(stringWidth(row) <= 40, `"${row}"`);
		instance.unmount();
		await instance.waitUntilExit();
	});

	it('restores the terminal before reporting an uncaught exception, and exits non-zero', () => {
		const child = fileURLToPath(new URL('./helpers/crash-child.js', import.meta.url));
		const result = spawnSync(process.execPath, [child], {encoding: 'utf8', timeout: 10_000});
		assert.equal(result.status, 1, result.stderr);
		const out = result.stdout;
		assert.ok(out.includes(ENTER_ALTERNATE_SCREEN), 'it drew on the alternate screen');
		const left = out.lastIndexOf(LEAVE_ALTERNATE_SCREEN);
		const reported = out.indexOf('boom from a timer');
		assert.ok(left !== -1 && reported > left, 'the error comes after leaving the alternate screen');
	});
});
