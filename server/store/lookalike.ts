// Look-alike account names (UTS #39 skeleton): `bоb` with a Cyrillic о, or
// `b0b`, would pass for `bob` in every member list. Registration from the
// login form and `parley user add` both refuse them.

import {identityKey} from '../../source/protocol/names.js';
import {confusableKey} from '../../source/protocol/skeleton.js';
import type {AccountStore} from './account-store.js';

export class LookalikeNameError extends Error {
	constructor(
		readonly username: string,
		readonly existing: string,
	) {
		super(`the user name ${username} looks too much like ${existing}`);
		this.name = 'LookalikeNameError';
	}
}

/** An existing account whose name looks like `name`, other than the same account. */
export async function lookalikeAccount(store: AccountStore, name: string): Promise<string | undefined> {
	const key = confusableKey(name);
	const users = await store.listUsers();
	return users.find((user) => identityKey(user) !== identityKey(name) && confusableKey(user) === key);
}
