// Named rooms (rooms.json): parsing, the errors people see for a broken file,
// resolving names and URLs, and `parley rooms`; plus the small pieces send
// and tail are built from (line reader, output formats).
import assert from 'node:assert/strict';
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {Readable} from 'node:stream';
import {after, before, describe, test} from 'node:test';
import {readLines} from '../../source/cli/room-script.js';
import {formatJson, formatPlain} from '../../source/cli/tail-command.js';
import {
	loadRoomConfig,
	parseRoomConfig,
	resolveRoom,
	resolveRoomIn,
	RoomConfigError,
	roomConfigPath,
	UnknownRoomError,
} from '../../source/client/room-config.js';
import {RoomUrlError} from '../../source/client/room-url.js';
import {cliEnv, runCli} from './cli-process.js';

const FILE = '/home/alice/.config/parley/rooms.json';

const sample = `{
	"rooms": {
		"lobby": {"url": "udp://127.0.0.1:7667", "nick": "alice"},
		"work": {"url": "tcp://chat.example", "user": "alice.w"},
		"v6": {"url": "udp://[::1]:9000"}
	}
}
`;

/** The RoomConfigError a parse throws, for looking at its message and details. */
function parseError(text: string): RoomConfigError {
	try {
		parseRoomConfig(text, FILE);
	} catch (error) {
		assert.ok(error instanceof RoomConfigError, String(error));
		return error;
	}
	assert.fail('expected a RoomConfigError');
}

describe('parseRoomConfig', () => {
	test('reads rooms in file order, with normalised URLs (default ports filled in)', () => {
		const config = parseRoomConfig(sample, FILE);
		assert.equal(config.path, FILE);
		assert.deepEqual(config.rooms, [
			{name: 'lobby', url: 'udp://127.0.0.1:7667', transport: 'udp', nick: 'alice'},
			{name: 'work', url: 'tcp://chat.example:7668', transport: 'tcp', user: 'alice.w'},
			{name: 'v6', url: 'udp://[::1]:9000', transport: 'udp'},
		]);
	});

	test('an empty file or {} has no rooms', () => {
		assert.deepEqual(parseRoomConfig('', FILE).rooms, []);
		assert.deepEqual(parseRoomConfig('{}', FILE).rooms, []);
		assert.deepEqual(parseRoomConfig('{"rooms": {}}', FILE).rooms, []);
	});

	test('a JSON syntax error names the file, line and column', () => {
		const error = parseError('{\n\t"rooms": {\n\t\t"lobby": {"url": "udp://h:1",}\n\t}\n}\n');
		assert.equal(error.details.line, 3);
		assert.match(error.message, /^\/home\/alice\/\.config\/parley\/rooms\.json:3:\d+: not valid JSON: /);
		const truncated = parseError('{\n\t"rooms": {\n');
		assert.match(truncated.message, /rooms\.json:3:1: not valid JSON/);
	});

	test('content errors name the field and the line of the room', () => {
		const badUrl = parseError('{"rooms": {\n"a": {"url": "udp://h:1"},\n"work": {"url": "http://x"}\n}}');
		assert.equal(badUrl.details.field, 'rooms.work.url');
		assert.equal(badUrl.details.line, 3);
		assert.match(badUrl.message, /rooms\.json:3: rooms\.work\.url: unknown room type http:/);

		const cases: Array<[string, RegExp]> = [
			['[]', /\(top level\): expected an object/],
			['{"room": {}}', /room: unknown setting/],
			['{"rooms": []}', /rooms: expected an object/],
			['{"rooms": {"a": "udp://h:1"}}', /rooms\.a: expected an object like \{"url": "udp:\/\/h:1"\}/],
			['{"rooms": {"a": {"nick": "x"}}}', /rooms\.a\.url: missing/],
			['{"rooms": {"a": {"url": "not a url"}}}', /rooms\.a\.url: not a room address/],
			[
				'{"rooms": {"a": {"url": "udp://h:1", "nik": "x"}}}',
				/rooms\.a\.nik: unknown setting \(expected url, nick, user\)/,
			],
			[
				'{"rooms": {"a": {"url": "tcp://h:1", "password": "x"}}}',
				/rooms\.a\.password: passwords are not kept in this file/,
			],
			['{"rooms": {"a": {"url": "udp://h:1", "nick": "two words"}}}', /rooms\.a\.nick: a nick may use/],
			['{"rooms": {"a": {"url": "tcp://h:1", "user": 7}}}', /rooms\.a\.user: expected a string/],
			['{"rooms": {"a b": {"url": "udp://h:1"}}}', /rooms\.a b: room names are/],
			['{"rooms": {"serve": {"url": "udp://h:1"}}}', /rooms\.serve: "serve" is a parley subcommand/],
		];
		for (const [text, pattern] of cases) assert.match(parseError(text).message, pattern, text);
	});
});

