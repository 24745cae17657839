// config.toml on the real ChatScreen: highlight words, the ignore list and
// /ignore, /reload, [keys]; and NO_COLOR through renderChat's real output.
import '../helpers/force-color.js';
import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, readFile, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {cleanup, render} from 'ink-testing-library';
import {ConfigStore} from '../../source/client/config-store.js';
import {ChatScreen, type RoomSpec} from '../../source/tui/ChatScreen.js';
import {setKeyBindings} from '../../source/tui/key-bindings.js';
import {DEFAULT_KEY_BINDINGS} from '../../source/client/config.js';
import {createBell} from '../../source/tui/mentions.js';
import {stripColours} from '../../source/tui/no-colour.js';
import {renderChat} from '../../source/tui/render-chat.js';
import {FakeRoomClient} from './helpers/fake-room-client.js';
import {FakeTtyInput, FakeTtyOutput} from './helpers/fake-terminal.js';
import {KEYS, typeKeys, waitFor} from './helpers/wait.js';

const ANSI = /\u001B\[[0-9;?]*[A-Za-z]/g;
const plain = (frame: string | undefined): string => (frame ?? '').replace(ANSI, '');

let ts = new Date(2026, 0, 1, 12, 34, 56).getTime();
const say = (client: FakeRoomClient, from: string, text: string): void =>
	client.emit({type: 'message', seq: 0, ts: ts++, from, text, action: false, self: false, history: false});

async function configFile(text: string): Promise<string> {
	const dir = await mkdtemp(path.join(tmpdir(), 'parley-config-screen-'));
	const file = path.join(dir, 'config.toml');
	await writeFile(file, text);
	return file;
}

function setup(rooms: RoomSpec[], config: ConfigStore, bell?: ReturnType<typeof createBell>) {
	const view = render(
		<ChatScreen rooms={rooms} config={config} bell={bell} size={{columns: 130, rows: 16}} />,
	);
	const raw = (): string => view.lastFrame() ?? '';
	const frame = (): string => plain(raw());
	const until = (predicate: (text: string) => boolean, what = '') =>
		waitFor(
			() => predicate(frame()),
			() => `${what}\n${frame()}`,
		);
	const type = (line: string) => typeKeys(view.stdin, line, KEYS.enter);
	return {view, raw, frame, until, type};
}

afterEach(() => {
	cleanup();
	setKeyBindings(DEFAULT_KEY_BINDINGS);
});

describe('config.toml on the chat screen', () => {
	it('paints highlight words like our nick, and rings the bell for them', async () => {
		const file = await configFile(
			'highlight_words = ["deploy"]\nbell = true\n[colors]\nnick = ["green"]\nhighlight = "cyanBright"\n',
		);
		const rung: string[] = [];
		const client = new FakeRoomClient({nick: 'me', members: ['me', 'alice']});
		const {raw, until} = setup(
			[{client, nick: 'me'}],
			new ConfigStore(file),
			createBell({write: (c) => rung.push(c)}, {enabled: true}),
		);
		await until((text) => text.includes('connected'));
		say(client, 'alice', 'the Deploy is done');
		await until((text) => text.includes('the Deploy is done'));
		assert.match(raw(), /\u001B\[96m(\u001B\[[0-9;]*m)*Deploy/, 'the word in the highlight colour');
		assert.doesNotMatch(raw(), /\u001B\[96m(\u001B\[[0-9;]*m)*the/, 'only the word');
		assert.equal(rung.length, 1, 'a highlight word rings like a mention');
	});

	it("hides an ignored nick's messages; /ignore and /unignore keep the list in the file", async () => {
		const file = await configFile(
			'# my settings\nnick = "me"\nignore = ["Troll"]\n\n[notify]\nenabled = true\n',
		);
		const client = new FakeRoomClient({nick: 'me', members: ['me', 'alice', 'troll', 'pest']});
		const {frame, until, type} = setup([{client, nick: 'me'}], new ConfigStore(file));
		await until((text) => text.includes('connected'));
		say(client, 'troll', 'buy my stuff');
		say(client, 'alice', 'hello all');
		await until((text) => text.includes('hello all'));
		assert.ok(!frame().includes('buy my stuff'), 'the ignored nick (any case) is not shown');

		await type('/ignore pest');
		await until((text) => text.includes('ignoring pest'));
		say(client, 'pest', 'me too me too');
		say(client, 'alice', 'second line');
		await until((text) => text.includes('second line'));
		assert.ok(!frame().includes('me too me too'));
		assert.match(await readFile(file, 'utf8'), /ignore = \[\s*"Troll",\s*"pest"\s*\]/);
		assert.match(await readFile(file, 'utf8'), /enabled = true/, 'the rest of the file stays');

		await type('/ignore');
		await until((text) => text.includes('ignoring: Troll, pest (2 hidden in this room)'));
		await type('/unignore troll');
		await until((text) => text.includes('no longer ignoring troll'));
		say(client, 'troll', 'I am back');
		await until((text) => text.includes('I am back'));
		assert.match(await readFile(file, 'utf8'), /ignore = \[\s*"pest"\s*\]/);
	});

	it('/reload applies a change, and a bad file keeps the settings with the error and its line', async () => {
		const file = await configFile('timestamp_format = "%H:%M"\n');
		const client = new FakeRoomClient({nick: 'me', members: ['me', 'alice']});
		const {frame, until, type} = setup([{client, nick: 'me'}], new ConfigStore(file));
		await until((text) => text.includes('connected'));
		say(client, 'alice', 'what time is it');
		await until((text) => text.includes('12:34 alice: what time is it'));
		await writeFile(file, 'timestamp_format = "%H:%M:%S"\nhighlight_words = ["time"]\n');
		await type('/reload');
		await until(
			(text) => text.includes('12:34:56 alice: what time is it'),
			'the new format, on lines shown already',
		);
		await writeFile(file, 'timestamp_format = "%H.%M"\nscrollback = "lots"\n');
		await type('/reload');
		await until((text) =>
			text.includes('config.toml:2: scrollback: expected a number of lines (the settings in use stay)'),
		);
		assert.ok(frame().includes('12:34:56 alice: what time is it'), 'the old settings stay');
	});

	it('binds the [keys] of the config, live after /reload', async () => {
		const file = await configFile('[keys]\nnext_tab = "alt+n"\n');
		const lobby = new FakeRoomClient({url: 'udp://127.0.0.1:7001', nick: 'me', members: ['me']});
		const other = new FakeRoomClient({url: 'udp://127.0.0.1:7002', nick: 'me', members: ['me']});
		const {view, frame, until, type} = setup(
			[
				{client: lobby, nick: 'me', label: 'lobby'},
				{client: other, nick: 'me', label: 'other'},
			],
			new ConfigStore(file),
		);
		const tabRow = (): string => frame().split('\n')[1] ?? '';
		await until(() => tabRow().includes('[1:udp lobby]'));
		await typeKeys(view.stdin, '\u001Bn');
		await until(() => tabRow().includes('[2:udp other]'), 'Alt+N shows the next tab');
		await writeFile(file, '[keys]\nprev_tab = "alt+b"\n');
		await type('/reload');
		await until((text) => text.includes('reloaded'));
		await typeKeys(view.stdin, '\u001Bb');
		await until(() => tabRow().includes('[1:udp lobby]'), 'the new binding works at once');
	});

	it('shows no colours at all under NO_COLOR, but keeps bold', async () => {
		assert.equal(stripColours('\u001B[1m\u001B[33mhi\u001B[39m\u001B[22m'), '\u001B[1mhi\u001B[22m');
		assert.equal(stripColours('\u001B[1;38;5;200;4mx\u001B[0m'), '\u001B[1;4mx\u001B[0m');
		const client = new FakeRoomClient({nick: 'me', members: ['me', 'alice', 'bob']});
		const stdout = new FakeTtyOutput(70, 12);
		const stdin = new FakeTtyInput();
		const instance = renderChat([{client, nick: 'me'}], {
			stdout: stdout as unknown as NodeJS.WriteStream,
			stdin: stdin as unknown as NodeJS.ReadStream,
			interactive: true,
			exitOnFatalError: false,
			noColor: true,
			config: new ConfigStore(undefined, {}, {noColor: true}),
		});
		await waitFor(
			() => stdout.output.includes('Members') && stdout.output.includes('connected'),
			() => stdout.output,
		);
		client.emit({type: 'error', code: 'bad-request', text: 'a red error'});
		await waitFor(
			() => stdout.output.includes('a red error'),
			() => stdout.output,
		);
		const colours = stdout.output.match(/\u001B\[[0-9;]*(3[0-9]|4[0-9]|9[0-7])(;[0-9;]*)?m/g);
		assert.equal(colours, null, `colour codes: ${JSON.stringify(colours)}`);
		assert.match(stdout.output, /\u001B\[1m/, 'bold stays');
		instance.unmount();
		await instance.waitUntilExit();
	});
});
