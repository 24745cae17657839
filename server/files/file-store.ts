// The bytes of shared files in the server's data directory: finished files
// under their SHA-256 (`files/<sha256>`), uploads in progress under an id the
// server chose (`files/uploads/<id>.part`). Nothing a client sends becomes
// part of a path: names are metadata only.

import {createHash, randomBytes} from 'node:crypto';
import {createReadStream, closeSync, fstatSync, openSync, writeSync} from 'node:fs';
import {mkdir, mkdtemp, rename, rm, stat} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

export class FileStore {
	private constructor(
		readonly dir: string,
		private readonly temporary: boolean,
	) {}

	/** Under `dataDir/files`; without a data directory (tests), in a temporary directory removed on close. */
	static async open(dataDir: string | undefined): Promise<FileStore> {
		const dir = dataDir ? join(dataDir, 'files') : await mkdtemp(join(tmpdir(), 'parley-files-'));
		// Upload sessions live in memory: part files from before a restart can never be resumed.
		await rm(join(dir, 'uploads'), {recursive: true, force: true});
		await mkdir(join(dir, 'uploads'), {recursive: true});
		return new FileStore(dir, dataDir === undefined);
	}

	/** A fresh upload id (also its part file's name). */
	newUploadId(): string {
		return randomBytes(12).toString('base64url');
	}

	/** A fresh shared-file id. */
	newFileId(): string {
		return randomBytes(9).toString('base64url');
	}

	partPath(upload: string): string {
		return join(this.dir, 'uploads', `${upload}.part`);
	}

	blobPath(sha256: string): string {
		return join(this.dir, sha256);
	}

	/** Opens an upload's part file for appending; returns the descriptor and the bytes already there. */
	openPart(upload: string): {fd: number; size: number} {
		const fd = openSync(this.partPath(upload), 'a');
		return {fd, size: fstatSync(fd).size};
	}

	/** Synchronous on purpose: chunks are small, and ordering them needs no queue. */
	append(fd: number, data: Buffer): void {
		writeSync(fd, data);
	}

	closeFd(fd: number): void {
		try {
			closeSync(fd);
		} catch {
			// already closed
		}
	}

	async removePart(upload: string): Promise<void> {
		await rm(this.partPath(upload), {force: true});
	}

	/** The SHA-256 (hex) of an upload's part file. */
	hashPart(upload: string): Promise<string> {
		return hashFile(this.partPath(upload));
	}

	/** Moves a verified upload to its content name (identical content just replaces itself). */
	async keep(upload: string, sha256: string): Promise<void> {
		await rename(this.partPath(upload), this.blobPath(sha256));
	}

	async hasBlob(sha256: string, size: number): Promise<boolean> {
		return (await stat(this.blobPath(sha256)).catch(() => undefined))?.size === size;
	}

	async close(): Promise<void> {
		if (this.temporary) await rm(this.dir, {recursive: true, force: true});
	}
}

export function hashFile(path: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const hash = createHash('sha256');
		createReadStream(path)
			.on('data', (chunk) => hash.update(chunk))
			.on('error', reject)
			.on('end', () => resolve(hash.digest('hex')));
	});
}
