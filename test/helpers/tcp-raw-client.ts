// TEST ONLY: a TCP room member made by hand (TLS, SCRAM-SHA-256-PLUS, hello),
// with the bare socket exposed, so a test can stop reading like a stuck client.
import tls from 'node:tls';
import {FrameDecoder, encodeFrame} from '../../source/protocol/framing.js';
import {ScramClient, SCRAM_PLUS_MECHANISM, tlsExporterChannelBinding} from '../../source/protocol/scram.js';
import {waitFor} from './wait.js';

type Frame = {t: string; [key: string]: unknown};

export class RawMember {
	readonly frames: Frame[] = [];
	closed = false;
	private readonly decoder = new FrameDecoder({maxFrameBytes: 1024 * 1024});

	constructor(readonly socket: tls.TLSSocket) {
		socket.on('data', (chunk) => {
			for (const frame of this.decoder.push(chunk))
				this.frames.push(JSON.parse(frame.toString('utf8')) as Frame);
		});
		socket.on('error', () => {});
		socket.on('close', () => (this.closed = true));
	}

	send(message: Record<string, unknown>): void {
		this.socket.write(encodeFrame(Buffer.from(JSON.stringify(message))));
	}

	/** The first frame of type `t` (after index `from`) matching the predicate. */
	next(
		t: string,
		from = 0,
		predicate: (frame: Frame) => boolean = () => true,
		timeout = 3000,
	): Promise<Frame> {
		return waitFor(
			() => {
				const found = this.frames.slice(from).find((f) => f.t === t && predicate(f));
				if (found) return found;
				if (this.closed)
					throw new Error(
						`connection closed while waiting for ${t}: ${JSON.stringify(this.frames.slice(-3))}`,
					);
				return undefined;
			},
			{timeout, what: `a ${t} frame`},
		);
	}

	close(): void {
		this.socket.destroy();
	}
}

/** Logs in over TLS (SCRAM-SHA-256-PLUS); resolves once auth-ok has arrived, before any hello. */
export async function rawLogin(port: number, user: string, password: string): Promise<RawMember> {
	const socket = tls.connect({host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1.3'});
	await new Promise<void>((resolve, reject) => {
		socket.once('secureConnect', resolve);
		socket.once('error', reject);
	});
	const member = new RawMember(socket);
	const mechs = await member.next('auth-mechs');
	if (!(mechs.mechs as string[]).includes(SCRAM_PLUS_MECHANISM))
		throw new Error('the server offers no channel binding');
	const channelBinding = tlsExporterChannelBinding(socket);
	const scram = new ScramClient({username: user, password, channelBinding, serverOffersPlus: true});
	member.send({t: 'auth', mech: scram.mechanism, data: scram.first()});
	const challenge = await member.next('auth-challenge');
	member.send({t: 'auth-final', data: await scram.final(challenge.data as string)});
	const ok = await member.next('auth-ok');
	scram.verifyServer(ok.data as string);
	return member;
}

/** Logs in and joins the room; resolves once the welcome has arrived. */
export async function rawMember(port: number, user: string, password: string): Promise<RawMember> {
	const member = await rawLogin(port, user, password);
	member.send({t: 'hello', nick: user, v: 1});
	await member.next('welcome');
	return member;
}
