// The full-screen chat for any number of rooms at once: the status bar of the
// room on screen, the tab bar listing every open room, that room's log with the
// member panel on the right, and at the bottom its input line (or nick prompt,
// login form, the search prompt, or a question: whether to trust a new server,
// whether to send a long pasted block). The rooms themselves live in a
// Workspace (workspace.ts), outside React, so the ones not shown keep
// receiving; each tab keeps its own Tab completion, search and question, so
// they wait in a room while another is shown.
//
// Whatever shows at the bottom owns its keys (Ink's useInput, active while it
// shows); the screen keeps only the keys that work everywhere (use-screen-keys)
// and the scroll keys (use-scroll-keys). Keys are listed in key-bindings.ts.

import {useEffect, useMemo, useState, useSyncExternalStore} from 'react';
import {Box, Text} from 'ink';
import type {ConfigStore} from '../client/config-store.js';
import type {HostTrustPrompter} from '../client/host-trust.js';
import type {RoomClient} from '../client/types.js';
import {setKeyBindings} from './key-bindings.js';
import {logView} from './log-view.js';
import type {Bell} from './mentions.js';
import {MemberPanel} from './MemberPanel.js';
import {MessageLog} from './MessageLog.js';
import {notificationFor, type Notifier, type NotifyOptions} from './notify.js';
import {roomCommands} from './room-commands.js';
import type {RoomTab} from './room-tab.js';
import {bottomHeight, ScreenBottom} from './ScreenBottom.js';
import {TransferBar, transferRows} from './TransferBar.js';
import {TransferBoard} from './transfers.js';
import {screenLayout} from './screen-layout.js';
import {roomsSummary, stateLabel, tabInfos} from './screen-summary.js';
import {StatusBar} from './StatusBar.js';
import {searchControls} from './tab-search.js';
import {TabBar, tabIndexAt} from './TabBar.js';
import {TopicLine, topicOf} from './TopicLine.js';
import type {MouseSource} from './mouse.js';
import {useMouse} from './use-mouse.js';
import {useQuit} from './use-quit.js';
import {useScreenKeys} from './use-screen-keys.js';
import {useScreenSize, type ScreenSize} from './use-screen-size.js';
import {useScrollKeys} from './use-scroll-keys.js';
import {useTabRows} from './use-tab-rows.js';
import {useTrustQueue} from './use-trust-queue.js';
import {useWorkspace} from './use-workspace.js';
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

/** A room open in a tab, as the session file keeps it. */
export interface OpenRoom {
	readonly url: string;
	readonly nick?: string | undefined;
	readonly label?: string | undefined;
}

const openRooms = (workspace: Workspace): OpenRoom[] =>
	workspace.tabs.map((tab) => ({
		url: tab.client.url,
		nick: tab.status.nick ?? (tab.loginUser === '' ? undefined : tab.loginUser),
		label: tab.label,
	}));

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
	/**
	 * Told which rooms are open when the screen goes away (/quit, a signal, a
	 * crash's unmount), in tab order: the session to reopen next time.
	 */
	readonly onClose?: ((rooms: readonly OpenRoom[]) => void) | undefined;
	/** Mouse reports from the terminal (render-chat's MouseInput): wheel scrolls, a click on a tab shows it. */
	readonly mouse?: MouseSource | undefined;
	/** Milliseconds /quit waits for the clients to close before exiting anyway. */
	readonly quitTimeoutMs?: number | undefined;
	/** Rung when someone names us or sends us a direct message, in any room (--bell). */
	readonly bell?: Bell | undefined;
	/** Which highlights and direct messages become desktop notifications (default: none). */
	readonly notify?: NotifyOptions | undefined;
	/** Shows them (render-chat makes it from `notify`); without it there are none. */
	readonly notifier?: Notifier | undefined;
	/**
	 * Called for every room as it opens, /connect included (--log-dir: attachRoomLog);
	 * `report` shows a problem in that room's log. What it returns runs when the
	 * room closes and when the screen quits (the log is flushed before exit).
	 */
	readonly attachLog?: ((client: RoomClient, report: (error: Error) => void) => Detach) | undefined;
	/**
	 * The settings (config.toml with the flags on top): time format, colours,
	 * highlight words, ignore list, bell, keys; /reload and /ignore change them live.
	 */
	readonly config?: ConfigStore | undefined;
}

const noSubscription = (): (() => void) => () => undefined;

/** A flood is drawn 20 times a second, which leaves the keys time to echo at once. */
const ARRIVAL_FRAME_MS = 50;

