// What `parley room set` does to a room's settings, apart from the store: a
// pure function, so the rules (one owner, the old owner stays an op, deop
// only takes op) are checked in one place and tested without a database.
import type {RoomSettings} from '../../server/store/account-store.js';
import {identityKey} from '../protocol/names.js';

export interface RoomChange {
	/** '' clears it. */
	topic?: string;
	inviteOnly?: boolean;
	moderated?: boolean;
	/** Account names as registered (the caller checked they exist). */
	owner?: string;
	op: readonly string[];
	deop: readonly string[];
}

/** A change that contradicts the room as it is (exit status 1, nothing saved). */
export class RoomChangeError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'RoomChangeError';
	}
}

export const isEmptyChange = (change: RoomChange): boolean =>
	change.topic === undefined &&
	change.inviteOnly === undefined &&
	change.moderated === undefined &&
	change.owner === undefined &&
	change.op.length === 0 &&
	change.deop.length === 0;

/**
 * The settings after the change (a copy; `settings` is untouched) and what
 * changed, in words. The owner moves first (the previous owner becomes an op,
 * keeping the rights they used), then --op, then --deop.
 */
export function applyRoomChange(
	label: string,
	settings: RoomSettings,
	change: RoomChange,
): {settings: RoomSettings; changes: string[]} {
	const next: RoomSettings = structuredClone(settings);
	const changes: string[] = [];
	if (change.topic !== undefined) {
		if (change.topic === '') {
			delete next.topic;
			changes.push('topic cleared');
		} else {
			next.topic = change.topic;
			changes.push(`topic ${JSON.stringify(change.topic)}`);
		}
	}
	if (change.inviteOnly !== undefined) {
		next.inviteOnly = change.inviteOnly;
		changes.push(change.inviteOnly ? 'invite-only (+i)' : 'not invite-only (-i)');
	}
	if (change.moderated !== undefined) {
		next.moderated = change.moderated;
		changes.push(change.moderated ? 'moderated (+m)' : 'not moderated (-m)');
	}
	if (change.owner !== undefined) {
		const ownerKey = identityKey(change.owner);
		const previous = Object.keys(next.roles).filter((key) => next.roles[key] === 'owner' && key !== ownerKey);
		for (const key of previous) next.roles[key] = 'op';
		next.roles[ownerKey] = 'owner';
		changes.push(
			previous.length === 0
				? `owner ${change.owner}`
				: `owner ${change.owner} (${previous.join(', ')} now ${previous.length === 1 ? 'an op' : 'ops'})`,
		);
	}
	for (const name of change.op) {
		const key = identityKey(name);
		if (next.roles[key] === 'owner')
			throw new RoomChangeError(`${name} owns ${label}; --owner gives the room to someone else`);
		next.roles[key] = 'op';
		changes.push(`op ${name}`);
	}
	for (const name of change.deop) {
		const key = identityKey(name);
		const role = next.roles[key];
		if (role === 'owner')
			throw new RoomChangeError(`${name} owns ${label}; give it to someone else with --owner first`);
		if (role !== 'op') throw new RoomChangeError(`${name} is not an op of ${label}`);
		delete next.roles[key];
		changes.push(`deop ${name}`);
	}
	return {settings: next, changes};
}
