// One open room and everything the screen keeps for it: the log, the status,
// the join phase, the half-typed input with its history, the scroll position,
// a Tab completion being cycled, a search of the log, a question before a long
// multi-line draft is sent, and how much arrived while it was not shown. It subscribes to its client
// itself, so a room that is not on screen keeps receiving. No React here: the
// workspace (workspace.ts) owns the tabs and tells the UI when anything changed.

import {
	RoomError,
	type RoomClient,
	type RoomErrorCode,
	type RoomEvent,
	type RoomInfo,
	type RoomListing,
} from '../client/types.js';
import {roomKey} from '../protocol/names.js';
import {errorMessage} from '../util/error-message.js';
import type {CompletionSession} from './completion.js';
import {createLineState, reduceLine, type LineAction, type LineState} from './line-editor.js';
import {shouldRing} from './mentions.js';
import {applyRoomEvent, pageEntries, statusOf, type RoomStatus} from './room-events.js';
import {Scrollback} from './scrollback.js';
import {reduceSearch, type SearchState} from './search.js';

export type JoinState =
	| {phase: 'ask'; error?: string; code?: RoomErrorCode | undefined}
	| {phase: 'joining'; nick: string}
	| {phase: 'joined'};

export interface ScrollState {
	/** Rows up from the bottom; 0 follows new lines. */
	readonly offset: number;
	/** Newest entry id when `offset` was set: rows added later push the view so it stays put. */
	readonly anchorId: number;
	/** Newest entry id when the user left the bottom: newer chat lines count as "new below". */
	readonly seenId: number;
}

export const FOLLOWING: ScrollState = {offset: 0, anchorId: 0, seenId: 0};

/** Search mode in a room: the query, its matches, and the scroll to go back to on Esc. */
export type TabSearch = SearchState<ScrollState>;

/** How many older lines one scroll past the top asks the server for. */
export const PAGE_SIZE = 100;

export const BEGINNING_OF_ROOM = 'beginning of the room: nothing older is stored';

/** The /list picker: the server's rooms and the one the arrow keys are on. */
export interface RoomPickerState {
	readonly rooms: readonly RoomListing[];
	readonly index: number;
}

/** The question before a long multi-line draft goes out ("Send 12 lines as one message? [y/N]"). */
export interface SendQuestion {
	readonly lines: number;
}

/**
 * Half-typed fields of the nick prompt and the login form. The prompt
 * components read them when they mount and write every change back, so
 * switching away and back keeps what was typed.
 */
export interface PromptDrafts {
	nick?: LineState;
	user?: LineState;
	password?: LineState;
	focus?: 'user' | 'password';
}

export interface RoomTabOptions {
	/** Join with this nick (UDP), or prefill the login form's user name (TCP). */
	readonly nick?: string | undefined;
	/** With `nick`, for a room that needs a password: log in without the form. */
	readonly password?: string | undefined;
	readonly scrollbackCap?: number | undefined;
	/** The line the login form shows before any attempt, e.g. how to create an account. */
	readonly intro?: string | undefined;
	/** A name for the tab bar (e.g. from the rooms config); the server's room name otherwise. */
	readonly label?: string | undefined;
	/**
	 * Hears every event that names us or is a direct message to us (shouldRing,
	 * the rule that also marks the tab): the terminal bell (--bell). Shown or not.
	 */
	readonly onMention?: ((event: RoomEvent) => void) | undefined;
	/** Whose messages are not shown (the config's ignore list, /ignore): read at each message. */
	readonly isIgnored?: ((nick: string) => boolean) | undefined;
	/** Words that count as mentions besides our nick (highlight_words): read at each message. */
	readonly highlightWords?: (() => readonly string[]) | undefined;
	/**
	 * A room opened on the connection (and login) of another tab (`/join #name`,
	 * a session's rooms): joins with the nick alone, never shows the login form.
	 */
	readonly sharedLogin?: boolean | undefined;
	/** The server listed the rooms this account is in (a new session): open those not open yet. */
	readonly onSessionRooms?: ((rooms: readonly string[]) => void) | undefined;
}

