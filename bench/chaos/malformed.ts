// 100,000 malformed frames and datagrams from several parallel attackers
// (random bytes, lying length headers, truncated frames, wrong types, huge
// strings, fragment floods) against a `parley serve` while two honest pairs
// chat, one over TCP and one over UDP.
import {randomBytes} from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import {createRoomClient} from '../../source/client/create-room-client.js';
import {encodeFrame} from '../../source/protocol/framing.js';
import {UdpBot} from '../../test/helpers/udp-bot.js';
import {delay} from '../../test/helpers/wait.js';
import {chat, member, p99, row, rssMb, startServe, talker, type Row} from './kit.js';

const SCENARIO = '1 malformed flood';
const TOTAL = 100_000;
const TCP_SHARE = 10_000; // frames over TCP (each TLS handshake is costly under a datagram flood); the rest are datagrams
const FRAMES_PER_CONNECTION = 200;

const frame = (value: unknown) => encodeFrame(Buffer.from(JSON.stringify(value)));

/** The bad TCP frames one connection writes, cycling through the kinds. */
function badFrames(kind: number): Buffer[] {
	const out: Buffer[] = [];
	for (let i = 0; i < FRAMES_PER_CONNECTION; i++) {
		switch ((kind + i) % 5) {
			case 0:
				out.push(randomBytes(1 + Math.floor(Math.random() * 2000)));
				break;
			case 1: // a length header that lies
				out.push(Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xf0]), randomBytes(64)]));
				break;
			case 3: // wrong types and steps out of order
				out.push(frame({t: 7, data: ['wrong', {types: true}]}), frame({t: 'say', ref: 1, text: {}}));
				break;
			case 4: // a huge string
				out.push(frame({t: 'auth', mech: 'SCRAM-SHA-256-PLUS', data: `n,,n=${'a'.repeat(60_000)},r=x`}));
				break;
			default:
				out.push(frame({t: 'auth-final', data: 'c=biws,r=x,p=AAAA'}));
		}
	}
	// Last, a truncated frame: the rest of it never comes.
	out.splice(FRAMES_PER_CONNECTION - 1, out.length, frame({t: 'auth', mech: 'SCRAM-SHA-256'}).subarray(0, 7));
	return out;
}

/** One TLS connection from `localAddress` that writes bad frames, then waits for the hang-up (≤ 1 s). */
async function tcpAttack(port: number, localAddress: string, kind: number): Promise<number> {
	const raw = net.connect({host: '127.0.0.1', port, localAddress});
	raw.on('error', () => {});
	const socket = tls.connect({socket: raw, rejectUnauthorized: false});
	socket.on('error', () => {});
	const frames = badFrames(kind);
	await new Promise<void>((resolve) => {
		socket.once('secureConnect', () => {
			for (const chunk of frames) socket.write(chunk);
			resolve();
		});
		socket.once('close', () => resolve());
	});
	await Promise.race([new Promise((resolve) => socket.once('close', resolve)), delay(300)]);
	socket.destroy();
	return frames.length;
}

/** The bad datagrams of one round from a bot. */
function badDatagrams(bot: UdpBot, round: number): Buffer[] {
	const fragment = (id: number, index: number, count: number) => {
		const header = Buffer.alloc(7);
		header[0] = 0x02;
		header.writeUInt32BE(id, 1);
		header[5] = index;
		header[6] = count;
		return Buffer.concat([header, randomBytes(1193)]);
	};
	switch (round % 5) {
		case 0:
			return [randomBytes(1 + Math.floor(Math.random() * 1400))];
		case 1: // wrong types
			return bot.encode({t: 'say', ref: 5, text: {no: 'string'}});
		case 2: // huge string: near the biggest datagram
			return [Buffer.concat([Buffer.of(0x01), Buffer.from(`{"t":"join","pad":"${'x'.repeat(8000)}"}`)])];
		case 3: // truncated
			return [Buffer.concat([Buffer.of(0x01), Buffer.from('{"t":"say",')])];
		default: // a fragment flood: sets that never complete, lying counts
			return [fragment(round, 0, 200), fragment(round, 1, 24), fragment(round, 3, 24)];
	}
}

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
		const done = () => tcpSent + udpSent >= TOTAL;
		const tcpAttackers = [10, 11, 12, 13, 14, 15, 16, 17].map(async (host, kind) => {
			const address = `127.0.0.${host}`;
			for (let round = 0; tcpSent < TCP_SHARE; round++)
				tcpSent += await tcpAttack(served.port, address, kind + round).catch(() => 0);
		});
		const bots = await Promise.all(
			['127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8'].map((address) =>
				UdpBot.open(served.udpPort, address),
			),
		);
		await bots[1]!.join('liar');
		const udpAttackers = bots.map(async (bot) => {
			for (let round = 0; udpSent < TOTAL - TCP_SHARE; round++) {
				for (const datagram of badDatagrams(bot, round)) {
					bot.sendRaw(datagram);
					udpSent++;
				}
				if (round % 50 === 0) await new Promise((resolve) => setImmediate(resolve)); // honest traffic shares this loop
			}
		});
		const started = Date.now();
		const progress = setInterval(
			() => process.stderr.write(`  [malformed: ${tcpSent} frames, ${udpSent} datagrams]\n`),
			15_000,
		);
		const chats = await Promise.all([
			chat(talker(alice.client), talker(bob.client), done, {label: 'tcp'}),
			chat(talker(carol), talker(dave), done, {label: 'udp'}),
		]);
		await Promise.all([...tcpAttackers, ...udpAttackers]);
		clearInterval(progress);
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
		await Promise.all([
			alice.client.close(),
			bob.client.close(),
			carol.close(),
			dave.close(),
			...bots.map((b) => b.close()),
		]);
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
