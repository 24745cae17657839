// A member that stops reading while two others flood 4 KB lines: the server's
// memory stays bounded, the stuck member is cut off with `too-slow`, and the
// others' latency is what it was without it. In-process (the TCP room server
// `parley serve` runs) so the queue bound and the room's rate can be set low
// and high enough to reach the overflow in seconds.
import type {RoomClient} from '../../source/client/types.js';
import {sqliteBackend} from '../../test/store/backends.js';
import {tcpFixture} from '../../test/helpers/tcp-fixture.js';
import {rawMember} from '../../test/helpers/tcp-raw-client.js';
import {waitFor} from '../../test/helpers/wait.js';
import {p99, row, rssMb, type Row} from './kit.js';

const SCENARIO = '4 slow reader';
const MAX_QUEUE_BYTES = 256 * 1024;
const FILLER = 'x'.repeat(4000);

/** Batches of 10 lines, alternating senders, each delivered to both before the next; latencies. */
async function flood(a: RoomClient, b: RoomClient, batches: () => boolean, label: string): Promise<number[]> {
	const sentAt = new Map<string, number>();
	const latencies: number[] = [];
	let got = 0;
	const stops = [a, b].map((c) =>
		c.subscribe((e) => {
			if (e.type !== 'message' || !sentAt.has(e.text)) return;
			got++;
			latencies.push(Date.now() - sentAt.get(e.text)!);
		}),
	);
	for (let sent = 0; batches(); ) {
		for (let i = 0; i < 10; i++, sent++) {
			const text = `${label} ${sent} ${FILLER}`;
			sentAt.set(text, Date.now());
			(sent % 2 === 0 ? a : b).say(text);
		}
		const expected = sent * 2;
		await waitFor(() => got >= expected || undefined, {timeout: 10_000, what: `${label}: batch delivered`});
	}
	for (const stop of stops) stop();
	return latencies;
}

export async function slowReader(): Promise<Row[]> {
	const backend = await sqliteBackend();
	const store = await backend.open();
	const log: string[] = [];
	const room = await tcpFixture(store, {
		maxQueueBytes: MAX_QUEUE_BYTES,
		limits: {ratePerSecond: 100_000, burst: 100_000},
		log: (line) => log.push(line),
	});
	try {
		for (const user of ['alice', 'bob', 'carol']) await room.addUser(user, `${user} password`);
		const alice = await room.login('alice', 'alice password');
		const bob = await room.login('bob', 'bob password');
		let rounds = 0;
		const baseline = await flood(alice.client, bob.client, () => rounds++ < 30, 'baseline');
		const rssBefore = rssMb(process.pid);

		const carol = await rawMember(room.server.port, 'carol', 'carol password');
		carol.socket.pause();
		const kicked = () => log.some((line) => line.startsWith('disconnected carol: too slow'));
		let afterKick = 0;
		let batches = 0;
		const during = await flood(
			alice.client,
			bob.client,
			() => {
				if (kicked()) afterKick++;
				return afterKick < 3 && batches++ < 2000;
			},
			'during',
		);
		const rssPeak = rssMb(process.pid);
		carol.socket.resume();
		// She reads megabytes of backlog before she gets to the reason.
		await waitFor(() => carol.closed || undefined, {timeout: 30_000, what: 'carol cut off'}).catch(() => {});
		const last = carol.frames.at(-1);
		const [before, now] = [p99(baseline), p99(during)];
		const bound = 2 * before + 100; // "unchanged", with room for a shared, loaded machine
		carol.close();
		return [
			row(
				SCENARIO,
				'stuck member cut off, last frame',
				`${String(last?.t)} ${String(last?.code)}`,
				'error too-slow',
				last?.t === 'error' && last.code === 'too-slow',
			),
			row(SCENARIO, 'lines flooded before the cut-off (4 KB)', batches * 10, '—', true),
			row(
				SCENARIO,
				'bench+server RSS before → peak (MB)',
				`${rssBefore} → ${rssPeak}`,
				'≤ +100 MB',
				rssPeak - rssBefore <= 100,
			),
			row(
				SCENARIO,
				'others p99 without → with the stuck member (ms)',
				`${before} → ${now}`,
				`≤ ${bound}`,
				now <= bound,
			),
		];
	} finally {
		await room.close();
		await store.close();
		await backend.cleanup();
	}
}
