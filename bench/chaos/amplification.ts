// What an unverified UDP source (a spoofer, in effect: it never proves it
// gets replies) can make a `parley serve` send: bytes out per byte in, for
// every request type. A reflector must not amplify: ratio ≤ 1.
import {UdpBot} from '../../test/helpers/udp-bot.js';
import {row, startServe, type Row} from './kit.js';

const SCENARIO = '7 UDP amplification';
const REPEAT = 20;

const raw = (value: unknown) => Buffer.concat([Buffer.of(0x01), Buffer.from(JSON.stringify(value))]);

const REQUESTS: Array<[string, () => Buffer]> = [
	['join', () => raw({t: 'join'})],
	['join (padded)', () => raw({t: 'join', pad: 'x'.repeat(80)})],
	['hello without cookie', () => raw({t: 'hello', nick: 'spoofed', since: 0})],
	['hello with bad cookie', () => raw({t: 'hello', nick: 'spoofed', since: 0, k: 'AAAAAAAAAAAAAAAAAAAAAA'})],
	['say', () => raw({t: 'say', ref: 'r', text: 'hi', k: 'AAAAAAAAAAAAAAAA'})],
	['resend', () => raw({t: 'resend', s: 'room', from: 0, to: 1000, k: 'AAAAAAAAAAAAAAAA'})],
	['ping', () => raw({t: 'ping', k: 'AAAAAAAAAAAAAAAA'})],
	['garbage', () => Buffer.from('\x00\xff garbage \x7f')],
];

export async function amplification(): Promise<Row[]> {
	const served = await startServe([]);
	const rows: Row[] = [];
	try {
		// A verified member with history, so replays would have something to send.
		const member = await UdpBot.open(served.udpPort, '127.0.0.3');
		await member.join('talker');
		for (let i = 0; i < 10; i++)
			member.send({t: 'say', ref: `r${i}`, text: `history ${i} ${'y'.repeat(500)}`});
		let worst = 0;
		for (const [index, [name, request]] of REQUESTS.entries()) {
			const bot = await UdpBot.open(served.udpPort, `127.0.0.${40 + index}`);
			for (let i = 0; i < REPEAT; i++) bot.sendRaw(request());
			// The server answers in the order it reads: once the sentinel's cookie is back, any reply to the bot is too.
			const sentinel = await UdpBot.open(served.udpPort, '127.0.0.4');
			sentinel.sendRaw(raw({t: 'join', pad: 'x'.repeat(80)}));
			await sentinel.waitFor((m) => m.t === 'cookie', 'the sentinel cookie', 5000);
			await sentinel.close();
			const ratio = bot.bytesIn / bot.bytesOut;
			worst = Math.max(worst, ratio);
			rows.push(
				row(
					SCENARIO,
					`${name}: bytes out/in (×${REPEAT})`,
					`${bot.bytesIn}/${bot.bytesOut} = ${ratio.toFixed(2)}`,
					'≤ 1',
					ratio <= 1,
				),
			);
			await bot.close();
		}
		await member.close();
	} finally {
		await served.serve.stop();
	}
	return rows;
}
