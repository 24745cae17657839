// Replacing a file so that a crash or a concurrent reader never sees half of
// it: the content goes to a temporary file beside it, is flushed to disk
// (fsync), and is renamed over the old file; the directory is flushed too, so
// the rename itself survives a power cut.

import {randomBytes} from 'node:crypto';
import {type FileHandle, open, rename, rm, stat} from 'node:fs/promises';
import {dirname} from 'node:path';

export interface AtomicWriteOptions {
	/** The permissions of a new file (default 0o600: only its owner reads it). */
	readonly mode?: number;
	/** Give the file `mode` even when it exists already with other permissions (default: an existing file keeps its own). */
	readonly forceMode?: boolean;
}

async function existingMode(path: string): Promise<number | undefined> {
	try {
		return (await stat(path)).mode & 0o7777;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
}

/** Flushes a directory's entries; some platforms (Windows) cannot open a directory, and need not. */
async function syncDirectory(directory: string): Promise<void> {
	let handle: FileHandle | undefined;
	try {
		handle = await open(directory, 'r');
		await handle.sync();
	} catch {
		// best effort: the file itself is on disk already
	} finally {
		await handle?.close();
	}
}

export async function writeFileAtomically(
	path: string,
	content: string | Uint8Array,
	{mode = 0o600, forceMode = false}: AtomicWriteOptions = {},
): Promise<void> {
	const fileMode = (forceMode ? undefined : await existingMode(path)) ?? mode;
	const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
	let handle: FileHandle | undefined;
	try {
		handle = await open(temporary, 'wx', fileMode);
		await handle.chmod(fileMode); // open's mode is narrowed by the umask
		await handle.writeFile(content);
		await handle.sync();
		await handle.close();
		handle = undefined;
		await rename(temporary, path);
	} catch (error) {
		await handle?.close();
		await rm(temporary, {force: true});
		throw error;
	}
	await syncDirectory(dirname(path));
}
