import '../helpers/force-color.js';
// /away on the real screen (ink-testing-library) with a fake room client that
// records what the UI sends: the others see it, the first direct message from
// each sender is answered once, /away alone comes back.

import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {cleanup, render} from 'ink-testing-library';
import {ChatScreen} from '../../source/tui/ChatScreen.js';
import {MemberPanel} from '../../source/tui/MemberPanel.js';
import {FakeRoomClient} from './helpers/fake-room-client.js';
import {KEYS, typeKeys, waitFor} from './helpers/wait.js';

const ANSI = /\u001B\[[0-9;?]*[A-Za-z]/g;
const plain = (frame: string | undefined): string => (frame ?? '').replace(ANSI, '');

let ts = Date.UTC(2026, 0, 1, 12, 0);
const dm = (client: FakeRoomClient, from: string, text: string): void =>
	client.emit({type: 'direct', ts: ts++, from, to: 'me', text, self: false});

afterEach(() => cleanup());

describe('/away', () => {
	it('tells the room, answers each sender once while away, and stops on /away alone', async () => {
		const lobby = new FakeRoomClient({
			url: 'udp://127.0.0.1:7051',
			nick: 'me',
			members: ['me', 'bob', 'carol'],
		});
		const view = render(<ChatScreen rooms={[{client: lobby}]} size={{columns: 100, rows: 16}} />);
		const frame = (): string => plain(view.lastFrame());
		await waitFor(() => frame().includes('connected'), frame);
		await typeKeys(view.stdin, '/away lunch, back at 2', KEYS.enter);
		await waitFor(() => frame().includes('you are away (lunch, back at 2)'), frame);
		dm(lobby, 'bob', 'you there?');
		dm(lobby, 'bob', 'hello?');
		dm(lobby, 'carol', 'ping');
		await waitFor(() => frame().includes('ping'), frame);
		const sent = () => lobby.calls.filter((call) => call.method === 'say' || call.method === 'direct');
		assert.deepEqual(sent(), [
			{method: 'say', text: 'is away: lunch, back at 2', action: true},
			{method: 'direct', nick: 'bob', text: '[away] lunch, back at 2'},
			{method: 'direct', nick: 'carol', text: '[away] lunch, back at 2'},
		]);
		await typeKeys(view.stdin, '/away', KEYS.enter);
		await waitFor(() => frame().includes('you are back'), frame);
		dm(lobby, 'bob', 'now?');
		await waitFor(() => frame().includes('now?'), frame);
		assert.deepEqual(sent().slice(3), [{method: 'say', text: 'is back', action: true}]);
	});
});

describe('the member panel', () => {
	it('draws away members dimmed', async () => {
		const view = render(
			<MemberPanel
				members={['alice', 'bob']}
				ownNick="bob"
				away={new Map([['alice', 'lunch']])}
				height={5}
			/>,
		);
		await waitFor(
			() => (view.lastFrame() ?? '').includes('alice'),
			() => view.lastFrame() ?? '',
		);
		const frame = view.lastFrame() ?? '';
		const row = (nick: string) => frame.split('\n').find((line) => line.includes(nick)) ?? '';
		assert.match(row('alice'), /\u001B\[2m/, 'alice is dimmed');
		assert.doesNotMatch(row('bob'), /\u001B\[2m/);
	});
});
