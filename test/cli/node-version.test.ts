// The entry point on a Node too old for Parley: one sentence and exit 2, not a
// stack trace from node:sqlite. Runs the built executable with an old Node of
// this machine when there is one (the project's own Node is 24).
import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, test} from 'node:test';
import {nodeVersionProblem} from '../../source/cli/node-version.js';

const ENTRY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../parley.js');

/** A `node` on PATH (or a usual place) older than 22.13, with its version. */
function oldNode(): {file: string; version: string} | undefined {
	const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/bin', '/usr/bin'];
	for (const dir of dirs) {
		const file = path.join(dir, 'node');
		if (dir === '' || !existsSync(file)) continue;
		try {
			const version = execFileSync(file, ['-p', 'process.versions.node'], {encoding: 'utf8'}).trim();
			if (nodeVersionProblem(version) !== undefined) return {file, version};
		} catch {
			// Not runnable: try the next.
		}
	}
	return undefined;
}

describe('Node version check', () => {
	test('versions before 22.13 are refused with the version found, later ones pass', () => {
		assert.equal(nodeVersionProblem('20.20.2'), 'Parley needs Node ≥ 22.13 (found 20.20.2)');
		assert.match(nodeVersionProblem('22.12.0') ?? '', /found 22\.12\.0/);
		assert.equal(nodeVersionProblem('22.13.0'), undefined);
		assert.equal(nodeVersionProblem('23.0.0'), undefined);
		assert.equal(nodeVersionProblem('24.11.1'), undefined);
	});

	const old = oldNode();
	test('parley --help on an old Node says which version it needs, with exit status 2', {
		skip: old === undefined ? 'no Node older than 22.13 on this machine' : false,
	}, () => {
		const {file, version} = old!;
		const result = spawnSync(file, [ENTRY, '--help'], {encoding: 'utf8', timeout: 20_000});
		assert.equal(result.stderr, `Parley needs Node ≥ 22.13 (found ${version})\n`);
		assert.equal(result.stdout, '');
		assert.equal(result.status, 2);
	});

	test('on the project Node the same entry point runs Parley', () => {
		const result = spawnSync(process.execPath, [ENTRY, '--help'], {encoding: 'utf8', timeout: 20_000});
		assert.equal(result.status, 0, result.stderr);
		assert.match(result.stdout, /Parley — a terminal chat room/);
	});
});
