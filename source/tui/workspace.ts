// Every open room (one RoomTab each) and which one is on screen. Framework-free:
// the screen subscribes (use-workspace.ts) and draws the active tab; the tabs
// that are not shown keep receiving and counting what the user has not seen.

import type {RoomClient, RoomEvent} from '../client/types.js';
import {roomKey, roomLabel} from '../protocol/names.js';
import {errorMessage} from '../util/error-message.js';
import {AwayState} from './away.js';
import {RoomTab, type RoomTabOptions} from './room-tab.js';

/** Stops something attached to a tab's room (its log file); resolves when done, never rejects. */
export type Detach = () => Promise<void>;

export interface WorkspaceOptions {
	readonly scrollbackCap?: number | undefined;
	/** Someone named us, or sent us a direct message, in any room (shown or not): the bell. */
	readonly onMention?: ((tab: RoomTab, event: RoomEvent) => void) | undefined;
	/**
	 * Called for every tab as it opens (those opened later with /connect too),
	 * e.g. to log the room to a file (--log-dir). The returned function runs
	 * when the tab closes, after its client has closed (so the log has the
	 * last line), and on closeAll / dispose.
	 */
	readonly attach?: ((tab: RoomTab) => Detach | undefined) | undefined;
	/** For every tab: whose messages are hidden, which words count as mentions (the config). */
	readonly isIgnored?: ((nick: string) => boolean) | undefined;
	readonly highlightWords?: (() => readonly string[]) | undefined;
	/**
	 * What arrives from the rooms is drawn at most once per this many ms (one
	 * redraw for a whole burst instead of one per line, so a flood leaves time
	 * for the keys); 0 (the default) tells subscribers at once. Keys and other
	 * local changes are always told at once, with whatever arrived meanwhile.
	 */
	readonly arrivalFrameMs?: number | undefined;
}

export interface OpenOptions extends RoomTabOptions {
	/** Show the new tab at once (default true). */
	readonly activate?: boolean | undefined;
	/** Start the join the options ask for now (default), or leave it to `startPendingJoins()`. */
	readonly joinNow?: boolean | undefined;
}

export class Workspace {
	private list: RoomTab[] = [];
	private activeAt = 0;
	private changes = 0;
	private nextId = 1;
	private readonly listeners = new Set<() => void>();
	private readonly detachers = new Map<RoomTab, Detach>();
	/** /away, for every room: answers direct messages while set. */
	readonly away = new AwayState();

	constructor(private readonly options: WorkspaceOptions = {}) {}

	get tabs(): readonly RoomTab[] {
		return this.list;
	}

	get active(): RoomTab | undefined {
		return this.list[this.activeAt];
	}

	get activeIndex(): number {
		return this.activeAt;
	}

	/** Bumped by every change in any tab: the snapshot React compares. */
	get version(): number {
		return this.changes;
	}

