// The rooms that were open when the chat last quit, so `parley` with no
// arguments opens them again: `session.json` in Parley's state directory,
// `{"version": 1, "rooms": [{"url": "udp://…", "nick": "alice"}]}`. Best
// effort both ways: a missing or broken file is an empty session, and a
// failed write only costs the reopening.

import {mkdir, readFile} from 'node:fs/promises';
import path from 'node:path';
import * as v from 'valibot';
import {writeFileAtomically} from '../util/atomic-write.js';
import {stateDir} from './paths.js';

export interface SessionRoom {
	readonly url: string;
	/** The nick (UDP) or user name (TCP) used there. */
	readonly nick?: string | undefined;
	/** What the rooms config calls it. */
	readonly label?: string | undefined;
}

/** Rooms kept at most: a session file never grows without bound. */
const MAX_ROOMS = 50;
const MAX_FIELD = 1000;

const SessionSchema = v.object({
	version: v.literal(1),
	rooms: v.array(
		v.object({
			url: v.pipe(v.string(), v.maxLength(MAX_FIELD)),
			nick: v.optional(v.pipe(v.string(), v.maxLength(MAX_FIELD))),
			label: v.optional(v.pipe(v.string(), v.maxLength(MAX_FIELD))),
		}),
	),
});

export const sessionFile = (): string => path.join(stateDir(), 'session.json');

export async function loadSession(file: string = sessionFile()): Promise<SessionRoom[]> {
	try {
		const parsed = v.safeParse(SessionSchema, JSON.parse(await readFile(file, 'utf8')));
		return parsed.success ? parsed.output.rooms.slice(0, MAX_ROOMS) : [];
	} catch {
		return [];
	}
}

export async function saveSession(
	rooms: readonly SessionRoom[],
	file: string = sessionFile(),
): Promise<void> {
	const seen = new Set<string>();
	const kept = rooms.filter((room) => !seen.has(room.url) && seen.add(room.url)).slice(0, MAX_ROOMS);
	try {
		await mkdir(path.dirname(file), {recursive: true, mode: 0o700});
		await writeFileAtomically(file, `${JSON.stringify({version: 1, rooms: kept}, null, 2)}\n`);
	} catch {
		// Best effort: the next start just opens the local rooms.
	}
}
