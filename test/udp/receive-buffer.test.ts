// Under a flood the server's event loop falls behind; what arrives meanwhile
// waits in the socket's receive queue. With the kernel's default (~208 KiB)
// most of a burst was dropped, members' datagrams with the junk (the chaos
// run's honest UDP p99 was 1.6 s of resends). The server asks for 4 MiB.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {startUdpRoomServer} from '../../server/udp/udp-room-server.js';
import {waitFor} from '../helpers/wait.js';

const BURST = 1000;

describe('the UDP room’s receive queue', () => {
	it('keeps a 1 MB burst that arrives while the server is busy', async () => {
		const server = await startUdpRoomServer();
		try {
			// execFileSync blocks this process (the server) while another one sends the burst.
			const sender = `
				const socket = require('node:dgram').createSocket('udp4');
				let left = ${BURST};
				const next = () => left-- > 0
					? socket.send(Buffer.alloc(1000, 1), ${server.port}, '127.0.0.1', next)
					: socket.close();
				next();`;
			execFileSync(process.execPath, ['-e', sender]);
			await waitFor(() => server.stats.received >= BURST * 0.95 || undefined, {
				timeout: 5000,
				what: `${BURST} datagrams read (${server.stats.received} so far)`,
			});
			assert.ok(server.stats.received <= BURST);
		} finally {
			await server.close();
		}
	});
});
