// UDP datagrams: fragmenting a long message and putting it back together,
// within a bounded memory budget, whatever order and duplicates arrive in.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {DatagramEncoder, MAX_DATAGRAM, MAX_FRAGMENTS, Reassembler} from '../../source/protocol/datagram.js';
import type {ServerMessage} from '../../source/protocol/messages.js';

const encoder = new DatagramEncoder();
/** The codec does not care what the JSON says: any object stands in for a message. */
const encode = (message: object): Buffer[] => encoder.encode(message as ServerMessage);
const long = (text: string, bytes: number) => ({t: 'msg', text: text.repeat(Math.ceil(bytes / text.length))});

/** A fragment datagram for message `id` built by hand (for hostile headers). */
const fragment = (id: number, index: number, count: number, body = Buffer.alloc(100, 0x61)) => {
	const header = Buffer.alloc(7);
	header[0] = 0x02;
	header.writeUInt32BE(id, 1);
	header[5] = index;
	header[6] = count;
	return Buffer.concat([header, body]);
};

describe('datagram encoding', () => {
	it('sends a short message whole and a long one in fragments that each fit', () => {
		assert.equal(encode({t: 'msg', text: 'hi'}).length, 1);
		const parts = encode(long('长消息', 7500));
		assert.ok(parts.length > 1);
		for (const part of parts) assert.ok(part.length <= MAX_DATAGRAM, `${part.length} bytes`);
	});

	it('refuses a message that would need more than the fragment limit', () => {
		assert.throws(() => encode(long('x', MAX_DATAGRAM * (MAX_FRAGMENTS + 1))), {code: 'too-long'});
	});
});

describe('Reassembler', () => {
	it('passes a whole datagram straight through', () => {
		const [datagram] = encode({t: 'msg', text: 'hi'});
		assert.deepEqual(new Reassembler().push('a', datagram!), {t: 'msg', text: 'hi'});
	});

	it('puts fragments back together in any order, ignoring duplicates', () => {
		const message = long('长消息测试', 9000);
		const parts = encode(message);
		const reassembler = new Reassembler();
		const shuffled = [...parts].reverse();
		const results = [...shuffled, parts[0]!].map((part) => reassembler.push('a', part));
		assert.deepEqual(results.slice(0, -2), Array(parts.length - 1).fill(undefined));
		assert.deepEqual(results.at(-2), message, 'complete with the last missing piece');
		assert.equal(results.at(-1), undefined, 'a late duplicate starts nothing');
		assert.equal(reassembler.heldBytes, parts[0]!.length - 7, 'only that late duplicate is held');
	});

	it('counts a fragment that arrives twice once', () => {
		const message = long('dup', 3000);
		const parts = encode(message);
		assert.equal(parts.length, 3);
		const reassembler = new Reassembler();
		assert.equal(reassembler.push('a', parts[0]!), undefined);
		assert.equal(reassembler.push('a', parts[0]!), undefined);
		assert.equal(reassembler.push('a', parts[1]!), undefined, 'two of three, however often the first came');
		assert.deepEqual(reassembler.push('a', parts[2]!), message);
		assert.equal(reassembler.heldBytes, 0);
	});

	it('keeps sources apart: the same message id from two sources is two messages', () => {
		const parts = encode(long('a', 3000));
		const reassembler = new Reassembler();
		assert.equal(reassembler.push('one', parts[0]!), undefined);
		assert.equal(reassembler.push('two', parts[1]!), undefined);
		assert.equal(reassembler.push('two', parts[2]!), undefined);
		assert.deepEqual(reassembler.push('one', parts[1]!), undefined);
		assert.deepEqual(reassembler.push('one', parts[2]!), long('a', 3000));
	});

	it('refuses bad headers and changed counts', () => {
		const reassembler = new Reassembler();
		assert.throws(() => reassembler.push('a', Buffer.alloc(0)), {code: 'bad-request'});
		assert.throws(() => reassembler.push('a', Buffer.alloc(MAX_DATAGRAM + 1, 1)), {code: 'too-long'});
		assert.throws(() => reassembler.push('a', Buffer.of(0x03, 1, 2)), {code: 'bad-request'});
		assert.throws(() => reassembler.push('a', fragment(1, 0, 1)), /bad fragment header/, 'one fragment');
		assert.throws(() => reassembler.push('a', fragment(1, 3, 3)), /bad fragment header/, 'index past count');
		assert.throws(() => reassembler.push('a', fragment(1, 0, MAX_FRAGMENTS + 1)), /bad fragment header/);
		reassembler.push('a', fragment(9, 0, 3));
		assert.throws(() => reassembler.push('a', fragment(9, 1, 4)), /fragment count changed/);
		assert.throws(() => reassembler.push('a', Buffer.concat([Buffer.of(0x01), Buffer.from('{')])));
	});

	it('holds a bounded number of incomplete messages per source, dropping the oldest', () => {
		const reassembler = new Reassembler({perSource: 2});
		const [a, b, c] = ['a', 'b', 'c'].map((text) => encode(long(text, 1500)));
		for (const parts of [a!, b!, c!]) {
			assert.equal(parts.length, 2);
			assert.equal(reassembler.push('source', parts[0]!), undefined);
		}
		assert.equal(reassembler.push('source', a![1]!), undefined, 'a was dropped for c: its half starts anew');
		assert.deepEqual(reassembler.push('source', c![1]!), long('c', 1500), 'the newest completes');
		assert.equal(reassembler.push('other', b![1]!), undefined);
	});

	it('evicts incomplete messages beyond its byte budget', () => {
		const reassembler = new Reassembler({maxBytes: 450, perSource: 100});
		for (let id = 1; id <= 10; id++) reassembler.push(`source${id}`, fragment(id, 0, 3));
		assert.ok(reassembler.heldBytes <= 450, `${reassembler.heldBytes} bytes held`);
		assert.ok(reassembler.heldBytes >= 400, 'but no more than needed is evicted');
	});

	it('sweeps messages that never finish, and forgets a source on request', () => {
		let now = 0;
		const reassembler = new Reassembler({timeoutMs: 1000, now: () => now});
		reassembler.push('a', fragment(1, 0, 2));
		now = 600;
		reassembler.push('a', fragment(2, 0, 2));
		reassembler.push('b', fragment(3, 0, 2));
		now = 1200;
		assert.equal(reassembler.sweep(), 1, 'only the one older than the timeout');
		assert.equal(reassembler.heldBytes, 200);
		reassembler.forgetSource('a');
		assert.equal(reassembler.heldBytes, 100);
		now = 5000;
		assert.equal(reassembler.sweep(), 1);
		assert.equal(reassembler.heldBytes, 0);
	});
});
