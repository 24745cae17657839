// The file transfers under way, per room tab, outside React (as the workspace
// is): the transfer bar draws them, /cancel stops the newest, and a /get
// asking whether to overwrite waits here for /overwrite or /cancel.

import type {Transfer, TransferProgress} from '../client/file-transfer.js';

export interface TransferEntry {
	readonly owner: object;
	readonly transfer: Transfer<unknown>;
	progress: TransferProgress;
}

/** Redraws at most this often for progress alone. */
const PROGRESS_FRAME_MS = 100;

export class TransferBoard {
	private readonly entries: TransferEntry[] = [];
	private readonly questions = new Map<object, (yes: boolean) => void>();
	private readonly listeners = new Set<() => void>();
	private changes = 0;
	private timer: NodeJS.Timeout | undefined;

	get version(): number {
		return this.changes;
	}

	readonly subscribe = (listener: () => void): (() => void) => {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	};

	/** The transfers of one tab, oldest first. */
	of(owner: object | undefined): readonly TransferEntry[] {
		return this.entries.filter((entry) => entry.owner === owner);
	}

	add(owner: object, transfer: Transfer<unknown>): void {
		const entry: TransferEntry = {owner, transfer, progress: transfer.progress};
		this.entries.push(entry);
		const off = transfer.onProgress((progress) => {
			entry.progress = progress;
			this.soon();
		});
		const done = () => {
			off();
			const index = this.entries.indexOf(entry);
			if (index >= 0) this.entries.splice(index, 1);
			this.changed();
		};
		transfer.result.then(done, done);
		this.changed();
	}

	/** Cancels the tab's newest transfer (or says no to its question); false when there is none. */
	cancelNewest(owner: object): boolean {
		if (this.answer(owner, false)) return true;
		const entry = this.of(owner).at(-1);
		if (!entry) return false;
		entry.transfer.cancel();
		return true;
	}

	/** Waits for /overwrite (true) or /cancel (false) in that tab. */
	ask(owner: object): Promise<boolean> {
		this.answer(owner, false); // an older question is a no
		return new Promise((resolve) => this.questions.set(owner, resolve));
	}

	answer(owner: object, yes: boolean): boolean {
		const resolve = this.questions.get(owner);
		if (!resolve) return false;
		this.questions.delete(owner);
		resolve(yes);
		return true;
	}

	dispose(): void {
		for (const entry of [...this.entries]) entry.transfer.cancel();
		for (const owner of [...this.questions.keys()]) this.answer(owner, false);
		clearTimeout(this.timer);
	}

	private soon(): void {
		if (this.timer !== undefined) return;
		this.timer = setTimeout(() => {
			this.timer = undefined;
			this.changed();
		}, PROGRESS_FRAME_MS);
		this.timer.unref();
	}

	private changed(): void {
		this.changes++;
		for (const listener of [...this.listeners]) listener();
	}
}
