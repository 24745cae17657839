// The full-screen chat: status bar on top, the log, the member panel on the
// right, and the input line (or the nick prompt) at the bottom. Keys are
// listed in key-bindings.ts.

import {useCallback, useEffect, useMemo, useRef, useState} from 'react';
import {Box, useApp, useInput, usePaste} from 'ink';
import type {RoomClient} from '../client/types.js';
import {parseInput} from './commands.js';
import {InputLine} from './InputLine.js';
import {lineActionsForKey, screenActionForKey} from './key-bindings.js';
import {layoutEntry, type LogRow} from './log-format.js';
import {MEMBER_PANEL_MIN_SCREEN_WIDTH, MEMBER_PANEL_WIDTH, MemberPanel} from './MemberPanel.js';
import {MessageLog} from './MessageLog.js';
import {NICK_PROMPT_HEIGHT, NickPrompt} from './NickPrompt.js';
import {runCommand} from './run-command.js';
import {StatusBar} from './StatusBar.js';
import {useLineEditor} from './use-line-editor.js';
import {useRoom} from './use-room.js';
import {useScreenSize, type ScreenSize} from './use-screen-size.js';
import {computeViewport, RowCache, rowsAfter} from './viewport.js';

export interface ChatScreenProps {
	readonly client: RoomClient;
	/** Join with this nick on mount; without one (or when it is refused) the screen asks. */
	readonly nick?: string | undefined;
	/** A fixed size instead of the terminal's (tests, embedding). */
	readonly size?: ScreenSize | undefined;
	readonly scrollbackCap?: number | undefined;
	/** Whether the member panel starts visible (default true). */
	readonly showMembers?: boolean | undefined;
	/** Milliseconds /quit waits for the client to close before exiting anyway. */
	readonly quitTimeoutMs?: number | undefined;
}

type JoinState = {phase: 'ask'; error?: string} | {phase: 'joining'; nick: string} | {phase: 'joined'};

interface ScrollState {
	/** Rows up from the bottom; 0 follows new lines. */
	readonly offset: number;
	/** Newest entry id when `offset` was set: rows added later push the view so it stays put. */
	readonly anchorId: number;
	/** Newest entry id when the user left the bottom: newer chat lines count as "new below". */
	readonly seenId: number;
}

const FOLLOWING: ScrollState = {offset: 0, anchorId: 0, seenId: 0};
const STATUS_HEIGHT = 1;

function initialJoin(client: RoomClient, nick: string | undefined): JoinState {
	if (client.state === 'connected' || client.state === 'reconnecting') return {phase: 'joined'};
	return nick === undefined ? {phase: 'ask'} : {phase: 'joining', nick};
}

