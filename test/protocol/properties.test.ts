// Property-based tests of everything that reads bytes from a stranger: the
// frame codec, the message parsers (both sides), the SCRAM parsers and the UDP
// reassembler. Whatever arrives gives a value or one clear error type, never
// an escaping exception, and the memory held stays within the stated bounds.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {parseAuthClientMessage, parseAuthServerMessage} from '../../source/protocol/auth-messages.js';
import {DatagramEncoder, MAX_DATAGRAM, Reassembler} from '../../source/protocol/datagram.js';
import {FRAME_HEADER_BYTES, FrameDecoder, FrameError, encodeFrame} from '../../source/protocol/framing.js';
import {
	ProtocolError,
	decodeJson,
	parseClientMessage,
	parseServerMessage,
} from '../../source/protocol/messages.js';
import {
	ScramError,
	parseClientFinal,
	parseClientFirst,
	parseServerFinal,
	parseServerFirst,
} from '../../source/protocol/scram.js';

const RUNS = {numRuns: 300};

/** Runs `f`; an error other than one of `allowed` fails the property. */
function onlyThrows(f: () => unknown, ...allowed: Array<new (...args: never[]) => Error>): void {
	try {
		f();
	} catch (error) {
		if (!allowed.some((type) => error instanceof type)) throw error;
	}
}

/** JSON values biased toward our messages: a known `t` with fields of any type. */
const messageLike = fc.oneof(
	fc.jsonValue(),
	fc.record(
		{
			t: fc.constantFrom(
				'join',
				'hello',
				'say',
				'dm',
				'nick',
				'who',
				'resend',
				'ping',
				'leave',
				'cookie',
				'welcome',
				'msg',
				'presence',
				'history',
				'pong',
				'lost',
				'error',
				'bye',
				'auth',
				'auth-final',
				'register',
				'auth-mechs',
				'auth-challenge',
				'auth-ok',
				'registered',
				'x',
			),
			nick: fc.anything(),
			text: fc.anything(),
			ref: fc.anything(),
			seq: fc.anything(),
			dseq: fc.anything(),
			since: fc.anything(),
			from: fc.anything(),
			to: fc.anything(),
			s: fc.anything(),
			ts: fc.anything(),
			members: fc.anything(),
			messages: fc.array(fc.anything(), {maxLength: 4}),
			limits: fc.anything(),
			data: fc.anything(),
			mech: fc.anything(),
			user: fc.anything(),
			code: fc.anything(),
			message: fc.anything(),
			kind: fc.anything(),
		},
		{requiredKeys: ['t']},
	),
);

describe('frame codec under arbitrary bytes', () => {
	it('gives frames or a FrameError, holding at most one frame', () => {
		fc.assert(
			fc.property(
				fc.array(fc.uint8Array({maxLength: 300}), {maxLength: 20}),
				fc.integer({min: 0, max: 512}),
				(chunks, maxFrameBytes) => {
					const decoder = new FrameDecoder({maxFrameBytes});
					for (const chunk of chunks) {
						let frames: Buffer[] = [];
						try {
							frames = decoder.push(chunk);
						} catch (error) {
							if (!(error instanceof FrameError)) throw error;
							return;
						}
						for (const frame of frames) assert.ok(frame.length <= maxFrameBytes);
						assert.ok(decoder.bufferedBytes <= maxFrameBytes + FRAME_HEADER_BYTES);
					}
					onlyThrows(() => decoder.end(), FrameError);
				},
			),
			RUNS,
		);
	});

	it('gives back exactly the frames sent, however the stream is cut', () => {
		fc.assert(
			fc.property(
				fc.array(fc.uint8Array({maxLength: 200}), {maxLength: 8}),
				fc.array(fc.integer({min: 1, max: 64}), {minLength: 1, maxLength: 30}),
				(payloads, cuts) => {
					const stream = Buffer.concat(payloads.map((p) => encodeFrame(Buffer.from(p), 256)));
					const decoder = new FrameDecoder({maxFrameBytes: 256});
					const got: Buffer[] = [];
					for (let at = 0, i = 0; at < stream.length; i++) {
						const size = cuts[i % cuts.length]!;
						got.push(...decoder.push(stream.subarray(at, at + size)));
						at += size;
					}
					assert.deepEqual(
						got.map((b) => Buffer.from(b).toString('hex')),
						payloads.map((p) => Buffer.from(p).toString('hex')),
					);
					decoder.end();
				},
			),
			RUNS,
		);
	});
});

