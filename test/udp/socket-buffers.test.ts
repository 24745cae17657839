// The UDP room's socket buffers: `parley serve --udp-receive-buffer-bytes` and
// server.toml's udp_send_buffer_bytes reach the real server socket, and when
// the kernel caps a buffer below what was asked the log names the sysctl.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {startUdpRoomServer} from '../../server/udp/udp-room-server.js';
import {CliProcess, cliEnv, unusedTcpPort} from '../cli/cli-process.js';

/** Below Linux's stock caps (212,992 bytes), so no kernel grants less than these. */
const RECEIVE = 150_000;
const SEND = 180_000;
/** Linux reports twice what it granted (its bookkeeping overhead). */
const reported = (bytes: number) => (process.platform === 'linux' ? bytes * 2 : bytes);

function rmemMax(): number | undefined {
	try {
		return Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
	} catch {
		return undefined;
	}
}

describe('the UDP room’s socket buffers', () => {
	let home: string;
	before(async () => {
		home = await mkdtemp(path.join(tmpdir(), 'parley-udp-buffers-'));
	});
	after(async () => {
		await rm(home, {recursive: true, force: true});
	});

	it('asks the kernel for the buffers it is given', async () => {
		const server = await startUdpRoomServer({recvBufferBytes: RECEIVE, sendBufferBytes: SEND});
		try {
			assert.deepEqual(server.buffers, {receive: reported(RECEIVE), send: reported(SEND)});
		} finally {
			await server.close();
		}
	});

	it('takes the receive buffer from a flag and the send buffer from server.toml', async (t) => {
		const config = path.join(home, 'server.toml');
		await writeFile(config, `udp_send_buffer_bytes = ${SEND}\n`);
		const serve = new CliProcess(
			[
				'serve',
				'--config',
				config,
				'--udp-receive-buffer-bytes',
				String(RECEIVE),
				'--udp-port',
				'0',
				'--tcp-port',
				String(await unusedTcpPort()),
				'--data-dir',
				path.join(home, 'data'),
			],
			cliEnv(home),
		);
		t.after(async () => {
			serve.kill('SIGTERM');
			await serve.exited;
		});
		const line = await serve.waitForLines(
			(lines) => lines.find((l) => l.includes('udp socket buffers:')),
			'the UDP socket buffers in the log',
		);
		assert.match(line, new RegExp(`receive ${reported(RECEIVE)} bytes, send ${reported(SEND)} bytes`));
	});

	it('says when the kernel caps the receive buffer, naming net.core.rmem_max', async (t) => {
		const cap = rmemMax();
		if (cap === undefined) return t.skip('no /proc/sys/net/core/rmem_max here');
		const lines: Array<{line: string; level: string | undefined}> = [];
		const server = await startUdpRoomServer({
			recvBufferBytes: cap + 4096,
			sendBufferBytes: SEND,
			log: (line, fields) => lines.push({line, level: fields?.level}),
		});
		try {
			const warnings = lines.filter((l) => l.level === 'warn');
			assert.equal(warnings.length, 1, JSON.stringify(lines));
			assert.match(warnings[0]!.line, /udp receive buffer: .*net\.core\.rmem_max/);
			assert.match(warnings[0]!.line, new RegExp(`sysctl -w net\\.core\\.rmem_max=${cap + 4096}`));
		} finally {
			await server.close();
		}
	});
});