export function ChatScreen({client, nick, size, scrollbackCap, showMembers = true, quitTimeoutMs = 2000}: ChatScreenProps) {
	const {exit} = useApp();
	const {columns, rows} = useScreenSize(size);
	const room = useRoom(client, scrollbackCap === undefined ? {} : {scrollbackCap});
	const {log, status} = room;
	const editor = useLineEditor();
	const [join, setJoin] = useState<JoinState>(() => initialJoin(client, nick));
	const [membersVisible, setMembersVisible] = useState(showMembers);
	const [scroll, setScroll] = useState<ScrollState>(FOLLOWING);
	const cache = useMemo(() => new RowCache<LogRow>(layoutEntry), [log]);
	const mounted = useRef(true);
	const quitting = useRef(false);

	useEffect(
		() => () => {
			mounted.current = false;
		},
		[],
	);

	// ---- joining ---------------------------------------------------------------
	const connect = useCallback(
		(wanted: string) => {
			setJoin({phase: 'joining', nick: wanted});
			client.connect(wanted).then(
				() => mounted.current && setJoin({phase: 'joined'}),
				(error: unknown) =>
					mounted.current && setJoin({phase: 'ask', error: error instanceof Error ? error.message : String(error)}),
			);
		},
		[client],
	);
	// Join once on mount when a nick was given; later joins come from the prompt.
	const firstJoin = useRef<JoinState | undefined>(join);
	useEffect(() => {
		const first = firstJoin.current;
		firstJoin.current = undefined;
		if (first?.phase === 'joining') connect(first.nick);
	}, [connect]);

	// ---- layout ----------------------------------------------------------------
	const panelShown = membersVisible && columns >= MEMBER_PANEL_MIN_SCREEN_WIDTH;
	const logWidth = Math.max(1, columns - (panelShown ? MEMBER_PANEL_WIDTH : 0));
	const bottomHeight = join.phase === 'joined' ? 1 : NICK_PROMPT_HEIGHT;
	const logHeight = Math.max(1, rows - STATUS_HEIGHT - bottomHeight);
	const scrolled = scroll.offset > 0;
	// The marker takes the last log row while scrolled up.
	const viewHeight = scrolled && logHeight > 1 ? logHeight - 1 : logHeight;
	const viewAt = (offset: number) => computeViewport(log, cache, {width: logWidth, height: viewHeight, offset});
	const effectiveOffset = scrolled ? scroll.offset + rowsAfter(log, cache, logWidth, scroll.anchorId) : 0;
	const viewport = viewAt(effectiveOffset);
	const newBelow = scrolled ? log.countMessagesAfter(scroll.seenId) : 0;

	// ---- scrolling ---------------------------------------------------------------
	const newestId = log.nextEntryId - 1;
	const scrollBy = (rowsUp: number) => {
		const target = Math.max(0, viewport.offset + rowsUp);
		if (target === 0) {
			setScroll(FOLLOWING);
			return;
		}
		// Clamp now, so scrolling back down from past the top responds at once.
		const {offset} = viewAt(target);
		if (offset === 0) setScroll(FOLLOWING);
		else setScroll({offset, anchorId: newestId, seenId: scrolled ? scroll.seenId : newestId});
	};
	const page = Math.max(1, viewHeight - 1);

	// ---- commands --------------------------------------------------------------
	const quit = useCallback(() => {
		if (quitting.current) {
			exit(); // a second Ctrl+C does not wait for the network
			return;
		}
		quitting.current = true;
		room.notice('leaving…');
		const timeout = new Promise<void>(resolve => setTimeout(resolve, quitTimeoutMs).unref());
		Promise.race([client.close(), timeout])
			.catch(() => undefined)
			.finally(() => exit());
	}, [client, exit, quitTimeoutMs, room]);

	const submit = (line: string) => {
		const command = parseInput(line);
		if (command.kind === 'say' || command.kind === 'action' || command.kind === 'direct' || command.kind === 'clear')
			setScroll(FOLLOWING);
		runCommand(command, {client, notice: room.notice, error: room.error, clearLog: room.clearLog, quit});
	};

	useInput((input, key) => {
		try {
			const action = screenActionForKey(input, key, join.phase === 'joined' && editor.current().value === '');
			if (action !== undefined) {
				switch (action.type) {
					case 'quit':
						quit();
						return;
					case 'scroll-page':
						scrollBy(action.direction === 'up' ? page : -page);
						return;
					case 'scroll-line':
						scrollBy(action.direction === 'up' ? 1 : -1);
						return;
					case 'scroll-to-bottom':
						setScroll(FOLLOWING);
						return;
					case 'toggle-members':
						setMembersVisible(visible => !visible);
						return;
				}
			}
			if (join.phase !== 'joined') return; // the nick prompt has the keys
			for (const lineAction of lineActionsForKey(input, key)) {
				const before = editor.dispatch(lineAction);
				if (lineAction.type === 'submit') submit(before.value);
			}
		} catch (error) {
			room.error(`key handling failed: ${error instanceof Error ? error.message : String(error)}`);
		}
	});
	usePaste(text => editor.dispatch({type: 'insert', text}), {isActive: join.phase === 'joined'});

	return (
		<Box flexDirection="column" width={columns} height={rows} overflow="hidden">
			<StatusBar
				url={client.url}
				transport={client.transport}
				nick={status.nick}
				state={status.state}
				memberCount={status.members.length}
				lagMs={status.lagMs}
				width={columns}
			/>
			<Box flexDirection="row" height={logHeight}>
				<MessageLog rows={viewport.rows} width={logWidth} height={logHeight} newBelow={newBelow} scrolled={scrolled} />
				{panelShown ? <MemberPanel members={status.members} ownNick={status.nick} height={logHeight} /> : null}
			</Box>
			{join.phase === 'joined' ? (
				<InputLine value={editor.state.value} cursor={editor.state.cursor} width={columns} />
			) : (
				<NickPrompt
					width={columns}
					onSubmit={connect}
					error={join.phase === 'ask' ? join.error : undefined}
					joiningAs={join.phase === 'joining' ? join.nick : undefined}
				/>
			)}
		</Box>
	);
}
