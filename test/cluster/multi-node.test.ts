// Rooms across several real `parley serve` processes: one shared MariaDB, the
// real Redis behind a proxy (cut / frozen at will, never the shared one
// itself), real TLS clients on different nodes.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import type {AccountStore} from '../../server/store/account-store.js';
import {Cluster, createUsers, member, sequenced, texts} from '../helpers/cluster-nodes.js';
import {eventually, sample, scrape} from '../helpers/metrics-scrape.js';
import {startTcpProxy} from '../helpers/tcp-proxy.js';
import type {RawMember} from '../helpers/tcp-raw-client.js';
import {waitFor} from '../helpers/wait.js';
import {MYSQL_URL, mysqlBackend, reportUnreachable, uniqueName, type Backend} from '../store/backends.js';

/** What `who` answers now, as nicks. */
async function who(raw: RawMember): Promise<string[]> {
	const from = raw.frames.length;
	raw.send({t: 'who'});
	const answer = await raw.next('who', from);
	return (answer.members as Array<{nick: string}>).map((m) => m.nick);
}

async function waitForWho(raw: RawMember, predicate: (nicks: string[]) => boolean, what: string) {
	let last: string[] = [];
	try {
		return await eventually(
			async () => {
				last = await who(raw);
				return predicate(last) ? last : undefined;
			},
			{what},
		);
	} catch (error) {
		throw new Error(`${(error as Error).message}; who said ${JSON.stringify(last)}`);
	}
}

const msgCount = (raw: RawMember) => sequenced(raw).filter((e) => e.t === 'msg').length;
const hasText = (raw: RawMember, text: string) =>
	sequenced(raw).some((e) => e.t === 'msg' && e.text === text);

function assertSameOrder(a: RawMember, b: RawMember) {
	assert.deepEqual(texts(a), texts(b), 'both see the same messages, numbers and order');
	const seqs = sequenced(a).map((e) => e.seq);
	for (let i = 1; i < seqs.length; i++)
		assert.ok(seqs[i]! > seqs[i - 1]!, `seq ${seqs[i]} after ${seqs[i - 1]}`);
}

async function metric(node: {metrics: string}, key: string): Promise<number> {
	return sample(await scrape(node.metrics), key);
}

