// The UDP room server over real sockets: handshake, anti-spoofing, expiry,
// limits, loss repair and hostile input.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import {startUdpRoomServer, type UdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomClient} from '../../source/client/types.js';
import {Recorder} from '../helpers/room-recorder.js';
import {waitFor} from '../helpers/wait.js';
import {peek, startUdpProxy} from '../helpers/udp-proxy.js';

const whole = (message: Record<string, unknown>) =>
	Buffer.concat([Buffer.of(0x01), Buffer.from(JSON.stringify(message))]);

/** A raw socket that records every datagram it receives. */
async function rawPeer(serverPort: number) {
	const socket = dgram.createSocket('udp4');
	const received: Buffer[] = [];
	socket.on('message', (datagram) => received.push(datagram));
	await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
	return {
		received,
		send: (datagram: Buffer) => socket.send(datagram, serverPort, '127.0.0.1'),
		close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
		async join(nick: string): Promise<string> {
			this.send(whole({t: 'join', pad: 'x'.repeat(80)}));
			const cookie = await waitFor(() => received.map(peek).find((m) => m?.t === 'cookie'), {what: 'cookie'});
			this.send(whole({t: 'hello', nick, k: cookie.c}));
			const welcome = await waitFor(() => received.map(peek).find((m) => m?.t === 'welcome'), {
				what: 'welcome',
			});
			return welcome.sid as string;
		},
	};
}

async function joined(url: string, nick: string): Promise<[RoomClient, Recorder]> {
	const client = createRoomClient(url);
	const recorder = new Recorder(client);
	await client.connect(nick);
	return [client, recorder];
}

