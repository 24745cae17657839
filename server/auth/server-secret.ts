// The secret that seeds fake SCRAM salts for unknown users. It must outlive
// restarts: a fake salt that changed on restart, beside real salts that do
// not, would reveal which names have accounts.

import {randomBytes} from 'node:crypto';
import {link, mkdir, readFile, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';

export const SERVER_SECRET_FILE = 'server-secret';
const SECRET_BYTES = 32;

async function readSecret(path: string): Promise<Buffer | undefined> {
	try {
		const secret = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
		if (secret.length < SECRET_BYTES) throw new Error(`${path} is damaged (too short)`);
		return secret;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
		return undefined;
	}
}

export async function loadOrCreateServerSecret(dataDir: string): Promise<Buffer> {
	const path = join(dataDir, SERVER_SECRET_FILE);
	const existing = await readSecret(path);
	if (existing !== undefined) return existing;
	await mkdir(dataDir, {recursive: true, mode: 0o700});
	const secret = randomBytes(SECRET_BYTES);
	const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
	try {
		await writeFile(temporary, `${secret.toString('base64')}\n`, {mode: 0o600, flag: 'wx'});
		// link() refuses to replace: if another process won the race, use its secret.
		await link(temporary, path);
		return secret;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
		const winner = await readSecret(path);
		if (winner === undefined) throw error;
		return winner;
	} finally {
		await rm(temporary, {force: true});
	}
}
