import assert from 'node:assert/strict';
import {chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {writeFileAtomically} from '../../source/util/atomic-write.js';

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe('writeFileAtomically', {skip: process.platform === 'win32'}, () => {
	let directory: string;
	before(async () => {
		directory = await mkdtemp(join(tmpdir(), 'parley-atomic-'));
	});
	after(() => rm(directory, {recursive: true, force: true}));

	it('makes a new file readable by its owner only, whatever the umask', async () => {
		const path = join(directory, 'new');
		const umask = process.umask(0o277);
		try {
			await writeFileAtomically(path, 'first');
		} finally {
			process.umask(umask);
		}
		assert.equal(await readFile(path, 'utf8'), 'first');
		assert.equal(await modeOf(path), 0o600);
	});

	it('replaces the content and keeps the mode the file has', async () => {
		const path = join(directory, 'shared');
		await writeFile(path, 'old');
		await chmod(path, 0o640);
		await writeFileAtomically(path, 'new');
		assert.equal(await readFile(path, 'utf8'), 'new');
		assert.equal(await modeOf(path), 0o640);
	});

	it('gives the file the mode asked for with forceMode', async () => {
		const path = join(directory, 'key');
		await writeFile(path, 'old');
		await chmod(path, 0o644);
		await writeFileAtomically(path, 'secret', {mode: 0o600, forceMode: true});
		assert.equal(await modeOf(path), 0o600);
	});

	it('leaves no temporary file behind when it fails', async () => {
		// A non-empty directory where the file should go makes the rename fail after the temporary file was written.
		const blocked = join(directory, 'blocked');
		await mkdir(join(blocked, 'inside'), {recursive: true});
		await assert.rejects(writeFileAtomically(blocked, 'x'));
		assert.deepEqual(
			(await readdir(directory)).filter((name) => name.endsWith('.tmp')),
			[],
			'no temporary file is left',
		);
	});
});
