// The chat remembers the nick last used in each room (in the XDG config
// directory), so the next start joins with it instead of asking again.
import assert from 'node:assert/strict';
import {mkdtemp, readFile, rm, stat} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import {startUdpRoomServer, type UdpRoomServer} from '../../server/udp/udp-room-server.js';
import {waitFor} from '../helpers/wait.js';
import {clientEnv, TuiProcess} from '../helpers/tui-process.js';

describe('the last nick per room', () => {
	let home: string;
	let server: UdpRoomServer;
	const clients: TuiProcess[] = [];

	before(async () => {
		home = await mkdtemp(path.join(tmpdir(), 'parley-nick-'));
		server = await startUdpRoomServer({roomName: 'lobby'});
	});
	after(async () => {
		await Promise.all(clients.map((client) => client.kill()));
		await server?.close();
		await rm(home, {recursive: true, force: true});
	});

	it('is asked for once, then used on the next start', async () => {
		const url = `udp://127.0.0.1:${server.port}`;
		const env = clientEnv(home);
		const first = new TuiProcess('first', [url], env);
		clients.push(first);
		await first.waitForText('choose a nick');
		await first.type('alice', {enter: true});
		await first.waitForScreen((lines) => (lines[0] ?? '').includes('alice │ connected'), 'joined as alice');
		first.press('\x03');
		assert.equal(await first.waitForExit(), 0);

		const file = path.join(home, 'config', 'parley', 'last-nicks.json');
		assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), {[url]: 'alice'});
		assert.equal((await stat(file)).mode & 0o777, 0o600);

		// Its leave is a datagram: until the room has it, alice is (rightly) still taken.
		await waitFor(() => server.room.findMember('alice') === undefined || undefined, {
			what: 'the room to see alice leave',
		});
		const second = new TuiProcess('second', [url], env);
		clients.push(second);
		await second.waitForScreen(
			(lines) => (lines[0] ?? '').includes('alice │ connected'),
			'joined as alice without being asked',
		);
		assert.ok(!second.text().includes('choose a nick'), second.text());
	});
});
