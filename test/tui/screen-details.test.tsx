// Small screen defects of issue 13: stale numbers in the status bar of a lost
// connection, commands in the nick prompt after a failed join, and the gap
// between the log and the member panel's border.
import assert from 'node:assert/strict';
import {afterEach, describe, it} from 'node:test';
import {cleanup, render} from 'ink-testing-library';
import {ChatScreen, type RoomOpener} from '../../source/tui/ChatScreen.js';
import {FakeRoomClient} from './helpers/fake-room-client.js';
import {KEYS, typeKeys, waitFor} from './helpers/wait.js';

const ANSI = /\u001B\[[0-9;]*m/g;
const plain = (frame: string | undefined): string => (frame ?? '').replace(ANSI, '');

afterEach(() => cleanup());

describe('status bar', () => {
	it('drops the member count and the lag once the connection is gone, and shows them again when back', async () => {
		const client = new FakeRoomClient({nick: 'me', members: ['me', 'bob']});
		const view = render(<ChatScreen client={client} size={{columns: 100, rows: 20}} />);
		const statusRow = (): string => plain(view.lastFrame()).split('\n')[0] ?? '';
		await waitFor(() => client.listenerCount === 1);
		client.emit({type: 'lag', ms: 42});
		await waitFor(() => /connected │ 2 members │ lag 42 ms/.test(statusRow()), statusRow);
		client.emit({type: 'state', state: 'reconnecting'});
		await waitFor(() => statusRow().includes('reconnecting'), statusRow);
		assert.doesNotMatch(statusRow(), /members|lag/);
		client.emit({type: 'state', state: 'closed'});
		await waitFor(() => statusRow().includes('closed'), statusRow);
		assert.doesNotMatch(statusRow(), /members|lag/);
		client.emit({type: 'state', state: 'connected'});
		await waitFor(() => statusRow().includes('connected │ 2 members'), statusRow);
	});
});

describe('nick prompt', () => {
	it('runs /connect typed there after a failed first join instead of taking it for a nick', async () => {
		const lobby = new FakeRoomClient({state: 'closed', url: 'udp://nosuchhost.invalid:7667'});
		lobby.connectBehaviour = async () => {
			throw new Error('no such host nosuchhost.invalid');
		};
		const created: FakeRoomClient[] = [];
		const opener: RoomOpener = {
			create: (url) => {
				const client = new FakeRoomClient({url, state: 'closed'});
				created.push(client);
				return client;
			},
		};
		const view = render(<ChatScreen rooms={[{client: lobby}]} opener={opener} />);
		const frame = (): string => plain(view.lastFrame());
		await waitFor(() => frame().includes('choose a nick'), frame);
		await typeKeys(view.stdin, 'alice', KEYS.enter);
		await waitFor(() => frame().includes('no such host nosuchhost.invalid'), frame);
		await typeKeys(view.stdin, KEYS.ctrlU, '/connect udp://127.0.0.1:7667', KEYS.enter);
		await waitFor(() => created.length === 1, frame);
		assert.equal(created[0]!.url, 'udp://127.0.0.1:7667');
		// The new tab takes the nick tried last; the old one was never asked to join as "/connect …".
		assert.deepEqual(lobby.calls, [{method: 'connect', nick: 'alice'}]);
	});

	it('takes /nick NAME there as the nick to join with', async () => {
		const client = new FakeRoomClient({state: 'closed'});
		const view = render(<ChatScreen client={client} />);
		const frame = (): string => plain(view.lastFrame());
		await waitFor(() => frame().includes('choose a nick'), frame);
		await typeKeys(view.stdin, '/nick bob', KEYS.enter);
		await waitFor(() => frame().includes('bob │ connected'), frame);
		assert.deepEqual(client.calls, [{method: 'connect', nick: 'bob'}]);
	});
});

describe('member panel', () => {
	it('keeps a blank column between the log text and its border', async () => {
		const client = new FakeRoomClient({nick: 'me', members: ['me', 'bob']});
		const view = render(<ChatScreen client={client} size={{columns: 80, rows: 12}} />);
		await waitFor(() => client.listenerCount === 1);
		client.emit({
			type: 'message',
			seq: 1,
			ts: Date.UTC(2026, 0, 1, 12, 0),
			from: 'bob',
			text: 'x'.repeat(300),
			action: false,
			self: false,
			history: false,
		});
		const frame = (): string => plain(view.lastFrame());
		await waitFor(() => frame().includes('xxxx'), frame);
		const rows = frame()
			.split('\n')
			.filter((row) => row.includes('xxxx'));
		assert.ok(rows.length > 1, frame());
		for (const row of rows) {
			const border = row.indexOf('│');
			assert.ok(border > 0, row);
			assert.equal(row[border - 1], ' ', `text touches the border: ${row}`);
		}
	});
});
