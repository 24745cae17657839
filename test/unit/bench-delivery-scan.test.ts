// The benchmark's cheap readers (bench/delivery-scan.ts): a delivery counted
// wherever the stream is cut between reads, never one that is not there, and
// the latency histogram's percentiles (bench/latency-histogram.ts).
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {
	FrameScanner,
	LineScanner,
	RespScanner,
	TailReader,
	benchText,
	type RecordHandler,
} from '../../bench/delivery-scan.js';
import {LatencyHistogram} from '../../bench/latency-histogram.js';

const SCHEDULED = 1_765_000_000_123_456; // µs, as clock() × 1000 gives them

/** Feeds `stream` cut at every possible point (and in one piece), giving each cut's tails. */
function everyCut(stream: Buffer, scanner: (onRecord: RecordHandler) => {push(chunk: Buffer): void}) {
	const results: Array<Array<[number, number]>> = [];
	for (let cut = 0; cut <= stream.length; cut++) {
		const tails: Array<[number, number]> = [];
		const reader = new TailReader();
		const s = scanner((buf, start, end) => {
			if (reader.read(buf, start, end)) tails.push([reader.step, reader.scheduledUs]);
		});
		// A reused read buffer, as net's onread gives it: what a scanner keeps must be its own copy.
		const scratch = Buffer.alloc(stream.length);
		for (const piece of [stream.subarray(0, cut), stream.subarray(cut)]) {
			piece.copy(scratch);
			s.push(scratch.subarray(0, piece.length));
			scratch.fill(0x7c); // "|": stale bytes would read as tails
		}
		results.push(tails);
	}
	return results;
}

const texts = [benchText('m001', 1, 7, SCHEDULED), benchText('m019', 22, 7, SCHEDULED + 250)];
const expected: Array<[number, number]> = [
	[7, SCHEDULED],
	[7, SCHEDULED + 250],
];

describe('benchmark texts', () => {
	it('are the size asked for and read back from the end', () => {
		for (const text of texts) assert.equal(text.length, 100);
		const reader = new TailReader();
		assert.equal(reader.readText(texts[1]!), true);
		assert.deepEqual([reader.step, reader.scheduledUs], expected[1]);
		assert.equal(reader.readText('bench but no tail'), false);
		assert.equal(reader.readText('hello |3|4'), false, 'not benchmark traffic');
	});

	it('have no tail when the step or the time is missing', () => {
		const reader = new TailReader();
		for (const line of ['x|12', 'x||12', 'x|3|', 'no pipes', '|'])
			assert.equal(reader.read(Buffer.from(line), 0, line.length), false, line);
	});
});

describe('LineScanner (IRC)', () => {
	it('finds every PRIVMSG tail wherever the stream is cut', () => {
		const stream = Buffer.from(
			':server 001 m000 :Welcome\r\n' +
				texts.map((t) => `:m001!~m001@127.0.0.1 PRIVMSG #bench :${t}\r\n`).join('') +
				'PING :server\r\n',
		);
		for (const [cut, tails] of everyCut(stream, (h) => new LineScanner(h)).entries())
			assert.deepEqual(tails, expected, `cut at ${cut}`);
	});
});

describe('FrameScanner (Parley)', () => {
	it('finds the tail inside each msg frame wherever the stream is cut', () => {
		const frames = texts.map((text, i) => {
			const json = Buffer.from(
				JSON.stringify({t: 'msg', ts: 1, from: 'm001', text, ref: `7-${i}`, seq: 10 + i, room: '#lobby'}),
			);
			const header = Buffer.alloc(4);
			header.writeUInt32BE(json.length);
			return Buffer.concat([header, json]);
		});
		for (const [cut, tails] of everyCut(Buffer.concat(frames), (h) => new FrameScanner(h)).entries())
			assert.deepEqual(tails, expected, `cut at ${cut}`);
	});
});

describe('RespScanner (Redis)', () => {
	it('hands on the payload of each message push and whole simple replies', () => {
		const bulk = (s: string) => `$${s.length}\r\n${s}\r\n`;
		const stream = Buffer.from(
			`*3\r\n${bulk('subscribe')}${bulk('#bench')}:1\r\n` +
				texts.map((t) => `*3\r\n${bulk('message')}${bulk('#bench')}${bulk(t)}`).join('') +
				':200\r\n-ERR wrong\r\n',
		);
		for (const [cut, tails] of everyCut(stream, (h) => new RespScanner(h)).entries())
			assert.deepEqual(tails, expected, `cut at ${cut}`);
		const records: string[] = [];
		new RespScanner((buf, start, end) => records.push(buf.toString('latin1', start, end))).push(stream);
		assert.deepEqual(records, [':1', ...texts, ':200', '-ERR wrong']);
	});
});

describe('LatencyHistogram', () => {
	it('gives percentiles within 0.2 % and the exact maximum, merged over processes', () => {
		const a = new LatencyHistogram();
		const b = new LatencyHistogram();
		for (let i = 1; i <= 1000; i++) (i % 2 ? a : b).record(i / 10); // 0.1 … 100 ms
		const all = new LatencyHistogram();
		all.add(a.counts, a.max);
		all.add(b.counts, b.max);
		const summary = all.summary();
		assert.equal(summary.count, 1000);
		assert.equal(summary.max, 100);
		for (const [p, exact] of [
			[50, 50],
			[90, 90],
			[99, 99],
		] as const) {
			const got = all.percentile(p);
			assert.ok(got >= exact && got <= exact * 1.002, `p${p}: ${got} for ${exact}`);
		}
		assert.ok(Number.isNaN(new LatencyHistogram().percentile(50)));
	});
});
