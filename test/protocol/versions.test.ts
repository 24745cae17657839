// Version negotiation and capabilities against one real server per transport:
// a client from before negotiation (no versions stated, v: 1) and a current
// one share the room; a client speaking only a future version is told which
// versions the server has, and is not let in.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import tls from 'node:tls';
import {startUdpRoomServer, type UdpRoomServer} from '../../server/udp/udp-room-server.js';
import type {AccountStore} from '../../server/store/account-store.js';
import {RoomSession} from '../../source/client/room-session.js';
import {UdpTransport} from '../../source/client/udp-transport.js';
import {SCRAM_PLUS_MECHANISM, ScramClient, tlsExporterChannelBinding} from '../../source/protocol/scram.js';
import {Recorder} from '../helpers/room-recorder.js';
import {RawMember} from '../helpers/tcp-raw-client.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {waitFor} from '../helpers/wait.js';
import {sqliteBackend, uniqueName, type Backend} from '../store/backends.js';

type Message = {t: string; [key: string]: unknown};

/** A UDP client written by hand, the way clients before version negotiation spoke. */
async function rawUdp(port: number) {
	const socket = dgram.createSocket('udp4');
	const received: Message[] = [];
	socket.on('message', (datagram) => {
		if (datagram[0] === 0x01) received.push(JSON.parse(datagram.subarray(1).toString()) as Message);
	});
	await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
	const send = (message: unknown) =>
		socket.send(Buffer.concat([Buffer.of(0x01), Buffer.from(JSON.stringify(message))]), port, '127.0.0.1');
	const next = (t: string, from = 0) =>
		waitFor(() => received.slice(from).find((m) => m.t === t), {what: `a ${t} datagram`});
	return {
		received,
		send,
		next,
		/** join (padded as old clients did) → cookie → hello; resolves with the server's answer. */
		async hello(fields: Record<string, unknown>, join: Record<string, unknown> = {pad: 'x'.repeat(96)}) {
			const start = received.length;
			send({t: 'join', ...join});
			const cookie = await next('cookie', start);
			const at = received.length;
			send({t: 'hello', ...fields, k: cookie.c});
			return {cookie, answer: await waitFor(() => received[at], {what: 'the answer to hello'})};
		},
		close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
	};
}

const UDP_CAPS = ['dm', 'action', 'nick', 'away', 'multi-room', 'history-paging'];
const TCP_CAPS = [
	'dm',
	'action',
	'away',
	'multi-room',
	'moderation',
	'history-paging',
	'multi-session',
	'files',
	'register',
	'token-login',
];

describe('protocol versions over UDP', () => {
	let server: UdpRoomServer;
	const sessions: RoomSession[] = [];

	before(async () => {
		server = await startUdpRoomServer();
	});
	after(async () => {
		await Promise.all(sessions.map((s) => s.close()));
		await server.close();
	});

	it('lets a client from before negotiation and a current one chat in one room', async () => {
		const current = new RoomSession(new UdpTransport({host: '127.0.0.1', port: server.port}));
		sessions.push(current);
		const events = new Recorder(current);
		await current.connect('newton');
		assert.equal(current.protocolVersion, 2);
		assert.deepEqual(current.capabilities, UDP_CAPS);

		const old = await rawUdp(server.port);
		const {cookie, answer} = await old.hello({nick: 'oldie', v: 1}, {pad: 'x'.repeat(200)});
		assert.equal(answer.t, 'welcome', JSON.stringify(answer));
		// What the server speaks comes with the cookie when the join left room for it.
		assert.deepEqual([cookie.versions, cookie.caps], [[1, 2], UDP_CAPS]);
		assert.equal(answer.v, 1);
		old.send({t: 'say', ref: 'old-1', text: 'hello from the past', k: answer.sid});
		await events.waitFor('message', (m) => m.text === 'hello from the past' && m.from === 'oldie');
		const at = old.received.length;
		current.say('hello from now');
		await waitFor(() => old.received.slice(at).find((m) => m.t === 'msg' && m.text === 'hello from now'), {
			what: 'the old client to hear the current one',
		});
		await old.close();
	});

	it('takes a hello that states no version at all as version 1', async () => {
		const old = await rawUdp(server.port);
		const {answer} = await old.hello({nick: 'silent'});
		assert.equal(answer.t, 'welcome');
		assert.equal(answer.v, 1);
		old.send({t: 'leave', k: answer.sid});
		await old.close();
	});

	it('gives an old client whose join leaves no room for more the bare cookie, not nothing', async () => {
		const old = await rawUdp(server.port);
		const {cookie, answer} = await old.hello({nick: 'tiny', v: 1}, {pad: 'x'.repeat(40)});
		assert.deepEqual(Object.keys(cookie), ['t', 'c']);
		assert.equal(answer.t, 'welcome');
		old.send({t: 'leave', k: answer.sid});
		await old.close();
	});

	it('refuses a client that speaks only versions the server does not, saying which it has', async () => {
		const future = await rawUdp(server.port);
		const members = server.room.size;
		for (const fields of [{versions: [3, 4]}, {v: 999}]) {
			const {answer} = await future.hello({nick: 'futura', ...fields});
			assert.deepEqual(answer, {
				t: 'error',
				code: 'unsupported-version',
				message: `this server speaks protocol version 1, 2; the client offered ${(fields.versions ?? [fields.v]).join(', ')}`,
				versions: [1, 2],
			});
		}
		assert.equal(server.room.size, members, 'not let in');
		// Stated in the join, the refusal comes before any cookie.
		const at = future.received.length;
		future.send({t: 'join', pad: 'x'.repeat(200), versions: [3]});
		const early = await waitFor(() => future.received[at], {what: 'the answer to join'});
		assert.equal(early.code, 'unsupported-version');
		assert.deepEqual(early.versions, [1, 2]);
		await future.close();
	});
});