/** Back to the prompt, saying why the last attempt failed. */
function askAgain(error: unknown): JoinState {
	return {
		phase: 'ask',
		error: errorMessage(error),
		code: error instanceof RoomError ? error.code : undefined,
	};
}

export class RoomTab {
	readonly log: Scrollback;
	readonly drafts: PromptDrafts = {};
	readonly intro: string | undefined;
	readonly label: string | undefined;
	/** The user name the login form starts with: the given nick, then the last one tried. */
	loginUser: string;
	/**
	 * The Tab completion being cycled (the next Tab offers the next match). The
	 * screen drops it on any other key; it also checks itself against the line.
	 * Nothing is drawn from it, so setting it needs no redraw.
	 */
	completion: CompletionSession | undefined;
	private currentStatus: RoomStatus;
	private joinState: JoinState;
	private lineState: LineState = createLineState();
	private scrollState: ScrollState = FOLLOWING;
	private unseen = 0;
	private mention = false;
	private shown = false;
	private closed = false;
	private pendingJoin: {nick: string; password: string | undefined} | undefined;
	/** The server check that runs while the login form waits for a password (see startPendingJoin). */
	private serverCheck: Promise<void> | undefined;
	private searchState: TabSearch | undefined;
	private question: SendQuestion | undefined;
	private readonly onMention: ((event: RoomEvent) => void) | undefined;
	private readonly isIgnored: (nick: string) => boolean;
	private readonly highlightWords: () => readonly string[];
	private hiddenCount = 0;
	private readonly unsubscribe: () => void;
	private readonly sharedLogin: boolean;
	private readonly onSessionRooms: ((rooms: readonly string[]) => void) | undefined;
	private roomInfo: RoomInfo | undefined;
	/** The server's read marker for us here (the newest seq read), once it told us one. */
	private readSeq: number | undefined;
	/** The newest seq we told the server we read (markRead). */
	private markedSeq = 0;
	/** Cache of the unread count from the read marker: [log version, readSeq, count]. */
	private unreadCache: [number, number, number] | undefined;
	private olderPending = false;
	private olderComplete = false;
	private picker: RoomPickerState | undefined;

	constructor(
		readonly id: number,
		readonly client: RoomClient,
		options: RoomTabOptions,
		/** Called after every change, so the UI can draw again. */
		private readonly changed: () => void,
		/** Called instead after a change a room event made (the workspace may draw those once per frame). */
		private readonly arrived: () => void = changed,
	) {
		this.log = new Scrollback(options.scrollbackCap);
		this.intro = options.intro;
		this.label = options.label;
		this.onMention = options.onMention;
		this.isIgnored = options.isIgnored ?? (() => false);
		this.highlightWords = options.highlightWords ?? (() => []);
		this.sharedLogin = options.sharedLogin === true;
		this.onSessionRooms = options.onSessionRooms;
		this.roomInfo = client.info;
		this.loginUser = options.nick ?? '';
		this.currentStatus = statusOf(client);
		const {nick, password} = options;
		if (client.state === 'connected' || client.state === 'reconnecting') this.joinState = {phase: 'joined'};
		else if (nick === undefined || (client.needsPassword && !this.sharedLogin && password === undefined))
			this.joinState = {phase: 'ask'};
		else {
			this.joinState = {phase: 'joining', nick};
			this.pendingJoin = {nick, password};
		}
		this.unsubscribe = client.subscribe((event) => this.onEvent(event));
	}

	get status(): RoomStatus {
		return this.currentStatus;
	}

	get join(): JoinState {
		return this.joinState;
	}

	/** Opened on another tab's login (/join #name, a session's rooms): it never asks for a password. */
	get sharesLogin(): boolean {
		return this.sharedLogin;
	}

	get line(): LineState {
		return this.lineState;
	}

	get scroll(): ScrollState {
		return this.scrollState;
	}

