// Desktop notifications for highlights and direct messages: through the
// terminal (OSC 777 "notify", which tmux with allow-passthrough, rxvt, foot,
// WezTerm, Ghostty and others show), OSC 9 (iTerm2, Windows Terminal, kitty),
// or the `notify-send` program. Off by default. The text comes from other
// people, so it is stripped of control characters (an ESC or BEL in it would
// end the sequence early and the rest would reach the terminal raw) and
// `notify-send` is started without a shell, the text as plain arguments.

import {spawn} from 'node:child_process';
import type {RoomEvent} from '../client/types.js';
import {hasMention} from './mentions.js';

export type NotifyMethod = 'osc' | 'osc9' | 'notify-send' | 'none';

/** The notification settings (config `[notify]`); every field optional, defaults below. */
export interface NotifyOptions {
	/** Master switch (default false). */
	readonly enabled?: boolean | undefined;
	/** Someone named us in a room we are not looking at (default true once enabled). */
	readonly highlights?: boolean | undefined;
	/** A direct message to us, shown room or not (default true once enabled). */
	readonly direct?: boolean | undefined;
	/** How (default "osc"). */
	readonly method?: NotifyMethod | undefined;
	/** At most one notification per this many milliseconds (default 1000): a flood does not spawn a process per line. */
	readonly minIntervalMs?: number | undefined;
}

export const NOTIFY_DEFAULTS = {
	enabled: false,
	highlights: true,
	direct: true,
	method: 'osc',
	minIntervalMs: 1000,
} as const satisfies Required<NotifyOptions>;

/** Characters a notification may carry at most (title and body each). */
const MAX_TEXT = 200;

/** One line of printable text: control characters (C0, DEL, C1) become spaces, runs of space collapse. */
export function notificationText(text: string, max = MAX_TEXT): string {
	const clean = text
		.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
		.replace(/\s+/g, ' ')
		.trim();
	return [...clean].length > max ? `${[...clean].slice(0, max - 1).join('')}…` : clean;
}

/** The OSC 777 notify sequence; ";" separates its fields, so the title has none. */
export function osc777(title: string, body: string): string {
	return `\u001b]777;notify;${notificationText(title).replaceAll(';', ',')};${notificationText(body)}\u0007`;
}

/** The OSC 9 sequence (one text only). */
export function osc9(title: string, body: string): string {
	return `\u001b]9;${notificationText(`${title}: ${body}`)}\u0007`;
}

/** tmux's DCS passthrough: the sequence with every ESC doubled, inside ESC P tmux; … ESC \\. */
export function tmuxPassthrough(sequence: string): string {
	return `\u001bPtmux;${sequence.replaceAll('\u001b', '\u001b\u001b')}\u001b\\`;
}

export interface NotifierIo {
	/** Where the OSC sequences go (the terminal). */
	readonly stream: {write(chunk: string): unknown};
	/** The program for method "notify-send" (default "notify-send", looked up in PATH). */
	readonly command?: string | undefined;
	/** Inside tmux (TMUX set): wrap the sequence so tmux passes it on (needs `set -g allow-passthrough on`). */
	readonly tmux?: boolean | undefined;
	readonly now?: (() => number) | undefined;
}

export interface Notifier {
	/** Shows a notification unless off or within the interval; true when it did. */
	notify(title: string, body: string): boolean;
}

export function createNotifier(options: NotifyOptions, io: NotifierIo): Notifier {
	const method = options.method ?? NOTIFY_DEFAULTS.method;
	const enabled = (options.enabled ?? NOTIFY_DEFAULTS.enabled) && method !== 'none';
	const interval = options.minIntervalMs ?? NOTIFY_DEFAULTS.minIntervalMs;
	const now = io.now ?? Date.now;
	let last = Number.NEGATIVE_INFINITY;
	return {
		notify(title, body) {
			if (!enabled) return false;
			const time = now();
			if (time - last < interval) return false;
			last = time;
			try {
				if (method === 'notify-send') {
					const child = spawn(
						io.command ?? 'notify-send',
						['--app-name=parley', '--', notificationText(title), notificationText(body)],
						{stdio: 'ignore', shell: false, detached: false},
					);
					// Not installed, or it failed: a notification is not worth an error on screen.
					child.on('error', () => undefined);
					child.unref();
				} else {
					const sequence = method === 'osc9' ? osc9(title, body) : osc777(title, body);
					io.stream.write(io.tmux === true ? tmuxPassthrough(sequence) : sequence);
				}
				return true;
			} catch {
				return false;
			}
		},
	};
}

/**
 * What, if anything, to notify about an event. Direct messages always (they
 * are meant for us, and the terminal may be out of sight even when their room
 * is shown); a highlight only from a room we are not looking at. Never our own
 * lines nor replayed history.
 */
export function notificationFor(
	event: RoomEvent,
	context: {readonly room: string; readonly ownNick: string | undefined; readonly shown: boolean},
	options: NotifyOptions,
): {title: string; body: string} | undefined {
	if (event.type === 'direct') {
		if (event.self || !(options.direct ?? NOTIFY_DEFAULTS.direct)) return undefined;
		return {title: `${event.from} (direct, ${context.room})`, body: event.text};
	}
	if (event.type === 'message') {
		if (event.self || event.history || context.shown || !(options.highlights ?? NOTIFY_DEFAULTS.highlights))
			return undefined;
		if (!hasMention(event.text, context.ownNick)) return undefined;
		return {
			title: `${event.from} in ${context.room}`,
			body: event.action ? `* ${event.from} ${event.text}` : event.text,
		};
	}
	return undefined;
}
