// UDP rooms across real `parley serve` processes (`--redis` through a proxy,
// the shared MariaDB): a member on each node sees the other in its member
// list and `who`, they chat and exchange direct messages; when one node is
// killed with -9, the other node's member sees its member leave.
import {after, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {createRoomClient} from '../../source/client/create-room-client.js';
import type {RoomClient} from '../../source/client/types.js';
import {Cluster, type Node} from '../helpers/cluster-nodes.js';
import {Recorder} from '../helpers/room-recorder.js';
import {waitFor} from '../helpers/wait.js';
import {mysqlBackend, reportUnreachable, uniqueName, type Backend} from '../store/backends.js';

function udpSuite(backend: Backend) {
	describe('UDP rooms across real nodes (Redis + MariaDB)', () => {
		const clusters: Cluster[] = [];
		const clients: RoomClient[] = [];
		after(async () => {
			await Promise.all(clients.map((client) => client.close()));
			await Promise.all(clusters.map((cluster) => cluster.close()));
			await backend.cleanup(); // the nodes' default (TCP) room
		});

		const join = async (node: Node, room: string, nick: string) => {
			const client = createRoomClient(`udp://127.0.0.1:${node.serve.udpPort}/${room}`);
			clients.push(client);
			const events = new Recorder(client);
			await client.connect(nick);
			return {client, events};
		};
		type Member = Awaited<ReturnType<typeof join>>;
		/** Asks `who` until it names everyone in `nicks` (the other node's roster may be on its way). */
		const whoShows = (member: Member, nicks: string[]) =>
			waitFor(
				() => {
					const last = member.events.of('who').at(-1);
					if (last && nicks.every((nick) => last.members.includes(nick))) return last.members;
					member.client.who();
					return undefined;
				},
				{what: `${nicks} in who`, timeout: 10_000, interval: 100},
			);

		it('a member on each node: who, chat and DMs cross; a killed node’s member leaves', async () => {
			const cluster = await Cluster.create(uniqueName('room'));
			clusters.push(cluster);
			const [a, b] = [await cluster.start('a'), await cluster.start('b')];
			const room = `#${uniqueName('udp')}`;
			const alice = await join(a, room, 'alice');
			const bob = await join(b, room, 'bob');
			await alice.events.waitFor('presence', (p) => p.kind === 'join' && p.nick === 'bob');
			// Bob's node opened the room with his join: node a's answer brings alice.
			await bob.events.waitFor('presence', (p) => p.kind === 'join' && p.nick === 'alice');
			assert.deepEqual([...bob.client.members].sort(), ['alice', 'bob']);
			await whoShows(alice, ['alice', 'bob']);
			await whoShows(bob, ['alice', 'bob']);

			await alice.client.say('hello from node a');
			await bob.events.waitFor('message', (m) => m.text === 'hello from node a' && m.from === 'alice');
			await bob.client.say('hello from node b');
			await alice.events.waitFor('message', (m) => m.text === 'hello from node b' && m.from === 'bob');

			const sent = await alice.client.direct('bob', 'psst, across nodes');
			assert.equal(sent.seq, 1);
			const got = await bob.events.waitFor('direct', (d) => d.text === 'psst, across nodes');
			assert.deepEqual([got.from, got.to, got.self], ['alice', 'bob', false]);
			await bob.client.direct('alice', 'got it');
			await alice.events.waitFor('direct', (d) => d.text === 'got it' && d.from === 'bob');

			// A third member may not take a nick held on the other node.
			const impostor = createRoomClient(`udp://127.0.0.1:${a.serve.udpPort}/${room}`);
			clients.push(impostor);
			await assert.rejects(impostor.connect('Bob'), /taken/);

			await b.serve.kill9();
			const left = await alice.events.waitFor('presence', (p) => p.kind === 'leave' && p.nick === 'bob');
			assert.equal(left.reason, 'server lost');
			assert.deepEqual([...alice.client.members], ['alice']);
		});
	});
}

const mysql = await mysqlBackend();
if ('unreachable' in mysql) reportUnreachable('UDP rooms across nodes', mysql);
else udpSuite(mysql);