	/** Search mode (status 'active'), or undefined when the input line has the keys. */
	get search(): TabSearch | undefined {
		return this.searchState;
	}

	/** The question shown before a long draft is sent, if any. */
	get sendQuestion(): SendQuestion | undefined {
		return this.question;
	}

	/**
	 * Chat lines from others not read yet: above the server's read marker when
	 * it told us one (history replayed on joining included), else those that
	 * arrived while the tab was not shown. The tab on screen has none.
	 */
	get unread(): number {
		if (this.shown) return 0;
		if (this.readSeq === undefined) return this.unseen;
		const {version} = this.log;
		const cached = this.unreadCache;
		if (cached !== undefined && cached[0] === version && cached[1] === this.readSeq) return cached[2];
		const count = this.log.countMessagesAboveSeq(this.readSeq);
		this.unreadCache = [version, this.readSeq, count];
		return count;
	}

	/** The server's read marker here, if it told us one. */
	get readMarker(): number | undefined {
		return this.readSeq;
	}

	/** What the server last said about the room (topic, modes, roles); undefined on version-1 servers. */
	get info(): RoomInfo | undefined {
		return this.roomInfo;
	}

	/** The room's key ("dev" for "#Dev"), to tell whether a room is open already; undefined when unknown. */
	get roomKey(): string | undefined {
		const name = this.roomInfo?.name ?? this.client.roomName ?? roomInUrl(this.client.url);
		return name === undefined || name === '' ? undefined : roomKey(name);
	}

	/** The /list picker, while it shows. */
	get roomPicker(): RoomPickerState | undefined {
		return this.picker;
	}

	/** An older page was asked for and has not arrived yet. */
	get loadingOlder(): boolean {
		return this.olderPending;
	}

	/** The server said nothing older is stored. */
	get atBeginning(): boolean {
		return this.olderComplete;
	}

	/** Whether one of those named us (or was a direct message). */
	get mentioned(): boolean {
		return this.mention;
	}

	/** Messages from ignored nicks this tab did not show. */
	get hidden(): number {
		return this.hiddenCount;
	}

	get visible(): boolean {
		return this.shown;
	}

