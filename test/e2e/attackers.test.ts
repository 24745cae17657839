// Several attackers at once against each server while two honest members
// chat: random bytes, lying length headers, truncated frames, wrong types,
// steps out of order, huge strings, fragment and hello floods. The honest
// members get every message, in order, and the server stays up.
import {after, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import {startUdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomClient} from '../../source/client/types.js';
import {encodeFrame} from '../../source/protocol/framing.js';
import {sqliteBackend} from '../store/backends.js';
import {Recorder} from '../helpers/room-recorder.js';
import {tcpFixture} from '../helpers/tcp-fixture.js';
import {UdpBot} from '../helpers/udp-bot.js';
import {delay} from '../helpers/wait.js';

const ROUNDS = 12;

/** Runs `attack` over and over until stopped; returns how many rounds ran. */
function keepAttacking(attack: () => Promise<void>): {stop(): Promise<number>} {
	let running = true;
	let rounds = 0;
	const loop = (async () => {
		while (running) {
			await attack().catch(() => {});
			rounds++;
			await delay(5);
		}
	})();
	return {
		async stop() {
			running = false;
			await loop;
			return rounds;
		},
	};
}

/** Two members take turns; each message must reach both, in order. */
async function honestChat(alice: [RoomClient, Recorder], bob: [RoomClient, Recorder]): Promise<string[]> {
	const texts: string[] = [];
	for (let i = 0; i < ROUNDS; i++) {
		const [from] = i % 2 === 0 ? alice : bob;
		const text = `honest ${i} ${'words '.repeat(i % 3 === 0 ? 500 : 3)}`; // some need fragments over UDP
		texts.push(text);
		from.say(text);
		for (const [, r] of [alice, bob]) await r.waitFor('message', (m) => m.text === text, 8000);
		await delay(120); // within the room's rate
	}
	return texts;
}

describe('several attackers at once while two members chat', () => {
	const cleanups: Array<() => Promise<unknown>> = [];
	after(async () => {
		for (const cleanup of cleanups.reverse()) await cleanup();
	});

	it('the UDP room', async () => {
		const server = await startUdpRoomServer();
		cleanups.push(() => server.close());
		const url = `udp://127.0.0.1:${server.port}`;
		const join = async (nick: string): Promise<[RoomClient, Recorder]> => {
			const client = createRoomClient(url);
			cleanups.push(() => client.close());
			const recorder = new Recorder(client);
			await client.connect(nick);
			return [client, recorder];
		};
		const bot = async (address: string) => {
			const made = await UdpBot.open(server.port, address);
			cleanups.push(() => made.close());
			return made;
		};
		const alice = await join('alice');
		const bob = await join('bob');

		const noise = await bot('127.0.0.5');
		const liar = await bot('127.0.0.6');
		await liar.join('liar');
		const fragmenters = await Promise.all([bot('127.0.0.7'), bot('127.0.0.7')]);
		for (const [i, f] of fragmenters.entries()) await f.join(`frag${i}`);
		const rejoiner = await bot('127.0.0.8');
		await rejoiner.join('rejoiner');
		let fragmentId = 1;
		const attacks = [
			keepAttacking(async () => {
				for (let i = 0; i < 5; i++) noise.sendRaw(randomBytes(1 + Math.floor(Math.random() * 1400)));
			}),
			keepAttacking(async () => {
				liar.send({t: 'say', ref: 5, text: {no: 'string'}});
				liar.send({t: 'resend', s: 'room', from: -1, to: 1e308});
				liar.send({t: 'dm', ref: 'x', to: 'alice', text: 'x'.repeat(100_000)});
				liar.send({t: 'hello', nick: 'alice', k: 'forged'});
				liar.send({t: 'say', ref: 'y', text: 'spoofed', k: 'AAAAAAAAAAAAAAAA'});
				liar.sendRaw(Buffer.concat([Buffer.of(0x01), Buffer.from('{"t":"say",')]));
			}),
			keepAttacking(async () => {
				for (const f of fragmenters) {
					for (let index = 0; index < 6; index++) {
						const header = Buffer.alloc(7);
						header[0] = 0x02;
						header.writeUInt32BE(fragmentId, 1);
						header[5] = index;
						header[6] = 24;
						f.sendRaw(Buffer.concat([header, randomBytes(1193)]));
					}
				}
				fragmentId++;
			}),
			keepAttacking(async () => {
				rejoiner.send({t: 'hello', nick: 'rejoiner', since: 0, k: rejoiner.cookie});
			}),
		];
		let texts: string[];
		try {
			texts = await honestChat(alice, bob);
		} finally {
			for (const attack of attacks) assert.ok((await attack.stop()) > 0);
		}
		for (const [, r] of [alice, bob]) {
			assert.deepEqual(
				r.texts().filter((t) => t.startsWith('honest')),
				texts,
			);
			assert.equal(r.of('failed').length, 0);
		}
		assert.ok(server.stats.dropped.malformed! > 0, 'the noise was seen and dropped');
	});

	it('the TCP room', async () => {
		const backend = await sqliteBackend();
		const store = await backend.open();
		const room = await tcpFixture(store);
		cleanups.push(async () => {
			await room.close();
			await store.close();
			await backend.cleanup();
		});
		await room.addUser('alice', 'alice password');
		await room.addUser('bob', 'bob password');
		const join = async (user: string): Promise<[RoomClient, Recorder]> => {
			const {client, events} = await room.login(user, `${user} password`);
			return [client, events];
		};
		const alice = await join('alice');
		const bob = await join('bob');

		/** One connection from another host: sends `bytes`, then waits until the server hangs up (or 1 s). */
		const attackWith = (localAddress: string, bytes: () => Buffer[]) => async () => {
			const tcp = net.connect({host: '127.0.0.1', port: room.server.port, localAddress});
			tcp.on('error', () => {});
			const socket = tls.connect({socket: tcp, rejectUnauthorized: false});
			socket.on('error', () => {});
			await new Promise<void>((resolve) => {
				socket.once('secureConnect', () => {
					for (const chunk of bytes()) socket.write(chunk);
					resolve();
				});
				socket.once('close', () => resolve());
			});
			await Promise.race([new Promise((resolve) => socket.once('close', resolve)), delay(1000)]);
			socket.destroy();
		};
		const frame = (value: unknown) => encodeFrame(Buffer.from(JSON.stringify(value)));
		const attacks = [
			keepAttacking(attackWith('127.0.0.5', () => [randomBytes(2000)])),
			keepAttacking(attackWith('127.0.0.6', () => [Buffer.from([0xff, 0xff, 0xff, 0xff]), randomBytes(100)])),
			keepAttacking(attackWith('127.0.0.7', () => [frame({t: 'auth', mech: 'x'}).subarray(0, 9)])),
			keepAttacking(
				attackWith('127.0.0.8', () => [
					frame({t: 'auth-final', data: 'c=biws,r=x,p=AAAA'}),
					frame({t: 'say', ref: 'r', text: 'not logged in'}),
					frame({t: 7, data: ['wrong', {types: true}]}),
					frame({t: 'auth', mech: 'SCRAM-SHA-256-PLUS', data: `p=tls-exporter,,n=${'a'.repeat(1900)},r=x`}),
				]),
			),
		];
		let texts: string[];
		try {
			texts = await honestChat(alice, bob);
		} finally {
			for (const attack of attacks) assert.ok((await attack.stop()) > 0);
		}
		for (const [client, r] of [alice, bob]) {
			assert.deepEqual(
				r.texts().filter((t) => t.startsWith('honest')),
				texts,
			);
			assert.equal(r.of('failed').length, 0);
			assert.equal(client.state, 'connected');
		}
		assert.ok(room.server.stats.violations > 0, 'the attackers were cut off');
	});
});
