// meow reports a boolean flag left out as false, the same as `--no-flag`, and
// a string flag given without a value as ''. Commands that must tell "not
// given" from "turned off" or "set to empty" look at the words themselves.

/** The words before a lone `--` (after it, everything is an argument). */
const flagWords = (argv: readonly string[]): readonly string[] => {
	const end = argv.indexOf('--');
	return end === -1 ? argv : argv.slice(0, end);
};

/** True when `--flag`, `--no-flag` or `--flag=…` is on the command line; `flag` is kebab-case. */
export function flagGiven(argv: readonly string[], flag: string): boolean {
	return flagWords(argv).some(
		(word) => word === `--${flag}` || word === `--no-${flag}` || word.startsWith(`--${flag}=`),
	);
}

/** True when the string flag was given an empty value on purpose: `--flag=` or `--flag ''`. */
export function flagGivenEmpty(argv: readonly string[], flag: string): boolean {
	const words = flagWords(argv);
	return words.some((word, i) => word === `--${flag}=` || (word === `--${flag}` && words[i + 1] === ''));
}
