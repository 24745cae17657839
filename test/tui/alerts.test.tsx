// Alerts: the hotlist in the tab bar and desktop notifications, on the real
// screen (ink-testing-library) with fake room clients; notify-send as a real
// process (a stand-in script on the path that records its arguments).

import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import {chmod, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {cleanup, render} from 'ink-testing-library';
import {ChatScreen} from '../../source/tui/ChatScreen.js';
import {createNotifier, notificationText, osc777} from '../../source/tui/notify.js';
import {hotlist, type TabInfo} from '../../source/tui/tab-bar.js';
import {FakeRoomClient} from './helpers/fake-room-client.js';
import {waitFor} from './helpers/wait.js';

const ANSI = /\u001B\[[0-9;?]*[A-Za-z]/g;
const plain = (frame: string | undefined): string => (frame ?? '').replace(ANSI, '');
const tabRow = (frame: string): string => frame.split('\n')[1] ?? '';

let ts = Date.UTC(2026, 0, 1, 12, 0);
const say = (client: FakeRoomClient, from: string, text: string): void =>
	client.emit({type: 'message', seq: 0, ts: ts++, from, text, action: false, self: false, history: false});
const dm = (client: FakeRoomClient, from: string, text: string): void =>
	client.emit({type: 'direct', ts: ts++, from, to: 'me', text, self: false});

const room = (port: number) =>
	new FakeRoomClient({url: `udp://127.0.0.1:${port}`, nick: 'me', members: ['me', 'bob']});

afterEach(() => cleanup());

describe('hotlist', () => {
	const info = (unread: number, mentioned = false): TabInfo => ({
		transport: 'udp',
		name: 'x',
		unread,
		mentioned,
		state: 'connected',
		waiting: false,
	});

	it('lists the other rooms with activity, highlights first, then the busiest', () => {
		assert.equal(hotlist([info(5), info(1), info(2, true), info(0), info(9)], 4), 'act: 3@ 1(5) 2(1)');
		assert.equal(hotlist([info(0), info(0)], 0), undefined);
	});

	it('shows in the tab bar of the real screen', async () => {
		const [a, b, c] = [room(7001), room(7002), room(7003)];
		const view = render(
			<ChatScreen rooms={[{client: a}, {client: b}, {client: c}]} size={{columns: 100, rows: 12}} />,
		);
		const frame = (): string => plain(view.lastFrame());
		await waitFor(() => tabRow(frame()).includes('Alt+1…9'), frame);
		say(b, 'bob', 'one');
		say(b, 'bob', 'two');
		say(c, 'bob', 'hey me, look');
		await waitFor(() => tabRow(frame()).includes('act: 3@ 2(2)'), frame);
	});
});

describe('desktop notifications', () => {
	it('sanitises what others wrote: no control characters, no ";" in the title', () => {
		assert.equal(notificationText('a\u001b]0;x\u0007b\u009bc\n d'), 'a ]0,x b c d'.replace(',', ';'));
		assert.equal(osc777('t;x', 'b\u0007ody'), '\u001b]777;notify;t,x;b ody\u0007');
	});

	it('notifies a highlight in a room not shown and a direct message anywhere, never the shown room’s highlight', async () => {
		const written: string[] = [];
		const notifier = createNotifier(
			{enabled: true, method: 'osc', minIntervalMs: 0},
			{stream: {write: (chunk: string) => written.push(chunk)}},
		);
		const [a, b] = [room(7011), room(7012)];
		const view = render(
			<ChatScreen rooms={[{client: a}, {client: b}]} notify={{enabled: true}} notifier={notifier} />,
		);
		await waitFor(
			() => plain(view.lastFrame()).includes('2:udp'),
			() => plain(view.lastFrame()),
		);
		say(a, 'bob', 'me: shown room, no notification');
		say(b, 'carol', 'me: \u001b[2Jhidden room');
		dm(a, 'dave', 'psst');
		await waitFor(
			() => written.length >= 2,
			() => JSON.stringify(written),
		);
		assert.deepEqual(written, [
			'\u001b]777;notify;carol in 127.0.0.1:7012;me: [2Jhidden room\u0007',
			'\u001b]777;notify;dave (direct, 127.0.0.1:7011);psst\u0007',
		]);
	});

	it('is off by default', () => {
		const written: string[] = [];
		const notifier = createNotifier({}, {stream: {write: (chunk: string) => written.push(chunk)}});
		assert.equal(notifier.notify('t', 'b'), false);
		assert.deepEqual(written, []);
	});

	it('runs notify-send without a shell, the text as plain arguments', async () => {
		const dir = await mkdtemp(path.join(tmpdir(), 'parley-notify-'));
		try {
			const out = path.join(dir, 'args.json');
			const script = path.join(dir, 'notify-send');
			await writeFile(
				script,
				`#!${process.execPath}\nrequire('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.argv.slice(2)));\n`,
			);
			await chmod(script, 0o755);
			const notifier = createNotifier(
				{enabled: true, method: 'notify-send'},
				{stream: {write: () => 0}, command: script},
			);
			assert.equal(notifier.notify('bob in `lobby`', '$(touch pwned); rm -rf ~ \u001b[31m'), true);
			await waitFor(
				() => existsSync(out),
				() => 'notify-send never ran',
			);
			assert.deepEqual(JSON.parse(await readFile(out, 'utf8')), [
				'--app-name=parley',
				'--',
				'bob in `lobby`',
				'$(touch pwned); rm -rf ~ [31m',
			]);
		} finally {
			await rm(dir, {recursive: true, force: true});
		}
	});
});
