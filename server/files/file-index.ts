// Where shared files' metadata lives: the same store as the messages (SQLite
// or MySQL, table parley_files), so shared files survive a restart. The bytes
// are in the data directory under their SHA-256 (file-store.ts).

import type {AccountStore} from '../store/account-store.js';

export interface StoredFile {
	id: string;
	/** The room's key. */
	room: string;
	name: string;
	size: number;
	sha256: string;
	/** The uploading account. */
	from: string;
	/** Shared with this one member only. */
	to?: string;
	ts: number;
}

export interface FileIndex {
	addFile(file: StoredFile): Promise<void>;
	getFile(id: string): Promise<StoredFile | undefined>;
	/** The newest `limit` files of a room, oldest first. */
	roomFiles(room: string, limit: number): Promise<StoredFile[]>;
	/** Bytes of all files an account has shared (its quota use). */
	uploadedBytes(user: string): Promise<number>;
}

/** The store's file index; stores without one (test stubs) get one in memory. */
export function fileIndexOf(store: AccountStore): FileIndex {
	const candidate = store as Partial<FileIndex>;
	if (typeof candidate.addFile === 'function') return store as unknown as FileIndex;
	return new MemoryFileIndex();
}

class MemoryFileIndex implements FileIndex {
	readonly #files = new Map<string, StoredFile>();

	async addFile(file: StoredFile): Promise<void> {
		this.#files.set(file.id, file);
	}

	async getFile(id: string): Promise<StoredFile | undefined> {
		return this.#files.get(id);
	}

	async roomFiles(room: string, limit: number): Promise<StoredFile[]> {
		return [...this.#files.values()].filter((file) => file.room === room).slice(-limit);
	}

	async uploadedBytes(user: string): Promise<number> {
		let total = 0;
		for (const file of this.#files.values()) if (file.from === user) total += file.size;
		return total;
	}
}
