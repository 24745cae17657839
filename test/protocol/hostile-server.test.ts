// Hostile servers against the real client: a raw TLS server and a raw UDP
// socket send malformed, wrong-typed and unknown messages to a RoomSession
// over the real transports. The client reports each problem clearly, keeps
// the connection where it can, and nothing escapes into the event loop (an
// uncaught exception would fail these tests).
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import dgram from 'node:dgram';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {loadOrCreateCertificate, type ServerCertificate} from '../../server/tls/certificate.js';
import {KnownHosts} from '../../source/client/known-hosts.js';
import {RoomSession} from '../../source/client/room-session.js';
import {TcpTransport} from '../../source/client/tcp-transport.js';
import {RoomError} from '../../source/client/types.js';
import {UdpTransport} from '../../source/client/udp-transport.js';
import {FrameDecoder, encodeFrame} from '../../source/protocol/framing.js';
import {PRESENCE_KINDS} from '../../source/protocol/schema-kit.js';
import {ScramServer, deriveVerifier, tlsExporterChannelBinding} from '../../source/protocol/scram.js';
import {Recorder} from '../helpers/room-recorder.js';
import {waitFor} from '../helpers/wait.js';

type Frame = {t: string; [key: string]: unknown};
const json = (message: unknown) => Buffer.from(JSON.stringify(message));
const welcome = (nick: string, extra: Record<string, unknown> = {}) => ({
	t: 'welcome',
	nick,
	room: 'den',
	seq: 0,
	dseq: 0,
	members: [{nick}],
	...extra,
});

/** One connection to the hostile TLS server, seen as frames. */
class Peer {
	readonly frames: Frame[] = [];
	closed = false;
	private readonly decoder = new FrameDecoder();

	constructor(readonly socket: tls.TLSSocket) {
		socket.on('data', (chunk) => {
			for (const frame of this.decoder.push(chunk)) this.frames.push(JSON.parse(frame.toString()) as Frame);
		});
		socket.on('error', () => {});
		socket.on('close', () => (this.closed = true));
	}

	send(message: unknown): void {
		this.payload(json(message));
	}

	payload(bytes: Buffer): void {
		this.socket.write(encodeFrame(bytes));
	}

	next(t: string): Promise<Frame> {
		return waitFor(() => this.frames.find((f) => f.t === t), {what: `a ${t} frame`});
	}
}

const PASSWORD = 'hostile password';

/** Plays the server's side of a SCRAM-SHA-256-PLUS login, then the hello. */
async function acceptLogin(peer: Peer): Promise<Frame> {
	const verifier = await deriveVerifier(PASSWORD);
	peer.send({t: 'auth-mechs', mechs: ['SCRAM-SHA-256-PLUS'], register: false});
	const auth = await peer.next('auth');
	const scram = new ScramServer({
		lookup: async () => verifier,
		serverSecret: randomBytes(32),
		channelBinding: tlsExporterChannelBinding(peer.socket),
		requireChannelBinding: true,
	});
	peer.send({t: 'auth-challenge', data: await scram.first(auth.data as string)});
	const final = await peer.next('auth-final');
	const outcome = await scram.final(final.data as string);
	assert.ok(outcome.ok, 'the real client logs in');
	peer.send({t: 'auth-ok', data: outcome.serverFinal, user: 'eve'});
	return peer.next('hello');
}

