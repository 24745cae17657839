// `parley serve --max-send-queue-bytes N` bounds what one connection may have
// waiting to be sent: with a bound smaller than the server's greeting, the
// greeting itself overflows it and the connection is cut off as too slow.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {decodeJson} from '../../source/protocol/messages.js';
import {FrameDecoder} from '../../source/protocol/framing.js';
import {ServeProcess, freePort} from '../helpers/tcp-serve-process.js';

/** The frames a fresh TLS connection gets before the server closes it (or the first one, when it stays open). */
function firstFrames(port: number): Promise<unknown[]> {
	return new Promise((resolve, reject) => {
		const frames: unknown[] = [];
		const decoder = new FrameDecoder({maxFrameBytes: 64 * 1024});
		// The certificate is not what is tested: the bytes after the handshake are.
		const socket = tls.connect({host: '127.0.0.1', port, rejectUnauthorized: false});
		socket.on('data', (chunk: Buffer) => {
			for (const frame of decoder.push(chunk)) frames.push(decodeJson(frame));
		});
		socket.on('error', reject);
		socket.on('close', () => resolve(frames));
		setTimeout(() => socket.end(), 5000).unref();
	});
}

describe('parley serve --max-send-queue-bytes', () => {
	let dataDir: string;
	before(async () => {
		dataDir = await mkdtemp(path.join(tmpdir(), 'parley-send-queue-'));
	});
	after(async () => {
		await rm(dataDir, {recursive: true, force: true});
	});

	it('cuts off a connection whose queue goes over the bound', async () => {
		const server = await ServeProcess.start({
			tcpPort: await freePort(),
			dataDir,
			extraArgs: ['--max-send-queue-bytes', '10', '--login-timeout-ms', '3000'],
		});
		try {
			const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(await server.waitForLine(/tcp room/))?.[1]);
			const frames = await firstFrames(port);
			assert.deepEqual(frames.at(-1), {
				t: 'error',
				code: 'too-slow',
				message: 'too slow: send queue overflowed',
			});
			await server.waitForLine(/disconnected 127\.0\.0\.1: too slow: send queue overflowed/);
		} finally {
			await server.stop();
		}
	});
});
