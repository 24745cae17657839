// Whatever shows at the bottom of the screen owns the keys (each prompt's own
// useInput). A chunk of input can hold keys for two owners at once (fast typing,
// tmux send-keys): none of it may land in the room or prompt it was not typed for.

import assert from 'node:assert/strict';
import {stripVTControlCharacters} from 'node:util';
import {afterEach, describe, it} from 'node:test';
import {cleanup, render} from 'ink-testing-library';
import {ChatScreen} from '../../source/tui/ChatScreen.js';
import {FakeRoomClient} from './helpers/fake-room-client.js';
import {KEYS, typeKeys, waitFor} from './helpers/wait.js';

const CTRL_N = '\u000E';
const CTRL_R = '\u0012';
const ALT_1 = '\u001B1';
const lines = (frame: string | undefined): string[] => stripVTControlCharacters(frame ?? '').split('\n');
const inputRow = (frame: string | undefined): string => lines(frame).at(-1) ?? '';
const tabRow = (frame: string | undefined): string => lines(frame)[1] ?? '';

function setup() {
	const lobby = new FakeRoomClient({url: 'udp://127.0.0.1:7667', nick: 'me', members: ['me']});
	const other = new FakeRoomClient({url: 'udp://10.0.0.2:7667', nick: 'me', members: ['me']});
	const view = render(<ChatScreen rooms={[{client: lobby}, {client: other}]} />);
	const until = (predicate: (frame: string | undefined) => boolean, what: string) =>
		waitFor(
			() => predicate(view.lastFrame()),
			() => `${what}\n${stripVTControlCharacters(view.lastFrame() ?? '')}`,
		);
	return {lobby, other, view, until};
}

afterEach(() => cleanup());

describe('who has the keys', () => {
	it('types nothing of a chunk into the room its Ctrl+N left', async () => {
		const {view, until} = setup();
		await until((frame) => tabRow(frame).startsWith('[1:udp') && inputRow(frame).startsWith('>'), 'room 1');
		view.stdin.write(`${CTRL_N}typed for room 2`);
		await until((frame) => tabRow(frame).includes('[2:udp'), 'room 2 shown');
		// A key typed now proves room 2's line is listening; then back to room 1.
		await typeKeys(view.stdin, 'x');
		await until((frame) => inputRow(frame).trimEnd().endsWith('x'), 'x in room 2');
		await typeKeys(view.stdin, ALT_1);
		await until((frame) => tabRow(frame).startsWith('[1:udp'), 'room 1 again');
		assert.equal(inputRow(view.lastFrame()).trim(), '>', 'room 1’s line is as it was left');
	});

	it('puts nothing of a chunk into the input line once its Ctrl+R opened the search', async () => {
		const {lobby, view, until} = setup();
		await until((frame) => inputRow(frame).startsWith('>'), 'the input line');
		view.stdin.write(`${CTRL_R}deploy${KEYS.enter}`);
		await until((frame) => inputRow(frame).startsWith('search:'), 'the search prompt');
		await typeKeys(view.stdin, '\u0007'); // Ctrl+G leaves the search
		await until((frame) => inputRow(frame).startsWith('>'), 'the input line again');
		assert.equal(inputRow(view.lastFrame()).trim(), '>', 'the line took none of the chunk');
		assert.deepEqual(lobby.calls, [], 'and sent nothing');
	});
});