describe('a hostile TCP server', () => {
	let dir: string;
	let certificate: ServerCertificate;
	const servers: tls.Server[] = [];
	const sessions: RoomSession[] = [];

	/** A TLS server whose first connection is played by `script`; later ones are hung up on. */
	async function hostile(
		script: (peer: Peer) => Promise<void>,
	): Promise<{port: number; peer: Promise<Peer>}> {
		let first = true;
		let found: (peer: Peer) => void = () => {};
		const peer = new Promise<Peer>((resolve) => (found = resolve));
		const server = tls.createServer({...certificate, minVersion: 'TLSv1.3'}, (socket) => {
			if (!first) return socket.destroy();
			first = false;
			const connection = new Peer(socket);
			found(connection);
			script(connection).catch((error) => socket.destroy(error));
		});
		servers.push(server);
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		return {port: (server.address() as {port: number}).port, peer};
	}

	function session(port: number): {client: RoomSession; events: Recorder} {
		const transport = new TcpTransport({
			host: '127.0.0.1',
			port,
			knownHosts: new KnownHosts(path.join(dir, `known_hosts-${port}`)),
			confirmNewHost: async () => true,
			loginReplyTimeoutMs: 5000,
		});
		const client = new RoomSession(transport, {reconnectMinMs: 60_000});
		sessions.push(client);
		return {client, events: new Recorder(client)};
	}

	before(async () => {
		dir = await mkdtemp(path.join(tmpdir(), 'parley-hostile-'));
		certificate = await loadOrCreateCertificate(dir);
	});
	after(async () => {
		await Promise.all(sessions.map((s) => s.close()));
		await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
		await rm(dir, {recursive: true, force: true});
	});

	it('cannot crash the client with bad frames in the room: each is reported and dropped', async () => {
		const {port} = await hostile(async (peer) => {
			await acceptLogin(peer);
			peer.send(welcome('eve'));
			peer.payload(Buffer.of(0xff, 0xfe, 0x00));
			peer.payload(Buffer.from('{not json'));
			peer.payload(json([1, 2, 3]));
			peer.send({t: 'surprise', payload: 'x'});
			peer.send({t: 'msg', seq: 1, ts: 'now', from: 'mallory', text: 'typed wrong'});
			peer.send({t: 'welcome', nick: 'eve', seq: 0, dseq: 0, members: 'everyone'});
			peer.send({t: 'error', code: 'made-up-code', message: 'something odd'});
			peer.send({t: 'msg', seq: 1, ts: 1, from: 'mallory', text: 'still here', future: {x: 1}});
		});
		const {client, events} = session(port);
		await client.connect('eve', PASSWORD);
		await events.waitFor('message', (m) => m.text === 'still here');
		const problems = events.of('error').map((e) => `${e.code}: ${e.text}`);
		const expected = [
			'network: dropped a bad message from the server: invalid UTF-8',
			'network: dropped a bad message from the server: invalid JSON',
			'network: dropped a bad message from the server: a message must be a JSON object',
			'network: dropped a bad message from the server: unknown message type "surprise"',
			'network: dropped a bad message from the server: msg: field ts must be number',
			'network: dropped a bad message from the server: welcome: field members must be Array',
			// An error code this client does not know is shown like a server error.
			'server-error: something odd',
		];
		assert.deepEqual(problems, expected);
		assert.equal(client.state, 'connected');
		assert.deepEqual(client.members, ['eve'], 'the bad welcome changed nothing');
	});

	it('drops the connection, with the reason, on a frame larger than the limit', async () => {
		const {port} = await hostile(async (peer) => {
			await acceptLogin(peer);
			peer.send(welcome('eve'));
			const header = Buffer.alloc(4);
			header.writeUInt32BE(10 * 1024 * 1024);
			peer.socket.write(header);
		});
		const {client, events} = session(port);
		await client.connect('eve', PASSWORD);
		const state = await events.waitFor('state', (s) => s.state === 'reconnecting');
		assert.match(state.detail ?? '', /^bad data from the server: frame of 10485760 bytes exceeds 65536$/);
	});

	it('fails the login at once, naming the field, when a login message is malformed', async () => {
		const {port} = await hostile(async (peer) => {
			peer.send({t: 'auth-mechs', mechs: 'SCRAM-SHA-256-PLUS'});
		});
		const {client} = session(port);
		await assert.rejects(client.connect('eve', PASSWORD), (error: unknown) => {
			assert.ok(error instanceof RoomError);
			assert.equal(error.code, 'bad-request');
			assert.match(error.message, /auth-mechs: field mechs must be Array/);
			return true;
		});
		assert.equal(client.state, 'closed');
	});

	it('hangs up before sending any credential to a server that speaks no common version', async () => {
		const {port, peer} = await hostile(async (connection) => {
			connection.send({t: 'auth-mechs', mechs: ['SCRAM-SHA-256-PLUS'], versions: [7, 8], caps: []});
		});
		const {client} = session(port);
		await assert.rejects(client.connect('eve', PASSWORD), (error: unknown) => {
			assert.ok(error instanceof RoomError);
			assert.equal(error.code, 'unsupported-version');
			assert.match(error.message, /speaks protocol version 7, 8; the client offered 1/);
			return true;
		});
		const connection = await peer;
		await waitFor(() => connection.closed, {what: 'the client to hang up'});
		assert.deepEqual(connection.frames, [], 'not even the SCRAM first message was sent');
	});
});

