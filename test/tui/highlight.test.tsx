import '../helpers/force-color.js';
import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {cleanup, render} from 'ink-testing-library';
import {layoutEntry, entryText, type LayoutOptions, type LogRow} from '../../source/tui/log-format.js';
import {MessageLog} from '../../source/tui/MessageLog.js';
import {Scrollback} from '../../source/tui/scrollback.js';
import {computeViewport, RowCache} from '../../source/tui/viewport.js';
import {waitFor} from './helpers/wait.js';

const ANSI = /\u001B\[[0-9;]*m/g;
const plain = (text: string | undefined): string => (text ?? '').replace(ANSI, '');
const TS = Date.UTC(2026, 0, 1, 12, 0);
/** TS as the log shows it: local time, whatever TZ the suite runs in. */
const CLOCK = (() => {
	const date = new Date(TS);
	return [date.getHours(), date.getMinutes()].map((n) => String(n).padStart(2, '0')).join(':');
})();

function logWith(
	...texts: Array<{from: string; text: string; self?: boolean; action?: boolean}>
): Scrollback {
	const log = new Scrollback(100, () => TS);
	for (const {from, text, self = false, action = false} of texts)
		log.append({kind: 'message', ts: TS, from, text, action, self, history: false});
	return log;
}

function draw(log: Scrollback, options: LayoutOptions, width = 60, height = 6) {
	const cache = new RowCache<LogRow>((entry, columns) => layoutEntry(entry, columns, options));
	const view = computeViewport(log, cache, {width, height, offset: 0});
	return render(<MessageLog rows={view.rows} width={width} height={height} newBelow={0} scrolled={false} />);
}

/** The first frame that shows `text`: Ink draws asynchronously. */
async function frameShowing(view: ReturnType<typeof draw>, text: string): Promise<string> {
	await waitFor(
		() => plain(view.lastFrame()).includes(text),
		() => plain(view.lastFrame()),
	);
	return view.lastFrame() ?? '';
}

const rowText = (row: LogRow): string => ' '.repeat(row.indent) + row.spans.map((span) => span.text).join('');

afterEach(() => cleanup());

describe('highlights in the log', () => {
	it("paints mentions of our nick in others' messages, not in our own", () => {
		const log = logWith({from: 'alice', text: 'hey Bob, look'}, {from: 'bob', text: 'I am bob', self: true});
		const [theirs, ours] = log.toArray();
		const painted = layoutEntry(theirs!, 80, {ownNick: 'bob'})[0]!;
		const mention = painted.spans.find((span) => span.text === 'Bob');
		assert.deepEqual(mention?.style, {color: 'yellow', bold: true});
		assert.equal(rowText(painted), rowText(layoutEntry(theirs!, 80)[0]!), 'the text itself is unchanged');
		assert.ok(
			!layoutEntry(ours!, 80, {ownNick: 'bob'})[0]!.spans.some((span) => span.style.color === 'yellow'),
		);
	});

	it("keeps an action's italics under a mention and shares style objects", () => {
		const log = logWith({from: 'alice', text: 'pokes bob and bob', action: true});
		const row = layoutEntry(log.at(0)!, 80, {ownNick: 'bob'})[0]!;
		const mentions = row.spans.filter((span) => span.text === 'bob');
		assert.equal(mentions.length, 2);
		assert.deepEqual(mentions[0]!.style, {italic: true, color: 'yellow', bold: true});
		assert.equal(mentions[0]!.style, mentions[1]!.style);
	});

	it('paints search matches, the current one apart, across wrapped rows', () => {
		const log = logWith({from: 'alice', text: 'deploy one'}, {from: 'carol', text: 'deploy two'});
		const [first, second] = log.toArray();
		const options = {highlight: 'DEPLOY', currentId: second!.id};
		const other = layoutEntry(first!, 80, options)[0]!.spans.find((span) => span.text === 'deploy');
		const current = layoutEntry(second!, 80, options)[0]!.spans.find((span) => span.text === 'deploy');
		assert.deepEqual(other?.style, {inverse: true});
		assert.deepEqual(current?.style, {inverse: true, color: 'yellow', bold: true});
		const long = logWith({from: 'al', text: 'aaaa bbbb cccc match dddd'}).at(0)!;
		const rows = layoutEntry(long, 20, {highlight: 'cccc match'});
		const painted = rows.flatMap((row) =>
			row.spans.filter((span) => span.style.inverse === true).map((span) => span.text.trim()),
		);
		assert.deepEqual(painted.join(' '), 'cccc match');
	});

	it('draws a highlighted mention with colour in MessageLog', async () => {
		const log = logWith({from: 'alice', text: 'ping bob please'});
		const frame = await frameShowing(draw(log, {ownNick: 'bob'}), 'please');
		assert.ok(plain(frame).includes(`${CLOCK} alice: ping bob please`), plain(frame));
		// Yellow (33) and bold (1) around exactly the nick.
		assert.match(frame, /\u001B\[33m(?:\u001B\[1m)?bob(?:\u001B\[22m)?\u001B\[39m|\u001B\[1m\u001B\[33mbob/);
		const unmarked = await frameShowing(
			draw(logWith({from: 'alice', text: 'ping bob please'}), {}),
			'please',
		);
		assert.ok(!/\u001B\[33m/.test(unmarked), 'no highlight without our nick');
	});

	it('draws search matches in inverse video in MessageLog', async () => {
		const view = draw(logWith({from: 'alice', text: 'the build is green'}), {highlight: 'build'});
		assert.match(await frameShowing(view, 'green'), /\u001B\[7mbuild\u001B\[27m/);
	});
});

describe('multi-line messages in the log', () => {
	it('lays each line out as its own row, hung under the text', () => {
		const entry = logWith({from: 'alice', text: 'first line\nsecond line\n\n\tindented'}).at(0)!;
		const rows = layoutEntry(entry, 40).map(rowText);
		const gutter = rows[0]!.indexOf('first');
		assert.deepEqual(rows, [
			`${rows[0]!.slice(0, gutter)}first line`,
			`${' '.repeat(gutter)}second line`,
			`${' '.repeat(gutter)}`,
			`${' '.repeat(gutter)}    indented`,
		]);
		assert.equal(entryText(entry), 'first line\nsecond line\n\n\tindented');
	});

	it('shows every line of a multi-line message on screen', async () => {
		const view = draw(logWith({from: 'alice', text: 'one\ntwo\nthree'}), {}, 40, 5);
		const lines = plain(await frameShowing(view, 'three'))
			.split('\n')
			.map((line) => line.trimEnd());
		assert.deepEqual(lines.slice(-3), [
			`${lines.at(-3)!.replace(/one$/, '')}one`,
			`${' '.repeat(lines.at(-3)!.indexOf('one'))}two`,
			`${' '.repeat(lines.at(-3)!.indexOf('one'))}three`,
		]);
		assert.match(lines.at(-3)!, /alice: one$/);
	});

	it('never lets a carriage return or escape through', () => {
		const entry = logWith({from: 'alice', text: 'a\r\u001B[2Jb'}).at(0)!;
		const text = layoutEntry(entry, 40).map(rowText).join('\n');
		assert.ok(!/[\r\u001B]/.test(text), JSON.stringify(text));
	});
});
