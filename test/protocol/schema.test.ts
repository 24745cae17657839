// The wire schema as a contract: both sides parse through it, with clear
// reasons; the generated JSON Schema and PROTOCOL.md are kept in step with it.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {readFile} from 'node:fs/promises';
import {fileURLToPath} from 'node:url';
import {SCHEMA_PATH, renderProtocolJsonSchema} from '../../scripts/protocol-schema.js';
import {
	AUTH_CLIENT_MESSAGE_TYPES,
	AUTH_SERVER_MESSAGE_TYPES,
	AuthClientMessageSchema,
	AuthServerMessageSchema,
	parseAuthClientMessage,
	parseAuthServerMessage,
} from '../../source/protocol/auth-messages.js';
import {UdpClientDatagramSchema, parseUdpClientDatagram} from '../../source/protocol/datagram.js';
import {
	FILE_CLIENT_MESSAGE_TYPES,
	FILE_SERVER_MESSAGE_TYPES,
	FileClientMessageSchema,
	FileServerMessageSchema,
} from '../../source/protocol/file-messages.js';
import {
	CLIENT_MESSAGE_TYPES,
	ClientMessageSchema,
	ProtocolError,
	SERVER_MESSAGE_TYPES,
	ServerMessageSchema,
	parseClientMessage,
	parseServerMessage,
} from '../../source/protocol/messages.js';
import {chooseVersion, offeredVersions} from '../../source/protocol/versions.js';

const rejects = (parse: () => unknown, pattern: RegExp) =>
	assert.throws(parse, (error: unknown) => {
		assert.ok(error instanceof ProtocolError, `a ProtocolError, not ${String(error)}`);
		assert.equal(error.code, 'bad-request');
		assert.match(error.message, pattern);
		return true;
	});

describe('client messages, as the server parses them (strict)', () => {
	it('accepts every well-formed message and returns it unchanged', () => {
		const messages = [
			{t: 'join', pad: 'xxxx', versions: [1]},
			{t: 'hello', nick: 'alice', since: 4, versions: [1, 2]},
			{t: 'hello', nick: 'old-client', v: 1},
			{t: 'say', ref: 'r-1', text: 'hi', action: true},
			{t: 'dm', ref: 'r-2', to: 'bob', text: 'psst'},
			{t: 'nick', nick: 'al'},
			{t: 'who'},
			{t: 'resend', s: 'room', from: 3, to: 7},
			{t: 'ping', ts: 1_700_000_000_000},
			{t: 'leave'},
		];
		for (const message of messages) assert.deepEqual(parseClientMessage(message), message);
	});

	it('refuses unknown types, naming them, and messages without one', () => {
		rejects(() => parseClientMessage({t: 'teleport', to: 'mars'}), /^unknown message type "teleport"$/);
		rejects(() => parseClientMessage({nick: 'x'}), /needs a type \(t\)/);
		rejects(() => parseClientMessage([1, 2]), /must be a JSON object/);
		rejects(() => parseClientMessage('hello'), /must be a JSON object/);
	});

	it('refuses wrong field types and missing fields, naming the field', () => {
		rejects(() => parseClientMessage({t: 'say', ref: 'r1', text: 5}), /^say: field text must be string$/);
		rejects(() => parseClientMessage({t: 'say', ref: 'r1'}), /^say: missing field text$/);
		rejects(() => parseClientMessage({t: 'say', ref: 'bad ref!', text: 'x'}), /^say: field ref must be/);
		rejects(() => parseClientMessage({t: 'hello', nick: 'a', since: -1}), /^hello: field since must be >=0$/);
		rejects(() => parseClientMessage({t: 'hello', nick: 'a', versions: []}), /^hello: field versions/);
		rejects(() => parseClientMessage({t: 'hello', nick: 'a', versions: [1, 'two']}), /field versions\.1/);
		rejects(() => parseClientMessage({t: 'resend', s: 'both', from: 1, to: 2}), /^resend: field s must be/);
		rejects(() => parseClientMessage({t: 'resend', s: 'room', from: 5, to: 2}), /to must not be below from/);
		rejects(() => parseClientMessage({t: 'ping', ts: '12'}), /^ping: field ts must be number$/);
	});

	it('refuses unknown keys: a misspelt field must not be dropped silently', () => {
		rejects(
			() => parseClientMessage({t: 'say', ref: 'r1', text: 'x', actoin: true}),
			/^say: unknown field "actoin"$/,
		);
		// The UDP credential belongs to the datagram envelope, not to TCP frames.
		rejects(() => parseClientMessage({t: 'who', k: 'abc'}), /^who: unknown field "k"$/);
	});

	it('does not echo hostile field names or values in full', () => {
		const huge = 'x'.repeat(10_000);
		assert.throws(
			() => parseClientMessage({t: 'who', [huge]: 1}),
			(error: Error) => error.message.length < 80,
		);
		assert.throws(
			() => parseClientMessage({t: huge}),
			(error: Error) => error.message.length < 80,
		);
	});

	it('reads the UDP credential k from the datagram envelope', () => {
		assert.deepEqual(parseUdpClientDatagram({t: 'say', ref: 'r', text: 'x', k: 'c2lk'}), {
			message: {t: 'say', ref: 'r', text: 'x'},
			credential: 'c2lk',
		});
		assert.deepEqual(parseUdpClientDatagram({t: 'join', pad: 'xx'}), {
			message: {t: 'join', pad: 'xx'},
			credential: '',
		});
		rejects(
			() => parseUdpClientDatagram({t: 'say', ref: 'r', text: 'x', k: 7}),
			/^say: field k must be string$/,
		);
		rejects(
			() => parseUdpClientDatagram({t: 'say', ref: 'r', text: 'x', k: '', kk: ''}),
			/unknown field "kk"/,
		);
	});
});

