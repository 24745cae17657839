// The server log names the room of every join and leave: one `parley serve`
// log carries several rooms.
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {startUdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import {waitFor} from '../helpers/wait.js';

describe('server log lines', () => {
	test('a join says which room, with the member count in words', async () => {
		const lines: string[] = [];
		const server = await startUdpRoomServer({roomName: 'lobby', log: (line) => lines.push(line)});
		const client = createRoomClient(`udp://127.0.0.1:${server.port}`);
		try {
			await client.connect('alice');
			await waitFor(() => lines.some((line) => line.includes('join alice')));
			assert.ok(
				lines.includes('room "lobby": join alice (1 member)'),
				`no join line naming the room in:\n${lines.join('\n')}`,
			);
			await client.close();
			await waitFor(() => lines.some((line) => line.startsWith('room "lobby": leave alice')));
		} finally {
			await client.close();
			await server.close();
		}
	});
});
