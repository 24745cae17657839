// The full-screen chat: status bar on top, the log, the member panel on the
// right, and the input line (or the nick prompt, the login form of a room that
// needs a password, or the question whether to trust a new server) at the
// bottom. Keys are listed in key-bindings.ts.

import {useCallback, useEffect, useMemo, useRef, useState, type ReactNode} from 'react';
import {Box, Text, useApp, useInput, usePaste} from 'ink';
import type {HostTrustPrompter, TrustRequest} from '../client/host-trust.js';
import {RoomError, type RoomClient, type RoomErrorCode} from '../client/types.js';
import {parseInput} from './commands.js';
import {InputLine} from './InputLine.js';
import {lineActionsForKey, screenActionForKey} from './key-bindings.js';
import {layoutEntry, type LogRow} from './log-format.js';
import {LOGIN_FORM_HEIGHT, LoginForm, type LoginOptions} from './LoginForm.js';
import {MEMBER_PANEL_MIN_SCREEN_WIDTH, MEMBER_PANEL_WIDTH, MemberPanel} from './MemberPanel.js';
import {MessageLog} from './MessageLog.js';
import {NICK_PROMPT_HEIGHT, NickPrompt} from './NickPrompt.js';
import {runCommand} from './run-command.js';
import {StatusBar} from './StatusBar.js';
import {TRUST_PROMPT_HEIGHT, TrustPrompt, trustAnswerForKey} from './TrustPrompt.js';
import {useLineEditor} from './use-line-editor.js';
import {useRoom} from './use-room.js';
import {useScreenSize, type ScreenSize} from './use-screen-size.js';
import {computeViewport, RowCache, rowsAfter} from './viewport.js';
import {wrapText} from './wrap.js';

export interface ChatScreenProps {
	readonly client: RoomClient;
	/**
	 * Join with this nick on mount; without one (or when it is refused) the screen asks.
	 * For a room that needs a password (`client.needsPassword`) it is the user name the login form starts with.
	 */
	readonly nick?: string | undefined;
	/** With `nick`, for a room that needs a password: log in on mount instead of showing the form (PARLEY_PASSWORD). */
	readonly password?: string | undefined;
	/** Where the client asks whether to trust a server it has never seen; the screen answers while mounted. */
	readonly trust?: HostTrustPrompter | undefined;
	/** A fixed size instead of the terminal's (tests, embedding). */
	readonly size?: ScreenSize | undefined;
	readonly scrollbackCap?: number | undefined;
	/** Whether the member panel starts visible (default true). */
	readonly showMembers?: boolean | undefined;
	/** Milliseconds /quit waits for the client to close before exiting anyway. */
	readonly quitTimeoutMs?: number | undefined;
}

type JoinState =
	| {phase: 'ask'; error?: string; code?: RoomErrorCode | undefined}
	| {phase: 'joining'; nick: string}
	| {phase: 'joined'};

interface PendingTrust {
	readonly request: TrustRequest;
	readonly resolve: (trusted: boolean) => void;
}

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

/** A changed server certificate is shown in full above the login form, at most this share of the screen. */
const MAX_WARNING_SHARE = 0.5;

function initialJoin(client: RoomClient, nick: string | undefined, password: string | undefined): JoinState {
	if (client.state === 'connected' || client.state === 'reconnecting') return {phase: 'joined'};
	if (nick === undefined || (client.needsPassword && password === undefined)) return {phase: 'ask'};
	return {phase: 'joining', nick};
}

