// Who is who: the rules for account user names (TCP rooms), and the one
// folding rule that decides when two nicks or user names name the same
// person. Client and server both use these, so a name the login form or
// rooms.json accepts is one the server accepts, and "Bob" is "bob" everywhere.

export const MAX_USERNAME_LENGTH = 32;

// ASCII only: names from other scripts invite look-alike impersonation and
// need collation rules every backend agrees on.
const USERNAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

export function usernameProblem(name: string): string | undefined {
	if (name.length === 0) return 'a username cannot be empty';
	if (name.length > MAX_USERNAME_LENGTH) return `a username is at most ${MAX_USERNAME_LENGTH} characters`;
	if (!USERNAME_PATTERN.test(name)) return 'a username may use letters, digits and _ - . only';
	return undefined;
}

/**
 * The identity a nick or user name stands for: names differing only in case
 * or in compatibility forms (full-width letters, ligatures) are one person, so
 * "Bob" cannot impersonate "bob", and "Alice" and "alice" are one account.
 * Locale-independent, so every process folds the same way.
 */
export function identityKey(name: string): string {
	return name.normalize('NFKC').toLowerCase();
}

export const MAX_ROOM_NAME_LENGTH = 50;
const ROOM_NAME_PATTERN = /^[\p{L}\p{N}_\-.]+$/u;

/** A room name as users type it, with or without its `#`: what is wrong with it, if anything. */
export function roomNameProblem(name: string): string | undefined {
	const bare = name.startsWith('#') ? name.slice(1) : name;
	if (bare.length === 0) return 'a room name cannot be empty';
	if ([...bare].length > MAX_ROOM_NAME_LENGTH)
		return `a room name is at most ${MAX_ROOM_NAME_LENGTH} characters`;
	if (!ROOM_NAME_PATTERN.test(bare)) return 'a room name may use letters, digits and _ - . only';
	return undefined;
}

/** The name as stored and compared: NFKC, no `#` ("#Dev" and "dev" are one room, keyed "dev"). */
export function roomKey(name: string): string {
	return identityKey(name.startsWith('#') ? name.slice(1) : name);
}

/** The name as shown and sent by servers: `#` and the spelling it was created with. */
export function roomLabel(name: string): string {
	return name.startsWith('#') ? name : `#${name}`;
}
