// /away: while away, the first direct message from each sender (per room) is
// answered once with the away text; `/away` alone comes back and forgets who
// was answered. Others see it as an action line in every joined room ("* me is
// away: lunch", "* me is back"), which every client and server already shows.
// Plain code: the workspace feeds it the events of every tab.

import type {RoomClient, RoomEvent} from '../client/types.js';
import {notificationText} from './notify.js';

/** Characters an away text keeps at most (one line). */
export const MAX_AWAY_TEXT = 200;

export class AwayState {
	private text: string | undefined;
	/** "url\0nick" of every sender answered since going away. */
	private readonly answered = new Set<string>();

	get message(): string | undefined {
		return this.text;
	}

	/** Goes away with `text` (blank: comes back); returns the one-line text kept, or undefined when back. */
	set(text: string): string | undefined {
		const clean = notificationText(text, MAX_AWAY_TEXT);
		this.answered.clear();
		this.text = clean === '' ? undefined : clean;
		return this.text;
	}

	/** Answers a direct message to us while away, once per sender and room. True when it did. */
	answer(client: RoomClient, event: RoomEvent): boolean {
		if (this.text === undefined || event.type !== 'direct' || event.self) return false;
		const key = `${client.url}\u0000${event.from.toLowerCase()}`;
		if (this.answered.has(key)) return false;
		this.answered.add(key);
		client.direct(event.from, `[away] ${this.text}`).catch(() => undefined);
		return true;
	}
}