describe('a hostile UDP server', () => {
	let socket: dgram.Socket;
	let session: RoomSession | undefined;
	const whole = (message: unknown) => Buffer.concat([Buffer.of(0x01), json(message)]);

	before(async () => {
		socket = dgram.createSocket('udp4');
		await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
	});
	after(async () => {
		await session?.close();
		await new Promise<void>((resolve) => socket.close(() => resolve()));
	});

	it('cannot crash the client with bad datagrams: each is reported and dropped', async () => {
		let joins = 0;
		socket.on('message', (datagram, from) => {
			const send = (bytes: Buffer) => socket.send(bytes, from.port, from.address);
			if (datagram[0] !== 0x01) return;
			const message = JSON.parse(datagram.subarray(1).toString()) as Frame;
			if (message.t === 'join') {
				// The first cookie is typed wrong: the client must keep asking, not give up or throw.
				send(whole({t: 'cookie', c: joins++ === 0 ? 5 : 'Y29va2ll'}));
				return;
			}
			if (message.t !== 'hello') return;
			send(whole(welcome('eve', {sid: 'c2lk', caps: ['dm', 'teleport'], v: 1})));
			send(Buffer.of(0x07, 0x01, 0x02));
			send(Buffer.of(0x02, 0, 0, 0, 1, 5, 2, 0x41));
			send(Buffer.concat([Buffer.of(0x01), Buffer.from('{"t":')]));
			send(whole({t: 'pong', ts: 1, seq: 'one', dseq: 0}));
			send(whole({t: 'presence', ts: 1, kind: 'teleport', nick: 'mallory'}));
			send(whole({t: 'error', code: 'made-up-code', message: 'odd'}));
			send(whole({t: 'msg', seq: 1, ts: 1, from: 'mallory', text: 'still here', future: true}));
		});
		const port = (socket.address() as {port: number}).port;
		session = new RoomSession(new UdpTransport({host: '127.0.0.1', port}), {reconnectMinMs: 60_000});
		const events = new Recorder(session);
		await session.connect('eve');
		await events.waitFor('message', (m) => m.text === 'still here');
		const problems = events.of('error').map((e) => `${e.code}: ${e.text}`);
		const bad = 'network: dropped a bad datagram from the server:';
		assert.deepEqual(problems, [
			`${bad} cookie: field c must be string`,
			`${bad} unknown datagram kind`,
			`${bad} bad fragment header`,
			`${bad} invalid JSON`,
			`${bad} pong: field seq must be number`,
			`${bad} presence: field kind must be (${PRESENCE_KINDS.map((kind) => `"${kind}"`).join(' | ')})`,
			'server-error: odd',
		]);
		assert.equal(session.state, 'connected');
		assert.deepEqual(session.capabilities, ['dm', 'teleport'], 'unknown capabilities are kept, and ignored');
	});

	it('stops at a cookie naming no common version, before sending hello', async () => {
		const other = dgram.createSocket('udp4');
		await new Promise<void>((resolve) => other.bind(0, '127.0.0.1', resolve));
		const seen: string[] = [];
		other.on('message', (datagram, from) => {
			const message = JSON.parse(datagram.subarray(1).toString()) as Frame;
			seen.push(message.t);
			if (message.t === 'join')
				other.send(whole({t: 'cookie', c: 'Y29va2ll', versions: [5], caps: []}), from.port, from.address);
		});
		const port = (other.address() as {port: number}).port;
		const client = new RoomSession(new UdpTransport({host: '127.0.0.1', port}));
		await assert.rejects(client.connect('eve'), (error: unknown) => {
			assert.ok(error instanceof RoomError);
			assert.equal(error.code, 'unsupported-version');
			assert.match(error.message, /speaks protocol version 5; the client offered 1/);
			return true;
		});
		assert.deepEqual(seen, ['join']);
		await client.close();
		await new Promise<void>((resolve) => other.close(() => resolve()));
	});
});