describe('message parsers under arbitrary input', () => {
	it('decodeJson gives a value or a ProtocolError for any bytes', () => {
		fc.assert(
			fc.property(
				fc.oneof(
					fc.uint8Array({maxLength: 200}),
					fc.string().map((s) => new TextEncoder().encode(s)),
					messageLike.map((v) => new TextEncoder().encode(JSON.stringify(v) ?? 'null')),
				),
				(bytes) => onlyThrows(() => decodeJson(bytes), ProtocolError),
			),
			RUNS,
		);
	});

	it('the client- and server-side parsers give a message or a ProtocolError for any value', () => {
		fc.assert(
			fc.property(fc.oneof(messageLike, fc.anything()), (value) => {
				onlyThrows(() => parseClientMessage(value), ProtocolError);
				onlyThrows(() => parseServerMessage(value), ProtocolError);
				onlyThrows(() => parseAuthClientMessage(value), ProtocolError);
				onlyThrows(() => parseAuthServerMessage(value), ProtocolError);
			}),
			{numRuns: 1000},
		);
	});
});

describe('SCRAM parsers under arbitrary strings', () => {
	const scramLike = fc.oneof(
		fc.string({maxLength: 200}),
		fc.string({unit: 'binary', maxLength: 100}),
		fc
			.array(
				fc.tuple(
					fc.constantFrom('n', 'r', 's', 'i', 'c', 'p', 'v', 'e', 'a', 'm', 'y'),
					fc.string({maxLength: 30}),
				),
				{maxLength: 6},
			)
			.chain((attributes) =>
				fc
					.constantFrom('', 'n,,', 'y,,', 'p=tls-exporter,,', 'p=x,,', 'n,a=x,')
					.map((head) => head + attributes.map(([k, v]) => `${k}=${v}`).join(',')),
			),
	);
	it('give a parsed message or a ScramError', () => {
		fc.assert(
			fc.property(scramLike, (text) => {
				onlyThrows(() => parseClientFirst(text), ScramError);
				onlyThrows(() => parseServerFirst(text), ScramError);
				onlyThrows(() => parseClientFinal(text), ScramError);
				onlyThrows(() => parseServerFinal(text), ScramError);
			}),
			{numRuns: 1000},
		);
	});
});

describe('UDP reassembler under arbitrary datagrams', () => {
	const fragmentish = fc
		.tuple(
			fc.constantFrom(0x01, 0x02, 0x02, 0x02, 0x03),
			fc.integer({min: 0, max: 5}),
			fc.integer({min: 0, max: 30}),
			fc.integer({min: 0, max: 30}),
			fc.integer({min: 0, max: MAX_DATAGRAM}),
		)
		.map(([kind, id, index, count, size]) => {
			const datagram = Buffer.alloc(Math.max(1, Math.min(size, MAX_DATAGRAM + 8)), 0x61);
			datagram[0] = kind;
			if (datagram.length >= 7) {
				datagram.writeUInt32BE(id, 1);
				datagram[5] = index;
				datagram[6] = count;
			}
			return datagram;
		});

	it('gives values, waits or a ProtocolError, within its byte budgets', () => {
		fc.assert(
			fc.property(
				fc.array(fc.tuple(fc.constantFrom('a|1', 'a|2', 'a|3', 'b|1', 'c|9'), fragmentish), {maxLength: 200}),
				(pushes) => {
					const reassembler = new Reassembler({
						maxBytes: 16 * 1024,
						maxGroupBytes: 8 * 1024,
						groupOf: (source) => source.split('|')[0]!,
					});
					for (const [source, datagram] of pushes) {
						onlyThrows(() => reassembler.push(source, datagram), ProtocolError);
						assert.ok(reassembler.heldBytes <= 16 * 1024, `${reassembler.heldBytes} bytes held`);
					}
					reassembler.sweep();
				},
			),
			RUNS,
		);
	});

	it('reassembles any message from its fragments in any order, with duplicates', () => {
		fc.assert(
			fc.property(fc.string({maxLength: 6000}), fc.func(fc.integer()), (text, order) => {
				const datagrams = new DatagramEncoder().encode({t: 'say', ref: 'r', text});
				const shuffled = [...datagrams, datagrams[0]!]
					.map((d, i) => ({d, key: order(i)}))
					.sort((x, y) => x.key - y.key)
					.map(({d}) => d);
				const reassembler = new Reassembler();
				const values = shuffled.map((d) => reassembler.push('peer', d)).filter((v) => v !== undefined);
				assert.deepEqual(values[0], {t: 'say', ref: 'r', text});
			}),
			RUNS,
		);
	});
});