function createWorkspace({
	client,
	nick,
	password,
	rooms,
	scrollbackCap,
	bell,
	notify = {},
	notifier,
	attachLog,
	config,
}: ChatScreenProps): Workspace {
	const workspace = new Workspace({
		scrollbackCap,
		arrivalFrameMs: ARRIVAL_FRAME_MS,
		onMention: (tab, event) => {
			// With a config, its `bell` (which /reload may change) decides at each mention.
			if (config?.current.bell ?? true) bell?.ring();
			if (notifier === undefined) return;
			const shown = notificationFor(
				event,
				{room: tab.name, ownNick: tab.status.nick, shown: tab.visible},
				notify,
			);
			if (shown !== undefined) notifier.notify(shown.title, shown.body);
		},
		...(config === undefined
			? {}
			: {isIgnored: (nick) => config.isIgnored(nick), highlightWords: () => config.current.highlightWords}),
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

export function ChatScreen(props: ChatScreenProps) {
	const {opener, trust, size, showMembers = true, quitTimeoutMs = 2000, onClose} = props;
	const {columns, rows} = useScreenSize(size);
	const [workspace] = useState(() => createWorkspace(props));
	useWorkspace(workspace);
	const [transfers] = useState(() => new TransferBoard());
	useSyncExternalStore(transfers.subscribe, () => transfers.version);
	useEffect(() => () => transfers.dispose(), [transfers]);
	const trustQueue = useTrustQueue(trust);
	const shownTrust = trustQueue.shown;
	const trustAsking = shownTrust !== undefined;
	const [membersVisible, setMembersVisible] = useState(showMembers);
	const {config} = props;
	const subscribe = useMemo(
		() => (config === undefined ? noSubscription : (listener: () => void) => config.subscribe(listener)),
		[config],
	);
	const settings = useSyncExternalStore(subscribe, () => config?.current);
	const rowSettings = useMemo(
		() =>
			settings === undefined
				? undefined
				: {
						look: {timestampFormat: settings.timestampFormat, colours: settings.colours},
						highlightWords: settings.highlightWords,
					},
		[settings],
	);
	const tabRows = useTabRows(rowSettings);
	useEffect(() => {
		if (settings !== undefined) setKeyBindings(settings.keys);
	}, [settings]);

	useEffect(() => {
		workspace.startPendingJoins();
		return () => {
			try {
				onClose?.(openRooms(workspace));
			} finally {
				workspace.dispose();
			}
		};
	}, [workspace, onClose]);

	const layoutFor = (tab: RoomTab | undefined) =>
		screenLayout({
			columns,
			rows,
			// The room's transfer bars sit above whatever is at the bottom.
			bottomHeight: bottomHeight(tab, trustAsking, columns, rows) + transferRows(transfers.of(tab).length),
			membersWanted: membersVisible,
			topic: topicOf(tab) !== undefined,
		});
	const viewFor = (tab: RoomTab) => {
		const layout = layoutFor(tab);
		return logView(tab.log, tabRows.drawn(tab), tab.scroll, layout.logWidth, layout.logHeight);
	};
	const search = searchControls((tab) => {
		const layout = layoutFor(tab);
		return {width: layout.logWidth, height: layout.logHeight};
	}, tabRows.base);
	const quit = useQuit(workspace, trustQueue.refuseAll, quitTimeoutMs);
	const commands = roomCommands({workspace, opener, quit, search: search.start, config, transfers});

	useScreenKeys({
		workspace,
		trustAsking,
		quit,
		toggleMembers: () => setMembersVisible((visible) => !visible),
	});
	useScrollKeys({workspace, isActive: !trustAsking, viewFor});
	useMouse({
		source: props.mouse,
		workspace,
		isActive: !trustAsking,
		viewFor,
		tabAt: (x, y) => {
			const layout = layoutFor(workspace.active);
			if (layout.tabBarHeight === 0 || y !== layout.statusHeight + 1) return undefined;
			return tabIndexAt(tabInfos(workspace.tabs), workspace.activeIndex, columns, x - 1);
		},
	});

	const active = workspace.active;
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
			{layout.topicHeight > 0 ? <TopicLine topic={topicOf(active) ?? ''} width={columns} /> : null}
			{layout.logHeight > 0 ? (
				<Box flexDirection="row" height={layout.logHeight}>
					<MessageLog
						rows={view.viewport.rows}
						width={layout.logWidth}
						height={layout.logHeight}
						newBelow={view.newBelow}
						scrolled={view.scrolled}
						loadingOlder={active.loadingOlder && view.viewport.atTop}
					/>
					{layout.panelShown ? (
						<MemberPanel
							members={status.members}
							ownNick={status.nick}
							away={status.away}
							roles={active.info?.roles}
							height={layout.logHeight}
						/>
					) : null}
				</Box>
			) : null}
			{/* Drawn even when it gets no rows: whatever shows at the bottom has the keys. */}
			<Box height={layout.bottomHeight} overflow="hidden" flexDirection="column">
				<TransferBar entries={transfers.of(active)} width={columns} />
				<ScreenBottom
					workspace={workspace}
					tab={active}
					trust={shownTrust}
					answerTrust={trustQueue.answer}
					commands={commands}
					search={search}
					quit={quit}
					columns={columns}
					rows={rows}
				/>
			</Box>
		</Box>
	);
}
