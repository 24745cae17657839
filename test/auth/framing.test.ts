import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {
	DEFAULT_MAX_FRAME_BYTES,
	encodeFrame,
	FrameDecoder,
	FrameError,
} from '../../source/protocol/framing.js';

const text = (frames: Buffer[]): string[] => frames.map((frame) => frame.toString('utf8'));
const isFrameError = (code: string) => (error: unknown) => error instanceof FrameError && error.code === code;

describe('framing', () => {
	test('encodeFrame writes a 4-byte big-endian length', () => {
		assert.deepEqual(encodeFrame(Buffer.from('hi')), Buffer.from([0, 0, 0, 2, 0x68, 0x69]));
		assert.throws(
			() => encodeFrame(Buffer.alloc(DEFAULT_MAX_FRAME_BYTES + 1)),
			isFrameError('frame-too-large'),
		);
	});

	test('reassembles frames delivered one byte at a time', () => {
		const decoder = new FrameDecoder();
		const stream = Buffer.concat([encodeFrame(Buffer.from('hello')), encodeFrame(Buffer.from('world!'))]);
		const frames: Buffer[] = [];
		for (const byte of stream) frames.push(...decoder.push(Buffer.from([byte])));
		assert.deepEqual(text(frames), ['hello', 'world!']);
		assert.equal(decoder.bufferedBytes, 0);
		decoder.end();
	});

	test('returns many frames from one chunk, including empty ones', () => {
		const decoder = new FrameDecoder();
		const payloads = ['a', '', 'bc', '{"t":"ping","ts":1}', 'ü'];
		const chunk = Buffer.concat(payloads.map((p) => encodeFrame(Buffer.from(p))));
		assert.deepEqual(text(decoder.push(chunk)), payloads);
	});

	test('handles a header split across chunks and a body spanning several', () => {
		const decoder = new FrameDecoder();
		const frame = encodeFrame(Buffer.from('split me please'));
		assert.deepEqual(decoder.push(frame.subarray(0, 2)), []);
		assert.deepEqual(decoder.push(frame.subarray(2, 7)), []);
		assert.equal(decoder.bufferedBytes, 7);
		const rest = Buffer.concat([frame.subarray(7), encodeFrame(Buffer.from('next')).subarray(0, 3)]);
		assert.deepEqual(text(decoder.push(rest)), ['split me please']);
		assert.deepEqual(text(decoder.push(encodeFrame(Buffer.from('next')).subarray(3))), ['next']);
	});

	test('refuses an oversized frame from its header alone, before the body arrives', () => {
		const decoder = new FrameDecoder({maxFrameBytes: 100});
		const header = Buffer.alloc(4);
		header.writeUInt32BE(101);
		assert.throws(() => decoder.push(header), isFrameError('frame-too-large'));
		assert.ok(decoder.bufferedBytes <= 4, 'nothing of the body was buffered');
		// The stream is out of sync now; the decoder stays failed.
		assert.throws(() => decoder.push(Buffer.from('x')), isFrameError('decoder-failed'));
	});

	test('a 4 GiB length claim is refused without allocating it', () => {
		const decoder = new FrameDecoder();
		assert.throws(() => decoder.push(Buffer.from([0xff, 0xff, 0xff, 0xff])), isFrameError('frame-too-large'));
	});

	test('accepts a frame of exactly the maximum size', () => {
		const decoder = new FrameDecoder({maxFrameBytes: 10});
		assert.equal(decoder.push(encodeFrame(Buffer.alloc(10, 1), 10))[0]?.length, 10);
	});

	test('end() reports a truncated frame, in the header or in the body', () => {
		const inBody = new FrameDecoder();
		inBody.push(encodeFrame(Buffer.from('truncated')).subarray(0, 8));
		assert.throws(() => inBody.end(), isFrameError('truncated-frame'));
		const inHeader = new FrameDecoder();
		inHeader.push(Buffer.from([0, 0]));
		assert.throws(() => inHeader.end(), isFrameError('truncated-frame'));
		const clean = new FrameDecoder();
		clean.push(encodeFrame(Buffer.from('whole')));
		clean.end();
	});
});