describe('resolving a room argument', () => {
	const config = parseRoomConfig(sample, FILE);

	test('a configured name gives its URL and identity; login follows the room type', () => {
		assert.deepEqual(resolveRoomIn(config, 'lobby'), {
			url: 'udp://127.0.0.1:7667',
			transport: 'udp',
			name: 'lobby',
			nick: 'alice',
			login: 'alice',
		});
		assert.deepEqual(resolveRoomIn(config, 'work'), {
			url: 'tcp://chat.example:7668',
			transport: 'tcp',
			name: 'work',
			user: 'alice.w',
			login: 'alice.w',
		});
		assert.deepEqual(resolveRoomIn(config, 'v6'), {url: 'udp://[::1]:9000', transport: 'udp', name: 'v6'});
	});

	test('a URL is validated and normalised, and picks up the identity of the room configured with it', () => {
		assert.equal(resolveRoomIn(config, 'tcp://chat.example').name, 'work');
		assert.equal(resolveRoomIn(config, 'tcp://CHAT.example:7668/').login, 'alice.w');
		assert.deepEqual(resolveRoomIn(config, 'udp://10.0.0.1'), {url: 'udp://10.0.0.1:7667', transport: 'udp'});
		assert.throws(() => resolveRoomIn(config, 'gopher://x'), RoomUrlError);
	});

	test('an unknown name lists the configured ones', () => {
		assert.throws(
			() => resolveRoomIn(config, 'nope'),
			(error: unknown) => {
				assert.ok(error instanceof UnknownRoomError);
				assert.equal(error.message, 'no room named nope (configured: lobby, work, v6)');
				return true;
			},
		);
		const empty = parseRoomConfig('', FILE);
		assert.throws(
			() => resolveRoomIn(empty, 'nope'),
			/no room named nope \(no rooms are configured; add them to \/home\/alice/,
		);
	});

	test('names are exact: no case folding, no partial matches', () => {
		assert.throws(() => resolveRoomIn(config, 'Lobby'), UnknownRoomError);
		assert.throws(() => resolveRoomIn(config, 'lob'), UnknownRoomError);
	});
});

describe('the file under XDG_CONFIG_HOME', () => {
	let home: string;
	let env: NodeJS.ProcessEnv;

	before(async () => {
		home = await mkdtemp(path.join(tmpdir(), 'parley-rooms-'));
		env = cliEnv(home);
	});

	after(async () => {
		await rm(home, {recursive: true, force: true});
	});

	const write = async (text: string): Promise<void> => {
		await mkdir(path.dirname(roomConfigPath(env)), {recursive: true});
		await writeFile(roomConfigPath(env), text);
	};

	test('lives at $XDG_CONFIG_HOME/parley/rooms.json; a missing file is no rooms', async () => {
		assert.equal(roomConfigPath(env), path.join(home, 'config', 'parley', 'rooms.json'));
		assert.deepEqual(await loadRoomConfig({env}), {path: roomConfigPath(env), rooms: []});
		const result = await runCli(['rooms'], env);
		assert.equal(result.code, 0);
		assert.equal(result.stdout, '');
		assert.match(result.stderr, /no rooms configured in .*rooms\.json/);
	});

	test('resolveRoom loads it; a broken file fails names but not full URLs', async () => {
		await write(sample);
		assert.equal((await resolveRoom('work', {env})).url, 'tcp://chat.example:7668');
		await write('{"rooms": {"lobby": {"url": "udp://h:1",}}}');
		await assert.rejects(resolveRoom('lobby', {env}), RoomConfigError);
		assert.deepEqual(await resolveRoom('udp://h:1', {env}), {url: 'udp://h:1', transport: 'udp'});
	});

	test('parley rooms lists them; a broken file is status 2 and names the line; send names it too', async () => {
		await write(sample);
		const listed = await runCli(['rooms'], env);
		assert.equal(listed.code, 0, listed.stderr);
		assert.deepEqual(listed.stdout.split('\n'), [
			'lobby  udp://127.0.0.1:7667     nick alice',
			'work   tcp://chat.example:7668  user alice.w',
			'v6     udp://[::1]:9000',
			'',
		]);
		const unknown = await runCli(['send', 'elsewhere'], env, 'hi\n');
		assert.equal(unknown.code, 2);
		assert.equal(unknown.stderr, 'parley send: no room named elsewhere (configured: lobby, work, v6)\n');

		await write('{\n  "rooms": {\n    "lobby": {"url": "udp://h:1" "nick": "a"}\n  }\n}\n');
		const broken = await runCli(['rooms'], env);
		assert.equal(broken.code, 2);
		assert.match(broken.stderr, /^parley rooms: .*rooms\.json:3:\d+: not valid JSON/);
		const sent = await runCli(['send', 'lobby'], env, 'hi\n');
		assert.equal(sent.code, 2);
		assert.match(sent.stderr, /^parley send: .*rooms\.json:3:\d+: not valid JSON/);
	});
});

describe('pieces of send and tail', () => {
	const collect = async (chunks: Array<string | Buffer>, maxChars = 100) => {
		const lines = [];
		for await (const line of readLines(Readable.from(chunks), maxChars)) lines.push(line);
		return lines;
	};

	test('readLines: LF and CRLF, chunks split anywhere (even inside a UTF-8 character), last line without newline', async () => {
		const bytes = Buffer.from('one\r\ntwo ✓\n\nthree', 'utf8');
		const split = [bytes.subarray(0, 2), bytes.subarray(2, 9), bytes.subarray(9)]; // 9 is inside ✓
		assert.deepEqual(await collect(split), [
			{number: 1, text: 'one', tooLong: false},
			{number: 2, text: 'two ✓', tooLong: false},
			{number: 3, text: '', tooLong: false},
			{number: 4, text: 'three', tooLong: false},
		]);
	});

	test('readLines: an over-long line is cut and flagged, and the next line is intact', async () => {
		const lines = await collect(['x'.repeat(60), 'x'.repeat(60), '\nnext\n'], 100);
		assert.equal(lines.length, 2);
		assert.equal(lines[0]!.tooLong, true);
		assert.equal(lines[0]!.text.length, 100);
		assert.deepEqual(lines[1], {number: 2, text: 'next', tooLong: false});
	});

	test('formats: plain text and JSON lines', () => {
		const ts = new Date(2025, 0, 2, 9, 5, 7).getTime(); // local time, as tail prints
		const message = {
			type: 'message',
			seq: 4,
			ts,
			from: 'bob',
			text: 'hi\nthere',
			action: false,
			self: false,
			history: false,
		} as const;
		assert.equal(formatPlain(message), '09:05:07 bob: hi\n         there');
		assert.equal(formatPlain({...message, action: true, text: 'waves'}), '09:05:07 * bob waves');
		assert.equal(
			formatPlain({type: 'presence', ts, kind: 'join', nick: 'carol'}),
			'09:05:07 -- carol joined',
		);
		assert.equal(
			formatPlain({type: 'presence', ts, kind: 'nick', nick: 'c2', old: 'carol'}),
			'09:05:07 -- carol is now known as c2',
		);
		assert.equal(
			formatPlain({type: 'direct', ts, from: 'bob', to: 'me', text: 'psst', self: false}),
			'09:05:07 [dm] bob → me: psst',
		);
		assert.deepEqual(JSON.parse(formatJson(message)), {
			seq: 4,
			time: new Date(ts).toISOString(),
			nick: 'bob',
			text: 'hi\nthere',
			kind: 'message',
		});
		assert.deepEqual(JSON.parse(formatJson({...message, history: true, action: true})).kind, 'action');
		assert.deepEqual(
			JSON.parse(formatJson({type: 'presence', ts, kind: 'kick', nick: 'eve', reason: 'flooding'})),
			{
				seq: null,
				time: new Date(ts).toISOString(),
				nick: 'eve',
				text: 'eve was removed (flooding)',
				kind: 'kick',
				reason: 'flooding',
			},
		);
	});
});
