// The nick (UDP) or user name (TCP) last used in each room, so the chat does
// not ask again on every start: `last-nicks.json` in Parley's config directory,
// `{"udp://127.0.0.1:7667": "alice"}`. Best effort: an unreadable file is an
// empty one, and a failed write only costs the question next time.

import {readFileSync} from 'node:fs';
import {rename, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {configDir} from '../cli/paths.js';
import type {RoomClient} from './types.js';

/** Rooms remembered at most; the oldest go first (a file that never grows without bound). */
const MAX_ROOMS = 200;

export class LastNicks {
	private readonly nicks: Map<string, string>;
	private writing: Promise<void> = Promise.resolve();

	constructor(readonly file: string = path.join(configDir(), 'last-nicks.json')) {
		this.nicks = new Map(Object.entries(readNicks(file)));
	}

	get(url: string): string | undefined {
		return this.nicks.get(url);
	}

	/** Remembers `nick` for `url` and writes the file (in order, atomically: rename over the old one). */
	remember(url: string, nick: string): Promise<void> {
		if (this.nicks.get(url) === nick) return this.writing;
		this.nicks.delete(url); // re-inserted last: Map order is recency
		this.nicks.set(url, nick);
		while (this.nicks.size > MAX_ROOMS) this.nicks.delete(this.nicks.keys().next().value as string);
		const text = `${JSON.stringify(Object.fromEntries(this.nicks), null, 2)}\n`;
		this.writing = this.writing.then(async () => {
			const temporary = `${this.file}.${process.pid}.tmp`;
			try {
				await writeFile(temporary, text, {mode: 0o600});
				await rename(temporary, this.file);
			} catch {
				// Best effort (e.g. no config directory yet and none creatable).
			}
		});
		return this.writing;
	}

	/** Keeps the nick `client` joins with (or changes to) from now on. Returns unsubscribe. */
	follow(client: RoomClient): () => void {
		return client.subscribe((event) => {
			if (event.type === 'nick') void this.remember(client.url, event.nick);
		});
	}

	/** Resolves once every write so far is done. */
	flush(): Promise<void> {
		return this.writing;
	}
}

function readNicks(file: string): Record<string, string> {
	try {
		const value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
		if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
		return Object.fromEntries(
			Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
		);
	} catch {
		return {};
	}
}