export function ChatScreen({
	client,
	nick,
	password,
	trust,
	size,
	scrollbackCap,
	showMembers = true,
	quitTimeoutMs = 2000,
}: ChatScreenProps) {
	const {exit} = useApp();
	const {columns, rows} = useScreenSize(size);
	const room = useRoom(client, scrollbackCap === undefined ? {} : {scrollbackCap});
	const {log, status} = room;
	const editor = useLineEditor();
	const [join, setJoin] = useState<JoinState>(() => initialJoin(client, nick, password));
	// The user name the login form starts with: the `nick` prop, then the last one tried.
	const [loginUser, setLoginUser] = useState(nick ?? '');
	const [trustQueue, setTrustQueue] = useState<readonly PendingTrust[]>([]);
	const trustPending = useRef(new Set<PendingTrust>());
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
		(wanted: string, secret?: string, options?: LoginOptions) => {
			setJoin({phase: 'joining', nick: wanted});
			if (client.needsPassword) setLoginUser(wanted);
			const joined = client.needsPassword
				? client.connect(wanted, secret, {register: options?.register ?? false})
				: client.connect(wanted);
			joined.then(
				() => mounted.current && setJoin({phase: 'joined'}),
				(error: unknown) =>
					mounted.current &&
					setJoin({
						phase: 'ask',
						error: error instanceof Error ? error.message : String(error),
						code: error instanceof RoomError ? error.code : undefined,
					}),
			);
		},
		[client],
	);
	const connectWithNick = useCallback((wanted: string) => connect(wanted), [connect]);
	// Join once on mount when a nick (and for a password room, the password) was given; later joins come from the prompt.
	const firstJoin = useRef<{join: JoinState; password: string | undefined} | undefined>({join, password});
	useEffect(() => {
		const first = firstJoin.current;
		firstJoin.current = undefined;
		if (first?.join.phase === 'joining') connect(first.join.nick, first.password, {register: false});
	}, [connect]);

	// ---- trusting a new server ---------------------------------------------------
	const answerTrust = useCallback((entry: PendingTrust, trusted: boolean) => {
		if (!trustPending.current.delete(entry)) return; // answered already
		setTrustQueue(queue => queue.filter(queued => queued !== entry));
		entry.resolve(trusted);
	}, []);
	const refuseAllTrust = useCallback(() => {
		for (const entry of [...trustPending.current]) answerTrust(entry, false);
	}, [answerTrust]);
	useEffect(() => {
		if (trust === undefined) return undefined;
		const unregister = trust.setHandler(
			request =>
				new Promise<boolean>(resolve => {
					const entry: PendingTrust = {request, resolve};
					trustPending.current.add(entry);
					setTrustQueue(queue => [...queue, entry]);
				}),
		);
		const pending = trustPending.current;
		return () => {
			unregister();
			// Nobody is left to answer: a new server is not trusted.
			for (const entry of [...pending]) {
				pending.delete(entry);
				entry.resolve(false);
			}
		};
	}, [trust]);
	const trustShown = trustQueue[0];

	// ---- layout ----------------------------------------------------------------
	const panelShown = membersVisible && columns >= MEMBER_PANEL_MIN_SCREEN_WIDTH;
	const logWidth = Math.max(1, columns - (panelShown ? MEMBER_PANEL_WIDTH : 0));
	// A changed certificate may mean someone is intercepting: say so in full, in red, above the form.
	const hostWarning =
		join.phase === 'ask' && join.code === 'host-changed' && join.error !== undefined
			? wrapText(join.error, columns).slice(0, Math.max(1, Math.floor(rows * MAX_WARNING_SHARE)))
			: [];
	const bottomHeight =
		trustShown !== undefined
			? TRUST_PROMPT_HEIGHT
			: join.phase === 'joined'
				? 1
				: client.needsPassword
					? LOGIN_FORM_HEIGHT + hostWarning.length
					: NICK_PROMPT_HEIGHT;
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
		refuseAllTrust();
		room.notice('leaving…');
		const timeout = new Promise<void>(resolve => setTimeout(resolve, quitTimeoutMs).unref());
		Promise.race([client.close(), timeout])
			.catch(() => undefined)
			.finally(() => exit());
	}, [client, exit, quitTimeoutMs, refuseAllTrust, room]);

	const submit = (line: string) => {
		const command = parseInput(line);
		if (command.kind === 'say' || command.kind === 'action' || command.kind === 'direct' || command.kind === 'clear')
			setScroll(FOLLOWING);
		runCommand(command, {client, notice: room.notice, error: room.error, clearLog: room.clearLog, quit});
	};

	useInput((input, key) => {
		try {
			const action = screenActionForKey(input, key, join.phase === 'joined' && editor.current().value === '');
			if (trustShown !== undefined) {
				// The trust prompt has the keys; only Ctrl+C (which also says no) still quits.
				if (key.ctrl && input === 'c') quit();
				const trusted = trustAnswerForKey(input, key);
				if (trusted !== undefined) answerTrust(trustShown, trusted);
				return;
			}
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
	usePaste(text => editor.dispatch({type: 'insert', text}), {isActive: join.phase === 'joined' && trustShown === undefined});

	let bottom: ReactNode;
	if (trustShown !== undefined) {
		bottom = (
			<TrustPrompt
				key={trustShown.request.hostPort + trustShown.request.fingerprint}
				request={trustShown.request}
				width={columns}
			/>
		);
	} else if (join.phase === 'joined') {
		bottom = <InputLine value={editor.state.value} cursor={editor.state.cursor} width={columns} />;
	} else if (client.needsPassword) {
		bottom = (
			<Box flexDirection="column" width={columns} height={bottomHeight}>
				{hostWarning.length > 0 ? (
					<Box flexDirection="column" height={hostWarning.length} overflow="hidden">
						{hostWarning.map((row, index) => (
							<Text key={index} color="red" bold wrap="truncate-end">
								{row}
							</Text>
						))}
					</Box>
				) : null}
				<LoginForm
					width={columns}
					user={loginUser}
					onSubmit={connect}
					error={
						join.phase !== 'ask'
							? undefined
							: join.code === 'host-changed'
								? 'the server certificate has CHANGED (see above): Ctrl+C to quit'
								: join.error
					}
					loggingInAs={join.phase === 'joining' ? join.nick : undefined}
				/>
			</Box>
		);
	} else {
		bottom = (
			<NickPrompt
				width={columns}
				onSubmit={connectWithNick}
				error={join.phase === 'ask' ? join.error : undefined}
				joiningAs={join.phase === 'joining' ? join.nick : undefined}
			/>
		);
	}

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
			{bottom}
		</Box>
	);
}
