// The local journal's writer thread: its own connection to the journal file
// runs every write (group commits with their fsync, "stored" marks, prunes) in
// the order the main thread sent them, and answers each; the main thread's
// event loop goes on reading and writing sockets meanwhile.

import {DatabaseSync} from 'node:sqlite';
import {type MessagePort, workerData} from 'node:worker_threads';
import {type JournalWrite, JournalWrites} from './journal-writes.js';

export interface WriterThreadData {
	path: string;
	port: MessagePort;
	/** [answers given]: the main thread waits on it when it must block (close, commit now). */
	answered: Int32Array;
	/** A test's hold on group commits ([held, commits waiting on it]); undefined in production. */
	hold?: Int32Array;
}

/** A write to run, or the last message: close the connection. */
export interface WriterRequest {
	id: number;
	write: JournalWrite | 'close';
}

export interface WriterAnswer {
	id: number;
	/** A failed write's error, with node:sqlite's details (a thread's Error crosses without them). */
	error?: {message: string; code?: unknown; errcode?: unknown; errstr?: unknown};
}

function details(error: unknown): WriterAnswer['error'] {
	if (!(error instanceof Error)) return {message: String(error)};
	const {code, errcode, errstr} = error as Error & Record<string, unknown>;
	return {message: error.message, code, errcode, errstr};
}

const {path, port, answered, hold} = workerData as WriterThreadData;

function answer(reply: WriterAnswer): void {
	port.postMessage(reply);
	Atomics.add(answered, 0, 1);
	Atomics.notify(answered, 0);
}

let writes: JournalWrites | undefined;
let db: DatabaseSync | undefined;
try {
	db = new DatabaseSync(path);
	// Per connection: the WAL is fsynced at every commit, so "written" means on disk.
	db.exec('PRAGMA synchronous = FULL');
	writes = new JournalWrites(db, hold);
	answer({id: 0});
} catch (error) {
	answer({id: 0, error: details(error)});
}

port.on('message', ({id, write}: WriterRequest) => {
	if (write === 'close') {
		writes?.close();
		db?.close();
		answer({id});
		port.close(); // nothing left to keep the thread: it ends
		return;
	}
	try {
		if (writes === undefined) throw new Error('the local journal writer did not open');
		writes.run(write);
		answer({id});
	} catch (error) {
		answer({id, error: details(error)});
	}
});
