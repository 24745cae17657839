// The pid file of a running `parley serve`: `serve.pid` in its data directory,
// JSON with the pid, the ports it bound and its certificate's fingerprint. It
// is claimed exclusively before the servers bind (so two servers never share a
// data directory), completed once they listen, and removed when they stop. The
// local chat reads it to find (or start) the background server; `serve
// --status|--stop` read it too. A record whose process is gone is stale and
// ignored; a pid since reused by another process is told apart by its start time.

import {readFileSync} from 'node:fs';
import {open, readFile, rename, unlink, writeFile} from 'node:fs/promises';
import path from 'node:path';

export interface ServerRecord {
	readonly pid: number;
	/** The process's start time (processStartTime), when the system tells. */
	readonly start?: string;
	/** Unset while the servers are still starting. */
	readonly host?: string;
	readonly udpPort?: number;
	readonly tcpPort?: number;
	/** The TLS certificate's fingerprint (none in plaintext mode). */
	readonly fingerprint?: string;
	readonly startedAt?: string;
}

/** A record of a server that listens (all ports known). */
export type ListeningRecord = ServerRecord & {host: string; udpPort: number; tcpPort: number};

export const isListening = (record: ServerRecord): record is ListeningRecord =>
	record.host !== undefined && record.udpPort !== undefined && record.tcpPort !== undefined;

export function serverRecordPath(dataDir: string): string {
	return path.join(dataDir, 'serve.pid');
}

/**
 * When a process started (clock ticks since boot, Linux /proc), to tell a
 * server from a later process that was given its pid. Undefined elsewhere.
 */
export function processStartTime(pid: number): string | undefined {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		// Field 22; the name in parentheses (field 2) may contain spaces, so count after it.
		return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
	} catch {
		return undefined;
	}
}

/** Whether the server of `record` still runs (not a process that inherited its pid). */
export function isServeProcess(record: {pid: number; start?: string | undefined}): boolean {
	try {
		process.kill(record.pid, 0);
	} catch {
		// ESRCH: gone. EPERM: alive but another user's, so not a server this user started.
		return false;
	}
	if (record.start === undefined) return true;
	const start = processStartTime(record.pid);
	return start === undefined || start === record.start;
}

function parseRecord(text: string): ServerRecord | undefined {
	try {
		const value = JSON.parse(text) as Partial<ServerRecord> | null;
		if (typeof value?.pid !== 'number' || !Number.isInteger(value.pid) || value.pid <= 0) return undefined;
		return value as ServerRecord;
	} catch {
		return undefined;
	}
}

/** The record of the live server of this data directory, or undefined (none, unreadable or stale). */
export async function readServerRecord(dataDir: string): Promise<ServerRecord | undefined> {
	let text: string;
	try {
		text = await readFile(serverRecordPath(dataDir), 'utf8');
	} catch {
		return undefined;
	}
	const record = parseRecord(text);
	return record !== undefined && isServeProcess(record) ? record : undefined;
}

export class ServerRunningError extends Error {
	constructor(readonly record: ServerRecord) {
		super(
			`parley serve already runs for this data directory (pid ${record.pid}); parley serve --stop stops it`,
		);
	}
}

/**
 * Claims the data directory for this process: creates the pid file with only
 * our pid, replacing a stale one. Throws ServerRunningError if a live server has it.
 */
export async function claimServerRecord(dataDir: string, pid = process.pid): Promise<ServerRecord> {
	const file = serverRecordPath(dataDir);
	const start = processStartTime(pid);
	const claim: ServerRecord = {pid, ...(start === undefined ? {} : {start})};
	for (let attempt = 0; attempt < 3; attempt++) {
		try {
			const handle = await open(file, 'wx', 0o600);
			try {
				await handle.writeFile(`${JSON.stringify(claim)}\n`);
			} finally {
				await handle.close();
			}
			return claim;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
		}
		const existing = parseRecord(await readFile(file, 'utf8').catch(() => ''));
		if (existing !== undefined && existing.pid !== pid && isServeProcess(existing))
			throw new ServerRunningError(existing);
		await unlink(file).catch(() => undefined); // stale (or half-written): take it over
	}
	throw new Error(`cannot claim ${file}`);
}

/** Replaces our record with the full one once the servers listen (write, then rename: readers never see half). */
export async function completeServerRecord(dataDir: string, record: ListeningRecord): Promise<void> {
	const file = serverRecordPath(dataDir);
	const temporary = `${file}.${record.pid}.tmp`;
	await writeFile(temporary, `${JSON.stringify(record)}\n`, {mode: 0o600});
	await rename(temporary, file);
}

/** Removes the pid file if it is still ours (a successor's stays). */
export async function releaseServerRecord(dataDir: string, pid = process.pid): Promise<void> {
	const file = serverRecordPath(dataDir);
	const record = parseRecord(await readFile(file, 'utf8').catch(() => ''));
	if (record?.pid === pid) await unlink(file).catch(() => undefined);
}

/** How `parley serve` exits besides 0 (done), 1 (error) and 2 (usage). */
export const SERVE_EXIT = {
	/** --status: no server runs for the data directory. */
	notRunning: 3,
	/** A port is taken (another server listens there). */
	addressInUse: 4,
	/** Another `parley serve` has the data directory. */
	alreadyRunning: 5,
} as const;