describe('UDP room server', () => {
	let server: UdpRoomServer;
	let url: string;
	const clients: RoomClient[] = [];
	const join = async (nick: string, at = url) => {
		const pair = await joined(at, nick);
		clients.push(pair[0]);
		return pair;
	};

	before(async () => {
		server = await startUdpRoomServer({maxMembersPerAddress: 64}); // every test client is on 127.0.0.1
		url = `udp://127.0.0.1:${server.port}`;
	});
	after(async () => {
		await Promise.all(clients.map((c) => c.close()));
		await server.close();
	});

	it('delivers every message to every member, the sender included, in order', async () => {
		const [alice, a] = await join('alice');
		const [bob, b] = await join('bob');
		alice.say('hello bob');
		bob.say('hi alice');
		alice.say('third', {action: true});
		for (const r of [a, b])
			await waitFor(() => r.texts().length === 3 || undefined, {what: 'three messages'});
		assert.deepEqual(a.texts(), ['hello bob', 'hi alice', 'third']);
		assert.deepEqual(b.texts(), a.texts());
		const seqs = a.of('message').map((m) => m.seq);
		assert.deepEqual(
			seqs,
			[...seqs].sort((x, y) => x - y),
		);
		assert.equal(a.of('message')[0]!.self, true);
		assert.equal(b.of('message')[0]!.self, false);
		assert.equal(b.of('message')[2]!.action, true);
		await alice.close();
		await bob.close();
	});

	it('sends a direct message to its recipient only', async () => {
		const [carol, c] = await join('carol');
		const [, d] = await join('dave');
		const [, e] = await join('erin');
		carol.direct('dave', 'just for you');
		const got = await d.waitFor('direct');
		assert.equal(got.from, 'carol');
		assert.equal(got.text, 'just for you');
		await c.waitFor('direct', (m) => m.self);
		carol.say('public');
		await e.waitFor('message', (m) => m.text === 'public');
		assert.equal(e.of('direct').length, 0);
		carol.direct('nobody-here', 'x');
		const failed = await c.waitFor('failed');
		assert.equal(failed.code, 'no-such-nick');
	});

	it('keeps nicks unique (case-insensitively) and announces nick changes', async () => {
		await join('frank');
		await assert.rejects(
			joined(url, 'FRANK'),
			(error: Error & {code?: string}) => error.code === 'nick-taken',
		);
		await assert.rejects(
			joined(url, 'bad nick!'),
			(error: Error & {code?: string}) => error.code === 'nick-invalid',
		);
		const [gina, g] = await join('gina');
		const [, h] = await join('hank');
		gina.changeNick('regina');
		const change = await h.waitFor('presence', (p) => p.kind === 'nick');
		assert.equal(change.old, 'gina');
		assert.equal(change.nick, 'regina');
		await g.waitFor('nick', (n) => n.nick === 'regina');
		assert.equal(gina.nick, 'regina');
		assert.ok(gina.members.includes('regina'));
	});

	it('carries a long CJK message in fragments', async () => {
		const [ivy] = await join('ivy');
		const [, j] = await join('jack');
		const text = '长消息测试'.repeat(500); // 2,500 characters, 7,500 bytes
		ivy.say(text);
		const got = await j.waitFor('message', (m) => m.from === 'ivy');
		assert.equal(got.text, text);
	});

	it('answers an unverified source with nothing larger than it sent', async () => {
		const peer = await rawPeer(server.port);
		const before = {...server.stats.dropped};
		const grown = (reason: string) => (server.stats.dropped[reason] ?? 0) - (before[reason] ?? 0);
		const requests = [
			whole({t: 'join'}), // too small to carry a cookie back
			whole({t: 'hello', nick: 'mallory', k: 'AAAAAAAAAAAAAAAAAAAAAA'}), // forged cookie
			whole({t: 'say', ref: 'r1', text: 'let me in', k: ''}), // too small for the error
			Buffer.concat([Buffer.of(0x02, 0, 0, 0, 1, 0, 2), Buffer.alloc(500)]), // fragments need membership
			whole({t: 'say', ref: 'r2', text: 'x'.repeat(40), k: ''}), // big enough for the error
			whole({t: 'join', pad: 'x'.repeat(80)}), // big enough for a cookie: the last reply
		];
		for (const request of requests) peer.send(request);
		// One socket to one socket over loopback keeps order: the cookie comes after every other answer.
		await waitFor(() => peer.received.some((d) => peek(d)?.t === 'cookie'), {what: 'the cookie'});
		assert.deepEqual(
			peer.received.map((d) => peek(d)?.t),
			['error', 'cookie'],
			'answers only where the answer fits in the request',
		);
		assert.equal(peek(peer.received[0]!)?.code, 'not-joined');
		assert.ok(peer.received[0]!.length <= requests[4]!.length, `error of ${peer.received[0]!.length} bytes`);
		assert.ok(peer.received[1]!.length <= requests[5]!.length, `cookie of ${peer.received[1]!.length} bytes`);
		assert.ok(!server.room.findMember('mallory'));
		assert.deepEqual(
			['reply-too-large', 'bad-cookie', 'unverified', 'not-joined'].map(grown),
			[2, 1, 1, 2],
			'join and say too small to answer, forged hello, fragment, two says from a stranger',
		);
		await peer.close();
	});

	it('drops datagrams that carry the wrong session id', async () => {
		const peer = await rawPeer(server.port);
		const sid = await peer.join('kim');
		const [, l] = await join('lee');
		const spoofedBefore = server.stats.dropped.spoofed ?? 0;
		peer.send(whole({t: 'say', ref: 'r1', text: 'spoofed text', k: 'AAAAAAAAAAAAAAAA'}));
		// The same address with the right session id: handled after the spoofed one, so once lee
		// has it the spoofed datagram has been dealt with.
		peer.send(whole({t: 'say', ref: 'r2', text: 'with the session id', k: sid}));
		await l.waitFor('message', (m) => m.text === 'with the session id');
		assert.deepEqual(
			l
				.of('message')
				.filter((m) => m.from === 'kim')
				.map((m) => m.text),
			['with the session id'],
		);
		assert.equal((server.stats.dropped.spoofed ?? 0) - spoofedBefore, 1);
		await peer.close();
	});

	it('expires members that fall silent and tells the room', async () => {
		const quick = await startUdpRoomServer({expireAfterMs: 600});
		const peer = await rawPeer(quick.port);
		await peer.join('quiet');
		const [mike, m] = await joined(`udp://127.0.0.1:${quick.port}`, 'mike');
		try {
			const expired = await m.waitFor('presence', (p) => p.nick === 'quiet' && p.kind === 'expire');
			assert.match(expired.reason ?? '', /^silent for [0-9.]+ s$/);
			assert.ok(!quick.room.findMember('quiet'));
		} finally {
			await Promise.all([peer.close(), mike.close()]);
			await quick.close();
		}
	});

	it('survives malformed, oversized, invalid UTF-8 and unknown datagrams', async () => {
		const peer = await rawPeer(server.port);
		const sid = await peer.join('fuzz');
		const before = {...server.stats.dropped};
		peer.send(Buffer.from('not a parley datagram'));
		peer.send(Buffer.concat([Buffer.of(0x01), Buffer.from([0xc3, 0x28, 0xff])])); // invalid UTF-8
		peer.send(Buffer.concat([Buffer.of(0x01), Buffer.from('{"t":')])); // truncated JSON
		peer.send(Buffer.alloc(1500, 0x01)); // oversized
		peer.send(whole({t: 'teleport', k: sid}));
		peer.send(whole({t: 'say', ref: 'x', text: 'bell\u0007and\u001b[2J', k: sid}));
		peer.send(Buffer.of(0x02, 0, 0, 0, 9, 7, 3)); // bad fragment header
		const [nina, n] = await join('nina');
		nina.say('still here');
		await n.waitFor('message', (msg) => msg.text === 'still here');
		const grew = (reason: string) => (server.stats.dropped[reason] ?? 0) > (before[reason] ?? 0);
		for (const reason of ['malformed', 'invalid-utf8', 'oversized', 'unknown-type'])
			assert.ok(grew(reason), reason);
		const replies = peer.received.map(peek).filter((m) => m?.t === 'error');
		assert.ok(replies.some((m) => /control characters/.test(String(m?.message))));
		await peer.close();
	});

	it('rate-limits each member with a small burst allowance, slows the rest, kicks floods, and the kicked client comes back', async () => {
		const limited = await startUdpRoomServer({limits: {ratePerSecond: 5, burst: 3}, floodQueue: 5});
		const [oscar, o] = await joined(`udp://127.0.0.1:${limited.port}`, 'oscar');
		try {
			assert.deepEqual(
				[oscar.limits.ratePerSecond, oscar.limits.burst],
				[5, 3],
				'the client knows the limits the server announced (send paces by them, the TUI sizes pastes by them)',
			);
			for (let i = 0; i < 6; i++) oscar.say(`burst ${i}`);
			// Over the burst the lines are held and go out at the rate: slowed, none refused.
			await waitFor(() => o.texts().length === 6 || undefined, {what: 'six lines'});
			assert.deepEqual(o.texts(), ['burst 0', 'burst 1', 'burst 2', 'burst 3', 'burst 4', 'burst 5']);
			assert.deepEqual(o.of('failed'), []);
			const notice = o.of('error').find((e) => e.code === 'rate-limited');
			assert.equal(notice?.text, 'slowed down: your lines are queued and go out at 5 a second');
			// Beyond the burst and the queue of 5: kicked, the held lines answered "not sent".
			for (let i = 0; i < 12; i++) oscar.say(`flood ${i}`);
			const kicked = await o.waitFor('state', (s) => s.state === 'reconnecting');
			assert.match(kicked.detail ?? '', /flooding/);
			assert.ok(o.of('failed').length > 0 && o.of('failed').every((f) => f.text === 'not sent: flooding'));
			// Dropped, it comes back by itself: the flood is over.
			await o.waitFor(
				'state',
				(s) => s.state === 'connected' && o.events.indexOf(s) > o.events.indexOf(kicked),
			);
			assert.ok(limited.room.findMember('oscar'));
		} finally {
			await oscar.close();
			await limited.close();
		}
	});

	it('repairs a lost datagram by asking for a resend', async () => {
		let dropOnce = true;
		const proxy = await startUdpProxy(server.port, (datagram, direction) => {
			const message = peek(datagram);
			if (direction === 'down' && dropOnce && message?.t === 'msg' && message.text === 'two') {
				dropOnce = false;
				return true;
			}
			return false;
		});
		const [, p] = await join('pat', `udp://127.0.0.1:${proxy.port}`);
		const [quinn] = await join('quinn');
		for (const text of ['one', 'two', 'three']) quinn.say(text);
		await waitFor(() => p.texts().length === 3 || undefined, {what: 'all three'});
		assert.deepEqual(p.texts(), ['one', 'two', 'three']);
		assert.equal(proxy.dropped, 1);
		assert.equal(p.of('lost').length, 0);
		await proxy.close();
	});

	it('reports a gap older than the history ring as lost messages', async () => {
		const small = await startUdpRoomServer({historySize: 16, limits: {ratePerSecond: 1000, burst: 1000}});
		let blackout = false;
		const blackedOut = new Set<number>();
		const proxy = await startUdpProxy(small.port, (datagram, direction) => {
			const message = peek(datagram);
			if (!blackout || direction !== 'down' || message?.t !== 'msg') return false;
			blackedOut.add(Number(message.seq));
			return true;
		});
		const [rita, r] = await joined(`udp://127.0.0.1:${proxy.port}`, 'rita');
		const [sam] = await joined(`udp://127.0.0.1:${small.port}`, 'sam');
		try {
			blackout = true;
			for (let i = 0; i < 24; i++) sam.say(`m${i}`); // the ring holds 16 events
			// Until the proxy has dropped every one of them (it decides when it reads them, which
			// under load can be well after the server sent them).
			await waitFor(() => blackedOut.size >= 24 || undefined, {timeout: 10_000, what: 'the blackout'});
			blackout = false;
			sam.say('after');
			const lost = await r.waitFor('lost', undefined, 10_000);
			await r.waitFor('message', (m) => m.text === 'after', 10_000);
			const total = r.of('lost').reduce((sum, l) => sum + l.count, 0);
			const got = r.texts().filter((t) => t.startsWith('m'));
			assert.ok(lost.count > 0);
			assert.equal(total + got.length, 24, `lost ${total} + got ${got.length}`);
			assert.deepEqual(
				got,
				got.slice().sort((x, y) => Number(x.slice(1)) - Number(y.slice(1))),
			);
		} finally {
			await Promise.all([rita.close(), sam.close()]);
			await proxy.close();
			await small.close();
		}
	});
});
