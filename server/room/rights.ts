// Who may do what in a moderated room: owner > op > voice > member, and a
// server admin above them all. Pure functions over RoomSettings, so the rules
// read in one place and the room only asks.

import type {RoomBan, RoomRole, RoomSettings} from '../store/account-store.js';

export const RANK = {member: 0, voice: 1, op: 2, owner: 3, admin: 4} as const;

export function roleRank(role: RoomRole | undefined): number {
	return role === undefined ? RANK.member : RANK[role];
}

/** An account's standing: admins outrank every role. */
export function rankOf(settings: RoomSettings, account: string | undefined, admin: boolean): number {
	if (admin) return RANK.admin;
	return account === undefined ? RANK.member : roleRank(settings.roles[account]);
}

/** The room's modes as the welcome and `list` spell them: "i", "m", "im" or ''. */
export function modesOf(settings: RoomSettings): string {
	return `${settings.inviteOnly ? 'i' : ''}${settings.moderated ? 'm' : ''}`;
}

/** The ban in force on the account; an expired one is lifted (`lifted` says so, to persist it). */
export function banOf(
	settings: RoomSettings,
	account: string,
	now: number,
): {ban?: RoomBan; lifted: boolean} {
	const ban = settings.bans[account];
	if (!ban) return {lifted: false};
	if (ban.until !== undefined && ban.until <= now) {
		delete settings.bans[account];
		return {lifted: true};
	}
	return {ban, lifted: false};
}

/** Whether the account is muted now; an expired mute is lifted (`lifted` says so). */
export function muteOf(
	settings: RoomSettings,
	account: string,
	now: number,
): {muted: boolean; lifted: boolean} {
	const mute = settings.mutes[account];
	if (!mute) return {muted: false, lifted: false};
	if (mute.until !== undefined && mute.until <= now) {
		delete settings.mutes[account];
		return {muted: false, lifted: true};
	}
	return {muted: true, lifted: false};
}

/** Lets the account into an invite-only room: invited, given a role, or an admin. */
export function mayEnter(settings: RoomSettings, account: string, admin: boolean): boolean {
	return (
		!settings.inviteOnly ||
		admin ||
		settings.invites.includes(account) ||
		settings.roles[account] !== undefined
	);
}
