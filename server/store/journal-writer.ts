// Where the local journal's writes run. A journal on disk has a writer thread
// with a connection of its own (WAL: the main thread's connection reads what
// it committed), so the group commit's fsync never blocks the event loop. An
// in-memory journal (tests) cannot be shared across threads: it writes on the
// main thread, at once.

import type {DatabaseSync} from 'node:sqlite';
import {MessageChannel, type MessagePort, receiveMessageOnPort, Worker} from 'node:worker_threads';
import type {WriterAnswer, WriterRequest, WriterThreadData} from './journal-writer-thread.js';
import {type JournalWrite, JournalWrites} from './journal-writes.js';

export interface JournalWriter {
	/** Runs the write after those asked for before it; settles once it is done (a group: on disk). */
	run(write: JournalWrite): Promise<void>;
	/** Runs the write and everything before it now, blocking until done; throws its error. */
	runNow(write: JournalWrite): void;
	/** Blocks until every write asked for so far is done (their promises settle after this turn). */
	flush(): void;
	/** Flushes, then closes the writer's connection. */
	close(): void;
}

/** The in-memory journal's writer: the main thread's own connection, at once. */
export class DirectWriter implements JournalWriter {
	readonly #writes: JournalWrites;

	constructor(db: DatabaseSync, hold?: CommitHold) {
		this.#writes = new JournalWrites(db, hold?.gate);
	}

	run(write: JournalWrite): Promise<void> {
		try {
			this.#writes.run(write);
			return Promise.resolve();
		} catch (error) {
			return Promise.reject(error);
		}
	}

	runNow(write: JournalWrite): void {
		this.#writes.run(write);
	}

	flush(): void {}

	close(): void {
		this.#writes.close();
	}
}

/**
 * A test's hold on group commits: while held, a commit waits (at most 10 s)
 * where it runs; in the writer thread, the main thread goes on meanwhile.
 */
export class CommitHold {
	readonly gate = new Int32Array(new SharedArrayBuffer(8));

	hold(): void {
		Atomics.store(this.gate, 0, 1);
	}

	release(): void {
		Atomics.store(this.gate, 0, 0);
		Atomics.notify(this.gate, 0);
	}

	/** Group commits that have come to the hold. */
	get waiting(): number {
		return Atomics.load(this.gate, 1);
	}
}

interface Pending {
	done(): void;
	failed(error: unknown): void;
}

/** Longest a blocking flush (a commit, a close) waits for the writer thread. */
const FLUSH_LIMIT_MS = 15_000;

export class ThreadWriter implements JournalWriter {
	#next = 1;
	readonly #pending = new Map<number, Pending>();
	#closed = false;

	private constructor(
		private readonly port: MessagePort,
		private readonly answered: Int32Array,
	) {
		port.on('message', (answer: WriterAnswer) => this.#settle(answer));
		// A crashed thread answers nothing more: its writes fail.
		port.on('close', () => {
			this.#closed = true;
			for (const [id] of this.#pending)
				this.#settle({id, error: new Error('the local journal writer stopped')});
		});
		port.unref(); // only pending writes keep the process (see #settle)
	}

	/** Starts the writer thread on the journal file (created, with its tables, by the caller). */
	static async start(path: string, hold?: CommitHold): Promise<ThreadWriter> {
		const {port1, port2} = new MessageChannel();
		const answered = new Int32Array(new SharedArrayBuffer(4));
		const data: WriterThreadData = {path, port: port2, answered, ...(hold ? {hold: hold.gate} : {})};
		const worker = new Worker(new URL('./journal-writer-thread.js', import.meta.url), {
			workerData: data,
			transferList: [port2],
		});
		worker.unref();
		const ready = await new Promise<WriterAnswer>((resolve, reject) => {
			port1.once('message', resolve);
			worker.once('error', reject);
		});
		if (ready.error !== undefined) {
			port1.close();
			throw Object.assign(new Error(ready.error.message), ready.error);
		}
		return new ThreadWriter(port1, answered);
	}

	#ask(write: WriterRequest['write'], pending: Pending): void {
		if (this.#closed) {
			pending.failed(new Error('the local journal is closed'));
			return;
		}
		const id = this.#next++;
		if (this.#pending.size === 0) this.port.ref();
		this.#pending.set(id, pending);
		this.port.postMessage({id, write} satisfies WriterRequest);
	}

	#settle({id, error}: WriterAnswer): void {
		const pending = this.#pending.get(id);
		if (pending === undefined) return;
		this.#pending.delete(id);
		if (this.#pending.size === 0) this.port.unref();
		if (error === undefined) pending.done();
		else pending.failed(Object.assign(new Error(error.message), error));
	}

	run(write: JournalWrite): Promise<void> {
		return new Promise((resolve, reject) => this.#ask(write, {done: resolve, failed: reject}));
	}

	runNow(write: JournalWrite): void {
		let outcome: {error: unknown} | undefined;
		this.#ask(write, {done: () => {}, failed: (error) => (outcome = {error})});
		this.flush();
		if (outcome !== undefined) throw outcome.error;
	}

	flush(): void {
		// Blocking, so bounded: a thread that died mid-write (its port's close is never heard
		// while we block) must not hang the server; its writes fail instead.
		const deadline = Date.now() + FLUSH_LIMIT_MS;
		while (this.#pending.size > 0 && !this.#closed) {
			const seen = Atomics.load(this.answered, 0);
			for (let got = receiveMessageOnPort(this.port); got; got = receiveMessageOnPort(this.port))
				this.#settle(got.message as WriterAnswer);
			if (this.#pending.size === 0) break;
			if (Date.now() > deadline) {
				this.#closed = true;
				for (const [id] of this.#pending)
					this.#settle({id, error: new Error('the local journal writer is not answering')});
				break;
			}
			Atomics.wait(this.answered, 0, seen, 1000);
		}
	}

	close(): void {
		if (this.#closed) return;
		this.#ask('close', {done: () => {}, failed: () => {}});
		this.flush();
		this.#closed = true;
		this.port.close();
	}
}
