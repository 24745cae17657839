// Under a flood the workspace tells the screen once per arrival frame, not once
// per line, while keys (any local change) are told at once, with whatever
// arrived meanwhile.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {Workspace} from '../../source/tui/workspace.js';
import {FakeRoomClient} from './helpers/fake-room-client.js';

const say = (client: FakeRoomClient, text: string): void =>
	client.emit({
		type: 'message',
		seq: 0,
		ts: 1,
		from: 'bob',
		text,
		action: false,
		self: false,
		history: false,
	});

describe('arrival frames', () => {
	it('a burst of lines is told once, after the frame', async () => {
		const workspace = new Workspace({arrivalFrameMs: 20});
		const client = new FakeRoomClient({url: 'udp://127.0.0.1:7667', nick: 'me', members: ['me']});
		const tab = workspace.open(client);
		let told = 0;
		const heard = new Promise<void>((resolve) =>
			workspace.subscribe(() => {
				told++;
				resolve();
			}),
		);
		const before = workspace.version;
		for (let n = 0; n < 100; n++) say(client, `line ${n}`);
		assert.equal(told, 0, 'nothing told during the burst');
		assert.ok(workspace.version > before, 'the version moved, so a draw now would show them');
		assert.equal(tab.log.length, 100, 'the log has every line at once');
		await heard;
		assert.equal(told, 1, 'one redraw for the burst');
		workspace.dispose();
	});

	it('a key is told at once, with the lines that arrived before it, and no frame follows', async () => {
		const workspace = new Workspace({arrivalFrameMs: 20});
		const client = new FakeRoomClient({url: 'udp://127.0.0.1:7667', nick: 'me', members: ['me']});
		const tab = workspace.open(client);
		const told: number[] = [];
		workspace.subscribe(() => told.push(tab.log.length));
		say(client, 'before the key');
		tab.editLine({type: 'insert', text: 'x'});
		assert.deepEqual(told, [1], 'the key drew at once, the line with it');
		// The next burst's frame is the proof that the first one was dropped.
		say(client, 'after the key');
		await new Promise<void>((resolve) => workspace.subscribe(resolve));
		assert.deepEqual(told, [1, 2]);
		workspace.dispose();
	});

	it('without a frame (the default) every change is told at once', () => {
		const workspace = new Workspace();
		const client = new FakeRoomClient({url: 'udp://127.0.0.1:7667', nick: 'me', members: ['me']});
		workspace.open(client);
		let told = 0;
		workspace.subscribe(() => told++);
		say(client, 'one');
		say(client, 'two');
		assert.equal(told, 2);
		workspace.dispose();
	});
});
