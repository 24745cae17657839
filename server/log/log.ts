// The server's log call: a line as the text log shows it, and the fields a
// structured (JSON) log adds where the call site knows them. Values of fields
// may come from clients: the JSON log encodes them safely (server/ops/logger.ts);
// the line itself carries them through escapeForLog as always.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogFields {
	/** Default info. */
	level?: LogLevel;
	room?: string;
	user?: string;
	address?: string;
	[field: string]: string | number | boolean | undefined;
}

export type Log = (line: string, fields?: LogFields) => void;
