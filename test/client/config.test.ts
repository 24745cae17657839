import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, readFile, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {
	ConfigError,
	defaultConfig,
	loadConfigSync,
	parseConfig,
	saveIgnoreList,
} from '../../source/client/config.js';

const problem = (text: string): string => {
	try {
		parseConfig(text);
	} catch (error) {
		assert.ok(error instanceof ConfigError);
		return error.message;
	}
	assert.fail('expected a ConfigError');
};

describe('config.toml', () => {
	it('fills in the defaults for an empty file', () => {
		const config = defaultConfig();
		assert.equal(config.timestampFormat, '%H:%M');
		assert.equal(config.scrollback, 10_000);
		assert.deepEqual(config.ignore, []);
		assert.deepEqual(config.notify, {enabled: false, highlights: true, direct: true, method: 'osc'});
		assert.deepEqual(config.keys.next_tab, [{ctrl: true, meta: false, shift: false, key: 'n'}]);
	});

	it('reads every section', () => {
		const config = parseConfig(
			[
				'nick = "bob"',
				'timestamp_format = "%H:%M:%S"',
				'highlight_words = ["deploy", "oncall"]',
				'ignore = ["spammer"]',
				'',
				'[colors]',
				'nick = ["red", "#00ff88"]',
				'highlight = "cyanBright"',
				'',
				'[notify]',
				'enabled = true',
				'method = "notify-send"',
				'',
				'[keys]',
				'next_tab = "alt+n"',
				'scroll_up = ["pageup", "ctrl+b"]',
			].join('\n'),
		);
		assert.equal(config.nick, 'bob');
		assert.equal(config.timestampFormat, '%H:%M:%S');
		assert.deepEqual(config.highlightWords, ['deploy', 'oncall']);
		assert.deepEqual(config.colours.nicks, ['red', '#00ff88']);
		assert.equal(config.colours.highlight, 'cyanBright');
		assert.equal(config.notify.method, 'notify-send');
		assert.equal(config.notify.enabled, true);
		assert.deepEqual(config.keys.next_tab, [{ctrl: false, meta: true, shift: false, key: 'n'}]);
		assert.equal(config.keys.scroll_up.length, 2);
		assert.deepEqual(config.keys.prev_tab, [{ctrl: true, meta: false, shift: false, key: 'p'}]);
	});

	it('names the line and the key of a wrong value', () => {
		const text = [
			'# my settings',
			'nick = "bob"',
			'',
			'[colors]',
			'highlight = "red"',
			'',
			'nick = "red"',
		].join('\n');
		assert.equal(problem(text), 'config.toml:7: colors.nick: expected a list of colour names');
		assert.equal(
			problem('nick = "bob"\nscrollback = "lots"'),
			'config.toml:2: scrollback: expected a number of lines',
		);
		assert.equal(
			problem('[notify]\nenabled = true\nmethod = "pigeon"'),
			'config.toml:3: notify.method: expected "osc", "notify-send" or "none"',
		);
		assert.equal(
			problem('colors.nick = ["red", "nope"]'),
			'config.toml:1: colors.nick: expected a list of colour names',
		);
		assert.match(problem('\n[keys]\nsearch = "ctrl+"'), /^config\.toml:3: keys\.search: expected a key like/);
		assert.match(problem('timestamp_format = "%H:%Q"'), /^config\.toml:1: timestamp_format: only %H/);
	});

	it('reports a misspelt key instead of ignoring it', () => {
		assert.equal(
			problem('nick = "bob"\nhighlight_wrods = ["x"]'),
			'config.toml:2: highlight_wrods: unknown key',
		);
	});

	it('gives the line of a TOML syntax error', () => {
		assert.match(problem('nick = "bob"\n\nbell = tru'), /^config\.toml:3: /);
	});

	it('drops every colour under NO_COLOR', () => {
		const config = parseConfig('[colors]\nnick = ["red"]\nhighlight = "green"\nown_nick = "blue"', 'c', {
			noColor: true,
		});
		assert.deepEqual(config.colours, {nicks: [], highlight: undefined, ownNick: undefined, enabled: false});
	});

	it('keeps the ignore list in the file, with the other settings', async () => {
		const dir = await mkdtemp(path.join(tmpdir(), 'parley-config-'));
		const file = path.join(dir, 'config.toml');
		assert.deepEqual(loadConfigSync(file).ignore, [], 'a missing file is the defaults');
		await writeFile(file, 'nick = "bob"\n\n[notify]\nenabled = true\n');
		await saveIgnoreList(file, ['troll', 'spam']);
		const config = loadConfigSync(file);
		assert.deepEqual(config.ignore, ['troll', 'spam']);
		assert.equal(config.nick, 'bob');
		assert.equal(config.notify.enabled, true);
		await writeFile(file, 'nick = \n');
		await assert.rejects(saveIgnoreList(file, ['x']), ConfigError);
		assert.equal(await readFile(file, 'utf8'), 'nick = \n', 'a broken file is left alone');
	});
});

describe('flags over config.toml', () => {
	it('a flag given wins, after /reload too; a flag left out takes the file', async () => {
		const {ConfigStore} = await import('../../source/client/config-store.js');
		const {configOverrides} = await import('../../source/cli/chat-command.js');
		const dir = await mkdtemp(path.join(tmpdir(), 'parley-config-'));
		const file = path.join(dir, 'config.toml');
		await writeFile(file, 'bell = false\nscrollback = 2000\naccept_new = true\nlog_dir = "logs"\n');
		const store = new ConfigStore(file, configOverrides({bell: true, scrollback: 500}));
		assert.equal(store.current.bell, true);
		assert.equal(store.current.scrollback, 500);
		assert.equal(store.current.acceptNew, true, 'not given: from the file');
		assert.equal(store.current.logDir, 'logs');
		await writeFile(file, 'bell = false\nscrollback = 3000\naccept_new = false\n');
		store.reload();
		assert.equal(store.current.bell, true);
		assert.equal(store.current.scrollback, 500);
		assert.equal(store.current.acceptNew, false);
		const fromFile = new ConfigStore(file, configOverrides({}));
		assert.equal(fromFile.current.scrollback, 3000);
	});
});

describe('the README example', () => {
	it('is a valid config.toml', async () => {
		const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
		// The chat's example, in its section (the server's server.toml example comes earlier).
		const section = readme.slice(readme.indexOf('### Configuration'));
		const example = /```toml\n([\s\S]*?)```/.exec(section)?.[1];
		assert.ok(example !== undefined);
		const config = parseConfig(example);
		assert.equal(config.timestampFormat, '%H:%M:%S');
		assert.equal(config.notify.method, 'osc');
	});
});
