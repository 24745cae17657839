// Everything a client sent goes through here before it reaches a log line:
// quoted, with control, format and line-separator characters shown as
// escapes, so a client can neither forge a line nor drive the operator's
// terminal (ESC]0; titles, ESC[2J clears).

const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cs}"\\]/gu;
const SHORT: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t', '"': '\\"', '\\': '\\\\'};

/** `"text"` with unsafe characters escaped, cut to `max` characters (then `…`). */
export function escapeForLog(text: string, max = 200): string {
	const cut = text.length > max ? `${text.slice(0, max)}…` : text;
	const escaped = cut.replace(UNSAFE, (char) => {
		const short = SHORT[char];
		if (short) return short;
		const code = char.codePointAt(0) as number;
		if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
		if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
		return `\\u{${code.toString(16)}}`;
	});
	return `"${escaped}"`;
}
