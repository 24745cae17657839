import assert from 'node:assert/strict';
import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, test} from 'node:test';
import {defaultKnownHostsPath, KnownHosts} from '../../source/client/known-hosts.js';

const FIRST = 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU';
const SECOND = 'SHA256:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg';

describe('known hosts (trust on first use)', () => {
	let dir: string;
	before(async () => {
		dir = await mkdtemp(join(tmpdir(), 'parley-known-hosts-'));
	});
	after(async () => {
		await rm(dir, {recursive: true, force: true});
	});

	test('new → remember → known → changed', async () => {
		const hosts = new KnownHosts(join(dir, 'nested', 'parley', 'known_hosts'));
		assert.equal(await hosts.check('chat.example:7000', FIRST), 'new');
		await hosts.remember('chat.example:7000', FIRST);
		assert.equal(await hosts.check('chat.example:7000', FIRST), 'known');
		assert.equal(await hosts.check('CHAT.example:7000', FIRST), 'known');
		assert.deepEqual(await hosts.check('chat.example:7000', SECOND), {changed: FIRST});
		assert.equal(await hosts.check('chat.example:7001', SECOND), 'new');
		assert.equal((await stat(hosts.path)).mode & 0o777, 0o600);
	});

	test('remember replaces the old entry and keeps the others', async () => {
		const path = join(dir, 'replace', 'known_hosts');
		const hosts = new KnownHosts(path);
		await hosts.remember('a:1', FIRST);
		await hosts.remember('[::1]:7000', FIRST);
		await hosts.remember('a:1', SECOND);
		assert.equal(await readFile(path, 'utf8'), `[::1]:7000 ${FIRST}\na:1 ${SECOND}\n`);
		assert.equal(await hosts.check('a:1', SECOND), 'known');
		assert.equal(await hosts.check('[::1]:7000', FIRST), 'known');
	});

	test('comments and blank lines in a hand-edited file are tolerated', async () => {
		const path = join(dir, 'edited');
		await writeFile(path, `# my servers\n\nhome:7000   ${FIRST}\ngarbage\n`);
		const hosts = new KnownHosts(path);
		assert.equal(await hosts.check('home:7000', FIRST), 'known');
		await hosts.remember('work:7000', SECOND);
		assert.match(await readFile(path, 'utf8'), /^# my servers\n/);
	});

	test('malformed input is refused rather than written', async () => {
		const hosts = new KnownHosts(join(dir, 'refuse'));
		await assert.rejects(hosts.remember('a b:1', FIRST));
		await assert.rejects(hosts.remember('a:1', 'md5:xyz'));
		await assert.rejects(hosts.remember('a:1', `${FIRST}\nevil:1 ${SECOND}`));
	});

	test('the default path follows XDG_CONFIG_HOME, else ~/.config', () => {
		assert.equal(defaultKnownHostsPath({XDG_CONFIG_HOME: '/x/cfg'}, '/home/u'), '/x/cfg/parley/known_hosts');
		assert.equal(defaultKnownHostsPath({}, '/home/u'), '/home/u/.config/parley/known_hosts');
	});
});
