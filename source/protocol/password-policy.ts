// The one password policy for new and changed passwords, wherever they are
// set: `parley user add|passwd`, the login form's Ctrl+R registration and any
// other client. A TCP room announces its minimum in `auth-mechs`
// (`password_min`); clients check against it before deriving the verifier.
// The server never sees a password (SCRAM registration sends only a salted
// verifier), so it cannot check one: it can only refuse registrations from
// clients that do not say they applied its policy (`password_min` in
// `register`). A client that lies gets past that; an honest but older one does not.

import {ScramError, saslPrep} from './scram.js';

export interface PasswordPolicy {
	/** Fewest characters (Unicode code points after SASLprep, as SCRAM hashes them). */
	readonly minLength: number;
}

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = {minLength: 8};

/** The longest minimum a server may ask for (a bigger number is a configuration mistake). */
export const MAX_PASSWORD_MIN = 1024;

/** Why `password` is not acceptable as a new password under `policy`, or undefined when it is. */
export function passwordProblem(
	password: string,
	policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY,
): string | undefined {
	let prepared: string;
	try {
		prepared = saslPrep(password);
	} catch (error) {
		if (error instanceof ScramError) return `the password ${error.message}`;
		throw error;
	}
	if ([...prepared].length < policy.minLength)
		return `the password is too short: use at least ${policy.minLength} characters`;
	return undefined;
}
