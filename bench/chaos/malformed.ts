// 100,000 malformed frames and datagrams from several parallel attackers
// (random bytes, lying length headers, truncated frames, wrong types, huge
// strings, fragment floods; bench/chaos/attacks.ts, in a child process)
// against a `parley serve` while two honest pairs chat, one over TCP and one
// over UDP.
import {spawn} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import tls from 'node:tls';
import {createRoomClient} from '../../source/client/create-room-client.js';
import {delay} from '../../test/helpers/wait.js';
import {TOTAL} from './attacks.js';
import {chat, member, p99, row, rssMb, startServe, talker, type Row} from './kit.js';

const SCENARIO = '1 malformed flood';
const CHILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../chaos-attacker-child.js');

export async function malformedFlood(): Promise<Row[]> {
	const served = await startServe(['alice', 'bob']);
	const rows: Row[] = [];
	try {
		const alice = await member(served, 'alice');
		const bob = await member(served, 'bob');
		const udpUrl = `udp://127.0.0.1:${served.udpPort}`;
		const carol = createRoomClient(udpUrl);
		const dave = createRoomClient(udpUrl);
		await carol.connect('carol');
		await dave.connect('dave');
		await delay(500); // let the server settle after the logins before the baseline
		const rssBefore = rssMb(served.serve.pid);

		let tcpSent = 0;
		let udpSent = 0;
		const child = spawn(process.execPath, [CHILD, String(served.port), String(served.udpPort)], {
			stdio: ['ignore', 'pipe', 'inherit'],
		});
		child.stdout.setEncoding('utf8');
		child.stdout.on('data', (chunk: string) => {
			for (const line of chunk.trim().split('\n')) {
				const [tcp, udp] = line.split(' ').map(Number);
				if (Number.isFinite(tcp) && Number.isFinite(udp)) [tcpSent, udpSent] = [tcp!, udp!];
			}
		});
		const attackers = new Promise((resolve) => child.once('exit', resolve));
		let attacking = true;
		void attackers.then(() => (attacking = false));
		const done = () => !attacking;
		const started = Date.now();
		const chats = await Promise.all([
			chat(talker(alice.client), talker(bob.client), done, {label: 'tcp'}),
			chat(talker(carol), talker(dave), done, {label: 'udp'}),
		]);
		await attackers;
		const seconds = (Date.now() - started) / 1000;
		await delay(1000);
		const rssAfter = rssMb(served.serve.pid);
		const alive = await isAlive(served);
		const [tcp, udp] = chats as [(typeof chats)[0], (typeof chats)[0]];
		rows.push(
			row(
				SCENARIO,
				`malformed frames + datagrams sent (${seconds.toFixed(0)} s)`,
				`${tcpSent} + ${udpSent}`,
				`≥ ${TOTAL}`,
				tcpSent + udpSent >= TOTAL,
			),
			row(SCENARIO, 'server crashes', alive ? 0 : 1, '0', alive),
			row(
				SCENARIO,
				'server RSS before → after (MB)',
				`${rssBefore} → ${rssAfter}`,
				'≤ +100 MB',
				rssAfter - rssBefore <= 100,
			),
			row(
				SCENARIO,
				'honest TCP lines delivered',
				`${tcp.delivered}/${tcp.sent}`,
				'all',
				tcp.delivered === tcp.sent,
			),
			row(SCENARIO, 'honest TCP p99 during (ms)', p99(tcp.latencies), '< 250', p99(tcp.latencies) < 250),
			row(
				SCENARIO,
				'honest UDP lines delivered',
				`${udp.delivered}/${udp.sent}`,
				'all',
				udp.delivered === udp.sent,
			),
			row(SCENARIO, 'honest UDP p99 during (ms)', p99(udp.latencies), '< 250', p99(udp.latencies) < 250),
		);
		await Promise.all([alice.client.close(), bob.client.close(), carol.close(), dave.close()]);
	} finally {
		await served.serve.stop();
	}
	return rows;
}

/** The process still runs and answers a fresh TLS connection. */
async function isAlive(served: {port: number}): Promise<boolean> {
	const socket = tls.connect({host: '127.0.0.1', port: served.port, rejectUnauthorized: false});
	const ok = await new Promise<boolean>((resolve) => {
		socket.once('secureConnect', () => resolve(true));
		socket.once('error', () => resolve(false));
	});
	socket.destroy();
	return ok;
}
