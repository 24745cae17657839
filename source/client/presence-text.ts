// How a presence change reads, the same in the chat log, the room log file
// and `parley tail`: "bob joined", "alice is now known as al", "carol left (silent for 30 s)",
// "troll was kicked by bob (spam)", "bob set the topic: release on Friday".

import type {PresenceKind} from '../protocol/messages.js';

export interface PresenceChange {
	readonly kind: PresenceKind;
	readonly nick: string;
	readonly old?: string | undefined;
	readonly reason?: string | undefined;
	/** The op who did it (kick, ban, mute, role, invite…). */
	readonly by?: string | undefined;
	/** kind topic: the new topic. */
	readonly text?: string | undefined;
	/** kind mode: the change, e.g. "+i". */
	readonly mode?: string | undefined;
	/** kind role: the new role (absent: member). */
	readonly role?: string | undefined;
	/** ban, mute: when it ends (ms since the epoch). */
	readonly until?: number | undefined;
}

const MODE_NAMES: Record<string, string> = {
	'+i': 'made the room invite-only',
	'-i': 'opened the room to everyone',
	'+m': 'made the room moderated (only ops and voiced members speak)',
	'-m': 'let everyone speak again',
};

const byWhom = (by: string | undefined) => (by ? ` by ${by}` : '');
const untilWhen = (until: number | undefined) =>
	until === undefined ? '' : ` until ${new Date(until).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

const sentences: Record<PresenceKind, (change: PresenceChange) => string> = {
	join: ({nick}) => `${nick} joined`,
	leave: ({nick}) => `${nick} left`,
	part: ({nick}) => `${nick} left the room`,
	nick: ({nick, old}) => `${old ?? '?'} is now known as ${nick}`,
	expire: ({nick}) => `${nick} timed out`,
	kick: ({nick, by}) => `${nick} was ${by ? `kicked by ${by}` : 'removed'}`,
	away: ({nick}) => `${nick} is away`,
	topic: ({nick, text}) => (text ? `${nick} set the topic: ${text}` : `${nick} cleared the topic`),
	mode: ({nick, mode}) => `${nick} ${MODE_NAMES[mode ?? ''] ?? `set mode ${mode ?? '?'}`}`,
	role: ({nick, role, by}) => {
		const what =
			role === undefined || role === 'member'
				? 'an ordinary member again'
				: role === 'op'
					? 'an op'
					: role === 'voice'
						? 'voiced'
						: `the ${role}`;
		return by ? `${by} made ${nick} ${what}` : `${nick} is now ${what}`;
	},
	ban: ({nick, by, until}) => `${nick} was banned${byWhom(by)}${untilWhen(until)}`,
	unban: ({nick, by}) => `${nick} was unbanned${byWhom(by)}`,
	mute: ({nick, by, until}) => `${nick} was muted${byWhom(by)}${untilWhen(until)}`,
	unmute: ({nick, by}) => `${nick} may speak again${byWhom(by)}`,
	invite: ({nick, by}) => `${nick} was invited${byWhom(by)}`,
};

export function presenceSentence(change: PresenceChange): string {
	const {kind, nick, reason} = change;
	// An away presence without a reason is the member coming back.
	if (kind === 'away')
		return reason === undefined || reason === '' ? `${nick} is back` : `${nick} is away: ${reason}`;
	// A kind from a newer server still says something.
	const sentence =
		(sentences[kind] as ((change: PresenceChange) => string) | undefined)?.(change) ?? `${nick}: ${kind}`;
	return reason === undefined || reason === '' ? sentence : `${sentence} (${reason})`;
}
