// The attackers of the malformed flood: parallel TCP connections writing bad
// frames, and UDP bots sending bad datagrams, until their shares are sent.
// Run in a child process (bench/chaos-attacker-child.ts) so the honest
// members' timings are not the attackers' own event loop.
import {randomBytes} from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import {encodeFrame} from '../../source/protocol/framing.js';
import {UdpBot} from '../../test/helpers/udp-bot.js';
import {delay} from '../../test/helpers/wait.js';

export const TOTAL = 100_000;
const UDP_SECONDS = 50;
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

/** Sends TOTAL bad frames and datagrams; reports progress through `progress`. */
export async function attack(
	tcpPort: number,
	udpPort: number,
	progress: (tcpSent: number, udpSent: number) => void,
): Promise<{tcpSent: number; udpSent: number}> {
	let tcpSent = 0;
	let udpSent = 0;
	const tcpAttackers = [10, 11, 12, 13, 14, 15, 16, 17].map(async (host, kind) => {
		const address = `127.0.0.${host}`;
		for (let round = 0; tcpSent < TCP_SHARE; round++)
			tcpSent += await tcpAttack(tcpPort, address, kind + round).catch(() => 0);
	});
	const bots = await Promise.all(
		['127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8'].map((address) => UdpBot.open(udpPort, address)),
	);
	await bots[1]!.join('liar');
	// Paced to spread the datagrams over UDP_SECONDS: a flood, not a test of the kernel's buffers.
	const started = Date.now();
	const perMs = (TOTAL - TCP_SHARE) / (UDP_SECONDS * 1000);
	const udpAttackers = bots.map(async (bot) => {
		for (let round = 0; udpSent < TOTAL - TCP_SHARE; round++) {
			for (const datagram of badDatagrams(bot, round)) {
				bot.sendRaw(datagram);
				udpSent++;
			}
			if (udpSent > (Date.now() - started) * perMs) await delay(5);
		}
	});
	const timer = setInterval(() => progress(tcpSent, udpSent), 1000);
	await Promise.all([...tcpAttackers, ...udpAttackers]);
	clearInterval(timer);
	await delay(200); // let the last datagrams leave before the sockets close
	await Promise.all(bots.map((b) => b.close()));
	return {tcpSent, udpSent};
}
