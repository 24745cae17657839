// UDP rooms spanning two nodes through the real Redis (behind a relay the
// test can cut): members on different servers hear each other's messages and
// joins, each in its own server's numbering, see each other in welcomes and
// `who`, cannot take each other's nicks and exchange direct messages; with
// the broker gone each server keeps its room going locally and says so; when
// it is back they are linked again. One server without a relay is unchanged
// (the other UDP tests).
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import {createClient} from 'redis';
import {RedisBroker} from '../../server/cluster/redis-broker.js';
import {DOWN_NOTICE, UP_NOTICE, UdpRelay} from '../../server/cluster/udp-relay.js';
import {startUdpRoomServer, type UdpRoomServer} from '../../server/udp/udp-room-server.js';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomClient, RoomEvent} from '../../source/client/types.js';
import {Recorder} from '../helpers/room-recorder.js';
import {startTcpProxy, type TcpProxy} from '../helpers/tcp-proxy.js';
import {delay} from '../helpers/wait.js';

type Message = Extract<RoomEvent, {type: 'message'}>;

interface Node {
	server: UdpRoomServer;
	relay: UdpRelay;
	broker: RedisBroker;
}

describe('UDP rooms across two servers', () => {
	let redis: TcpProxy;
	/** Straight to Redis, not through the relay: what is subscribed. */
	let observer: ReturnType<typeof createClient>;
	const nodes: Node[] = [];
	const clients: RoomClient[] = [];
	const prefix = `parley-test-${randomBytes(4).toString('hex')}:`;

	before(async () => {
		redis = await startTcpProxy(6379);
		observer = createClient({url: 'redis://127.0.0.1:6379'});
		await observer.connect();
		for (const id of ['node-a', 'node-b']) {
			const broker = await RedisBroker.connect({
				url: `redis://127.0.0.1:${redis.port}`,
				nodeId: id,
				prefix,
				probeMs: 200,
			});
			const relay = new UdpRelay(broker);
			const server = await startUdpRoomServer({relay, maxMembersPerAddress: 16});
			nodes.push({server, relay, broker});
		}
	});
	after(async () => {
		redis.restore();
		await Promise.all(clients.map((c) => c.close()));
		for (const {server, broker} of nodes) {
			await server.close();
			await broker.close();
		}
		await redis.close();
		await observer.close();
	});

	/** Waits until `servers` servers hear the room's channel (a relay subscribes when its room opens). */
	const linked = async (room: string, servers: number) => {
		const channel = `${prefix}udp:${room}`;
		const deadline = Date.now() + 10_000;
		for (;;) {
			const counts = await observer.pubSubNumSub(channel);
			if ((counts[channel] ?? 0) >= servers) return;
			if (Date.now() > deadline) throw new Error(`${servers} servers never subscribed to ${channel}`);
			await delay(10);
		}
	};

	const join = async (node: Node, nick: string, room = '#relay') => {
		const client = createRoomClient(`udp://127.0.0.1:${node.server.port}/${room}`);
		clients.push(client);
		const events = new Recorder(client);
		await client.connect(nick);
		return {client, events};
	};
	const saw = (events: Recorder, text: string) => events.waitFor('message', (m) => m.text === text);
	/** Sequence numbers with no gap and no repeat: what a member sees is its server's clean log. */
	const assertGapless = (name: string, seqs: number[]) => {
		for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1]! + 1, `${name}: ${seqs}`);
	};

	it('members on different servers see each other join and talk, numbered by their own server', async () => {
		const [a, b] = nodes as [Node, Node];
		const alice = await join(a, 'alice');
		await linked('relay', 1); // else bob's join could go out before node a hears the room
		const bob = await join(b, 'bob');
		await linked('relay', 2);
		await alice.events.waitFor('presence', (p) => p.kind === 'join' && p.nick === 'bob');
		assert.ok(alice.client.members.includes('bob'), `alice's list: ${alice.client.members}`);
		await alice.client.say('hello from a');
		await saw(bob.events, 'hello from a');
		await bob.client.say('hello from b');
		await saw(alice.events, 'hello from b');

		const from = (events: Recorder) => events.of('message').map((m: Message) => `${m.from}: ${m.text}`);
		assert.deepEqual(from(alice.events), ['alice: hello from a', 'bob: hello from b']);
		assert.deepEqual(from(bob.events), ['alice: hello from a', 'bob: hello from b']);
		// Bob's message is bob's, not an acknowledgement of something alice said.
		assert.equal(alice.events.of('message').find((m) => m.text === 'hello from b')?.self, false);
		for (const [name, member] of [
			['alice', alice],
			['bob', bob],
		] as const) {
			const seqs = member.events.events.flatMap((e) =>
				(e.type === 'message' || e.type === 'presence') && e.seq !== undefined ? [e.seq] : [],
			);
			assertGapless(name, seqs);
			assert.equal(member.events.of('lost').length, 0);
		}
		assert.deepEqual(
			a.relay.remoteMembers('relay').map((m) => m.nick),
			['bob'],
		);
		assert.deepEqual(
			b.relay.remoteMembers('relay').map((m) => m.nick),
			['alice'],
		);

		await bob.client.close();
		await alice.events.waitFor('presence', (p) => p.kind === 'leave' && p.nick === 'bob');
		assert.ok(!alice.client.members.includes('bob'));
	});

	it('welcomes and who list the members on the other server; their nicks are taken', async () => {
		const [a, b] = nodes as [Node, Node];
		const alice = await join(a, 'alice3', '#peers');
		await linked('peers', 1);
		const bob = await join(b, 'bob3', '#peers');
		await linked('peers', 2);
		// Bob's room opened with his join: the other server's answer tells him who is there.
		await bob.events.waitFor('presence', (p) => p.kind === 'join' && p.nick === 'alice3');
		// A room already linked: the welcome lists everyone, wherever they are.
		const carol = await join(b, 'carol3', '#peers');
		assert.deepEqual([...carol.client.members].sort(), ['alice3', 'bob3', 'carol3']);
		await alice.events.waitFor('presence', (p) => p.kind === 'join' && p.nick === 'carol3');
		alice.client.who();
		const listed = await alice.events.waitFor('who');
		assert.deepEqual([...listed.members].sort(), ['alice3', 'bob3', 'carol3']);

		// Alice's nick, on the other server, in any case, or a look-alike of it.
		for (const nick of ['alice3', 'ALICE3', 'аlice3']) {
			const client = createRoomClient(`udp://127.0.0.1:${b.server.port}/#peers`);
			clients.push(client);
			await assert.rejects(client.connect(nick), /taken|looks too much like/, nick);
		}
		carol.client.changeNick('Alice3');
		await carol.events.waitFor('error', (e) => e.code === 'nick-taken');
		assert.equal(carol.client.nick, 'carol3');
	});

	it('a direct message reaches a member on the other server, numbered in its own direct stream', async () => {
		const [a, b] = nodes as [Node, Node];
		const alice = await join(a, 'alice4', '#dm');
		await linked('dm', 1);
		const bob = await join(b, 'bob4', '#dm');
		await linked('dm', 2);
		await bob.events.waitFor('presence', (p) => p.kind === 'join' && p.nick === 'alice4');
		const sent = await alice.client.direct('bob4', 'psst');
		assert.equal(sent.seq, 1);
		const got = await bob.events.waitFor('direct', (d) => d.text === 'psst');
		assert.deepEqual([got.from, got.to, got.self], ['alice4', 'bob4', false]);
		await bob.client.direct('alice4', 'hi back');
		await alice.events.waitFor('direct', (d) => d.text === 'hi back' && !d.self);
		assert.deepEqual(
			alice.events.of('direct').map((d) => `${d.from}→${d.to}: ${d.text}`),
			['alice4→bob4: psst', 'bob4→alice4: hi back'],
		);
		assert.equal(bob.events.of('lost').length + alice.events.of('lost').length, 0);
	});

	it('a server taken for gone: its members leave; heard again, they are back', async () => {
		const [a, b] = nodes as [Node, Node];
		const alice = await join(a, 'alice5', '#gone');
		await linked('gone', 1);
		const bob = await join(b, 'bob5', '#gone');
		await linked('gone', 2);
		// Said after b sent its roster: nothing from b is still on its way once alice has it.
		await bob.client.say('here');
		await saw(alice.events, 'here');
		// What the cluster node tells the relay when b's heartbeats stop.
		a.relay.nodeGone('node-b');
		const left = await alice.events.waitFor('presence', (p) => p.kind === 'leave' && p.nick === 'bob5');
		assert.equal(left.reason, 'server lost');
		assert.deepEqual([...alice.client.members], ['alice5']);
		await bob.client.say('still here');
		await saw(alice.events, 'still here');
		await alice.events.waitFor(
			'presence',
			(p) => p.kind === 'join' && p.nick === 'bob5' && p.seq! > left.seq!,
		);
		assert.deepEqual([...alice.client.members].sort(), ['alice5', 'bob5']);
	});

	it('without the broker each server keeps its room and says so; linked again when it is back', async () => {
		const [a, b] = nodes as [Node, Node];
		const alice = await join(a, 'alice2', '#outage');
		const carol = await join(a, 'carol', '#outage');
		await linked('outage', 1);
		const bob = await join(b, 'bob2', '#outage');
		await linked('outage', 2);
		await alice.events.waitFor('presence', (p) => p.kind === 'join' && p.nick === 'bob2');

		redis.cut();
		for (const member of [alice, carol, bob])
			await member.events.waitFor('notice', (n) => n.text === DOWN_NOTICE);
		await alice.client.say('only here');
		await saw(carol.events, 'only here');
		await bob.client.say('only there');
		// Comes and goes while the servers are apart: the rosters tell it once they are linked again.
		const dave = await join(b, 'dave', '#outage');
		await carol.client.close();
		await alice.events.waitFor('presence', (p) => p.kind === 'leave' && p.nick === 'carol');

		redis.restore();
		for (const member of [alice, bob]) await member.events.waitFor('notice', (n) => n.text === UP_NOTICE);
		await alice.events.waitFor('presence', (p) => p.kind === 'join' && p.nick === 'dave');
		for (const member of [bob, dave])
			await member.events.waitFor('presence', (p) => p.kind === 'leave' && p.nick === 'carol');
		for (const member of [alice, bob, dave])
			assert.deepEqual([...member.client.members].sort(), ['alice2', 'bob2', 'dave']);
		await alice.client.say('across again');
		await saw(bob.events, 'across again');
		await bob.client.say('and back');
		await saw(alice.events, 'and back');
		// Said during the outage, heard only where it was said.
		assert.deepEqual(bob.events.texts(), ['only there', 'across again', 'and back']);
		assert.deepEqual(alice.events.texts(), ['only here', 'across again', 'and back']);
	});
});
