// Look-alike names (UTS #39 confusables): `bоb` with a Cyrillic о, `b0b`,
// `aIice` and `alice` share one key, so a name can be refused when it looks
// like one that exists. The skeleton maps each character to its prototype in
// Unicode's confusables.txt (the unhomoglyph package's data); the key then
// folds case, since account names are case-insensitive.

import unhomoglyph from 'unhomoglyph';

/** The UTS #39 skeleton: NFD, confusables mapped to their prototypes, NFD again. */
export function skeleton(text: string): string {
	return unhomoglyph(text.normalize('NFD')).normalize('NFD');
}

/** Two names with the same key look alike. */
export function confusableKey(name: string): string {
	return skeleton(name).toLowerCase();
}
