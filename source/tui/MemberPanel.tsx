// The member list on the right. ChatScreen toggles it with Ctrl+T and hides it
// on terminals too narrow to spare the columns.

import {Box, Text} from 'ink';
import type {Role} from '../client/types.js';
import {sanitizeText} from '../protocol/messages.js';
import {identityKey} from '../protocol/names.js';
import {nickStyle} from './nick-colour.js';
import {ROLE_MARKS} from './role-marks.js';

export const MEMBER_PANEL_WIDTH = 22;
/** Blank columns between the log and the panel's border, so log text never touches it. */
export const MEMBER_PANEL_GAP = 1;
/** Narrower than this, the log needs every column more than the list does. */
export const MEMBER_PANEL_MIN_SCREEN_WIDTH = 60;

export interface MemberPanelProps {
	readonly members: readonly string[];
	readonly ownNick: string | undefined;
	/** Members who are away: drawn dimmed. */
	readonly away?: ReadonlyMap<string, string> | undefined;
	readonly height: number;
	readonly width?: number;
	/** Members with a role in the room, by nick: marked ~ owner, @ op, + voice. */
	readonly roles?: ReadonlyMap<string, Role> | undefined;
}

const roleMark = (role: Role | undefined): string => (role === undefined ? '' : ROLE_MARKS[role]);

/** Roles by identity key, so "Bob" in the list finds "bob" in the room's roles. */
function rolesByKey(roles: ReadonlyMap<string, Role> | undefined): Map<string, Role> {
	const byKey = new Map<string, Role>();
	for (const [nick, role] of roles ?? []) byKey.set(identityKey(nick), role);
	return byKey;
}

export function MemberPanel({
	members,
	ownNick,
	away,
	height,
	width = MEMBER_PANEL_WIDTH,
	roles,
}: MemberPanelProps) {
	const roleOf = rolesByKey(roles);
	const sorted = [...members].sort((a, b) => identityKey(a).localeCompare(identityKey(b)));
	// One row for the title; the last row says how many did not fit.
	const room = Math.max(0, height - 1);
	const fits = sorted.length <= room;
	const shown = fits ? sorted : sorted.slice(0, Math.max(0, room - 1));
	const ownKey = ownNick === undefined ? undefined : identityKey(ownNick);
	return (
		<Box
			flexDirection="column"
			width={width}
			height={height}
			overflow="hidden"
			marginLeft={MEMBER_PANEL_GAP}
			borderStyle="single"
			borderTop={false}
			borderBottom={false}
			borderRight={false}
			paddingLeft={1}
		>
			<Text bold wrap="truncate-end">
				Members ({members.length})
			</Text>
			{shown.map((nick) => {
				const own = identityKey(nick) === ownKey;
				const {color, bold} = nickStyle(nick, own);
				return (
					<Text
						key={nick}
						{...(color === undefined ? {} : {color})}
						bold={bold}
						dimColor={away?.has(nick) === true}
						wrap="truncate-end"
					>
						{roleMark(roleOf.get(identityKey(nick)))}
						{sanitizeText(nick)}
					</Text>
				);
			})}
			{fits ? null : <Text dimColor>+{sorted.length - shown.length} more</Text>}
		</Box>
	);
}
