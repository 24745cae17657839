// NO_COLOR (https://no-color.org): the screen shows no colours at all. Rather
// than teach every component, the terminal's output is filtered in one place:
// colour parameters are taken out of each SGR sequence Ink writes, so bold,
// dim, italics and inverse video (the cursor, search matches) stay.

const SGR = /\u001B\[([0-9;:]*)m/g;

/** The SGR parameters without the colour ones (30–39, 40–49, 90–97, 100–107, 38/48 with their arguments). */
function withoutColourParameters(parameters: string): string {
	const items = parameters === '' ? ['0'] : parameters.split(';');
	const kept: string[] = [];
	for (let index = 0; index < items.length; index++) {
		const item = items[index]!;
		const code = Number(item.split(':')[0]);
		if ((code === 38 || code === 48 || code === 58) && !item.includes(':')) {
			// 38;5;N or 38;2;R;G;B: skip the arguments too.
			index += items[index + 1] === '5' ? 2 : items[index + 1] === '2' ? 4 : 0;
			continue;
		}
		if (
			(code >= 30 && code <= 49) ||
			(code >= 90 && code <= 97) ||
			(code >= 100 && code <= 107) ||
			code === 58
		)
			continue;
		kept.push(item);
	}
	return kept.join(';');
}

export function stripColours(text: string): string {
	return text.replace(SGR, (_sequence, parameters: string) => {
		const kept = withoutColourParameters(parameters);
		return kept === '' ? '' : `\u001B[${kept}m`;
	});
}

/** The stream with every write filtered through stripColours; everything else (size, resize events) is the stream's own. */
export function colourlessStream<T extends NodeJS.WritableStream>(stream: T): T {
	const write = (chunk: unknown, ...rest: unknown[]): boolean =>
		(stream.write as (...args: unknown[]) => boolean).call(
			stream,
			typeof chunk === 'string' ? stripColours(chunk) : chunk,
			...rest,
		);
	return new Proxy(stream, {
		get(target, property) {
			if (property === 'write') return write;
			const value = Reflect.get(target, property, target) as unknown;
			return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
		},
	});
}
