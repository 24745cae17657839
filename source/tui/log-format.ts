// How each log entry reads on screen: a gutter (time, nick) and the text,
// as styled spans, wrapped to a width with continuation rows under the text.

import stringWidth from 'string-width';
import type {Colours} from '../client/config.js';
import {presenceSentence} from '../client/presence-text.js';
import {sanitizeText} from '../protocol/messages.js';
import {mentions} from './mentions.js';
import {NICK_PALETTE, nickColourIn} from './nick-colour.js';
import type {LogEntry} from './scrollback.js';
import {findAll, paintRanges, type PaintLayer} from './text-ranges.js';
import {wrapSpans, type Span, type WrappedRow} from './wrap.js';

export interface RowStyle {
	readonly color?: string;
	readonly bold?: boolean;
	readonly dim?: boolean;
	readonly italic?: boolean;
	/** Swapped foreground and background: search matches. */
	readonly inverse?: boolean;
}

export type LogSpan = Span<RowStyle>;
export type LogRow = WrappedRow<RowStyle>;

/** What the config decides about the log's look: the time column and the colours. */
export interface LogLook {
	/** strftime-like: %H %M %S %I %p %d %m %Y %y %% (config.ts checks it). */
	readonly timestampFormat: string;
	readonly colours: Colours;
}

export const DEFAULT_LOOK: LogLook = Object.freeze({
	timestampFormat: '%H:%M',
	colours: Object.freeze({nicks: NICK_PALETTE, highlight: 'yellow', ownNick: undefined, enabled: true}),
});

// Shared objects: the wrapper merges neighbouring cells whose style is the same object.
const PLAIN: RowStyle = Object.freeze({});
const TIME: RowStyle = Object.freeze({dim: true});
const DIM: RowStyle = Object.freeze({dim: true});
const ITALIC: RowStyle = Object.freeze({italic: true});

/** The styles of one set of colours, made once per set: without colours (NO_COLOR) only bold, dim and italics remain. */
interface LookStyles {
	readonly error: RowStyle;
	readonly warning: RowStyle;
	readonly direct: RowStyle;
	readonly presence: RowStyle;
	readonly mention: RowStyle;
	readonly nicks: Map<string, RowStyle>;
}

const lookStyles = new WeakMap<Colours, LookStyles>();

function stylesOf(colours: Colours): LookStyles {
	let styles = lookStyles.get(colours);
	if (styles === undefined) {
		const coloured = (color: string | undefined, rest: RowStyle = {}): RowStyle =>
			Object.freeze(colours.enabled && color !== undefined ? {color, ...rest} : {...rest});
		styles = {
			error: coloured('red'),
			warning: coloured('yellow'),
			direct: coloured('magenta', {bold: true}),
			presence: colours.enabled ? coloured('gray') : DIM,
			mention: coloured(colours.highlight, {bold: true}),
			nicks: new Map(),
		};
		lookStyles.set(colours, styles);
	}
	return styles;
}

function nickSpan(nick: string, own: boolean, look: LogLook): LogSpan {
	const {colours} = look;
	const styles = stylesOf(colours);
	const key = `${own ? '1' : '0'}${nick}`;
	let style = styles.nicks.get(key);
	if (style === undefined) {
		// Our own nick: bold, in its own colour if the config gives one, never in the palette's.
		const color = own
			? colours.ownNick
			: nickColourIn(nick, colours.nicks.length > 0 ? colours.nicks : NICK_PALETTE);
		style = Object.freeze(color === undefined || !colours.enabled ? {bold: own} : {color, bold: own});
		styles.nicks.set(key, style);
	}
	return {text: sanitizeText(nick), style};
}

const span = (text: string, style: RowStyle = PLAIN): LogSpan => ({text: sanitizeText(text), style});

/** The time column: `format` with %H %M %S %I %p %d %m %Y %y %% replaced (local time). */
export function formatTime(ts: number, format = '%H:%M'): string {
	const date = new Date(ts);
	const pad = (value: number): string => String(value).padStart(2, '0');
	const valid = Number.isFinite(date.getTime());
	return format.replace(/%(.)/g, (directive, letter: string) => {
		if (letter === '%') return '%';
		if (!valid) return '--';
		switch (letter) {
			case 'H':
				return pad(date.getHours());
			case 'M':
				return pad(date.getMinutes());
			case 'S':
				return pad(date.getSeconds());
			case 'I':
				return pad(((date.getHours() + 11) % 12) + 1);
			case 'p':
				return date.getHours() < 12 ? 'AM' : 'PM';
			case 'd':
				return pad(date.getDate());
			case 'm':
				return pad(date.getMonth() + 1);
			case 'Y':
				return String(date.getFullYear());
			case 'y':
				return pad(date.getFullYear() % 100);
			default:
				return directive;
		}
	});
}

