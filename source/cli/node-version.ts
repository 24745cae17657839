// The oldest Node Parley runs on, checked by the entry point (parley.ts) before
// anything else loads. Keep this module free of imports: it must load on any Node.

/** node:sqlite is available without a flag from 22.13 on (package.json engines says the same). */
export const MIN_NODE: readonly [major: number, minor: number] = [22, 13];

/** A sentence for the user when `version` (process.versions.node, e.g. "20.20.2") is too old, else undefined. */
export function nodeVersionProblem(version: string): string | undefined {
	const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10) || 0);
	const [minMajor, minMinor] = MIN_NODE;
	if (major > minMajor || (major === minMajor && minor >= minMinor)) return undefined;
	return `Parley needs Node ≥ ${minMajor}.${minMinor} (found ${version})`;
}
