import '../helpers/force-color.js';
import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {cleanup, render} from 'ink-testing-library';
import {RoomError} from '../../source/client/types.js';
import {ChatScreen} from '../../source/tui/ChatScreen.js';
import {LOGIN_FORM_HEIGHT, LOGIN_HINT, LoginForm, maskedLine} from '../../source/tui/LoginForm.js';
import {FakeRoomClient} from './helpers/fake-room-client.js';
import {KEYS, typeKeys, waitFor} from './helpers/wait.js';

const ANSI = /\u001B\[[0-9;]*m/g;
const plain = (frame: string | undefined): string => (frame ?? '').replace(ANSI, '');
const lines = (frame: string | undefined): string[] => plain(frame).split('\n');
const row = (frame: string, prompt: string): string =>
	lines(frame).find((line) => line.startsWith(prompt)) ?? '';
const TAB = '\t';
const CTRL_R = '\u0012';

function setup(
	options: {nick?: string; password?: string; connectBehaviour?: FakeRoomClient['connectBehaviour']} = {},
) {
	const client = new FakeRoomClient({
		state: 'closed',
		url: 'tcp://chat.example:7778/lobby',
		transport: 'tcp',
		needsPassword: true,
	});
	if (options.connectBehaviour) client.connectBehaviour = options.connectBehaviour;
	const view = render(<ChatScreen client={client} nick={options.nick} password={options.password} />);
	const frame = (): string => plain(view.lastFrame());
	const until = (predicate: (text: string) => boolean) => waitFor(() => predicate(frame()), frame);
	/** Every frame drawn so far, to prove the password never showed. */
	const everything = (): string => view.frames.map(plain).join('\n');
	return {client, view, frame, until, everything};
}

afterEach(() => cleanup());

describe('LoginForm', () => {
	it('is shown for a room that needs a password, with the hint, and logs in with user and masked password', async () => {
		const {client, view, frame, until, everything} = setup();
		await until((text) => text.includes(LOGIN_HINT));
		assert.ok(!frame().includes('choose a nick'), 'no nick prompt');
		assert.equal(lines(view.lastFrame()).length, 24);
		await typeKeys(view.stdin, 'alice', TAB, 'se', 'cret');
		await until((text) => row(text, 'password>').includes('••••••'));
		assert.match(row(frame(), 'user>'), /^user> +alice/);
		assert.match(row(frame(), 'password>'), /^password> ••••••\s*$/);
		await typeKeys(view.stdin, KEYS.enter);
		await until((text) => text.includes('alice │ connected'));
		assert.deepEqual(client.calls, [{method: 'connect', nick: 'alice', password: 'secret', register: false}]);
		assert.ok(!everything().includes('secret'), 'the password is never drawn');
	});

	it('shows a refusal in red, clears the password, keeps the user name and lets the user retry', async () => {
		const {client, view, frame, until, everything} = setup();
		let attempts = 0;
		client.connectBehaviour = async (nick) => {
			attempts++;
			if (attempts === 1) throw new RoomError('auth-failed', 'invalid user name or password');
			client.emit({type: 'nick', nick});
			client.emit({type: 'state', state: 'connected'});
		};
		await until((text) => text.includes(LOGIN_HINT));
		await typeKeys(view.stdin, 'alice', TAB, 'wrong', KEYS.enter);
		await until((text) => text.includes('invalid user name or password'));
		const raw = view.lastFrame() ?? '';
		const errorLine = raw.split('\n').find((line) => line.includes('invalid user name or password')) ?? '';
		assert.match(errorLine, /\u001B\[31m/, 'the error is red');
		assert.match(row(frame(), 'user>'), /^user> +alice/);
		assert.equal(row(frame(), 'password>').trim(), 'password>', 'the password field is empty again');
		// The focus stays on the password: typing goes there.
		await typeKeys(view.stdin, 'right', KEYS.enter);
		await until((text) => text.includes('alice │ connected'));
		assert.deepEqual(client.calls, [
			{method: 'connect', nick: 'alice', password: 'wrong', register: false},
			{method: 'connect', nick: 'alice', password: 'right', register: false},
		]);
		assert.ok(!everything().includes('wrong') && !everything().includes('right'));
	});

	it('registers a new account with Ctrl+R', async () => {
		const {client, view, until} = setup();
		await until((text) => text.includes(LOGIN_HINT));
		await typeKeys(view.stdin, 'newbie', KEYS.down, 'pw1', CTRL_R);
		await until((text) => text.includes('newbie │ connected'));
		assert.deepEqual(client.calls, [{method: 'connect', nick: 'newbie', password: 'pw1', register: true}]);
	});

	it('registers when the password and Ctrl+R arrive in one chunk (tmux, a password manager)', async () => {
		const {client, view, until} = setup();
		await until((text) => text.includes(LOGIN_HINT));
		view.stdin.write(`newbie\tpw one two${CTRL_R}`);
		await until((text) => text.includes('newbie │ connected'));
		assert.deepEqual(client.calls, [
			{method: 'connect', nick: 'newbie', password: 'pw one two', register: true},
		]);
	});

	it('rejects an empty user name or password without connecting', async () => {
		const {client, view, until} = setup();
		await until((text) => text.includes(LOGIN_HINT));
		await typeKeys(view.stdin, KEYS.enter, KEYS.enter); // Enter on the user name moves on, then submits
		await until((text) => text.includes('enter a user name'));
		await typeKeys(view.stdin, 'bob', KEYS.enter, KEYS.enter);
		await until((text) => text.includes('enter your password'));
		await typeKeys(view.stdin, CTRL_R);
		await until((text) => text.includes('choose a password')); // drawn after every key was handled
		assert.deepEqual(client.calls, []);
	});

	it('takes a fast-typed chunk with a Tab and an Enter in it', async () => {
		const {client, view, until, everything} = setup();
		await until((text) => text.includes(LOGIN_HINT));
		view.stdin.write('carol\thunter2\r');
		await until((text) => text.includes('carol │ connected'));
		assert.deepEqual(client.calls, [
			{method: 'connect', nick: 'carol', password: 'hunter2', register: false},
		]);
		assert.ok(!everything().includes('hunter2'));
	});

	it('says who is logging in and ignores keys meanwhile', async () => {
		const {client, view, frame, until} = setup();
		let finish: () => void = () => undefined;
		client.connectBehaviour = (nick) =>
			new Promise<void>((resolve) => {
				finish = () => {
					client.emit({type: 'nick', nick});
					client.emit({type: 'state', state: 'connected'});
					resolve();
				};
			});
		await until((text) => text.includes(LOGIN_HINT));
		await typeKeys(view.stdin, 'dave', TAB, 'pw', KEYS.enter);
		await until((text) => text.includes('logging in as dave…'));
		await typeKeys(view.stdin, 'xyz', TAB, KEYS.enter);
		assert.match(row(frame(), 'user>'), /^user> +dave\s*$/);
		assert.equal(row(frame(), 'password>').trim(), 'password>');
		assert.equal(client.calls.length, 1);
		finish();
		await until((text) => text.includes('dave │ connected'));
	});

	it('prefills the user name from the nick and starts on the password', async () => {
		const {client, view, frame, until} = setup({nick: 'erin'});
		await until((text) => text.includes(LOGIN_HINT));
		assert.match(row(frame(), 'user>'), /^user> +erin/);
		await typeKeys(view.stdin, 'pw', KEYS.enter);
		await until((text) => text.includes('erin │ connected'));
		assert.deepEqual(client.calls, [{method: 'connect', nick: 'erin', password: 'pw', register: false}]);
	});

	it('takes a chunk that starts with Tab on a prefilled form: switch, clear, type, switch, register', async () => {
		const {client, view, frame, until} = setup({nick: 'erin'});
		await until((text) => text.includes(LOGIN_HINT));
		// What `tmux send-keys Tab C-u bob Tab pw C-r` delivers: one chunk.
		view.stdin.write(`\t\u0015bob\tpw-bob${CTRL_R}`);
		await until((text) => text.includes('bob │ connected'));
		assert.deepEqual(client.calls, [{method: 'connect', nick: 'bob', password: 'pw-bob', register: true}]);
		assert.ok(!frame().includes('erin'));
	});

	it('logs in on mount with a password given up front (PARLEY_PASSWORD)', async () => {
		const {client, until} = setup({nick: 'frank', password: 'from-env'});
		await until((text) => text.includes('frank │ connected'));
		assert.deepEqual(client.calls, [
			{method: 'connect', nick: 'frank', password: 'from-env', register: false},
		]);
	});

	it('falls back to the form when the password given up front is refused', async () => {
		const {frame, until} = setup({
			nick: 'gina',
			password: 'stale',
			connectBehaviour: async () => {
				throw new RoomError('auth-failed', 'invalid user name or password');
			},
		});
		await until((text) => text.includes('invalid user name or password') && text.includes(LOGIN_HINT));
		assert.match(row(frame(), 'user>'), /^user> +gina/);
	});

	it('shows a changed server certificate in full, in red, and keeps the form', async () => {
		const warning =
			'WARNING: the certificate of chat.example:7778 has CHANGED (was SHA256:oldoldold, now SHA256:newnewnew). ' +
			'Someone may be intercepting the connection. If the server really got a new certificate, remove its line from /home/u/.parley/known_hosts.';
		const {client, view, frame, until} = setup();
		client.connectBehaviour = async () => {
			throw new RoomError('host-changed', warning);
		};
		await until((text) => text.includes(LOGIN_HINT));
		await typeKeys(view.stdin, 'alice', TAB, 'pw', KEYS.enter);
		await until((text) => text.includes('WARNING'));
		const rows = lines(view.lastFrame());
		assert.equal(rows.length, 24);
		const start = rows.findIndex((line) => line.startsWith('WARNING'));
		const shown = rows
			.slice(start, start + 4)
			.map((line) => line.trim())
			.join(' ');
		assert.ok(shown.includes(warning), shown);
		const raw = view.lastFrame() ?? '';
		assert.match(raw.split('\n').find((line) => line.includes('WARNING')) ?? '', /\u001B\[31m/);
		assert.ok(frame().includes(LOGIN_HINT), 'the form stays');
	});
});

describe('LoginForm on its own', () => {
	it('has a fixed height and masks per character', async () => {
		const view = render(<LoginForm width={60} onSubmit={() => undefined} />);
		await waitFor(() => (view.lastFrame() ?? '').includes('Ctrl+R'));
		assert.equal(lines(view.lastFrame()).length, LOGIN_FORM_HEIGHT);
		assert.deepEqual(maskedLine({value: 'pä🎉ss', cursor: 2}), {value: '•••••', cursor: 2});
		// After the emoji (two UTF-16 units), three characters are before the cursor.
		assert.deepEqual(maskedLine({value: 'pä🎉ss', cursor: 4}), {value: '•••••', cursor: 3});
	});
});
