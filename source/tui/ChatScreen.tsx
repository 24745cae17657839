// The full-screen chat for any number of rooms at once: the status bar of the
// room on screen, the tab bar listing every open room, that room's log with the
// member panel on the right, and at the bottom its input line (or nick prompt,
// login form, the search prompt, or a question: whether to trust a new server,
// whether to send a long pasted block). The rooms themselves live in a
// Workspace (workspace.ts), outside React, so the ones not shown keep
// receiving; each tab keeps its own Tab completion, search and question, so
// they wait in a room while another is shown. Keys are listed in key-bindings.ts.

import {useCallback, useEffect, useRef, useState} from 'react';
import {Box, Text, useApp, useInput, usePaste} from 'ink';
import type {HostTrustPrompter} from '../client/host-trust.js';
import {formatRoomUrl, parseRoomUrl} from '../client/room-url.js';
import type {RoomClient} from '../client/types.js';
import {parseInput} from './commands.js';
import {commandNames, complete, nickCandidates} from './completion.js';
import {
	eachKeypress,
	featureActionForKey,
	lineActionForKey,
	screenActionForKey,
	searchActionForKey,
	type ScreenAction,
} from './key-bindings.js';
import {layoutEntry, type LogRow} from './log-format.js';
import {logView} from './log-view.js';
import type {Bell} from './mentions.js';
import {MemberPanel} from './MemberPanel.js';
import {MessageLog} from './MessageLog.js';
import {PASTE_CONFIRM_HEIGHT, PasteConfirm, pasteAnswerForKey} from './PasteConfirm.js';
import {needsConfirmation, normalisePaste, pastePolicy} from './paste-policy.js';
import {FOLLOWING, type RoomTab, type TabSearch} from './room-tab.js';
import {RoomPrompt, roomPromptHeight} from './RoomPrompt.js';
import {runCommand} from './run-command.js';
import {screenLayout} from './screen-layout.js';
import {currentMatchId, openSearch, reduceSearch, scrollToEntry, searchStatusText} from './search.js';
import {SearchPrompt} from './SearchPrompt.js';
import {StatusBar} from './StatusBar.js';
import {distinctNames, type TabInfo} from './tab-bar.js';
import {TabBar} from './TabBar.js';
import {TRUST_PROMPT_HEIGHT, TrustPrompt, trustAnswerForKey} from './TrustPrompt.js';
import {useScreenSize, type ScreenSize} from './use-screen-size.js';
import {useTrustQueue} from './use-trust-queue.js';
import {useWorkspace} from './use-workspace.js';
import {RowCache} from './viewport.js';
import {Workspace, type Detach} from './workspace.js';

/** A room to open when the screen starts. */
export interface RoomSpec {
	readonly client: RoomClient;
	/** Join with this nick (UDP); for a room that needs a password, the user name the login form starts with. */
	readonly nick?: string | undefined;
	/** With `nick`, for a room that needs a password: log in at once instead of showing the form (PARLEY_PASSWORD). */
	readonly password?: string | undefined;
	/** The login form's first line before any attempt. */
	readonly intro?: string | undefined;
	/** What the tab bar calls the room (else the server's room name). */
	readonly label?: string | undefined;
}

/** What `/connect TARGET` resolves to. */
export interface RoomToOpen {
	readonly url: string;
	/** The nick (UDP) or user name (TCP) configured for it. */
	readonly nick?: string | undefined;
	readonly label?: string | undefined;
}

/** How the screen opens rooms at run time (`/connect`). */
export interface RoomOpener {
	/** An address or a configured name → the room; throws an Error whose message the user sees. Default: addresses only. */
	readonly resolve?: ((target: string) => RoomToOpen) | undefined;
	/** The client for a resolved address (not yet connected). */
	readonly create: (url: string) => RoomClient;
}