describe('protocol versions over TCP', () => {
	let source: Backend;
	let store: AccountStore;
	let room: TcpFixture;
	const alice = uniqueName('alice');
	const olga = uniqueName('olga');
	const fred = uniqueName('fred');

	before(async () => {
		source = await sqliteBackend();
		store = await source.open();
		room = await tcpFixture(store, {roomName: uniqueName('room'), allowRegister: true});
		for (const user of [alice, olga, fred]) await room.addUser(user, `${user} password`);
	});
	after(async () => {
		await room.close();
		await store.close();
		await source.cleanup();
	});

	/** Logs in by hand over TLS; the hello is the caller's. */
	async function rawLogin(user: string): Promise<{member: RawMember; mechs: Message}> {
		const socket = tls.connect({host: '127.0.0.1', port: room.server.port, rejectUnauthorized: false});
		await new Promise<void>((resolve, reject) => {
			socket.once('secureConnect', resolve);
			socket.once('error', reject);
		});
		const member = new RawMember(socket);
		const mechs = await member.next('auth-mechs');
		const scram = new ScramClient({
			username: user,
			password: `${user} password`,
			channelBinding: tlsExporterChannelBinding(socket),
			serverOffersPlus: true,
		});
		member.send({t: 'auth', mech: SCRAM_PLUS_MECHANISM, data: scram.first()});
		const challenge = await member.next('auth-challenge');
		member.send({t: 'auth-final', data: await scram.final(challenge.data as string)});
		await member.next('auth-ok');
		return {member, mechs};
	}

	it('announces versions and capabilities in its first frame, and lets old and current clients chat', async () => {
		const current = await room.login(alice, `${alice} password`);
		assert.equal(current.client.protocolVersion, 2);
		assert.deepEqual(current.client.capabilities, TCP_CAPS);

		const {member: old, mechs} = await rawLogin(olga);
		assert.deepEqual([mechs.versions, mechs.caps], [[1, 2], TCP_CAPS]);
		old.send({t: 'hello', nick: olga, v: 1});
		const welcome = await old.next('welcome');
		assert.deepEqual([welcome.v, welcome.caps], [1, TCP_CAPS]);
		old.send({t: 'say', ref: 'old-1', text: 'typed on an old client'});
		await current.events.waitFor('message', (m) => m.text === 'typed on an old client');
		current.client.say('answered from a new one');
		await old.next('msg', 0, (m) => m.text === 'answered from a new one');
		old.close();
	});

	it('answers a client from the future with unsupported-version and the versions it has, then closes', async () => {
		const {member} = await rawLogin(fred);
		member.send({t: 'hello', nick: fred, versions: [3]});
		const refusal = await member.next('error');
		assert.deepEqual(refusal, {
			t: 'error',
			code: 'unsupported-version',
			message: 'this server speaks protocol version 1, 2; the client offered 3',
			versions: [1, 2],
		});
		await waitFor(() => member.closed, {what: 'the server to close the connection'});
		assert.equal(room.server.room.findMember(fred), undefined);
	});
});
