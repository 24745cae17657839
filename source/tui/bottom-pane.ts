// What the bottom of the screen shows for a room, and so which prompt has the
// keys: the send question or the search prompt over the input line once
// joined, before that the nick prompt (UDP) or the login form (TCP). The trust
// prompt, asked for any room, comes before all of them (ChatScreen).

import {LOGIN_FORM_HEIGHT} from './LoginForm.js';
import {NICK_PROMPT_HEIGHT} from './NickPrompt.js';
import {PASTE_CONFIRM_HEIGHT} from './PasteConfirm.js';
import type {RoomTab} from './room-tab.js';
import {hostWarningRows} from './RoomPrompt.js';
import {TRUST_PROMPT_HEIGHT} from './TrustPrompt.js';

export type BottomKind = 'question' | 'search' | 'input' | 'login' | 'nick';

export function bottomKind(tab: RoomTab): BottomKind {
	if (tab.join.phase !== 'joined') return tab.client.needsPassword ? 'login' : 'nick';
	if (tab.sendQuestion !== undefined) return 'question';
	if (tab.search !== undefined) return 'search';
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
	return 1;
}
