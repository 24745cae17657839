// One TCP connection as a stream of JSON frames, over an in-process duplex pair:
// batching, decoding across chunks, violations and the bounded send queue.
import assert from 'node:assert/strict';
import type {Socket} from 'node:net';
import {type Duplex, duplexPair} from 'node:stream';
import {describe, it} from 'node:test';
import {FramedLink, type FramedLinkOptions} from '../../server/tcp/framed-link.js';
import {encodeFrame, FrameDecoder} from '../../source/protocol/framing.js';
import {waitFor} from '../helpers/wait.js';

const frame = (value: unknown) => encodeFrame(Buffer.from(JSON.stringify(value)));

/** A link on one end of a duplex pair; the test plays the peer on the other end. */
function connect(options: Partial<FramedLinkOptions> = {}) {
	const [ours, theirs] = duplexPair();
	const got: unknown[] = [];
	const violations: string[] = [];
	let closed = false;
	const link = new FramedLink(ours as unknown as Socket, {
		maxFrameBytes: 1024,
		maxQueueBytes: 64 * 1024,
		onMessage: (value) => got.push(value),
		onViolation: (reason) => violations.push(reason),
		onClose: () => (closed = true),
		...options,
	});
	return {link, got, violations, peer: new Peer(theirs), isClosed: () => closed};
}

/** The far end: records the chunks it reads and the frames in them, and whether it saw the end. */
class Peer {
	readonly chunks: Buffer[] = [];
	readonly frames: unknown[] = [];
	ended = false;
	private readonly decoder = new FrameDecoder();

	constructor(readonly stream: Duplex) {
		stream.on('data', (chunk: Buffer) => {
			this.chunks.push(chunk);
			for (const body of this.decoder.push(chunk)) this.frames.push(JSON.parse(body.toString()));
		});
		stream.on('end', () => {
			this.ended = true;
			stream.end();
		});
	}

	write(data: Buffer): void {
		this.stream.write(data);
	}
}

describe('FramedLink', () => {
	it('writes everything queued in one turn as one chunk, in order', async () => {
		const {link, peer} = connect();
		link.send({t: 'pong', ts: 1, seq: 0, dseq: 0});
		link.send({t: 'who', members: []});
		link.enqueue(frame({t: 'bye', reason: 'x'}));
		assert.deepEqual(peer.chunks, [], 'nothing written before the turn ends');
		await waitFor(() => peer.frames.length === 3 || undefined, {what: 'three frames'});
		assert.deepEqual(
			peer.frames.map((f) => (f as {t: string}).t),
			['pong', 'who', 'bye'],
		);
		assert.equal(peer.chunks.length, 1);
	});

	it('joins a broadcast turn once for every link that got the same frames', async () => {
		const links = [connect(), connect(), connect()];
		const broadcast = [frame({t: 'msg', seq: 1}), frame({t: 'msg', seq: 2})];
		for (const {link} of links) for (const f of broadcast) link.enqueue(f);
		links[2]!.link.send({t: 'pong', ts: 1, seq: 0, dseq: 0}); // one link got more
		await waitFor(() => links.every(({peer}) => peer.chunks.length === 1) || undefined, {
			what: 'one chunk each',
		});
		const [a, b, c] = links.map(({peer}) => peer.chunks[0]);
		assert.equal(a, b, 'the same joined buffer, not a copy per link');
		assert.notEqual(a, c);
		assert.deepEqual(
			links.map(({peer}) => peer.frames.length),
			[2, 2, 3],
		);
	});

	it('decodes frames split across chunks and several in one chunk', async () => {
		const {got, peer, violations} = connect();
		const bytes = Buffer.concat([frame({n: 1}), frame({n: 2}), frame({n: 3, text: 'é'.repeat(50)})]);
		for (let offset = 0; offset < bytes.length; offset += 7) peer.write(bytes.subarray(offset, offset + 7));
		peer.write(Buffer.concat([frame({n: 4}), frame({n: 5})]));
		await waitFor(() => got.length === 5 || undefined, {what: 'five messages'});
		assert.deepEqual(
			got.map((m) => (m as {n: number}).n),
			[1, 2, 3, 4, 5],
		);
		assert.deepEqual(violations, []);
	});

	for (const [what, bytes, reason] of [
		['an oversized frame', Buffer.of(0, 0, 0x10, 0), /exceeds 1024/],
		['a frame that is not JSON', encodeFrame(Buffer.from('{not json')), /JSON/],
	] as const) {
		it(`cuts the connection on ${what}, telling the peer why`, async () => {
			const {got, peer, violations, isClosed} = connect();
			peer.write(frame({n: 1}));
			await waitFor(() => got.length === 1 || undefined, {what: 'the good frame'});
			peer.write(Buffer.concat([bytes, frame({n: 2})]));
			await waitFor(() => (peer.ended && isClosed()) || undefined, {what: 'the link to close'});
			assert.deepEqual(got, [{n: 1}], 'nothing after the bad frame');
			assert.equal(violations.length, 1);
			assert.match(violations[0]!, reason);
			const last = peer.frames.at(-1) as {t: string; code: string; message: string};
			assert.deepEqual([last.t, last.code], ['error', 'bad-request']);
			assert.match(last.message, reason);
		});
	}

	it('reports a peer that ends in the middle of a frame', async () => {
		const {peer, violations} = connect();
		peer.write(frame({n: 1}).subarray(0, 6));
		await new Promise<void>((resolve) => setImmediate(resolve));
		peer.stream.end();
		await waitFor(() => violations.length === 1 || undefined, {what: 'the violation'});
		assert.deepEqual(violations, ['connection ended inside a frame']);
	});

	it('disconnects a peer too slow to keep up instead of queueing without bound', async () => {
		const {link, peer, violations} = connect({maxQueueBytes: 4096});
		peer.stream.pause(); // reads nothing
		const big = frame({t: 'msg', text: 'x'.repeat(900)});
		for (let i = 0; i < 3; i++) link.enqueue(big);
		await new Promise<void>((resolve) => setImmediate(resolve));
		assert.deepEqual(violations, [], 'under the bound');
		for (let i = 0; i < 10 && violations.length === 0; i++) link.enqueue(big);
		assert.deepEqual(violations, ['too slow: send queue overflowed']);
		assert.equal(link.isOpen, false);
		peer.stream.resume();
		await waitFor(() => peer.ended || undefined, {what: 'the end'});
		const last = peer.frames.at(-1) as {code: string};
		assert.equal(last.code, 'too-slow');
	});

	it('sends a last message on close, then ends; later sends go nowhere', async () => {
		const {link, peer, isClosed} = connect();
		link.send({t: 'who', members: []});
		link.close({t: 'bye', reason: 'server shutting down', retry: true});
		link.send({t: 'pong', ts: 1, seq: 0, dseq: 0});
		await waitFor(() => (peer.ended && isClosed()) || undefined, {what: 'the end'});
		assert.deepEqual(
			peer.frames.map((f) => (f as {t: string}).t),
			['who', 'bye'],
		);
	});
});
