// The lines the client benchmark floods a room with (bench/flood-child.ts) and
// fills its in-process logs with (bench/client-structures.ts).

// A mix of lengths like a busy room's: most fit a row, some wrap.
const WORDS = 'the quick brown fox jumps over the lazy dog while parley keeps the room in order'.split(' ');
export function floodText(n: number): string {
	const words = 4 + (n % 7) * 3 + (n % 13 === 0 ? 30 : 0);
	const parts: string[] = [`flood ${n}`];
	for (let i = 0; i < words; i++) parts.push(WORDS[(n + i * 7) % WORDS.length]!);
	return parts.join(' ');
}
