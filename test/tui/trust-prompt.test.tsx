import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {cleanup, render} from 'ink-testing-library';
import {ChatScreen} from '../../source/tui/ChatScreen.js';
import {FakeRoomClient} from './helpers/fake-room-client.js';
import {ObservedTrustPrompter} from './helpers/observed-trust.js';
import {KEYS, typeKeys, waitFor} from './helpers/wait.js';

const ANSI = /\u001B\[[0-9;]*m/g;
const plain = (frame: string | undefined): string => (frame ?? '').replace(ANSI, '');
const FINGERPRINT = 'SHA256:q1w2e3r4t5y6u7i8o9p0AbCdEfGhIjKlMnOpQrStUvW';
const QUESTION = `New server chat.example:7778 — certificate ${FINGERPRINT} — trust it and remember it? [y/N]`;
/** The frame with wrapped rows joined back into one line. */
const flat = (frame: string | undefined): string =>
	plain(frame)
		.split('\n')
		.map((line) => line.trim())
		.join(' ');

function setup(clientOptions: {state?: 'closed' | 'connected'} = {}) {
	const client = new FakeRoomClient({nick: 'me', members: ['me'], ...clientOptions});
	const trust = new ObservedTrustPrompter();
	const view = render(<ChatScreen client={client} trust={trust} />);
	const until = (predicate: (text: string) => boolean) =>
		waitFor(
			() => predicate(flat(view.lastFrame())),
			() => plain(view.lastFrame()),
		);
	return {client, trust, view, until};
}

afterEach(() => cleanup());

describe('TrustPrompt', () => {
	it('shows the fingerprint of a new server and trusts it on y', async () => {
		const {client, trust, view, until} = setup();
		await waitFor(() => client.listenerCount === 1 && trust.registered); // registered in an effect
		const answer = trust.ask('chat.example:7778', FINGERPRINT);
		await until((text) => text.includes(QUESTION));
		await typeKeys(view.stdin, 'y');
		assert.equal(await answer, true);
		await until((text) => !text.includes('New server'));
	});

	it('refuses on n, Enter and Esc, and lets no other key through meanwhile', async () => {
		const {client, trust, view, until} = setup();
		await waitFor(() => client.listenerCount === 1 && trust.registered);
		const first = trust.ask('chat.example:7778', FINGERPRINT);
		await until((text) => text.includes(QUESTION));
		await typeKeys(view.stdin, 'x', 'q', KEYS.enter.repeat(0) || 'z', 'n');
		assert.equal(await first, false);
		await until((text) => !text.includes('New server'));
		assert.deepEqual(client.calls, [], 'nothing was sent');
		assert.ok(!plain(view.lastFrame()).includes('xqz'), 'the keys did not reach the input line');

		const second = trust.ask('chat.example:7778', FINGERPRINT);
		await until((text) => text.includes(QUESTION));
		await typeKeys(view.stdin, KEYS.enter);
		assert.equal(await second, false);

		const third = trust.ask('chat.example:7778', FINGERPRINT);
		await until((text) => text.includes(QUESTION));
		view.stdin.write('\u001B');
		assert.equal(await third, false);
	});

	it('asks one request at a time', async () => {
		const {client, trust, view, until} = setup();
		await waitFor(() => client.listenerCount === 1 && trust.registered);
		const one = trust.ask('one.example:7778', FINGERPRINT);
		const two = trust.ask('two.example:7778', FINGERPRINT);
		await until((text) => text.includes('New server one.example:7778'));
		await typeKeys(view.stdin, 'N');
		assert.equal(await one, false);
		await until((text) => text.includes('New server two.example:7778'));
		await typeKeys(view.stdin, 'Y');
		assert.equal(await two, true);
	});

	it('answers no for whatever is pending when the screen goes, and unregisters', async () => {
		const {client, trust, view, until} = setup();
		await waitFor(() => client.listenerCount === 1 && trust.registered);
		const pending = trust.ask('chat.example:7778', FINGERPRINT);
		await until((text) => text.includes(QUESTION));
		view.unmount();
		assert.equal(await pending, false);
		assert.equal(trust.registered, false, 'the handler is gone with the screen');
		assert.equal(await trust.ask('chat.example:7778', FINGERPRINT), false, 'nobody to ask means no');
	});
});
