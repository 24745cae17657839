// How a presence change reads, the same in the chat log, the room log file
// and `parley tail`: "bob joined", "alice is now known as al", "carol left (silent for 30 s)".

import type {PresenceKind} from '../protocol/messages.js';

const sentences: Record<PresenceKind, (nick: string, old?: string) => string> = {
	join: (nick) => `${nick} joined`,
	leave: (nick) => `${nick} left`,
	nick: (nick, old) => `${old ?? '?'} is now known as ${nick}`,
	expire: (nick) => `${nick} timed out`,
	kick: (nick) => `${nick} was removed`,
	away: (nick) => `${nick} is away`,
};

export interface PresenceChange {
	readonly kind: PresenceKind;
	readonly nick: string;
	readonly old?: string | undefined;
	readonly reason?: string | undefined;
}

export function presenceSentence({kind, nick, old, reason}: PresenceChange): string {
	// An away presence without a reason is the member coming back.
	if (kind === 'away')
		return reason === undefined || reason === '' ? `${nick} is back` : `${nick} is away: ${reason}`;
	// A kind from a newer server still says something.
	const sentence =
		(sentences[kind] as ((nick: string, old?: string) => string) | undefined)?.(nick, old) ??
		`${nick}: ${kind}`;
	return reason === undefined || reason === '' ? sentence : `${sentence} (${reason})`;
}
