// A stable colour per nick, so a reader can follow who says what.

import {identityKey} from '../protocol/names.js';

/**
 * Ink/chalk colour names that read on both dark and light themes. Black,
 * white and grey are left out (one of them is usually the background), and so
 * is plain blue, which is hard to read on black.
 */
export const NICK_PALETTE = [
	'red',
	'green',
	'yellow',
	'magenta',
	'cyan',
	'redBright',
	'greenBright',
	'yellowBright',
	'blueBright',
	'magentaBright',
	'cyanBright',
] as const;

export type NickColour = (typeof NICK_PALETTE)[number];

export interface NickStyle {
	/** Undefined means the terminal's own foreground colour. */
	readonly color: NickColour | undefined;
	readonly bold: boolean;
}

/** Our own nick uses the terminal's foreground in bold: never one of the colours others get. */
export const OWN_NICK_STYLE: NickStyle = Object.freeze({color: undefined, bold: true});

const styles: readonly NickStyle[] = NICK_PALETTE.map((color) => Object.freeze({color, bold: false}));

/** FNV-1a: cheap, stable across runs and platforms, and spreads short strings well. */
function hash(text: string): number {
	let value = 0x811c9dc5;
	for (let index = 0; index < text.length; index++) {
		value ^= text.charCodeAt(index);
		value = Math.imul(value, 0x01000193);
	}
	return value >>> 0;
}

/** Case-insensitive like the server's nick rules: "Bob" and "bob" are the same member. */
export function nickColour(nick: string): NickColour {
	return NICK_PALETTE[hash(identityKey(nick)) % NICK_PALETTE.length]!;
}

export function nickStyle(nick: string, own: boolean): NickStyle {
	return own ? OWN_NICK_STYLE : styles[hash(identityKey(nick)) % styles.length]!;
}

/** The colour of a nick in a palette of the config's choosing; undefined for an empty one (NO_COLOR). */
export function nickColourIn(nick: string, palette: readonly string[]): string | undefined {
	return palette.length === 0 ? undefined : palette[hash(identityKey(nick)) % palette.length];
}
