// The chat's settings file, $XDG_CONFIG_HOME/parley/config.toml: defaults for
// the chat flags, the look of the log, highlights, the ignore list,
// notifications and key bindings. Parsed with smol-toml, checked with valibot
// (strictly: a misspelt key is an error, not silently dropped), and every
// problem is reported as "config.toml:LINE: KEY: what is wrong". No React here.

import {readFileSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {parse, stringify, TomlError} from 'smol-toml';
import * as v from 'valibot';
import {writeFileAtomically} from '../util/atomic-write.js';

// ---- field types -------------------------------------------------------------

/** The colour names Ink (chalk) knows, or a hex colour. */
const COLOUR_NAMES = [
	'black',
	'red',
	'green',
	'yellow',
	'blue',
	'magenta',
	'cyan',
	'white',
	'gray',
	'grey',
	'blackBright',
	'redBright',
	'greenBright',
	'yellowBright',
	'blueBright',
	'magentaBright',
	'cyanBright',
	'whiteBright',
] as const;

const isColour = (value: string): boolean =>
	(COLOUR_NAMES as readonly string[]).includes(value) || /^#[0-9a-fA-F]{6}$/.test(value);
const Colour = v.pipe(
	v.string('expected a colour name'),
	v.check(isColour, 'expected a colour name (red, cyanBright, … or #rrggbb)'),
);
const LIST_OF_COLOURS = 'expected a list of colour names';
const ColourList = v.pipe(
	v.array(v.pipe(v.string(LIST_OF_COLOURS), v.check(isColour, LIST_OF_COLOURS)), LIST_OF_COLOURS),
	v.minLength(1, LIST_OF_COLOURS),
);

/** strftime directives the log's time column understands. */
const TIME_DIRECTIVES = 'HMSIpdmYy%';
const TimeFormat = v.pipe(
	v.string('expected a string like "%H:%M"'),
	v.maxLength(40, 'at most 40 characters'),
	v.check(
		(format) => [...format.matchAll(/%(.?)/g)].every((match) => TIME_DIRECTIVES.includes(match[1] || '?')),
		`only %H %M %S %I %p %d %m %Y %y %% are understood`,
	),
);

const Word = v.pipe(
	v.string('expected a string'),
	v.minLength(1, 'expected a non-empty string'),
	v.maxLength(64, 'at most 64 characters'),
);
const WordList = (what: string) =>
	v.array(
		v.pipe(
			v.string(`expected a list of ${what}`),
			v.minLength(1, `expected a list of ${what}`),
			v.maxLength(64),
		),
		`expected a list of ${what}`,
	);

/** A key as the config names it: "ctrl+n", "alt+1", "shift+up", "pageup", "escape". */
export interface KeySpec {
	readonly ctrl: boolean;
	readonly meta: boolean;
	readonly shift: boolean;
	/** A single character ("n", "1") or a named key ("up", "pageup", "end", "escape", "tab"). */
	readonly key: string;
}

const NAMED_KEYS = ['up', 'down', 'left', 'right', 'pageup', 'pagedown', 'home', 'end', 'escape', 'tab'];

export function parseKeySpec(text: string): KeySpec | undefined {
	const parts = text.toLowerCase().split('+');
	const key = parts.pop() ?? '';
	const modifiers = new Set(parts);
	if (
		parts.some((part) => !['ctrl', 'alt', 'meta', 'shift'].includes(part)) ||
		modifiers.size !== parts.length
	)
		return undefined;
	const named = key === 'esc' ? 'escape' : key === 'pgup' ? 'pageup' : key === 'pgdn' ? 'pagedown' : key;
	const ctrlOrAlt = modifiers.has('ctrl') || modifiers.has('alt') || modifiers.has('meta');
	// A plain letter would swallow typing: characters need Ctrl or Alt.
	if (!NAMED_KEYS.includes(named) && !(/^[a-z0-9]$/.test(named) && ctrlOrAlt)) return undefined;
	return {
		ctrl: modifiers.has('ctrl'),
		meta: modifiers.has('alt') || modifiers.has('meta'),
		shift: modifiers.has('shift'),
		key: named,
	};
}

const KEY_MESSAGE = 'expected a key like "ctrl+n", "alt+s", "shift+up", "pageup" (or a list of them)';
const KeyText = v.pipe(
	v.string(KEY_MESSAGE),
	v.check((text) => parseKeySpec(text) !== undefined, KEY_MESSAGE),
);
const KeyList = v.pipe(
	v.union([KeyText, v.array(KeyText, KEY_MESSAGE)], KEY_MESSAGE),
	v.transform((keys) => (Array.isArray(keys) ? keys : [keys]).map((text) => parseKeySpec(text)!)),
);

/** The screen actions a key can be bound to. */
export const KEY_ACTIONS = [
	'next_tab',
	'prev_tab',
	'search',
	'member_list',
	'scroll_up',
	'scroll_down',
	'scroll_line_up',
	'scroll_line_down',
	'scroll_bottom',
] as const;
export type KeyAction = (typeof KEY_ACTIONS)[number];
export type KeyBindings = Readonly<Record<KeyAction, readonly KeySpec[]>>;

const DEFAULT_KEYS: Readonly<Record<KeyAction, readonly string[]>> = {
	next_tab: ['ctrl+n'],
	prev_tab: ['ctrl+p'],
	search: ['ctrl+r'],
	member_list: ['ctrl+t'],
	scroll_up: ['pageup'],
	scroll_down: ['pagedown'],
	scroll_line_up: ['shift+up', 'ctrl+up'],
	scroll_line_down: ['shift+down', 'ctrl+down'],
	scroll_bottom: ['ctrl+end', 'escape'],
};

export const DEFAULT_KEY_BINDINGS: KeyBindings = Object.freeze(
	Object.fromEntries(
		KEY_ACTIONS.map((action) => [action, DEFAULT_KEYS[action].map((text) => parseKeySpec(text)!)]),
	) as Record<KeyAction, KeySpec[]>,
);

export const NOTIFY_METHODS = ['osc', 'notify-send', 'none'] as const;

/** Desktop notifications (consumed by the alerts code): off unless `enabled`. */
export interface NotifySettings {
	readonly enabled: boolean;
	/** Notify when someone names us (or a highlight word). */
	readonly highlights: boolean;
	/** Notify on a direct message. */
	readonly direct: boolean;
	/** OSC 777/9 through the terminal, the notify-send program, or nothing. */
	readonly method: (typeof NOTIFY_METHODS)[number];
}

const bool = v.boolean('expected true or false');
const ScrollbackSize = v.pipe(
	v.number('expected a number of lines'),
	v.integer('expected a whole number of lines'),
	v.minValue(100, 'at least 100 lines'),
	v.maxValue(1_000_000, 'at most 1000000 lines'),
);

const ConfigSchema = v.strictObject(
	{
		nick: v.optional(Word),
		user: v.optional(Word),
		timestamp_format: v.optional(TimeFormat, '%H:%M'),
		scrollback: v.optional(ScrollbackSize, 10_000),
		highlight_words: v.optional(WordList('words'), []),
		ignore: v.optional(WordList('nicks'), []),
		log_dir: v.optional(v.pipe(v.string('expected a directory'), v.minLength(1, 'expected a directory'))),
		log_name: v.optional(v.picklist(['room', 'address'], 'expected "room" or "address"'), 'room'),
		bell: v.optional(bool, false),
		accept_new: v.optional(bool, false),
		insecure_plaintext: v.optional(bool, false),
		colors: v.optional(
			v.strictObject({
				nick: v.optional(ColourList),
				highlight: v.optional(Colour, 'yellow'),
				own_nick: v.optional(Colour),
			}),
			{},
		),
		notify: v.optional(
			v.strictObject({
				enabled: v.optional(bool, false),
				highlights: v.optional(bool, true),
				direct: v.optional(bool, true),
				method: v.optional(v.picklist(NOTIFY_METHODS, 'expected "osc", "notify-send" or "none"'), 'osc'),
			}),
			{},
		),
		keys: v.optional(
			v.strictObject(Object.fromEntries(KEY_ACTIONS.map((action) => [action, v.optional(KeyList)]))),
			{},
		),
	},
	'unknown key',
);

type ParsedConfig = v.InferOutput<typeof ConfigSchema>;

export interface Colours {
	/** The palette others' nicks are spread over; empty: no colours (NO_COLOR). */
	readonly nicks: readonly string[];
	/** Mentions of our nick and highlight words; undefined: bold only. */
	readonly highlight: string | undefined;
	/** Our own nick (always bold); undefined: the terminal's foreground. */
	readonly ownNick: string | undefined;
	/** False under NO_COLOR: nothing on screen is coloured. */
	readonly enabled: boolean;
}

/** Everything the config file decides, with defaults filled in. */
export interface ClientConfig {
	readonly nick: string | undefined;
	readonly user: string | undefined;
	readonly timestampFormat: string;
	readonly scrollback: number;
	readonly highlightWords: readonly string[];
	readonly ignore: readonly string[];
	readonly logDir: string | undefined;
	/** Log files named after the room's name in rooms.json when it has one, or always after host and port. */
	readonly logName: 'room' | 'address';
	readonly bell: boolean;
	readonly acceptNew: boolean;
	readonly insecurePlaintext: boolean;
	readonly colours: Colours;
	readonly notify: NotifySettings;
	readonly keys: KeyBindings;
}

// ---- errors ------------------------------------------------------------------

export class ConfigError extends Error {
	constructor(
		message: string,
		readonly line: number | undefined,
	) {
		super(message);
		this.name = 'ConfigError';
	}
}

/**
 * The line where `key` (a dotted path such as "colors.nick") is set: under a
 * [table] header, as a dotted key, or as the table header itself. A
 * line-based scan is enough for the flat files this config is.
 */
export function lineOfKey(text: string, key: string): number | undefined {
	let table = '';
	let headerLine: number | undefined;
	const lines = text.split(/\r?\n/);
	const unquote = (name: string): string =>
		name
			.replace(/\s*\.\s*/g, '.')
			.replace(/["']/g, '')
			.trim();
	for (const [index, line] of lines.entries()) {
		const header = /^\s*\[\s*([^\]]+?)\s*\]/.exec(line);
		if (header !== null) {
			table = unquote(header[1]!);
			if (table === key) headerLine = index + 1;
			continue;
		}
		const assignment = /^\s*([A-Za-z0-9_\-."' ]+?)\s*=/.exec(line);
		if (assignment === null) continue;
		const full = (table === '' ? '' : `${table}.`) + unquote(assignment[1]!);
		if (full === key) return index + 1;
	}
	return headerLine;
}

export function describeIssue(text: string, fileName: string, issue: v.BaseIssue<unknown>): ConfigError {
	const keys = (issue.path ?? [])
		.filter((item) => typeof item.key === 'string')
		.map((item) => String(item.key));
	const key = keys.join('.');
	const line = key === '' ? undefined : lineOfKey(text, key);
	const where = line === undefined ? fileName : `${fileName}:${line}`;
	const message = issue.message.startsWith('Invalid') ? 'invalid value' : issue.message;
	return new ConfigError(key === '' ? `${where}: ${message}` : `${where}: ${key}: ${message}`, line);
}

// ---- parsing -----------------------------------------------------------------

export interface ConfigEnvironment {
	/** NO_COLOR set (to anything but ""): no colours at all (https://no-color.org). */
	readonly noColor?: boolean | undefined;
}

export const noColorWanted = (env: NodeJS.ProcessEnv = process.env): boolean =>
	env.NO_COLOR !== undefined && env.NO_COLOR !== '';

function coloursOf(parsed: ParsedConfig, noColor: boolean): Colours {
	if (noColor) return {nicks: [], highlight: undefined, ownNick: undefined, enabled: false};
	return {
		nicks: parsed.colors.nick ?? [],
		highlight: parsed.colors.highlight,
		ownNick: parsed.colors.own_nick,
		enabled: true,
	};
}

function fromParsed(parsed: ParsedConfig, env: ConfigEnvironment): ClientConfig {
	const keys = parsed.keys as Partial<Record<KeyAction, KeySpec[]>>;
	return {
		nick: parsed.nick,
		user: parsed.user,
		timestampFormat: parsed.timestamp_format,
		scrollback: parsed.scrollback,
		highlightWords: parsed.highlight_words,
		ignore: parsed.ignore,
		logDir: parsed.log_dir,
		logName: parsed.log_name,
		bell: parsed.bell,
		acceptNew: parsed.accept_new,
		insecurePlaintext: parsed.insecure_plaintext,
		colours: coloursOf(parsed, env.noColor === true),
		notify: parsed.notify,
		keys: Object.fromEntries(
			KEY_ACTIONS.map((action) => [action, keys[action] ?? DEFAULT_KEY_BINDINGS[action]]),
		) as Record<KeyAction, KeySpec[]>,
	};
}

/** Parses the text of a config file; throws ConfigError naming the line and the key. */
export function parseConfig(
	text: string,
	fileName = 'config.toml',
	env: ConfigEnvironment = {},
): ClientConfig {
	return fromParsed(parseTomlWith(ConfigSchema, text, fileName), env);
}

/**
 * A TOML text checked against a schema: the chat's config.toml and the server's
 * server.toml. Throws ConfigError naming the line and key of the first problem.
 */
export function parseTomlWith<S extends v.GenericSchema<unknown, unknown>>(
	schema: S,
	text: string,
	fileName: string,
): v.InferOutput<S> {
	let document: unknown;
	try {
		document = parse(text);
	} catch (error) {
		if (!(error instanceof TomlError)) throw error;
		const reason = (error.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
		throw new ConfigError(`${fileName}:${error.line}: ${reason}`, error.line);
	}
	const result = v.safeParse(schema, document, {abortEarly: true});
	if (!result.success) throw describeIssue(text, fileName, result.issues[0]);
	return result.output;
}

/** The settings with no file at all. */
export function defaultConfig(env: ConfigEnvironment = {}): ClientConfig {
	return parseConfig('', 'config.toml', env);
}

export const configFile = (dir: string): string => path.join(dir, 'config.toml');

const readIfThere = (read: () => string): string | undefined => {
	try {
		return read();
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
};

/** Reads and parses the file; a missing file gives the defaults. Throws ConfigError. */
export function loadConfigSync(file: string, env: ConfigEnvironment = {}): ClientConfig {
	let text: string | undefined;
	try {
		text = readIfThere(() => readFileSync(file, 'utf8'));
	} catch (error) {
		throw new ConfigError(`${file}: ${(error as Error).message}`, undefined);
	}
	return text === undefined ? defaultConfig(env) : parseConfig(text, path.basename(file), env);
}

/**
 * Sets the `ignore` list in the file, keeping the rest: the document is
 * parsed and written back whole (atomically), so comments in it are lost.
 * A file that does not parse is left alone (ConfigError).
 */
export async function saveIgnoreList(file: string, nicks: readonly string[]): Promise<void> {
	let text = '';
	try {
		text = (await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
			if (error.code === 'ENOENT') return '';
			throw error;
		})) as string;
	} catch (error) {
		throw new ConfigError(`${file}: ${(error as Error).message}`, undefined);
	}
	parseConfig(text, path.basename(file)); // never overwrite a file we cannot read back
	const document = parse(text) as Record<string, unknown>;
	document.ignore = [...nicks];
	// Top-level values must come before the tables in TOML: put `ignore` first.
	const {ignore, ...rest} = document;
	await writeFileAtomically(file, stringify({ignore, ...rest}), {mode: 0o600});
}
