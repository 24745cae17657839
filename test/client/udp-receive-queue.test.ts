// A UDP client busy elsewhere (drawing, a GC pause) does not read its socket
// for a while; a busy room keeps sending meanwhile. With the kernel's default
// receive queue (~208 KiB on Linux) a 1,500-datagram burst overflowed it and
// every lost datagram cost a resend round trip (the fan-out bench at 2,000
// msg/s: p99 2.2 s). The client asks for a deeper queue.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {once} from 'node:events';
import type {ServerMessage} from '../../source/protocol/messages.js';
import {CLIENT_RECEIVE_BUFFER_BYTES, UdpTransport} from '../../source/client/udp-transport.js';
import {waitFor} from '../helpers/wait.js';

const BURST = 1500;

/** A stand-in server: answers the join with a cookie, and on a line on stdin sends the burst 200 ms later. */
const FAKE_SERVER = `
	const socket = require('node:dgram').createSocket('udp4');
	const datagram = (message) => Buffer.concat([Buffer.of(1), Buffer.from(JSON.stringify(message))]);
	let client;
	socket.on('message', (data, from) => {
		if (JSON.parse(data.subarray(1).toString()).t !== 'join') return;
		client = from;
		socket.send(datagram({t: 'cookie', c: 'cookie'}), from.port, from.address);
	});
	process.stdin.once('data', () => setTimeout(() => {
		for (let i = 0; i < ${BURST}; i++)
			socket.send(datagram({t: 'error', code: 'bad-request', message: 'burst ' + i}), client.port, client.address);
	}, 200));
	socket.bind(0, '127.0.0.1', () => process.stdout.write(socket.address().port + '\\n'));`;

const procNumber = (name: string): number | undefined => {
	try {
		return Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim());
	} catch {
		return undefined;
	}
};

describe('the UDP client’s receive queue', () => {
	it('keeps a burst that arrives while the client is not reading', async (t) => {
		const max = procNumber('rmem_max');
		const standard = procNumber('rmem_default');
		if (
			max === undefined ||
			standard === undefined ||
			Math.min(max, CLIENT_RECEIVE_BUFFER_BYTES) < 4 * standard
		)
			return t.skip('the kernel allows no deeper queue than its default here (net.core.rmem_max)');
		const server = spawn(process.execPath, ['-e', FAKE_SERVER], {stdio: ['pipe', 'pipe', 'inherit']});
		t.after(() => server.kill('SIGKILL'));
		const [portLine] = (await once(server.stdout, 'data')) as [Buffer];
		const port = Number(portLine.toString().trim());

		const transport = new UdpTransport({host: '127.0.0.1', port});
		t.after(() => transport.close());
		let received = 0;
		transport.setHandlers({
			message: (message: ServerMessage) => {
				if (message.t === 'error' && message.message.startsWith('burst ')) received++;
			},
			closed: () => {},
			problem: () => {},
			notice: () => {},
		});
		await transport.open({nick: 'alice'});
		server.stdin.write('go\n');
		// This thread (the client's event loop) does not read for 1.5 s; the burst arrives meanwhile.
		Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
		await waitFor(() => received === BURST || undefined, {
			timeout: 5000,
			what: `all ${BURST} datagrams of the burst`,
		}).catch((error: unknown) => {
			throw new Error(`${(error as Error).message}: ${received} arrived`);
		});
		assert.equal(received, BURST);
	});
});
