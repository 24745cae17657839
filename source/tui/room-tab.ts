// One open room and everything the screen keeps for it: the log, the status,
// the join phase, the half-typed input with its history, the scroll position,
// a Tab completion being cycled, a search of the log, a question before a long
// multi-line draft is sent, and how much arrived while it was not shown. It subscribes to its client
// itself, so a room that is not on screen keeps receiving. No React here: the
// workspace (workspace.ts) owns the tabs and tells the UI when anything changed.

import {RoomError, type RoomClient, type RoomErrorCode, type RoomEvent} from '../client/types.js';
import {errorMessage} from '../util/error-message.js';
import type {CompletionSession} from './completion.js';
import {createLineState, reduceLine, type LineAction, type LineState} from './line-editor.js';
import {shouldRing} from './mentions.js';
import {applyRoomEvent, statusOf, type RoomStatus} from './room-events.js';
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
		this.loginUser = options.nick ?? '';
		this.currentStatus = statusOf(client);
		const {nick, password} = options;
		if (client.state === 'connected' || client.state === 'reconnecting') this.joinState = {phase: 'joined'};
		else if (nick === undefined || (client.needsPassword && password === undefined))
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

	/** Chat lines from others that arrived while the tab was not shown. */
	get unread(): number {
		return this.unseen;
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
		return this.label ?? this.client.roomName ?? this.client.url.replace(/^[a-z]+:\/\//, '');
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
			this.currentStatus = applyRoomEvent(this.log, event, this.currentStatus);
			// The same rule for the tab's "@" and the bell: our nick as a word in
			// someone's live message (as the log paints it), or a direct message to us.
			mentioned = shouldRing(event, this.currentStatus.nick, this.highlightWords());
			if (!this.shown) this.countUnseen(event, mentioned);
			if (this.log.version !== version) this.refreshSearch();
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
	connect(nick: string, password?: string, options: {register?: boolean} = {}): void {
		this.pendingJoin = undefined;
		this.joinState = {phase: 'joining', nick};
		if (this.client.needsPassword) this.loginUser = nick;
		this.changed();
		// After the server check, if one is still running: one certificate question at a time.
		const checked = this.serverCheck ?? Promise.resolve();
		this.serverCheck = undefined;
		const joined = checked.then(() =>
			this.client.needsPassword
				? this.client.connect(nick, password, {register: options.register ?? false})
				: this.client.connect(nick),
		);
		joined.then(
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