function clusterSuite(backend: Backend) {
	describe('rooms across nodes (Redis + MariaDB)', () => {
		let store: AccountStore;
		const clusters: Cluster[] = [];
		const members: RawMember[] = [];
		const newCluster = async () => {
			const cluster = await Cluster.create(uniqueName('room'));
			clusters.push(cluster);
			return cluster;
		};
		const join = async (...args: Parameters<typeof member>) => {
			const raw = await member(...args);
			members.push(raw);
			return raw;
		};

		before(async () => {
			store = await backend.open();
		});
		after(async () => {
			for (const raw of members) raw.close();
			await Promise.all(clusters.map((cluster) => cluster.close()));
			await store.close();
			await backend.cleanup();
		});

		it('clients on two nodes chat in one order with the same numbers, see each other in who and presence, and DM', async () => {
			const cluster = await newCluster();
			const [alice, bob] = [uniqueName('alice'), uniqueName('bob')] as [string, string];
			await createUsers(store, [alice, bob]);
			const [a, b] = [await cluster.start('a'), await cluster.start('b')];
			const ra = await join(a, alice);
			const rb = await join(b, bob);
			await ra.next('presence', 0, (f) => f.kind === 'join' && f.nick === bob, 10_000);
			await waitForWho(rb, (nicks) => nicks.includes(alice) && nicks.includes(bob), 'alice in who on node b');
			await waitForWho(ra, (nicks) => nicks.includes(bob), 'bob in who on node a');

			for (let i = 1; i <= 20; i++) {
				ra.send({t: 'say', ref: `a${i}`, text: `from a ${i}`});
				rb.send({t: 'say', ref: `b${i}`, text: `from b ${i}`});
			}
			for (const raw of [ra, rb])
				await waitFor(() => msgCount(raw) >= 40 || undefined, {what: 'all 40 messages', timeout: 15_000});
			assertSameOrder(ra, rb);

			const from = rb.frames.length;
			ra.send({t: 'dm', ref: 'd1', to: bob, text: 'psst, across nodes'});
			const got = await rb.next('dm', from, (f) => f.text === 'psst, across nodes');
			assert.equal(got.from, alice);
			assert.equal(got.ref, undefined, 'the recipient gets no ref');
			await ra.next('dm', 0, (f) => f.ref === 'd1');

			ra.send({t: 'dm', ref: 'd2', to: uniqueName('nobody'), text: 'lost'});
			await ra.next('error', 0, (f) => f.code === 'no-such-nick' && f.ref === 'd2');

			const scraped = await scrape(a.metrics);
			assert.equal(sample(scraped, 'parley_broker_up'), 1);
			assert.ok(sample(scraped, 'parley_cluster_events_out_total') >= 20);
			assert.ok(sample(scraped, 'parley_cluster_events_in_total') >= 20);
			assert.ok(sample(scraped, 'parley_broker_hop_seconds_count') > 0);
		});

		it('a node killed with -9: its client goes on at another node with nothing missing or doubled; its other members leave once', async () => {
			const cluster = await newCluster();
			const [alice, carol, bob, dave] = ['alice', 'carol', 'bob', 'dave'].map(uniqueName) as [
				string,
				string,
				string,
				string,
			];
			await createUsers(store, [alice, carol, bob, dave]);
			const [a, b, c] = [await cluster.start('a'), await cluster.start('b'), await cluster.start('c')];
			const ra = await join(a, alice);
			await join(a, carol);
			const rb = await join(b, bob);
			const rd = await join(c, dave);
			await waitForWho(
				rb,
				(nicks) => [alice, carol, dave].every((n) => nicks.includes(n)),
				'everyone in who',
			);
			for (let i = 1; i <= 5; i++) rb.send({t: 'say', ref: `b${i}`, text: `before ${i}`});
			await waitFor(() => hasText(ra, 'before 5') || undefined, {what: 'alice has bob’s messages'});

			await a.serve.kill9();
			for (let i = 1; i <= 10; i++) rb.send({t: 'say', ref: `c${i}`, text: `while alice moves ${i}`});
			await waitFor(() => hasText(rb, 'while alice moves 10') || undefined, {
				what: 'bob’s messages acknowledged',
			});

			// Alice's client reconnects to another node with the last number it has.
			const seen = sequenced(ra);
			const since = seen.at(-1)!.seq;
			const again = await join(c, alice, since);
			await waitFor(() => hasText(again, 'while alice moves 10') || undefined, {what: 'the replay'});
			const aliceMsgs = [...texts(ra), ...texts(again)];
			const bobMsgs = texts(rb);
			assert.deepEqual(aliceMsgs, bobMsgs, 'alice has exactly what bob has: nothing missing, nothing twice');

			// Carol's node is gone: both other nodes see her leave, written once (one number).
			const carolLeft = (raw: RawMember) =>
				sequenced(raw).filter((e) => e.t === 'presence' && e.kind === 'leave' && e.nick === carol);
			await waitFor(() => carolLeft(rb).length > 0 || undefined, {what: 'carol’s leave at b'});
			await waitFor(() => carolLeft(rd).length > 0 || undefined, {what: 'carol’s leave at c'});
			rb.send({t: 'say', ref: 'marker', text: 'after the leave'});
			for (const raw of [rb, rd])
				await waitFor(() => hasText(raw, 'after the leave') || undefined, {what: 'the marker'});
			assert.equal(carolLeft(rb).length, 1, 'one leave');
			assert.deepEqual(
				carolLeft(rd).map((e) => e.seq),
				carolLeft(rb).map((e) => e.seq),
			);
			const nicks = await waitForWho(rb, (list) => !list.includes(carol), 'carol gone from who');
			assert.ok(nicks.includes(alice), 'alice is still here (now on node c)');
			assert.ok(
				!sequenced(rb).some((e) => e.t === 'presence' && e.kind === 'leave' && e.nick === alice),
				'alice never left: she moved',
			);
			assert.deepEqual(texts(rb), texts(rd));
			void c;
		});

		it('a node stopped cleanly: its members are told to reconnect, and the others write their leaving at once', async () => {
			const cluster = await newCluster();
			const [carol, bob] = [uniqueName('carol'), uniqueName('bob')] as [string, string];
			await createUsers(store, [carol, bob]);
			// Heartbeats would take a minute to miss: only the node's goodbye can explain a prompt leave.
			const slow = ['--cluster-node-timeout-ms', '60000'];
			const [a, b] = [await cluster.start('a', slow), await cluster.start('b', slow)];
			const rc = await join(a, carol);
			const rb = await join(b, bob);
			await waitForWho(rb, (nicks) => nicks.includes(carol), 'carol in who on node b');
			await a.serve.stop();
			const bye = rc.frames.find((f) => f.t === 'bye');
			assert.equal(bye?.retry, true, 'told to reconnect (elsewhere)');
			await rb.next('presence', 0, (f) => f.kind === 'leave' && f.nick === carol, 10_000);
			await waitForWho(rb, (nicks) => !nicks.includes(carol), 'carol gone from who');
		});

		it('moderation crosses nodes: a topic set on one is in the welcome on another, a kick there evicts', async () => {
			const cluster = await newCluster();
			const [alice, bob, carol] = ['alice', 'bob', 'carol'].map(uniqueName) as [string, string, string];
			await createUsers(store, [alice, bob, carol]);
			await store.setAdmin(alice, true);
			const [a, b] = [await cluster.start('a'), await cluster.start('b')];
			const ra = await join(a, alice);
			const rb = await join(b, bob);
			await waitForWho(ra, (nicks) => nicks.includes(bob), 'bob in who on node a');
			ra.send({t: 'topic', text: 'set on node a'});
			await rb.next('presence', 0, (f) => f.kind === 'topic' && f.text === 'set on node a', 10_000);
			const rc = await join(b, carol);
			const welcome = rc.frames.find((f) => f.t === 'welcome')!;
			assert.equal(welcome.topic, 'set on node a');

			ra.send({t: 'kick', nick: bob, reason: 'across nodes'});
			await rb.next('bye', 0, (f) => String(f.reason).includes('across nodes'), 10_000);
			await waitForWho(rc, (nicks) => !nicks.includes(bob), 'bob gone from who on node b');
		});

		it('a part on one node takes the account’s sessions on another out too; an invite reaches its sessions on any node', async () => {
			const cluster = await newCluster();
			const [alice, bob] = ['alice', 'bob'].map(uniqueName) as [string, string];
			await createUsers(store, [alice, bob]);
			await store.setAdmin(alice, true);
			const [a, b] = [await cluster.start('a'), await cluster.start('b')];
			const ra = await join(a, alice);
			const bobA = await join(a, bob);
			const bobB = await join(b, bob);
			await waitForWho(
				bobB,
				(nicks) => nicks.includes(alice) && nicks.includes(bob),
				'both in who on node b',
			);

			bobA.send({t: 'leave', part: true});
			await ra.next('presence', 0, (f) => f.kind === 'part' && f.nick === bob, 10_000);
			const bye = await bobB.next('bye', 0, () => true, 10_000);
			assert.equal(bye.reason, 'left the room from another session');
			await waitForWho(ra, (nicks) => !nicks.includes(bob), 'bob gone from who on node a');

			ra.send({t: 'invite', nick: bob});
			await ra.next('presence', 0, (f) => f.kind === 'invite' && f.nick === bob, 10_000);
			const invited = await bobB.next('invited', 0, () => true, 10_000);
			assert.equal(invited.by, alice);
			assert.equal(invited.room, `#${cluster.room}`);
		});

		it('the room list on one node follows rooms made and changed on another', async () => {
			const cluster = await newCluster();
			const [alice, bob] = ['alice', 'bob'].map(uniqueName) as [string, string];
			await createUsers(store, [alice, bob]);
			await store.setAdmin(bob, true); // sees private rooms too
			const [a, b] = [await cluster.start('a'), await cluster.start('b')];
			const ra = await join(a, alice);
			const rb = await join(b, bob);
			const news = `#${uniqueName('news')}`;
			const mark = ra.frames.length;
			ra.send({t: 'hello', nick: alice, v: 2, room: news});
			await ra.next('welcome', mark, (f) => f.room === news, 10_000);
			ra.send({t: 'topic', text: 'made on node a', room: news});
			ra.send({t: 'mode', mode: '+i', room: news});
			await ra.next('presence', mark, (f) => f.kind === 'mode', 10_000);
			type Listing = {name: string; members: number; topic?: string; private?: boolean};
			let last: Listing[] = [];
			const listed = await eventually(
				async () => {
					const from = rb.frames.length;
					rb.send({t: 'list'});
					last = (await rb.next('rooms', from)).rooms as Listing[];
					const room = last.find((listing) => listing.name === news);
					return room?.private ? room : undefined;
				},
				{what: `${news} listed on node b`, interval: 600},
			).catch((error: Error) => {
				throw new Error(`${error.message}; node b listed ${JSON.stringify(last)}`);
			});
			assert.equal(listed.topic, 'made on node a');
		});

		it('the database away: a send is refused as not stored, nothing delivered, and no number is skipped or reused', async () => {
			const cluster = await newCluster();
			const dbProxy = await startTcpProxy(Number(new URL(MYSQL_URL).port || 3306));
			try {
				const [alice, bob] = [uniqueName('alice'), uniqueName('bob')] as [string, string];
				await createUsers(store, [alice, bob]);
				const viaProxy = new URL(MYSQL_URL);
				viaProxy.host = `127.0.0.1:${dbProxy.port}`;
				const a = await cluster.start('a', ['--db-timeout-ms', '1000'], viaProxy.toString());
				const b = await cluster.start('b');
				const ra = await join(a, alice);
				const rb = await join(b, bob);
				await waitForWho(rb, (nicks) => nicks.includes(alice), 'alice in who on node b');
				ra.send({t: 'say', ref: 'ok1', text: 'stored'});
				await waitFor(() => hasText(rb, 'stored') || undefined, {what: 'the first message'});

				dbProxy.cut();
				ra.send({t: 'say', ref: 'lost1', text: 'not stored'});
				const refused = await ra.next('error', 0, (f) => f.ref === 'lost1', 10_000);
				assert.equal(refused.code, 'server-error');
				assert.equal(refused.message, 'message not stored; please resend');
				rb.send({t: 'say', ref: 'b1', text: 'b while a has no database'});
				await waitFor(() => hasText(ra, 'b while a has no database') || undefined, {
					what: 'b’s message reaches a over the broker',
				});

				dbProxy.restore();
				ra.send({t: 'say', ref: 'lost1', text: 'not stored'}); // the client's resend
				for (const raw of [ra, rb])
					await waitFor(() => hasText(raw, 'not stored') || undefined, {what: 'the resend', timeout: 15_000});
				assertSameOrder(ra, rb);
				const seqs = sequenced(rb).map((e) => e.seq);
				assert.deepEqual(
					seqs,
					seqs.map((_, i) => seqs[0]! + i),
					'no number skipped or given twice',
				);
				assert.ok(!sequenced(rb).some((e) => e.t === 'msg' && e.text === 'not stored' && e.ref !== 'lost1'));
				assert.equal(texts(rb).filter((line) => line.endsWith(': not stored')).length, 1);
			} finally {
				await dbProxy.close();
			}
		});

		for (const outage of ['cut', 'frozen'] as const)
			it(`broker ${outage}: each node serves its members, messages cross through the database, and all converge`, async () => {
				const cluster = await newCluster();
				const [alice, bob] = [uniqueName('alice'), uniqueName('bob')] as [string, string];
				await createUsers(store, [alice, bob]);
				const [a, b] = [await cluster.start('a'), await cluster.start('b')];
				const ra = await join(a, alice);
				const rb = await join(b, bob);
				await waitForWho(rb, (nicks) => nicks.includes(alice), 'alice in who on node b');
				ra.send({t: 'say', ref: 'x0', text: 'before'});
				await waitFor(() => hasText(rb, 'before') || undefined, {what: 'the first message across'});

				if (outage === 'cut') cluster.redis.cut();
				else cluster.redis.holdReplies(true);
				for (const node of [a, b])
					await eventually(async () => ((await metric(node, 'parley_broker_up')) === 0 ? true : undefined), {
						what: `node ${node.name} sees the broker down`,
						interval: 200,
					});
				for (let i = 1; i <= 5; i++) {
					ra.send({t: 'say', ref: `a${i}`, text: `a during ${i}`});
					rb.send({t: 'say', ref: `b${i}`, text: `b during ${i}`});
				}
				// Each node's own members are served at once; the other node's messages come from the database.
				await waitFor(() => (hasText(ra, 'b during 5') && hasText(rb, 'a during 5')) || undefined, {
					what: 'messages across while the broker is away',
				});
				// The last word from b: nothing after it shows a's node a gap, only its polling finds it.
				rb.send({t: 'say', ref: 'b-last', text: 'b last'});
				await waitFor(() => hasText(ra, 'b last') || undefined, {what: 'the last message, polled'});
				assert.ok((await metric(a, 'parley_cluster_gap_fills_total')) > 0, 'read from the database');

				if (outage === 'cut') cluster.redis.restore();
				else cluster.redis.holdReplies(false);
				for (const node of [a, b])
					await eventually(async () => ((await metric(node, 'parley_broker_up')) === 1 ? true : undefined), {
						what: `node ${node.name} sees the broker back`,
						interval: 200,
						timeout: 15_000,
					});
				await a.serve.waitForLine(/resync done/);
				ra.send({t: 'say', ref: 'x1', text: 'after a'});
				rb.send({t: 'say', ref: 'x2', text: 'after b'});
				await waitFor(() => (msgCount(ra) >= 14 && msgCount(rb) >= 14) || undefined, {what: 'all 14'});
				assertSameOrder(ra, rb);
				assert.equal(msgCount(ra), 14, 'nothing twice');
			});
	});
}

const mysql = await mysqlBackend();
if ('unreachable' in mysql) reportUnreachable('rooms across nodes', mysql);
else clusterSuite(mysql);