/** The gutter (everything continuation rows hang under) and the body of an entry. */
export function entrySpans(
	entry: LogEntry,
	look: LogLook = DEFAULT_LOOK,
): {gutter: LogSpan[]; body: LogSpan[]} {
	const time = span(`${formatTime(entry.ts, look.timestampFormat)} `, TIME);
	const {error: ERROR, warning: WARNING, direct: DIRECT, presence: PRESENCE} = stylesOf(look.colours);
	switch (entry.kind) {
		case 'message':
			if (entry.action)
				return {
					gutter: [time, span('* ', ITALIC), nickSpan(entry.from, entry.self, look), span(' ')],
					body: [span(entry.text, ITALIC)],
				};
			return {gutter: [time, nickSpan(entry.from, entry.self, look), span(': ')], body: [span(entry.text)]};
		case 'direct':
			return {
				gutter: [
					time,
					span('[dm] ', DIRECT),
					nickSpan(entry.from, entry.self, look),
					span(' → ', DIRECT),
					nickSpan(entry.to, !entry.self, look),
					span(': '),
				],
				body: [span(entry.text)],
			};
		case 'outgoing': {
			const target = entry.to === undefined ? [] : [span(' → ', DIRECT), span(entry.to, DIM)];
			const status =
				entry.status === 'pending'
					? [span(' (sending…)', DIM)]
					: [span(` (not sent: ${entry.reason ?? 'failed'})`, ERROR)];
			return {
				gutter: [time, span(entry.from, DIM), ...target, span(': ', DIM)],
				body: [span(entry.text, DIM), ...status],
			};
		}
		case 'presence': {
			const text = presenceSentence({
				kind: entry.presence,
				nick: entry.nick,
				old: entry.old,
				reason: entry.reason,
				by: entry.by,
				text: entry.text,
				mode: entry.mode,
				role: entry.role,
				until: entry.until,
			});
			return {gutter: [time, span('-- ', PRESENCE)], body: [span(text, PRESENCE)]};
		}
		case 'lost': {
			const noun = entry.count === 1 ? 'message' : 'messages';
			return {gutter: [time, span('!! ', WARNING)], body: [span(`${entry.count} ${noun} lost`, WARNING)]};
		}
		case 'notice':
			return {gutter: [time, span('-- ', DIM)], body: [span(entry.text)]};
		case 'error':
			return {gutter: [time, span('!! ', ERROR)], body: [span(entry.text, ERROR)]};
	}
}

const spansWidth = (spans: readonly LogSpan[]): number =>
	spans.reduce((total, item) => total + stringWidth(item.text), 0);

/** The text an entry shows after its gutter (without the "(sending…)" status): what search looks in. */
export function entryText(entry: LogEntry): string {
	return entrySpans(entry).body[0]?.text ?? '';
}

export interface LayoutOptions {
	/** Our nick: where others' messages name it, it is painted (bold yellow). */
	readonly ownNick?: string | undefined;
	/** More words painted (and counted) like our nick: the config's highlight_words. */
	readonly highlightWords?: readonly string[] | undefined;
	/** Time format and colours (default: "%H:%M" and the built-in palette). */
	readonly look?: LogLook | undefined;
	/** A search query: its matches in entry texts are painted in inverse video. */
	readonly highlight?: string | undefined;
	/** The entry holding the current search match: its matches are painted yellow-inverse. */
	readonly currentId?: number | undefined;
}

// Highlights keep the style beneath (an action's italics) and add their own;
// the results are cached so equal inputs give the same object, which the
// wrapper needs to keep neighbouring cells in one span.
const MATCH: RowStyle = Object.freeze({inverse: true});
const CURRENT_MATCH: RowStyle = Object.freeze({inverse: true, color: 'yellow', bold: true});
const merged = new WeakMap<RowStyle, WeakMap<RowStyle, RowStyle>>();

function overlay(extra: RowStyle): (base: RowStyle) => RowStyle {
	return (base) => {
		let byExtra = merged.get(base);
		if (byExtra === undefined) {
			byExtra = new WeakMap();
			merged.set(base, byExtra);
		}
		let style = byExtra.get(extra);
		if (style === undefined) {
			style = Object.freeze({...base, ...extra});
			byExtra.set(extra, style);
		}
		return style;
	};
}

function highlightLayers(entry: LogEntry, text: string, options: LayoutOptions): PaintLayer<RowStyle>[] {
	const layers: PaintLayer<RowStyle>[] = [];
	if ((entry.kind === 'message' || entry.kind === 'direct') && !entry.self) {
		const ranges = mentions(text, options.ownNick, options.highlightWords);
		const {mention} = stylesOf((options.look ?? DEFAULT_LOOK).colours);
		if (ranges.length > 0) layers.push({ranges, styleFor: overlay(mention)});
	}
	if (options.highlight !== undefined && options.highlight !== '') {
		const ranges = findAll(text, options.highlight);
		if (ranges.length > 0)
			layers.push({ranges, styleFor: overlay(entry.id === options.currentId ? CURRENT_MATCH : MATCH)});
	}
	return layers;
}

/**
 * The rows an entry takes at `width` columns. With options, mentions of our
 * nick and search matches are painted; a RowCache built over this must be
 * rebuilt when the options change (it keys on entry and width only).
 */
export function layoutEntry(entry: LogEntry, width: number, options?: LayoutOptions): LogRow[] {
	const {gutter, body} = entrySpans(entry, options?.look);
	const main = body[0];
	if (options !== undefined && main !== undefined) {
		const layers = highlightLayers(entry, main.text, options);
		if (layers.length > 0) body.splice(0, 1, ...paintRanges(main, layers));
	}
	return wrapSpans([...gutter, ...body], width, spansWidth(gutter));
}