export interface ChatScreenProps {
	/** One room: shorthand for `rooms={[{client, nick, password}]}`. */
	readonly client?: RoomClient | undefined;
	readonly nick?: string | undefined;
	readonly password?: string | undefined;
	/** The rooms to open, a tab each; the first is shown first. */
	readonly rooms?: readonly RoomSpec[] | undefined;
	/** Without it, /connect says this screen cannot open rooms. */
	readonly opener?: RoomOpener | undefined;
	/** Where the clients ask whether to trust a server they have never seen; the screen answers while mounted. */
	readonly trust?: HostTrustPrompter | undefined;
	/** A fixed size instead of the terminal's (tests, embedding). */
	readonly size?: ScreenSize | undefined;
	readonly scrollbackCap?: number | undefined;
	/** Whether the member panel starts visible (default true). */
	readonly showMembers?: boolean | undefined;
	/** Milliseconds /quit waits for the clients to close before exiting anyway. */
	readonly quitTimeoutMs?: number | undefined;
	/** Rung when someone names us or sends us a direct message, in any room (--bell). */
	readonly bell?: Bell | undefined;
	/**
	 * Called for every room as it opens, /connect included (--log-dir: attachRoomLog);
	 * `report` shows a problem in that room's log. What it returns runs when the
	 * room closes and when the screen quits (the log is flushed before exit).
	 */
	readonly attachLog?: ((client: RoomClient, report: (error: Error) => void) => Detach) | undefined;
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function createWorkspace({
	client,
	nick,
	password,
	rooms,
	scrollbackCap,
	bell,
	attachLog,
}: ChatScreenProps): Workspace {
	const workspace = new Workspace({
		scrollbackCap,
		onMention: bell === undefined ? undefined : () => bell.ring(),
		attach:
			attachLog === undefined
				? undefined
				: (tab) => attachLog(tab.client, (error) => tab.error(error.message)),
	});
	const specs = rooms ?? (client === undefined ? [] : [{client, nick, password}]);
	// Joins start once mounted, when the trust prompt can answer.
	for (const spec of specs) workspace.open(spec.client, {...spec, activate: false, joinNow: false});
	workspace.activate(0);
	return workspace;
}

function tabInfos(tabs: readonly RoomTab[]): TabInfo[] {
	const names = distinctNames(
		tabs.map((tab) => ({transport: tab.client.transport, name: tab.name, url: tab.client.url})),
	);
	return tabs.map((tab, index) => ({
		transport: tab.client.transport,
		name: names[index] ?? tab.name,
		unread: tab.unread,
		mentioned: tab.mentioned,
		state: tab.status.state,
		waiting: tab.join.phase !== 'joined',
	}));
}

/** Before the first join "closed" would alarm: say what is missing instead. */
function stateLabel(tab: RoomTab): string | undefined {
	if (tab.join.phase === 'joined' || tab.status.state !== 'closed') return undefined;
	return tab.client.needsPassword ? 'not logged in' : 'not joined';
}

/** The compact layout's stand-in for the tab bar: "2/3", plus what waits in the others ("+5@"). */
function roomsSummary(workspace: Workspace): string | undefined {
	const {tabs, activeIndex} = workspace;
	if (tabs.length < 2) return undefined;
	const others = tabs.filter((_, index) => index !== activeIndex);
	const unread = others.reduce((sum, tab) => sum + tab.unread, 0);
	const mentioned = others.some((tab) => tab.mentioned);
	return `${activeIndex + 1}/${tabs.length}${unread > 0 ? ` +${unread}` : ''}${mentioned ? (unread > 0 ? '@' : ' @') : ''}`;
}

const urlOnly = (target: string): RoomToOpen => ({url: formatRoomUrl(parseRoomUrl(target))});

/**
 * A room's wrapped rows, cached across frames: `base` paints mentions of our
 * nick; while a search has a query, `search` paints its matches too. A cache
 * is rebuilt when what it paints changes (the nick, the query, the current match).
 */
interface TabRows {
	readonly nick: string | undefined;
	readonly base: RowCache<LogRow>;
	searchKey?: string;
	search?: RowCache<LogRow>;
}

/** Screen keys that still work while a room's search prompt or send question has the keys. */
const keepsWorkingInPrompts = (action: ScreenAction): boolean =>
	action.type === 'quit' ||
	action.type === 'show-tab' ||
	action.type === 'cycle-tab' ||
	action.type === 'toggle-members';

export function ChatScreen(props: ChatScreenProps) {
	const {opener, trust, size, showMembers = true, quitTimeoutMs = 2000} = props;
	const {exit} = useApp();
	const {columns, rows} = useScreenSize(size);
	const [workspace] = useState(() => createWorkspace(props));
	useWorkspace(workspace);
	const trustQueue = useTrustQueue(trust);
	const {refuseAll} = trustQueue;
	const [membersVisible, setMembersVisible] = useState(showMembers);
	// Wrapped rows per room, cached across frames (keyed by the tab, so a closed room's cache goes with it).
	const caches = useRef(new WeakMap<RoomTab, TabRows>());
	const quitting = useRef(false);

	useEffect(() => {
		workspace.startPendingJoins();
		return () => workspace.dispose();
	}, [workspace]);

	const rowsFor = (tab: RoomTab): TabRows => {
		const ownNick = tab.status.nick;
		let rows = caches.current.get(tab);
		if (rows === undefined || rows.nick !== ownNick) {
			rows = {
				nick: ownNick,
				base: new RowCache<LogRow>((entry, width) => layoutEntry(entry, width, {ownNick})),
			};
			caches.current.set(tab, rows);
		}
		return rows;
	};
	/** The rows as drawn: with the search's matches painted while it has a query. */
	const cacheFor = (tab: RoomTab): RowCache<LogRow> => {
		const rows = rowsFor(tab);
		const search = tab.search;
		if (search === undefined || search.query === '') return rows.base;
		const currentId = currentMatchId(search);
		const key = `${currentId ?? ''}:${search.query}`;
		if (rows.search === undefined || rows.searchKey !== key) {
			const {nick: ownNick} = rows;
			const highlight = search.query;
			rows.search = new RowCache<LogRow>((entry, width) =>
				layoutEntry(entry, width, {ownNick, highlight, currentId}),
			);
			rows.searchKey = key;
		}
		return rows.search;
	};
	const bottomHeightFor = (tab: RoomTab | undefined): number => {
		if (trustQueue.shown !== undefined) return TRUST_PROMPT_HEIGHT;
		if (tab === undefined) return 0;
		if (tab.join.phase === 'joined' && tab.sendQuestion !== undefined) return PASTE_CONFIRM_HEIGHT;
		return roomPromptHeight(tab, columns, rows); // the search prompt takes the input line's row
	};
	const layoutFor = (tab: RoomTab | undefined) =>
		screenLayout({
			columns,
			rows,
			bottomHeight: bottomHeightFor(tab),
			membersWanted: membersVisible,
		});
	const viewFor = (tab: RoomTab) => {
		const layout = layoutFor(tab);
		return logView(tab.log, cacheFor(tab), tab.scroll, layout.logWidth, layout.logHeight);
	};

	// ---- leaving -------------------------------------------------------------------
	const quit = useCallback(() => {
		if (quitting.current) {
			exit(); // a second Ctrl+C does not wait for the network
			return;
		}
		quitting.current = true;
		refuseAll();
		workspace.active?.notice('leaving…');
		const timeout = new Promise<void>((resolve) => setTimeout(resolve, quitTimeoutMs).unref());
		// The room logs are flushed even when a client is slow to close.
		Promise.race([workspace.closeAll(), timeout])
			.then(() => workspace.detachAll())
			.finally(() => exit());
	}, [exit, quitTimeoutMs, refuseAll, workspace]);

	// ---- rooms -----------------------------------------------------------------------
	const openRoom = (target: string): void => {
		const here = workspace.active;
		if (opener === undefined) {
			here?.error('this screen cannot open other rooms');
			return;
		}
		let room: RoomToOpen;
		let client: RoomClient;
		try {
			room = (opener.resolve ?? urlOnly)(target);
			const open = workspace.find(room.url);
			if (open !== undefined) {
				workspace.activate(workspace.tabs.indexOf(open));
				if (open.closedForGood) open.reconnect();
				else open.notice(`${room.url} is open in this tab already`);
				return;
			}
			client = opener.create(room.url);
		} catch (error) {
			here?.error(describe(error));
			return;
		}
		// The nick we go by here is the best guess there (a TCP room only prefills it in the form).
		const nick = room.nick ?? here?.status.nick ?? (here?.loginUser || undefined);
		workspace.open(client, {nick, label: room.label});
	};

	const closeRoom = (): void => {
		const tab = workspace.active;
		if (tab === undefined) return;
		if (workspace.tabs.length === 1) {
			quit(); // nothing would be left to show
			return;
		}
		void workspace.close(tab);
		workspace.active?.notice(`left ${tab.name} (${tab.client.url})`);
	};

	const switchTo = (number: number): void => {
		if (!workspace.activate(number - 1))
			workspace.active?.error(`there is no tab ${number} (${workspace.tabs.length} open)`);
	};

	// ---- search ------------------------------------------------------------------------
	/** Takes the search's next state: scrolls to its match, or leaves search mode (Esc goes back to the view it started from). */
	const applySearch = (tab: RoomTab, next: TabSearch): void => {
		tab.setSearch(next);
		if (next.status === 'cancelled') {
			tab.setScroll(next.saved);
			return;
		}
		const id = currentMatchId(next);
		if (id === undefined) {
			if (next.status === 'active') tab.setScroll(next.saved); // no match (yet): the view it started from
			return;
		}
		const layout = layoutFor(tab);
		// Measured with the base rows: highlights never change how many rows an entry takes.
		const scroll = scrollToEntry(
			tab.log,
			rowsFor(tab).base,
			layout.logWidth,
			layout.logHeight,
			id,
			tab.scroll,
		);
		if (scroll !== undefined) tab.setScroll(scroll.offset === 0 ? FOLLOWING : scroll);
	};
	const startSearch = (tab: RoomTab, query: string): void =>
		applySearch(tab, openSearch(tab.log, tab.scroll, query));

	// ---- sending -----------------------------------------------------------------------
	const submit = (tab: RoomTab, line: string): void => {
		const command = parseInput(line);
		if (
			command.kind === 'say' ||
			command.kind === 'action' ||
			command.kind === 'direct' ||
			command.kind === 'clear'
		)
			tab.setScroll(FOLLOWING);
		runCommand(command, {
			client: tab.client,
			notice: (text) => tab.notice(text),
			error: (text) => tab.error(text),
			clearLog: () => tab.clearLog(),
			quit,
			search: (query) => startSearch(tab, query),
			connect: openRoom,
			closeRoom,
			reconnect: () => tab.reconnect(),
			switchTo,
		});
	};

	/**
	 * Enter: sends the input line (a multi-line draft as one message). A draft
	 * of many lines asks first; false when it did, so the rest of a typed chunk waits.
	 */
	const sendLine = (tab: RoomTab, confirmed = false): boolean => {
		const lines = confirmed ? undefined : needsConfirmation(tab.line.value);
		if (lines !== undefined) {
			tab.setSendQuestion({lines});
			return false;
		}
		const before = tab.editLine({type: 'submit'});
		submit(tab, before.value);
		return true;
	};

	const completeWord = (tab: RoomTab, direction: 'forward' | 'backward'): void => {
		const candidates = {
			nicks: nickCandidates(tab.status.members, tab.log, tab.status.nick),
			commands: commandNames(),
		};
		const result = complete(tab.line, candidates, tab.completion, direction);
		tab.completion = result.session;
		tab.editLine({type: 'replace', value: result.value, cursor: result.cursor, multiline: true});
	};

	// ---- keys ----------------------------------------------------------------------
	const screenAction = (action: ScreenAction, tab: RoomTab | undefined): void => {
		switch (action.type) {
			case 'quit':
				quit();
				return;
			case 'toggle-members':
				setMembersVisible((visible) => !visible);
				return;
			case 'show-tab':
				workspace.activate(action.index);
				return;
			case 'cycle-tab':
				workspace.cycle(action.step);
				return;
		}
		if (tab === undefined) return;
		const view = viewFor(tab);
		switch (action.type) {
			case 'scroll-page':
				tab.setScroll(view.scrolledBy(action.direction === 'up' ? view.page : -view.page));
				return;
			case 'scroll-line':
				tab.setScroll(view.scrolledBy(action.direction === 'up' ? 1 : -1));
				return;
			case 'scroll-to-bottom':
				tab.setScroll(FOLLOWING);
				return;
		}
	};

	const shownTrust = trustQueue.shown;
	useInput(
		eachKeypress((input, key) => {
			// Read at key time, not render time: a key right after a switch goes to the new room.
			const tab = workspace.active;
			try {
				if (shownTrust !== undefined) {
					// The trust prompt has the keys; only Ctrl+C (which also says no) still quits.
					if (key.ctrl && input === 'c') quit();
					const trusted = trustAnswerForKey(input, key);
					if (trusted !== undefined) trustQueue.answer(shownTrust, trusted);
					return;
				}
				const joined = tab?.join.phase === 'joined';
				if (joined && (tab.sendQuestion !== undefined || tab.search !== undefined)) {
					// This room's question or search prompt has the keys; quitting and the room keys still work.
					const action = screenActionForKey(input, key, false);
					if (action !== undefined && keepsWorkingInPrompts(action)) {
						screenAction(action, tab);
						return;
					}
					if (tab.sendQuestion !== undefined) {
						const send = pasteAnswerForKey(input, key);
						if (send === undefined) return;
						tab.setSendQuestion(undefined);
						if (send) sendLine(tab, true); // "no" keeps the draft in the input line
						return;
					}
					const searchAction = searchActionForKey(input, key);
					if (searchAction !== undefined && tab.search !== undefined)
						applySearch(tab, reduceSearch(tab.search, searchAction, tab.log));
					return;
				}
				const action = screenActionForKey(input, key, joined && tab.line.value === '');
				if (action !== undefined) {
					screenAction(action, tab);
					return;
				}
				if (tab === undefined || !joined) return; // the nick prompt or login form has the keys
				const feature = featureActionForKey(input, key);
				if (feature?.type === 'complete') {
					completeWord(tab, feature.direction);
					return;
				}
				tab.completion = undefined; // any other key ends the completion
				if (feature?.type === 'search') {
					startSearch(tab, '');
					return;
				}
				const lineAction = lineActionForKey(input, key);
				if (lineAction?.type === 'submit') sendLine(tab);
				else if (lineAction !== undefined) tab.editLine(lineAction);
			} catch (error) {
				tab?.error(`key handling failed: ${describe(error)}`);
			}
		}),
	);

	const paste = (text: string): void => {
		const tab = workspace.active;
		if (tab === undefined || tab.join.phase !== 'joined' || tab.sendQuestion !== undefined) return;
		try {
			if (tab.search !== undefined) {
				applySearch(tab, reduceSearch(tab.search, {type: 'type', text: normalisePaste(text)}, tab.log));
				return;
			}
			tab.completion = undefined;
			const decision = pastePolicy(text, {line: tab.line, maxBytes: tab.client.limits.maxTextBytes});
			switch (decision.kind) {
				case 'insert':
					tab.editLine({type: 'insert', text: decision.text});
					return;
				case 'draft':
					// Several lines wait in the input line as one message; Enter sends it.
					tab.editLine({type: 'replace', value: decision.value, cursor: decision.cursor, multiline: true});
					return;
				case 'too-long':
					tab.error(
						`not pasted: ${decision.lines} lines, ${decision.bytes} bytes; a message takes at most ${decision.maxBytes} bytes`,
					);
					return;
				case 'ignore':
					return;
			}
		} catch (error) {
			tab.error(`paste failed: ${describe(error)}`);
		}
	};
	const active = workspace.active;
	usePaste(paste, {isActive: active?.join.phase === 'joined' && shownTrust === undefined});

	// ---- drawing -------------------------------------------------------------------
	const layout = layoutFor(active);
	if (active === undefined) {
		return (
			<Box width={columns} height={rows} overflow="hidden">
				<Text wrap="truncate-end">no rooms open</Text>
			</Box>
		);
	}
	const view = viewFor(active);
	const {status} = active;
	return (
		<Box flexDirection="column" width={columns} height={rows} overflow="hidden">
			{layout.statusHeight > 0 ? (
				<StatusBar
					url={active.client.url}
					transport={active.client.transport}
					nick={status.nick}
					state={status.state}
					memberCount={status.members.length}
					lagMs={status.lagMs}
					width={columns}
					rooms={layout.compact ? roomsSummary(workspace) : undefined}
					stateLabel={stateLabel(active)}
				/>
			) : null}
			{layout.tabBarHeight > 0 ? (
				<TabBar tabs={tabInfos(workspace.tabs)} activeIndex={workspace.activeIndex} width={columns} />
			) : null}
			{layout.logHeight > 0 ? (
				<Box flexDirection="row" height={layout.logHeight}>
					<MessageLog
						rows={view.viewport.rows}
						width={layout.logWidth}
						height={layout.logHeight}
						newBelow={view.newBelow}
						scrolled={view.scrolled}
					/>
					{layout.panelShown ? (
						<MemberPanel members={status.members} ownNick={status.nick} height={layout.logHeight} />
					) : null}
				</Box>
			) : null}
			{layout.bottomHeight > 0 ? (
				<Box height={layout.bottomHeight} overflow="hidden" flexDirection="column">
					{shownTrust !== undefined ? (
						<TrustPrompt
							key={shownTrust.request.hostPort + shownTrust.request.fingerprint}
							request={shownTrust.request}
							width={columns}
						/>
					) : active.join.phase === 'joined' && active.sendQuestion !== undefined ? (
						<PasteConfirm lines={active.sendQuestion.lines} width={columns} />
					) : active.join.phase === 'joined' && active.search !== undefined ? (
						<SearchPrompt
							query={active.search.query}
							status={searchStatusText(active.search)}
							width={columns}
						/>
					) : (
						<RoomPrompt
							tab={active}
							width={columns}
							screenRows={rows}
							onCommand={(line) => submit(active, line)}
						/>
					)}
				</Box>
			) : null}
		</Box>
	);
}
