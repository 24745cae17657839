// Access tokens for bots and scripts: a long random secret that logs one
// account in over TLS in a single step, so clients that cannot do SCRAM with
// tls-exporter channel binding (Python's ssl module, most HTTP-era libraries)
// can still join. The token is shown once; the server keeps only its SHA-256
// hash, so a copy of the database does not let anyone log in.
//
// Form: parley_<id>_<secret>, where id is 12 hex digits naming the token (the
// row to look up, what `parley token list` shows and `revoke` takes) and
// secret is 32 random bytes in base64url. Looking up by id and comparing the
// hash with timingSafeEqual keeps the check constant-time in the secret.

import {createHash, randomBytes, timingSafeEqual} from 'node:crypto';

export const TOKEN_PREFIX = 'parley_';
const ID_BYTES = 6;
const SECRET_BYTES = 32;
const ID_PATTERN = /^[0-9a-f]{12}$/;
const TOKEN_PATTERN = /^parley_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
export const MAX_TOKEN_LABEL_LENGTH = 64;

export interface IssuedToken {
	id: string;
	/** Shown to the user once, never stored. */
	token: string;
	/** SHA-256 of the secret: the only part the store keeps. */
	hash: Buffer;
}

/** What the store remembers about a token (never the secret). */
export interface TokenInfo {
	id: string;
	label: string;
	createdAt: number;
	/** Unix milliseconds of the last successful login; undefined if never used. */
	lastUsedAt: number | undefined;
}

const hashSecret = (secret: Buffer): Buffer => createHash('sha256').update(secret).digest();

export function issueToken(): IssuedToken {
	const id = randomBytes(ID_BYTES).toString('hex');
	const secret = randomBytes(SECRET_BYTES);
	return {id, token: `${TOKEN_PREFIX}${id}_${secret.toString('base64url')}`, hash: hashSecret(secret)};
}

export interface PresentedToken {
	id: string;
	hash: Buffer;
}

/** Splits a token a client presented; undefined when it is not of the form. */
export function parseToken(token: string): PresentedToken | undefined {
	const match = TOKEN_PATTERN.exec(token);
	if (!match) return undefined;
	const text = match[2] as string;
	const secret = Buffer.from(text, 'base64url');
	// Only the canonical spelling: the last character carries two unused bits,
	// and four spellings of one secret would be four tokens to the eye.
	if (secret.length !== SECRET_BYTES || secret.toString('base64url') !== text) return undefined;
	return {id: match[1] as string, hash: hashSecret(secret)};
}

export function isTokenId(id: string): boolean {
	return ID_PATTERN.test(id);
}

/** Whether a presented hash matches the stored one, in time independent of where they differ. */
export function tokenMatches(presented: Buffer, stored: Buffer): boolean {
	return presented.length === stored.length && timingSafeEqual(presented, stored);
}

export function tokenLabelProblem(label: string): string | undefined {
	if ([...label].length > MAX_TOKEN_LABEL_LENGTH)
		return `a label is at most ${MAX_TOKEN_LABEL_LENGTH} characters`;
	// Labels are printed by `token list`: nothing that could repaint a terminal.
	if (/[\p{Cc}\p{Cf}]/u.test(label)) return 'a label may not contain control or formatting characters';
	return undefined;
}
