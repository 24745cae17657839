// The bottom of the screen for a room not joined yet: the nick prompt (UDP) or
// the login form (TCP), with a changed server certificate spelled out in red
// above the form. Each is keyed by the tab, so switching rooms swaps in that
// room's own half-typed text.

import {Box, Text} from 'ink';
import {LOGIN_FORM_HEIGHT, LoginForm} from './LoginForm.js';
import {NickPrompt} from './NickPrompt.js';
import type {RoomTab} from './room-tab.js';
import {wrapText} from './wrap.js';

/** A changed server certificate is shown in full above the login form, at most this share of the screen. */
const MAX_WARNING_SHARE = 0.5;

export interface RoomPromptProps {
	readonly tab: RoomTab;
	readonly width: number;
	/** The terminal's height (the warning may take up to half of it). */
	readonly screenRows: number;
	/** Runs a /command typed into the nick prompt (the screen's command handling). */
	readonly onCommand?: ((line: string) => void) | undefined;
}

/** The red warning rows above the login form after a certificate change (a possible interception). */
export function hostWarningRows(tab: RoomTab, width: number, screenRows: number): string[] {
	const {join} = tab;
	if (join.phase !== 'ask' || join.code !== 'host-changed' || join.error === undefined) return [];
	return wrapText(join.error, width).slice(0, Math.max(1, Math.floor(screenRows * MAX_WARNING_SHARE)));
}

export function RoomPrompt({tab, width, screenRows, onCommand}: RoomPromptProps) {
	const {join} = tab;
	if (!tab.client.needsPassword) {
		return (
			<NickPrompt
				key={tab.id}
				width={width}
				onSubmit={(nick) => tab.connect(nick)}
				error={join.phase === 'ask' ? join.error : undefined}
				joiningAs={join.phase === 'joining' ? join.nick : undefined}
				draft={tab.drafts}
				onCommand={onCommand}
			/>
		);
	}
	const warning = hostWarningRows(tab, width, screenRows);
	return (
		<Box flexDirection="column" width={width} height={LOGIN_FORM_HEIGHT + warning.length}>
			{warning.length > 0 ? (
				<Box flexDirection="column" height={warning.length} overflow="hidden">
					{warning.map((row, index) => (
						<Text key={index} color="red" bold wrap="truncate-end">
							{row}
						</Text>
					))}
				</Box>
			) : null}
			<LoginForm
				key={tab.id}
				width={width}
				user={tab.loginUser}
				onSubmit={(user, password, options) => tab.connect(user, password, options)}
				error={
					join.phase !== 'ask'
						? undefined
						: join.code === 'host-changed'
							? 'the server certificate has CHANGED (see above): Ctrl+C to quit'
							: join.error
				}
				loggingInAs={join.phase === 'joining' ? join.nick : undefined}
				intro={tab.intro}
				draft={tab.drafts}
			/>
		</Box>
	);
}
