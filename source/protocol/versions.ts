// Protocol versions and capabilities. A version changes only when an old peer
// would misunderstand the new one; everything additive is a capability the
// server announces in its first message (TCP auth-mechs, UDP cookie) and again
// in the welcome, so old clients keep working against newer servers.

/** The versions this code speaks, oldest first. */
export const PROTOCOL_VERSIONS: readonly number[] = [1, 2];

/**
 * Version 2: many rooms over one connection. Every room-scoped message names
 * its room (`room`); a hello per room joins it; moderation, topics, paging
 * and read markers. A version-1 peer has one room, the server's default.
 */
export const MULTI_ROOM_VERSION = 2;

/** A hello that states no version comes from a client older than negotiation: version 1. */
export function offeredVersions(hello: {
	versions?: readonly number[] | undefined;
	v?: number | undefined;
}): number[] {
	if (hello.versions) return [...hello.versions];
	return [hello.v ?? 1];
}

/** The newest version both sides speak, or undefined when they share none. */
export function chooseVersion(offered: readonly number[], supported: readonly number[] = PROTOCOL_VERSIONS) {
	const common = offered.filter((version) => supported.includes(version));
	return common.length === 0 ? undefined : Math.max(...common);
}

/**
 * Capability names. Servers announce the ones they have; clients ignore names
 * they do not know.
 */
export const CAPABILITY = {
	/** Direct messages between members (`dm`). */
	dm: 'dm',
	/** `say` with `action: true` (/me). */
	action: 'action',
	/** Members may change their nick (`nick`); TCP rooms use account names instead. */
	nick: 'nick',
	/** TCP: accounts can be created in the login phase (`register`). */
	register: 'register',
	/** TCP: bots log in with an access token (`auth-token`). */
	tokenLogin: 'token-login',
	/** Members may say they are away (`away`); member lists carry the text, presences of kind `away` tell changes. */
	away: 'away',
	/** Version 2: many rooms on one connection (`hello` with `room`, `list`, `leave` with `part`). */
	multiRoom: 'multi-room',
	/** TCP, version 2: owners, ops, voice, kick, ban, mute, modes, invites. */
	moderation: 'moderation',
	/** Version 2: `history` with `before` pages back through the stored log; `search` searches it. */
	historyPaging: 'history-paging',
	/** TCP, version 2: one account logged in from several clients at once; `read` markers shared by them. */
	multiSession: 'multi-session',
	/** TCP: files shared in rooms (`file-offer`, `file-get`, …; see file-messages.ts). */
	files: 'files',
} as const;

export function unsupportedVersionText(offered: readonly number[], supported: readonly number[]): string {
	return `this server speaks protocol version ${supported.join(', ')}; the client offered ${offered.join(', ')}`;
}
