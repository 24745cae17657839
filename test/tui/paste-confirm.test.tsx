import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import type {Key} from 'ink';
import {NO_KEY} from '../../source/tui/key-bindings.js';
import {cleanup, render} from 'ink-testing-library';
import {PasteConfirm, pasteAnswerForKey, pasteQuestion} from '../../source/tui/PasteConfirm.js';
import {SearchPrompt, SEARCH_KEYS_HINT} from '../../source/tui/SearchPrompt.js';
import {waitFor} from './helpers/wait.js';

/** The first frame Ink draws (it draws asynchronously). */
async function firstFrame(view: {lastFrame(): string | undefined}): Promise<string> {
	await waitFor(() => (view.lastFrame() ?? '') !== '');
	return view.lastFrame()!;
}

const ANSI = /\u001B\[[0-9;]*m/g;
const plain = (text: string | undefined): string => (text ?? '').replace(ANSI, '');
const key = (flags: Partial<Key> = {}): Key => ({...NO_KEY, ...flags});

afterEach(() => cleanup());

describe('PasteConfirm', () => {
	it('asks whether to send the lines as one message', async () => {
		const view = render(<PasteConfirm lines={12} width={60} />);
		assert.equal(plain(await firstFrame(view)).trim(), 'Send 12 lines as one message? [y/N]');
		assert.equal(pasteQuestion(1), 'Send 1 line as one message? [y/N]');
	});

	it('truncates to the width instead of wrapping', async () => {
		const view = render(<PasteConfirm lines={12} width={20} />);
		const lines = plain(await firstFrame(view)).split('\n');
		assert.equal(lines.length, 1);
		assert.ok(lines[0]!.length <= 20);
	});

	it('takes y as yes and n, Enter or Esc as no; other keys answer nothing', () => {
		assert.equal(pasteAnswerForKey('y', key()), true);
		assert.equal(pasteAnswerForKey('Y', key({shift: true})), true);
		assert.equal(pasteAnswerForKey('n', key()), false);
		assert.equal(pasteAnswerForKey('', key({return: true})), false);
		assert.equal(pasteAnswerForKey('', key({escape: true})), false);
		assert.equal(pasteAnswerForKey('x', key()), undefined);
		assert.equal(pasteAnswerForKey('y', key({ctrl: true})), undefined);
	});
});

describe('SearchPrompt', () => {
	it('shows the query, where the search stands and the keys', async () => {
		const view = render(<SearchPrompt query="deploy" status="match 3/17" width={100} />);
		const text = plain(await firstFrame(view));
		assert.match(text, /^search: deploy\s+match 3\/17/);
		assert.ok(text.includes(SEARCH_KEYS_HINT));
	});

	it('keeps the end of a long query and the status visible in a narrow row', async () => {
		const view = render(<SearchPrompt query={`${'x'.repeat(50)}END`} status="no matches" width={40} />);
		const lines = plain(await firstFrame(view)).split('\n');
		assert.equal(lines.length, 1);
		assert.match(lines[0]!, /END\s+no matches/);
	});
});
