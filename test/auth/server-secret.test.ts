import assert from 'node:assert/strict';
import {mkdtemp, rm, stat} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {test} from 'node:test';
import {loadOrCreateServerSecret, SERVER_SECRET_FILE} from '../../server/auth/server-secret.js';

test('the fake-salt secret is created once, privately, and survives restarts', async () => {
	const dir = await mkdtemp(join(tmpdir(), 'parley-secret-'));
	try {
		const [a, b] = await Promise.all([loadOrCreateServerSecret(dir), loadOrCreateServerSecret(dir)]);
		assert.equal(a.length, 32);
		assert.deepEqual(a, b, 'racing starts agree on one secret');
		assert.deepEqual(await loadOrCreateServerSecret(dir), a);
		assert.equal((await stat(join(dir, SERVER_SECRET_FILE))).mode & 0o777, 0o600);
	} finally {
		await rm(dir, {recursive: true, force: true});
	}
});