describe('server messages, as the client parses them (lenient on keys)', () => {
	const welcome = {t: 'welcome', nick: 'a', room: 'lobby', seq: 3, dseq: 0, members: [{nick: 'a'}]};

	it('ignores unknown keys, so a newer server can add fields', () => {
		const parsed = parseServerMessage({
			...welcome,
			shiny: {new: 'feature'},
			members: [{nick: 'a', mood: true}],
		});
		assert.equal((parsed as Record<string, unknown>).shiny, undefined);
		assert.deepEqual(parsed.t === 'welcome' && parsed.members, [{nick: 'a'}]);
	});

	it('fills what servers before negotiation leave out: version 1, no capabilities, default limits', () => {
		const parsed = parseServerMessage(welcome);
		assert.ok(parsed.t === 'welcome');
		assert.equal(parsed.v, 1);
		assert.deepEqual(parsed.caps, []);
		assert.deepEqual(parsed.limits, {maxTextBytes: 8192, ratePerSecond: 5, burst: 10});
		const mechs = parseAuthServerMessage({t: 'auth-mechs', mechs: ['SCRAM-SHA-256-PLUS']});
		assert.deepEqual(mechs, {
			t: 'auth-mechs',
			mechs: ['SCRAM-SHA-256-PLUS'],
			register: false,
			versions: [1],
			caps: [],
		});
	});

	it('keeps capabilities it does not know (the client ignores them), and the epoch', () => {
		const parsed = parseServerMessage({...welcome, v: 1, caps: ['dm', 'files', 'teleport'], epoch: 'e1'});
		assert.ok(parsed.t === 'welcome');
		assert.deepEqual(parsed.caps, ['dm', 'files', 'teleport']);
		assert.equal(parsed.epoch, 'e1');
	});

	it('refuses unknown types and wrong field types, naming the field', () => {
		rejects(() => parseServerMessage({t: 'surprise'}), /^unknown message type "surprise"$/);
		rejects(
			() => parseServerMessage({t: 'msg', seq: 1, ts: 'now', from: 'a', text: 'x'}),
			/^msg: field ts must be number$/,
		);
		rejects(
			() => parseServerMessage({...welcome, limits: {maxTextBytes: -1}}),
			/^welcome: field limits\.maxTextBytes/,
		);
		rejects(
			() =>
				parseServerMessage({
					t: 'history',
					messages: [{t: 'msg', seq: 1, ts: 1, from: 'a', text: 'x'}, {t: 'dm'}],
				}),
			/^history: field messages\.1\.t/,
		);
	});

	it('reads error frames: an unknown code counts as server-error, retry_after_ms and versions are kept', () => {
		assert.deepEqual(parseServerMessage({t: 'error', code: 'brand-new-code', message: 'hm'}), {
			t: 'error',
			code: 'server-error',
			message: 'hm',
		});
		assert.deepEqual(
			parseAuthServerMessage({t: 'error', code: 'throttled', message: 'wait', retry_after_ms: 1500}),
			{t: 'error', code: 'throttled', message: 'wait', retry_after_ms: 1500},
		);
		const refusal = parseServerMessage({
			t: 'error',
			code: 'unsupported-version',
			message: 'no',
			versions: [1],
		});
		assert.deepEqual(refusal.t === 'error' && refusal.versions, [1]);
	});
});

