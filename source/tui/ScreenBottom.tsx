// The bottom of the screen, and so whatever has the keys: the trust question,
// asked for any room, before all else; then for the room on screen the send
// question or the search prompt over its input line once joined, before that
// the nick prompt (UDP) or the login form (TCP). Each is keyed by the tab, so
// switching rooms swaps in that room's own state.

import {ChatInput} from './ChatInput.js';
import {LOGIN_FORM_HEIGHT} from './LoginForm.js';
import {NICK_PROMPT_HEIGHT} from './NickPrompt.js';
import {PASTE_CONFIRM_HEIGHT, PasteConfirm} from './PasteConfirm.js';
import type {RoomCommands} from './room-commands.js';
import type {RoomTab} from './room-tab.js';
import {hostWarningRows, RoomPrompt} from './RoomPrompt.js';
import {pickerHeight, RoomPicker} from './RoomPicker.js';
import {searchStatusText} from './search.js';
import {SearchPrompt} from './SearchPrompt.js';
import type {SearchControls} from './tab-search.js';
import {TRUST_PROMPT_HEIGHT, TrustPrompt} from './TrustPrompt.js';
import type {PendingTrust} from './use-trust-queue.js';
import type {Workspace} from './workspace.js';

export type BottomKind = 'question' | 'search' | 'picker' | 'input' | 'login' | 'nick';

export function bottomKind(tab: RoomTab): BottomKind {
	// A room joining on a login we already have asks nothing: the input line keeps the keys
	// (a /command runs, a line waits to be sent), so nothing typed meanwhile is lost.
	if (tab.join.phase === 'joining' && tab.sharesLogin) return 'input';
	if (tab.join.phase !== 'joined') return tab.client.needsPassword ? 'login' : 'nick';
	if (tab.sendQuestion !== undefined) return 'question';
	if (tab.search !== undefined) return 'search';
	if (tab.roomPicker !== undefined) return 'picker';
	return 'input';
}

/** The rows the bottom takes: the trust question's, else the room's prompt's (the search prompt takes the input line's row). */
export function bottomHeight(
	tab: RoomTab | undefined,
	trustAsking: boolean,
	columns: number,
	rows: number,
): number {
	if (trustAsking) return TRUST_PROMPT_HEIGHT;
	if (tab === undefined) return 0;
	const kind = bottomKind(tab);
	if (kind === 'question') return PASTE_CONFIRM_HEIGHT;
	if (kind === 'login') return LOGIN_FORM_HEIGHT + hostWarningRows(tab, columns, rows).length;
	if (kind === 'nick') return NICK_PROMPT_HEIGHT;
	if (kind === 'picker' && tab.roomPicker !== undefined) return pickerHeight(tab.roomPicker);
	return 1;
}

export interface ScreenBottomProps {
	readonly workspace: Workspace;
	/** The room on screen. */
	readonly tab: RoomTab;
	/** The trust question on screen, if any, and where its answer goes. */
	readonly trust: PendingTrust | undefined;
	readonly answerTrust: (entry: PendingTrust, trusted: boolean) => void;
	readonly commands: RoomCommands;
	readonly search: SearchControls;
	readonly quit: () => void;
	readonly columns: number;
	/** The terminal's height (the login form's certificate warning may take up to half of it). */
	readonly rows: number;
}

export function ScreenBottom(props: ScreenBottomProps) {
	const {workspace, tab, trust, answerTrust, commands, search, quit, columns, rows} = props;
	const report = (message: string): void => tab.error(message);
	/** Read at key time: a key earlier in the chunk may have changed what shows. */
	const shows = (kind: BottomKind) => (): boolean => workspace.active === tab && bottomKind(tab) === kind;
	if (trust !== undefined) {
		return (
			<TrustPrompt
				key={trust.request.hostPort + trust.request.fingerprint}
				request={trust.request}
				width={columns}
				onAnswer={(trusted) => answerTrust(trust, trusted)}
				report={report}
			/>
		);
	}
	const kind = bottomKind(tab);
	if (kind === 'question' && tab.sendQuestion !== undefined) {
		return (
			<PasteConfirm
				key={tab.id}
				lines={tab.sendQuestion.lines}
				width={columns}
				onAnswer={(send) => {
					tab.setSendQuestion(undefined);
					if (send) commands.sendDraft(tab, true); // "no" keeps the draft in the input line
				}}
				hasKeys={shows('question')}
				report={report}
			/>
		);
	}
	if (kind === 'search' && tab.search !== undefined) {
		return (
			<SearchPrompt
				key={tab.id}
				query={tab.search.query}
				status={searchStatusText(tab.search)}
				width={columns}
				onAction={(action) => search.act(tab, action)}
				hasKeys={shows('search')}
				report={report}
			/>
		);
	}
	if (kind === 'picker' && tab.roomPicker !== undefined) {
		return (
			<RoomPicker
				key={tab.id}
				picker={tab.roomPicker}
				width={columns}
				onMove={(step) => tab.movePicker(step)}
				onPick={(room) => commands.joinRoom(tab, room)}
				onClose={() => tab.closePicker()}
				hasKeys={shows('picker')}
				report={report}
			/>
		);
	}
	if (kind === 'input') {
		return (
			<ChatInput
				key={tab.id}
				tab={tab}
				width={columns}
				hasKeys={shows('input')}
				onEnter={() => commands.sendDraft(tab)}
				onSearch={() => search.start(tab, '')}
				onQuit={quit}
			/>
		);
	}
	return (
		<RoomPrompt
			tab={tab}
			width={columns}
			screenRows={rows}
			onCommand={(line) => commands.runLine(tab, line)}
		/>
	);
}
