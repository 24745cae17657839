// A packet capture of the TCP room's port (tshark on lo, filtered to the
// port) while a member logs in and chats: neither the password nor the chat
// text appears anywhere in it. tshark: scripts/install-chaos-tools.sh.
import {execFileSync, spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {delay, waitFor} from '../../test/helpers/wait.js';
import {member, password, row, startServe, type Row} from './kit.js';

const SCENARIO = '8 capture';
// tshark stops itself (a SIGINT can lose what dumpcap still buffers).
const CAPTURE_SECONDS = 6;

export async function capture(): Promise<Row[]> {
	try {
		execFileSync('tshark', ['--version'], {stdio: 'ignore'});
	} catch {
		return [
			row(SCENARIO, 'tshark installed', 'missing: run scripts/install-chaos-tools.sh', 'installed', false),
		];
	}
	const served = await startServe(['alice', 'bob']);
	const file = path.join(served.dataDir, 'capture.pcapng');
	const tshark = spawn(
		'tshark',
		['-i', 'lo', '-f', `tcp port ${served.port}`, '-a', `duration:${CAPTURE_SECONDS}`, '-w', file],
		{
			stdio: ['ignore', 'ignore', 'pipe'],
		},
	);
	let stderr = '';
	tshark.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
	const exited = new Promise((resolve) => tshark.once('exit', resolve));
	try {
		await waitFor(() => stderr.includes('Capture started') || undefined, {
			timeout: 15_000,
			what: 'tshark capturing',
		});
		await delay(1000); // dumpcap reports the start a little before it really captures
		const secret = `chat text ${randomBytes(8).toString('hex')}`;
		const alice = await member(served, 'alice');
		const bob = await member(served, 'bob');
		alice.client.say(secret);
		await bob.events.waitFor('message', (m) => m.text === secret, 5000);
		await Promise.all([alice.client.close(), bob.client.close()]);
		await exited;
		const bytes = await readFile(file);
		const packets = Number(
			execFileSync('sh', ['-c', `tshark -r '${file}' 2>/dev/null | wc -l`], {encoding: 'utf8'}).trim(),
		);
		const has = (text: string) =>
			bytes.includes(Buffer.from(text)) || bytes.includes(Buffer.from(text, 'utf16le'));
		const leaks = ['alice', 'bob'].filter((u) => has(password(u))).length + (has(secret) ? 1 : 0);
		return [
			row(SCENARIO, 'packets captured on the TCP port', packets, '> 10', packets > 10),
			row(SCENARIO, 'password or chat text in the capture', leaks, '0', leaks === 0),
		];
	} finally {
		tshark.kill('SIGINT');
		await served.serve.stop();
	}
}
