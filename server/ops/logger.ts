// The `parley serve` log: one line per event, filtered by level, as text (the
// timestamp, then the line, as it always was) or as JSON lines (ts, level,
// msg and the call site's fields). JSON.stringify escapes quotes and C0
// controls but not C1 controls, bidi and other format characters or line
// separators; a log tailed in a terminal must not let a client drive it, so
// those are written as \u escapes too (still the same JSON value).
import type {Log, LogFields, LogLevel} from '../log/log.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const satisfies readonly LogLevel[];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
	format?: LogFormat;
	/** The least severe level written (default info). */
	level?: LogLevel;
	write?: (text: string) => void;
	now?: () => Date;
}

const RANK: Readonly<Record<LogLevel, number>> = {debug: 0, info: 1, warn: 2, error: 3};
const UNSAFE_IN_JSON = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\p{Co}]/gu;

/** JSON text with every character a terminal could act on written as a \u escape. */
export function safeJson(value: unknown): string {
	return JSON.stringify(value).replace(UNSAFE_IN_JSON, (char) => {
		const code = char.codePointAt(0) as number;
		if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
		// Astral format/private-use characters: as a surrogate pair, as JSON spells them.
		const high = Math.floor((code - 0x10000) / 0x400) + 0xd800;
		const low = ((code - 0x10000) % 0x400) + 0xdc00;
		return `\\u${high.toString(16)}\\u${low.toString(16)}`;
	});
}

export function createLogger(options: LoggerOptions = {}): Log {
	const format = options.format ?? 'text';
	const least = RANK[options.level ?? 'info'];
	const write = options.write ?? ((text: string) => process.stdout.write(text));
	const now = options.now ?? (() => new Date());
	return (line: string, fields: LogFields = {}) => {
		const {level = 'info', ...rest} = fields;
		if (RANK[level] < least) return;
		const ts = now().toISOString();
		if (format === 'text') {
			write(`${ts} ${line}\n`);
			return;
		}
		const record: Record<string, unknown> = {ts, level, msg: line};
		for (const [key, value] of Object.entries(rest))
			if (value !== undefined && !(key in record)) record[key] = value;
		write(`${safeJson(record)}\n`);
	};
}