	/** What the tab bar calls the room: the given label, the server's room name, or host:port. */
	get name(): string {
		return (
			this.label ??
			this.roomInfo?.name ??
			this.client.roomName ??
			roomInUrl(this.client.url) ??
			this.client.url.replace(/^[a-z]+:\/\//, '')
		);
	}

	/** Shown: what arrived is seen now. Hidden: new lines count as unread. */
	setVisible(visible: boolean): void {
		const clears = visible && (this.unseen > 0 || this.mention);
		if (this.shown === visible && !clears) return;
		this.shown = visible;
		if (visible) {
			this.unseen = 0;
			this.mention = false;
		}
		this.markReadIfSeen();
		this.changed();
	}

	/**
	 * Shown and at the bottom, the newest line is read: tell the server (the
	 * client throttles), so our other sessions and the next login know.
	 */
	private markReadIfSeen(): void {
		if (!this.shown || this.scrollState.offset !== 0 || this.client.markRead === undefined) return;
		const newest = this.log.newestSeq();
		if (newest === undefined || newest <= this.markedSeq) return;
		this.markedSeq = newest;
		if (this.readSeq !== undefined && newest > this.readSeq) this.readSeq = newest;
		this.client.markRead(newest);
	}

	/** Version 2 events about the room rather than its log; false for the others. */
	private onRoomEvent(event: RoomEvent): boolean {
		switch (event.type) {
			case 'room':
				this.roomInfo = event.info;
				return true;
			case 'rooms':
				this.picker = {rooms: event.rooms, index: 0};
				return true;
			case 'session-rooms':
				this.onSessionRooms?.(event.rooms);
				return true;
			case 'read':
				this.readSeq = Math.max(this.readSeq ?? 0, event.seq);
				this.markedSeq = Math.max(this.markedSeq, event.seq);
				return true;
			case 'page': {
				this.olderPending = false;
				const oldest = this.log.oldestSeq();
				const events =
					oldest === undefined ? event.events : event.events.filter((older) => (older.seq ?? 0) < oldest);
				const entries = pageEntries(events, this.currentStatus.nick, this.isIgnored);
				if (event.complete) {
					this.olderComplete = true;
					entries.unshift({kind: 'notice', text: BEGINNING_OF_ROOM, ts: events[0]?.ts});
				}
				this.log.prepend(entries);
				return true;
			}
			default:
				return false;
		}
	}

	/**
	 * Scrolled past the oldest line: asks the server for the page before it,
	 * once (until it arrives), and never again once it said there is no more.
	 */
	loadOlder(): boolean {
		if (this.olderPending || this.olderComplete || this.client.loadOlder === undefined) return false;
		const oldest = this.log.oldestSeq();
		if (oldest === undefined || !this.client.loadOlder(oldest, PAGE_SIZE)) return false;
		this.olderPending = true;
		this.changed();
		return true;
	}

	/** Moves the /list picker's choice (clamped), or closes it (undefined). */
	movePicker(step: number): void {
		const picker = this.picker;
		if (picker === undefined || picker.rooms.length === 0) return;
		const index = Math.min(picker.rooms.length - 1, Math.max(0, picker.index + step));
		if (index === picker.index) return;
		this.picker = {...picker, index};
		this.changed();
	}

	closePicker(): void {
		if (this.picker === undefined) return;
		this.picker = undefined;
		this.changed();
	}

	private onEvent(event: RoomEvent): void {
		if (this.closed) return;
		if ((event.type === 'message' || event.type === 'direct') && !event.self && this.isIgnored(event.from)) {
			// Dropped before the log: no line, no unread count, no bell.
			this.hiddenCount++;
			return;
		}
		let mentioned = false;
		try {
			const version = this.log.version;
			if (!this.onRoomEvent(event))
				this.currentStatus = applyRoomEvent(this.log, event, this.currentStatus, this.roomInfo?.roles);
			// The same rule for the tab's "@" and the bell: our nick as a word in
			// someone's live message (as the log paints it), or a direct message to us.
			mentioned = shouldRing(event, this.currentStatus.nick, this.highlightWords());
			if (!this.shown) this.countUnseen(event, mentioned);
			if (this.log.version !== version) {
				this.refreshSearch();
				this.markReadIfSeen();
			}
		} catch (error) {
			this.log.append({kind: 'error', text: `could not show an event: ${String(error)}`});
		}
		this.arrived();
		if (mentioned) {
			try {
				this.onMention?.(event);
			} catch {
				// A bell is not worth losing the room over.
			}
		}
	}

	private countUnseen(event: RoomEvent, mentioned: boolean): void {
		// Others' live lines count; replayed history and our own echoes do not.
		if (
			(event.type === 'message' && !event.self && !event.history) ||
			(event.type === 'direct' && !event.self)
		)
			this.unseen++;
		if (mentioned) this.mention = true;
	}

	/** The log changed while searching: find the matches again (the current one stays if it can). */
	private refreshSearch(): void {
		if (this.searchState !== undefined)
			this.searchState = reduceSearch(this.searchState, {type: 'refresh'}, this.log);
	}

	/**
	 * Starts the join the options asked for (nick and, for a password room,
	 * password given). A password room that has to ask checks its server first,
	 * so a new or changed certificate is settled before anyone types a password.
	 */
	startPendingJoin(): void {
		const pending = this.pendingJoin;
		this.pendingJoin = undefined;
		if (pending !== undefined) this.connect(pending.nick, pending.password);
		else if (this.joinState.phase === 'ask' && this.client.needsPassword && this.client.checkServer)
			this.checkServer(this.client.checkServer());
	}

	private checkServer(check: Promise<void>): void {
		this.serverCheck = check.then(
			() => undefined,
			(error: unknown) => {
				// A login started meanwhile verifies the server again and reports for itself.
				if (this.joinState.phase === 'ask') this.setJoin(askAgain(error));
			},
		);
	}

	/** Joins (UDP: nick) or logs in (TCP: user, password, maybe registering); a refusal goes back to asking. */
	connect(nick: string, password?: string, options: {register?: boolean} = {}): Promise<void> {
		this.pendingJoin = undefined;
		this.joinState = {phase: 'joining', nick};
		if (this.client.needsPassword) this.loginUser = nick;
		const withPassword = this.client.needsPassword && !this.sharedLogin;
		this.changed();
		// After the server check, if one is still running: one certificate question at a time.
		const checked = this.serverCheck ?? Promise.resolve();
		this.serverCheck = undefined;
		const joined = checked.then(() =>
			withPassword
				? this.client.connect(nick, password, {register: options.register ?? false})
				: this.client.connect(nick),
		);
		return joined.then(
			() => this.setJoin({phase: 'joined'}),
			(error: unknown) => this.setJoin(askAgain(error)),
		);
	}

	/**
	 * /reconnect, or /connect to a room whose tab is open: joins again a room
	 * that closed for good (a changed certificate, a lost connection), with the
	 * same login, keeping the log. Otherwise says why there is nothing to do.
	 */
	reconnect(): void {
		const {state, url} = this.client;
		if (this.joinState.phase !== 'joined') {
			this.notice(`${url} is not joined yet: ${this.client.needsPassword ? 'log in' : 'pick a nick'} below`);
			return;
		}
		if (state !== 'closed') {
			this.notice(`${url} is ${state === 'connected' ? 'connected' : `${state} already`}`);
			return;
		}
		if (this.client.reopen === undefined) {
			this.error('this room cannot be reopened; /close it and /connect again');
			return;
		}
		this.notice(`reconnecting to ${url}…`);
		// A failure shows as the client's state ("disconnected (why)"), like any other.
		this.client.reopen().catch(() => undefined);
	}

	/** Whether the room was joined and then closed for good: sending there needs /reconnect first. */
	get closedForGood(): boolean {
		return this.joinState.phase === 'joined' && this.client.state === 'closed';
	}

	private setJoin(join: JoinState): void {
		if (this.closed) return;
		this.joinState = join;
		this.changed();
	}

	/** Applies an editing key to the input line; returns the line as it was (Enter needs the submitted text). */
	editLine(action: LineAction): LineState {
		const before = this.lineState;
		this.lineState = reduceLine(before, action);
		if (this.lineState !== before) this.changed();
		return before;
	}

	setScroll(scroll: ScrollState): void {
		if (scroll === this.scrollState) return;
		this.scrollState = scroll;
		this.markReadIfSeen();
		this.changed();
	}

	/** Enters or updates search mode; a search that is no longer 'active' (or undefined) leaves it. */
	setSearch(search: TabSearch | undefined): void {
		const next = search?.status === 'active' ? search : undefined;
		if (next === this.searchState) return;
		this.searchState = next;
		this.changed();
	}

	/** Shows (or with undefined, drops) the question before sending a long draft. */
	setSendQuestion(question: SendQuestion | undefined): void {
		if (question === this.question) return;
		this.question = question;
		this.changed();
	}

	notice(text: string): void {
		this.log.append({kind: 'notice', text});
		this.refreshSearch();
		this.changed();
	}

	error(text: string): void {
		this.log.append({kind: 'error', text});
		this.refreshSearch();
		this.changed();
	}

	clearLog(): void {
		this.log.clear();
		this.refreshSearch();
		this.changed();
	}

	/** Stops listening; the client itself is closed by whoever closes the tab. */
	dispose(): void {
		if (this.closed) return;
		this.closed = true;
		this.unsubscribe();
	}
}

/** The `#name` at the end of a room address (`tcp://host:port/#dev`), if any. */
function roomInUrl(url: string): string | undefined {
	const hash = url.indexOf('#');
	return hash === -1 ? undefined : url.slice(hash);
}
