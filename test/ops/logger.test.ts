// The serve log: text lines unchanged by default, JSON lines on request, both
// filtered by level, and nothing a client sent can drive the reader's terminal.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {escapeForLog} from '../../server/log/escape.js';
import {createLogger, safeJson} from '../../server/ops/logger.js';

const at = new Date('2026-12-07T01:02:03.004Z');

function capture(options: Parameters<typeof createLogger>[0] = {}) {
	const written: string[] = [];
	const log = createLogger({...options, write: (text) => written.push(text), now: () => at});
	return {log, written};
}

describe('the serve log', () => {
	it('writes text as it always did: the timestamp, then the line; fields do not show', () => {
		const {log, written} = capture();
		log('tcp room "lobby" listening on 127.0.0.1:7668 (TLS 1.3)');
		log('failed login for "bob" from 10.0.0.1', {level: 'warn', user: 'bob', address: '10.0.0.1'});
		assert.deepEqual(written, [
			'2026-12-07T01:02:03.004Z tcp room "lobby" listening on 127.0.0.1:7668 (TLS 1.3)\n',
			'2026-12-07T01:02:03.004Z failed login for "bob" from 10.0.0.1\n',
		]);
	});

	it('writes JSON lines with ts, level, msg and the fields the call site has', () => {
		const {log, written} = capture({format: 'json'});
		log('join alice (1 member)', {room: 'lobby'});
		log('failed login for "bob" from 10.0.0.1', {
			level: 'warn',
			user: 'bob',
			address: '10.0.0.1',
			extra: undefined,
		});
		assert.equal(written.length, 2);
		assert.ok(written.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n')));
		assert.deepEqual(JSON.parse(written[0]!), {
			ts: '2026-12-07T01:02:03.004Z',
			level: 'info',
			msg: 'join alice (1 member)',
			room: 'lobby',
		});
		assert.deepEqual(JSON.parse(written[1]!), {
			ts: '2026-12-07T01:02:03.004Z',
			level: 'warn',
			msg: 'failed login for "bob" from 10.0.0.1',
			user: 'bob',
			address: '10.0.0.1',
		});
		// The record's own keys cannot be overwritten by a field.
		log('x', {msg: 'forged', ts: 'forged', level: 'error'});
		assert.deepEqual(JSON.parse(written[2]!), {ts: '2026-12-07T01:02:03.004Z', level: 'error', msg: 'x'});
	});

	it('leaves out lines below the level, in both formats', () => {
		for (const format of ['text', 'json'] as const) {
			const {log, written} = capture({format, level: 'warn'});
			log('connection from 10.0.0.1', {level: 'debug'});
			log('join alice');
			log('database write failed', {level: 'warn'});
			log('tcp server error', {level: 'error'});
			assert.equal(written.length, 2, format);
			assert.match(written[0]!, /database write failed/);
			assert.match(written[1]!, /tcp server error/);
		}
		const {log, written} = capture({level: 'debug'});
		log('connection from 10.0.0.1', {level: 'debug'});
		assert.equal(written.length, 1);
	});

	it('escapes in JSON every character a terminal acts on, keeping the value', () => {
		// ESC and BEL (C0), CSI and NEL as single characters (C1), bidi overrides, line and paragraph separators, private use.
		const hostile = 'a\u001b]0;owned\u0007\u009b2J\u0085\u202e\u2066\u2028\u2029\ue000\u{f0000}\u200b z';
		const {log, written} = capture({format: 'json'});
		log(`failed login for ${escapeForLog(hostile)}`, {user: hostile});
		const [line] = written;
		assert.ok(line);
		// Nothing but printable ASCII and plain letters on the line: every one of those is a \u escape.
		assert.doesNotMatch(line.slice(0, -1), /[\u0000-\u001f\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\p{Co}]/u);
		const record = JSON.parse(line) as Record<string, string>;
		assert.equal(record.user, hostile);
		assert.equal(record.msg, `failed login for ${escapeForLog(hostile)}`);
		assert.equal(safeJson('plain "quoted" \\ text'), JSON.stringify('plain "quoted" \\ text'));
	});
});