describe('login messages', () => {
	it('parses the login exchange strictly, leaves room messages for later, refuses unknown types', () => {
		assert.deepEqual(parseAuthClientMessage({t: 'auth-token', token: 'tok'}), {
			t: 'auth-token',
			token: 'tok',
		});
		assert.equal(parseAuthClientMessage({t: 'say', ref: 'r', text: 'too early'}), undefined);
		rejects(() => parseAuthClientMessage({t: 'auth', mech: 'SCRAM-SHA-256', data: ''}), /^auth: field data/);
		rejects(() => parseAuthClientMessage({t: 'auth-final', data: 'x', extra: 1}), /unknown field "extra"/);
		rejects(() => parseAuthClientMessage({t: 'sudo'}), /^unknown message type "sudo"$/);
		assert.equal(parseAuthServerMessage({t: 'welcome'}), undefined);
		rejects(() => parseAuthServerMessage({t: 'auth-ok', data: 'v=x'}), /^auth-ok: missing field user$/);
	});
});

describe('versions', () => {
	it('takes a hello without versions as version 1 and picks the newest common version', () => {
		assert.deepEqual(offeredVersions({}), [1]);
		assert.deepEqual(offeredVersions({v: 1}), [1]);
		assert.deepEqual(offeredVersions({versions: [3, 1], v: 7}), [3, 1]);
		assert.equal(chooseVersion([1, 2, 3], [1, 2]), 2);
		assert.equal(chooseVersion([999]), undefined);
	});
});

describe('generated artefacts', () => {
	it('protocol/parley.schema.json is what npm run schema generates now', async () => {
		const checkedIn = await readFile(SCHEMA_PATH, 'utf8');
		assert.ok(
			checkedIn === renderProtocolJsonSchema(),
			'protocol/parley.schema.json is out of date: run `npm run schema` and commit it',
		);
		const defs = (JSON.parse(checkedIn) as {$defs: Record<string, unknown>}).$defs;
		for (const name of ['TcpClientFrame', 'TcpServerFrame', 'UdpClientDatagram', 'UdpServerDatagram'])
			assert.ok(defs[name], `the JSON Schema defines ${name}`);
	});

	it('PROTOCOL.md describes every message type of the schema, with each of its fields', async () => {
		const doc = await readFile(fileURLToPath(new URL('../../../PROTOCOL.md', import.meta.url)), 'utf8');
		const groups = [
			{
				section: 'Room messages: client to server',
				schema: ClientMessageSchema,
				types: CLIENT_MESSAGE_TYPES,
			},
			{section: 'Room messages: server to client', schema: ServerMessageSchema, types: SERVER_MESSAGE_TYPES},
			{
				section: 'Login messages: client to server',
				schema: AuthClientMessageSchema,
				types: AUTH_CLIENT_MESSAGE_TYPES,
			},
			{
				section: 'Login messages: server to client',
				schema: AuthServerMessageSchema,
				types: AUTH_SERVER_MESSAGE_TYPES,
			},
			{
				section: 'File messages: client to server',
				schema: FileClientMessageSchema,
				types: FILE_CLIENT_MESSAGE_TYPES,
			},
			{
				section: 'File messages: server to client',
				schema: FileServerMessageSchema,
				types: FILE_SERVER_MESSAGE_TYPES,
			},
		];
		const missing: string[] = [];
		for (const {section, schema, types} of groups) {
			const body = sectionOf(doc, `## ${section}`);
			if (body === undefined) {
				missing.push(`section "## ${section}"`);
				continue;
			}
			for (const [index, type] of types.entries()) {
				const entry = sectionOf(body, `### \`${type}\``);
				if (entry === undefined) {
					missing.push(`${section}: ### \`${type}\``);
					continue;
				}
				const fields = Object.keys(schema.options[index]!.entries).filter((field) => field !== 't');
				for (const field of fields)
					if (!entry.includes(`\`${field}\``)) missing.push(`${section}: ${type}.${field}`);
			}
		}
		// The UDP envelope's own field is described once, with the datagram format.
		const envelope = Object.keys(UdpClientDatagramSchema.options[1].entries).filter(
			(field) => !(field in ClientMessageSchema.options[1].entries),
		);
		assert.deepEqual(envelope, ['k']);
		if (!sectionOf(doc, '### The UDP envelope: `k`')?.includes('`k`')) missing.push('the UDP envelope k');
		assert.deepEqual(missing, [], 'PROTOCOL.md lacks these');
	});
});

/** The text under a heading, up to the next heading of the same or a higher level. */
function sectionOf(text: string, heading: string): string | undefined {
	const lines = text.split('\n');
	const start = lines.findIndex((line) => line.trim() === heading);
	if (start < 0) return undefined;
	const level = heading.indexOf(' ');
	const end = lines.findIndex((line, i) => i > start && /^#+ /.test(line) && line.indexOf(' ') <= level);
	return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}