	subscribe(listener: () => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	private arrivalTimer: NodeJS.Timeout | undefined;

	private readonly changed = (): void => {
		this.changes++;
		this.notify();
	};

	/** A room event changed a tab: told at the next arrival frame. */
	private readonly arrived = (): void => {
		const frame = this.options.arrivalFrameMs ?? 0;
		if (frame <= 0) return this.changed();
		this.changes++;
		if (this.arrivalTimer === undefined) {
			this.arrivalTimer = setTimeout(this.notify, frame);
			this.arrivalTimer.unref();
		}
	};

	private readonly notify = (): void => {
		clearTimeout(this.arrivalTimer);
		this.arrivalTimer = undefined;
		for (const listener of [...this.listeners]) listener();
	};

	/** Adds a tab for `client` (at the end) and subscribes to it. */
	open(client: RoomClient, options: OpenOptions = {}): RoomTab {
		const {onMention} = this.options;
		const tab: RoomTab = new RoomTab(
			this.nextId++,
			client,
			{
				...options,
				scrollbackCap: options.scrollbackCap ?? this.options.scrollbackCap,
				onMention: (event) => {
					this.away.answer(tab.client, event);
					if (onMention === undefined) options.onMention?.(event);
					else onMention(tab, event);
				},
				isIgnored: options.isIgnored ?? this.options.isIgnored,
				highlightWords: options.highlightWords ?? this.options.highlightWords,
				onSessionRooms: (rooms) => this.openSessionRooms(tab, rooms),
			},
			this.changed,
			this.arrived,
		);
		this.attachTo(tab);
		this.list = [...this.list, tab];
		if (options.activate !== false || this.list.length === 1) this.activate(this.list.length - 1);
		else this.changed();
		if (options.joinNow !== false) tab.startPendingJoin();
		return tab;
	}

	/** Starts the joins of tabs opened with `joinNow: false` (once the UI can answer trust questions). */
	startPendingJoins(): void {
		for (const tab of this.list) tab.startPendingJoin();
	}

	/** Shows the tab at `index` (0-based); false when there is none. */
	activate(index: number): boolean {
		const tab = this.list[index];
		if (tab === undefined) return false;
		this.activeAt = index;
		for (const other of this.list) if (other !== tab) other.setVisible(false);
		tab.setVisible(true);
		this.changed();
		return true;
	}

	/** The next (+1) or previous (-1) tab, wrapping around. */
	cycle(step: number): void {
		const count = this.list.length;
		if (count > 1) this.activate((((this.activeAt + step) % count) + count) % count);
	}

	/**
	 * /away TEXT in every room (blank: back): joined rooms see it as an action
	 * line, and the tab on screen says what happened.
	 */
	setAway(text: string): void {
		const wasAway = this.away.message !== undefined;
		const away = this.away.set(text);
		if (away === undefined && !wasAway) {
			this.active?.notice('you are not away');
			return;
		}
		for (const tab of this.list) {
			// A server that knows away tells the others itself (and after a reconnect too).
			if (tab.client.setAway?.(away) === true) continue;
			if (tab.join.phase !== 'joined' || tab.client.state === 'closed') continue;
			tab.client
				.say(away === undefined ? 'is back' : `is away: ${away}`, {action: true})
				.catch(() => undefined);
		}
		this.active?.notice(
			away === undefined
				? 'you are back'
				: `you are away (${away}); direct messages get that answer once per sender`,
		);
		this.changed();
	}

	/** The tab of `room` (`#name`) on the same server as `near`, if it is open. */
	findRoom(near: RoomTab, room: string): RoomTab | undefined {
		const server = serverOf(near.client.url);
		const key = roomKey(room);
		return this.list.find((tab) => serverOf(tab.client.url) === server && tab.roomKey === key);
	}

	/**
	 * `/join #name`: opens `room` on the server (and login) of `origin` in a new
	 * tab, joining with origin's nick. A refused join closes the new tab again
	 * and says why in `origin`. Returns the error to show instead when it cannot.
	 */
	openSibling(origin: RoomTab, room: string, activate = true): RoomTab | string {
		const {client} = origin;
		if (client.sibling === undefined)
			return 'this server has one room only; /connect URL opens a room elsewhere';
		const {join} = origin;
		// A room still joining on a shared login already has what a sibling needs: the login and the nick.
		const sharedJoining = join.phase === 'joining' && origin.sharesLogin;
		const nick = origin.status.nick ?? client.nick ?? (sharedJoining ? join.nick : undefined);
		// A session's room list arrives while its first join is still settling: connected is enough.
		if (nick === undefined || (join.phase !== 'joined' && client.state !== 'connected' && !sharedJoining))
			return `join ${origin.name} first: ${roomLabel(room)} opens with the same login`;
		let sibling: RoomClient;
		try {
			sibling = client.sibling(roomLabel(room));
		} catch (error) {
			return errorMessage(error);
		}
		const tab = this.open(sibling, {nick, sharedLogin: true, activate, joinNow: false});
		void tab.connect(nick).then(() => {
			if (tab.join.phase !== 'ask') return;
			origin.error(`could not join ${roomLabel(room)}: ${tab.join.error ?? 'refused'}`);
			void this.close(tab);
		});
		return tab;
	}

	/** A new session of ours: the server listed the rooms the account is in; open the missing ones beside `origin`. */
	private openSessionRooms(origin: RoomTab, rooms: readonly string[]): void {
		const opened: string[] = [];
		for (const room of rooms) {
			if (origin.roomKey === roomKey(room) || this.findRoom(origin, room) !== undefined) continue;
			const tab = this.openSibling(origin, room, false);
			if (typeof tab === 'string') {
				origin.error(`could not reopen ${roomLabel(room)}: ${tab}`);
				return;
			}
			opened.push(roomLabel(room));
		}
		if (opened.length > 0) origin.notice(`reopened your rooms on this server: ${opened.join(', ')}`);
	}

	/** The tab of a room already open at this address, if any. */
	find(url: string): RoomTab | undefined {
		return this.list.find((tab) => tab.client.url === url);
	}

	private attachTo(tab: RoomTab): void {
		if (this.options.attach === undefined) return;
		try {
			const detach = this.options.attach(tab);
			if (detach !== undefined) this.detachers.set(tab, detach);
		} catch (error) {
			tab.error(errorMessage(error));
		}
	}

	/** Runs what `attach` returned for the tab, once. */
	private detach(tab: RoomTab): Promise<void> {
		const detach = this.detachers.get(tab);
		if (detach === undefined) return Promise.resolve();
		this.detachers.delete(tab);
		try {
			return detach().catch(() => undefined);
		} catch {
			return Promise.resolve();
		}
	}

	/** Removes the tab and closes its client; the neighbour on the left (or the new first tab) is shown. */
	close(tab: RoomTab): Promise<void> {
		const index = this.list.indexOf(tab);
		if (index === -1) return Promise.resolve();
		tab.dispose();
		this.list = this.list.filter((other) => other !== tab);
		if (this.list.length === 0) {
			this.activeAt = 0;
			this.changed();
		} else {
			const wasActive = index === this.activeAt;
			const next = index < this.activeAt || (wasActive && index > 0) ? this.activeAt - 1 : this.activeAt;
			this.activate(Math.min(next, this.list.length - 1));
		}
		return closeQuietly(tab.client).then(() => this.detach(tab));
	}

	/** Closes every room (quitting), then what was attached to each. The tabs stay listed, so the screen can say it is leaving. */
	closeAll(): Promise<void> {
		return Promise.all(this.list.map((tab) => closeQuietly(tab.client).then(() => this.detach(tab)))).then(
			() => undefined,
		);
	}

	/** Runs every tab's detach now (quitting without waiting for the clients: the log files still get flushed). */
	detachAll(): Promise<void> {
		return Promise.all([...this.detachers.keys()].map((tab) => this.detach(tab))).then(() => undefined);
	}

	/** Stops listening to every client without closing them (the screen went away); detaches what was attached. */
	dispose(): void {
		clearTimeout(this.arrivalTimer);
		for (const tab of this.list) tab.dispose();
		void this.detachAll();
	}
}

function closeQuietly(client: RoomClient): Promise<void> {
	try {
		return client.close().catch(() => undefined);
	} catch {
		return Promise.resolve();
	}
}

/** `scheme://host:port` of a room address: rooms with the same one share a server. */
export function serverOf(url: string): string {
	return /^[a-z]+:\/\/[^/#?]+/i.exec(url)?.[0] ?? url;
}
