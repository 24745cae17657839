// The data dir holds the server secret, the TLS key and the accounts: only
// its owner may list or enter it. mkdir's mode applies to new directories
// only, so one that already exists with looser bits (0755) is tightened.
import {chmod, mkdir, stat} from 'node:fs/promises';

/** Creates the directory 0700, or tightens an existing one; says when it had to. */
export async function ensurePrivateDataDir(dir: string, log: (line: string) => void): Promise<void> {
	await mkdir(dir, {recursive: true, mode: 0o700});
	const {mode} = await stat(dir);
	if ((mode & 0o077) === 0) return;
	await chmod(dir, 0o700);
	log(`data dir ${dir} was mode ${(mode & 0o777).toString(8)}; tightened to 700`);
}
